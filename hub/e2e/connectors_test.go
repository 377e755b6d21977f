package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/hub/hubtest"
)

// TestConnectorsAgainstFaultySimulators runs a hub on the real Kafka and Redis with
// the five pull connectors configured against in-process simulators that answer 5xx
// bursts, truncate bodies, repeat or overlap pages, and restart mid-pull. The store
// must end with exactly the simulators' data (compared with the independent fold),
// and GET /v1/admin/connectors must show every connector running with its counts.
func TestConnectorsAgainstFaultySimulators(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end connector test: skipped under -short")
	}
	brokers := hubtest.KafkaBrokers(t)
	redisAddr := hubtest.RedisAddr(t)
	ctx := context.Background()
	dir := t.TempDir()
	hubtest.Gen(ctx, t, filepath.Join(dir, "gen"), 11, 150, 300)

	type agencySim struct {
		agency  connectors.Agency
		sim     *simulator.Simulator
		srv     *simulator.Server
		records int
	}
	var sims []*agencySim
	var conns []map[string]any
	for i, a := range connectors.Agencies() {
		token := "e2e-" + a.Name
		tokenFile := filepath.Join(dir, a.Name+".token")
		if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		sim := a.NewSimulator(token, uint64(100+i))
		loaded, _, err := sim.LoadFile(filepath.Join(dir, "gen", a.Name+".ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		sim.SetFaults(simulator.Faults{NextErrors: 3, ErrorRate: 0.08, TruncateRate: 0.08, DuplicateRate: 0.1})
		srv, err := simulator.Listen(sim, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Stop() })
		sims = append(sims, &agencySim{agency: a, sim: sim, srv: srv, records: loaded})
		conns = append(conns, map[string]any{"name": a.Name + "-e2e", "agency": a.Name, "base_url": srv.URL(),
			"token_file": tokenFile, "poll_interval": "500ms", "page_size": 100, "timeout": "5s",
			"retry_wait_min": "10ms", "retry_wait_max": "200ms", "restart_min": "100ms", "restart_max": "1s"})
	}

	topics, prefix := hubtest.Unique("e2econn"), hubtest.Unique("e2econn")
	hubtest.CleanupTopics(t, brokers, topics)
	hubtest.CleanupRedis(t, redisAddr, prefix)
	secrets := hubtest.NewSecrets(t, filepath.Join(dir, "secrets"))
	h := hubtest.New(t, hubtest.Options{Dir: filepath.Join(dir, "hub"), Brokers: brokers, TopicPrefix: topics,
		Group: topics + "-matching", RedisAddr: redisAddr, RedisPrefix: prefix, Secrets: &secrets, Connectors: conns})
	began := time.Now()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}

	// Restart the social-insurance simulator once its connector is mid-pull.
	si := sims[0]
	if si.agency.Name != "si" {
		t.Fatalf("connectors.Agencies() starts with %s, not si", si.agency.Name)
	}
	waitConnectors(ctx, t, h, 2*time.Minute, func(st map[string]connectors.Status) bool {
		s := st["si-e2e"]
		return s.Published > 0 && s.Lag != 0
	})
	if err := si.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := si.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted the si simulator after %s", time.Since(began).Round(time.Millisecond))

	// Every connector caught up: running, and the agency says nothing remains.
	final := waitConnectors(ctx, t, h, 4*time.Minute, func(st map[string]connectors.Status) bool {
		for _, s := range sims {
			c, ok := st[s.agency.Name+"-e2e"]
			if !ok || c.State != connectors.StateRunning || c.Lag != 0 || c.Published < int64(s.records) {
				return false
			}
		}
		return true
	})
	if _, err := h.WaitCaughtUp(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("connectors and matcher caught up after %s", time.Since(began).Round(time.Millisecond))

	secret, err := h.PIISecret()
	if err != nil {
		t.Fatal(err)
	}
	fold, err := hubtest.NewFolder(secret)
	if err != nil {
		t.Fatal(err)
	}
	var faults simulator.Stats
	for _, s := range sims {
		for _, typ := range s.agency.Types() {
			for _, raw := range s.sim.Records(typ) {
				if err := fold.Add(s.agency.Name, raw); err != nil {
					t.Fatal(err)
				}
			}
		}
		st := s.sim.Stats()
		faults.Errors += st.Errors
		faults.Truncated += st.Truncated
		faults.Duplicates += st.Duplicates
		c := final[s.agency.Name+"-e2e"]
		t.Logf("%s: %d records served; connector read %d, published %d, rejected %d, pages retried %d, restarts %d; "+
			"simulator answered %d requests with %d errors, %d truncated, %d duplicate pages",
			s.agency.Name, s.records, c.RecordsRead, c.Published, c.Rejected, c.PagesRetried, c.Restarts,
			st.Requests, st.Errors, st.Truncated, st.Duplicates)
		if c.Rejected != 0 {
			t.Errorf("%s: %d records rejected; the generated records are all valid", s.agency.Name, c.Rejected)
		}
		if c.RecordsRead < c.Published {
			t.Errorf("%s: read %d < published %d", s.agency.Name, c.RecordsRead, c.Published)
		}
		if st.Errors < 3 || c.PagesRetried < 3 {
			t.Errorf("%s: the 5xx burst was not retried (simulator errors %d, pages retried %d)", s.agency.Name, st.Errors, c.PagesRetried)
		}
		for _, typ := range s.agency.Types() {
			if c.Cursor[typ] == "" && len(s.sim.Records(typ)) > 0 {
				t.Errorf("%s: no cursor stored for %s", s.agency.Name, typ)
			}
		}
	}
	if faults.Truncated == 0 || faults.Duplicates == 0 {
		t.Errorf("faults not exercised: %d truncated, %d duplicate pages", faults.Truncated, faults.Duplicates)
	}
	want, err := fold.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("expectation: %d records folded (%d refused) into %d profiles", fold.Accepted, fold.Refused, fold.Len())
	live := filepath.Join(dir, "live.ndjson")
	if _, err := h.Tool(ctx, "dump", "--redis-prefix", prefix, "--out", live); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	hubtest.SameDump(t, "live store", want, got)
	if err := h.Stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}

// waitConnectors polls GET /v1/admin/connectors until done holds (by connector
// name) and returns the statuses it held on.
func waitConnectors(ctx context.Context, t *testing.T, h *hubtest.Hub, timeout time.Duration,
	done func(map[string]connectors.Status) bool) map[string]connectors.Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]connectors.Status
	for time.Now().Before(deadline) {
		var resp struct {
			Connectors []connectors.Status `json:"connectors"`
		}
		if err := h.Admin.GetJSON(ctx, h.URL, "/v1/admin/connectors", &resp); err == nil {
			last = map[string]connectors.Status{}
			for _, s := range resp.Connectors {
				last[s.Name] = s
			}
			if done(last) {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	for name, s := range last {
		t.Logf("%s: state %s lag %d published %d last error %q", name, s.State, s.Lag, s.Published, s.LastError)
	}
	t.Fatalf("connectors did not reach the awaited state within %s", timeout)
	return nil
}
