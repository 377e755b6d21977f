package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/hubtest"
)

// TestScaleOut starts three hub processes on the same Kafka and Redis (one consumer
// group, shared secrets and signing keys, their own HTTP ports), loads data, SIGKILLs
// one while the matcher is mid-way, and checks the survivors take over its
// partitions with nothing lost (the store equals the independent fold) while
// POST /v1/verifications keeps answering on the survivors. It is heavier than the
// rest of the suite, so it runs only with VERIHUB_E2E_SCALEOUT=1
// (deploy/dev/scaleout.sh sets it).
func TestScaleOut(t *testing.T) {
	if os.Getenv("VERIHUB_E2E_SCALEOUT") != "1" {
		t.Skip("scale-out test: set VERIHUB_E2E_SCALEOUT=1 (or run deploy/dev/scaleout.sh)")
	}
	brokers := hubtest.KafkaBrokers(t)
	redisAddr := hubtest.RedisAddr(t)
	ctx := context.Background()
	dir := t.TempDir()
	genDir := filepath.Join(dir, "gen")
	feeds := hubtest.Gen(ctx, t, genDir, 5, sizeFromEnv("VERIHUB_E2E_ENTERPRISES", 1500), sizeFromEnv("VERIHUB_E2E_PERSONS", 3000))
	requests := verificationRequests(t, filepath.Join(genDir, "expected.ndjson"), 200)

	topics, prefix := hubtest.Unique("e2escale"), hubtest.Unique("e2escale")
	hubtest.CleanupTopics(t, brokers, topics)
	hubtest.CleanupRedis(t, redisAddr, prefix)
	secrets := hubtest.NewSecrets(t, filepath.Join(dir, "secrets"))
	admin := hubtest.NewClient(t, "admin-e2e", auth.RoleAdmin)
	portal := hubtest.NewClient(t, "portal-e2e", auth.RolePortal, "*")
	var hubs []*hubtest.Hub
	for i := range 3 {
		h := hubtest.New(t, hubtest.Options{Dir: filepath.Join(dir, fmt.Sprintf("hub%d", i)), Brokers: brokers,
			TopicPrefix: topics, Group: topics + "-matching", RedisAddr: redisAddr, RedisPrefix: prefix,
			Secrets: &secrets, Admin: admin, Clients: []*hubtest.Client{portal},
			Consumer: map[string]any{"session_timeout": "6s", "heartbeat_interval": "500ms"}})
		if err := h.Start(ctx); err != nil {
			t.Fatal(err)
		}
		hubs = append(hubs, h)
	}
	victim, survivors := hubs[2], hubs[:2]

	// Verify on the survivors throughout.
	type tally struct{ ok, failed atomic.Int64 }
	var phase atomic.Int32 // 0 before the kill, 1 after, 2 once caught up
	var tallies [3]tally
	var failures sync.Map // status → count, for the report
	pollCtx, stopPolling := context.WithCancel(ctx)
	var polling sync.WaitGroup
	for _, h := range survivors {
		polling.Add(1)
		go func() {
			defer polling.Done()
			for i := 0; pollCtx.Err() == nil; i++ {
				status, _, err := portal.Do(pollCtx, h.URL, http.MethodPost, "/v1/verifications", requests[i%len(requests)])
				if pollCtx.Err() != nil {
					return
				}
				p := phase.Load()
				if err == nil && status == http.StatusOK {
					tallies[p].ok.Add(1)
				} else {
					tallies[p].failed.Add(1)
					key := fmt.Sprint(status)
					if err != nil {
						key = err.Error()
					}
					n, _ := failures.LoadOrStore(fmt.Sprintf("phase %d: %s", p, key), new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	began := time.Now()
	loaded := make(chan error, 1)
	go func() {
		for _, f := range feeds {
			if _, err := hubs[0].Tool(ctx, "load", "--agency", f.Agency, f.Path); err != nil {
				loaded <- err
				return
			}
		}
		loaded <- nil
	}()
	// Kill while records are still arriving, so the victim's partitions hold work
	// only a survivor can finish after the group rebalances.
	for {
		p, err := hubs[0].Pipeline(ctx)
		if err == nil && p.Lag > 0 && p.ProfileCount() >= killAfterProfiles {
			victim.Kill()
			phase.Store(1)
			t.Logf("SIGKILLed hub2 (pid %d) %s after the load began: lag %d, %d profiles", victim.Pid(),
				time.Since(began).Round(time.Millisecond), p.Lag, p.ProfileCount())
			break
		}
		select {
		case err := <-loaded:
			t.Fatalf("the load ended (%v) before a matcher could be killed mid-way", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %s", time.Since(began).Round(time.Millisecond))
	killed := time.Now()
	st, err := survivors[0].WaitCaughtUp(ctx, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	phase.Store(2)
	t.Logf("survivors caught up %s after the kill: %d enterprise and %d person profiles", time.Since(killed).Round(time.Millisecond),
		st.Profiles["enterprise"], st.Profiles["person"])
	time.Sleep(3 * time.Second)
	stopPolling()
	polling.Wait()

	for p, name := range []string{"before the kill", "during the takeover", "after catching up"} {
		t.Logf("verifications %s: %d ok, %d not 200", name, tallies[p].ok.Load(), tallies[p].failed.Load())
	}
	failures.Range(func(k, v any) bool {
		t.Logf("  %s: %d", k, v.(*atomic.Int64).Load())
		return true
	})
	for p := range tallies {
		if tallies[p].ok.Load() == 0 {
			t.Errorf("no successful verification in phase %d", p)
		}
	}
	if n := tallies[2].failed.Load(); n != 0 {
		t.Errorf("%d verifications failed after the takeover settled", n)
	}

	live := filepath.Join(dir, "live.ndjson")
	if _, err := survivors[0].Tool(ctx, "dump", "--redis-prefix", prefix, "--out", live); err != nil {
		t.Fatal(err)
	}
	compareDumps(t, survivors[0], feeds, live)
	for _, h := range survivors {
		if err := h.Stop(); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
	}
}

// verificationRequest is POST /v1/verifications's body.
type verificationRequest struct {
	Program string         `json:"program"`
	Subject map[string]any `json:"subject"`
	Params  map[string]any `json:"params"`
}

// verificationRequests reads up to n requests from hub gen's expected decisions.
func verificationRequests(t *testing.T, path string, n int) []verificationRequest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []verificationRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(out) < n {
		var r verificationRequest
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatalf("no expected decisions in %s", path)
	}
	return out
}
