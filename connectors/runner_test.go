package connectors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/connectors/connectorstest"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/contracts"
)

// TestEveryConnectorSurvivesEveryFault runs each agency connector against its simulator
// under each fault and checks that the sink ends with exactly the simulator's data,
// every invalid record rejected, and no cursor ever stored ahead of published data.
func TestEveryConnectorSurvivesEveryFault(t *testing.T) {
	type fault struct {
		name   string
		faults simulator.Faults
		// during runs while the connector works (agency restarts).
		during func(t *testing.T, h *harness)
		// check asserts the fault really happened and was handled as intended.
		check func(t *testing.T, h *harness, st Status, took time.Duration)
	}
	retried := func(t *testing.T, st Status) {
		t.Helper()
		if st.PagesRetried == 0 {
			t.Errorf("PagesRetried = 0, want retries")
		}
	}
	faults := []fault{
		{name: "none", check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
			if st.PagesRetried != 0 || st.Restarts != 0 {
				t.Errorf("retries %d, restarts %d without faults", st.PagesRetried, st.Restarts)
			}
		}},
		{name: "5xx-burst", faults: simulator.Faults{NextErrors: 3, ErrorRate: 0.15, ErrorStatus: 500},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
				retried(t, st)
				if h.sim.Stats().Errors < 3 {
					t.Errorf("simulator injected %d errors, want ≥ 3", h.sim.Stats().Errors)
				}
			}},
		{name: "5xx-retry-after", faults: simulator.Faults{NextErrors: 2, RetryAfter: time.Second},
			check: func(t *testing.T, h *harness, st Status, took time.Duration) {
				retried(t, st)
				// Backoff alone is at most 40ms a retry: only Retry-After explains 2s.
				if took < 2*time.Second {
					t.Errorf("took %s, want ≥ 2s from two Retry-After: 1", took)
				}
			}},
		{name: "latency", faults: simulator.Faults{Latency: 15 * time.Millisecond},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
				if st.LastLatency < 15*time.Millisecond {
					t.Errorf("LastLatency %s, want ≥ 15ms", st.LastLatency)
				}
			}},
		{name: "timeouts", faults: simulator.Faults{NextHangs: 2, HangRate: 0.05},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
				retried(t, st)
				if h.sim.Stats().Hangs < 2 {
					t.Errorf("simulator hung %d times, want ≥ 2", h.sim.Stats().Hangs)
				}
			}},
		{name: "truncated", faults: simulator.Faults{NextTruncated: 2, TruncateRate: 0.2},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
				retried(t, st)
				if h.sim.Stats().Truncated < 2 {
					t.Errorf("simulator truncated %d bodies, want ≥ 2", h.sim.Stats().Truncated)
				}
			}},
		{name: "duplicate-pages", faults: simulator.Faults{DuplicateRate: 0.4},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
				if h.sim.Stats().Duplicates == 0 {
					t.Errorf("simulator served no duplicate page")
				}
				if st.RecordsRead <= int64(len(h.want)) {
					t.Errorf("read %d records, want more than %d with repeated pages", st.RecordsRead, len(h.want))
				}
			}},
		{name: "agency-restart", faults: simulator.Faults{Latency: 5 * time.Millisecond},
			during: func(t *testing.T, h *harness) {
				waitFor(t, 10*time.Second, "first records", func() bool { return h.sink.Published() > 10 })
				if err := h.srv.Restart(300 * time.Millisecond); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) {
				retried(t, st)
				if cs := h.sim.Stats().Cursors; len(cs) > 0 && cs[len(cs)-1] == "" {
					t.Errorf("the connector started over after the agency restarted")
				}
			}},
		{name: "everything", faults: simulator.Faults{ErrorRate: 0.1, HangRate: 0.03, TruncateRate: 0.1, DuplicateRate: 0.1, Latency: 2 * time.Millisecond},
			check: func(t *testing.T, h *harness, st Status, _ time.Duration) { retried(t, st) }},
	}
	for _, a := range Agencies() {
		for i, f := range faults {
			t.Run(a.Name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, a, 60, uint64(i+1))
				h.sim.SetFaults(f.faults)
				r, stop := h.start(h.config(a.Name + "-" + f.name))
				start := time.Now()
				if f.during != nil {
					f.during(t, h)
				}
				h.waitComplete(r, 30*time.Second)
				took := time.Since(start)
				st := r.Status()
				stop()
				f.check(t, h, st, took)
				if st.Published < int64(len(h.want)) {
					t.Errorf("Published %d, want ≥ %d", st.Published, len(h.want))
				}
				if st.Rejected < int64(len(h.invalid)) {
					t.Errorf("Rejected %d, want ≥ %d", st.Rejected, len(h.invalid))
				}
				if st.Lag != 0 {
					t.Errorf("Lag = %d after catching up, want 0", st.Lag)
				}
			})
		}
	}
}

func TestRejectReasons(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencySocialInsurance)
	h := newHarness(t, a, 6, 1)
	r, stop := h.start(h.config("si-rejects"))
	h.waitComplete(r, 10*time.Second)
	stop()
	codes := map[string]int{}
	for _, rs := range h.sink.Rejected() {
		codes[rs[0].Code]++
	}
	want := map[string]int{
		contracts.CodeUnknownType: len(a.Types()),
		CodeForeignType:           len(a.Types()),
		contracts.CodeRequired:    len(a.Types()),
	}
	for c, n := range want {
		if codes[c] != n {
			t.Errorf("%d rejects with code %s, want %d (all: %v)", codes[c], c, n, codes)
		}
	}
}

// TestRestartResumesAtStoredCursor stops a connector midway and starts a new one on the
// same cursor store: the new one asks for the stored cursors, not the beginning.
func TestRestartResumesAtStoredCursor(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencySocialInsurance)
	h := newHarness(t, a, 90, 3)
	h.sim.SetFaults(simulator.Faults{Latency: 10 * time.Millisecond})
	cfg := h.config("si-resume")
	r1, stop1 := h.start(cfg)
	waitFor(t, 10*time.Second, "some pages", func() bool { return h.cursors.Puts() >= 3 })
	stop1()
	stored := r1.Status().Cursor
	requests := len(h.sim.Stats().Cursors)

	h.sim.SetFaults(simulator.Faults{})
	r2, stop2 := h.start(cfg)
	h.waitComplete(r2, 10*time.Second)
	stop2()
	asked := h.sim.Stats().Cursors[requests:]
	first := asked[0]
	var firstType string
	for _, typ := range a.Types() {
		if stored[typ] != simulator.EncodeCursor(len(h.sim.Records(typ))) {
			firstType = typ
			break
		}
	}
	if firstType == "" {
		t.Fatal("the first run finished everything; nothing to resume")
	}
	if first != stored[firstType] {
		t.Errorf("second run asked since=%q first, want the stored cursor %q of %s", first, stored[firstType], firstType)
	}
	if first == "" {
		t.Errorf("second run started from the beginning")
	}
}

// TestFailedConnectorRestartsByItself: a refused token fails the connector (no retries
// of a 401), it restarts by itself with backoff, and recovers once the token is fixed.
func TestFailedConnectorRestartsByItself(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencyTax)
	h := newHarness(t, a, 30, 4)
	h.setToken("wrong-token")
	r, stop := h.start(h.config("tax-401"))

	waitFor(t, 5*time.Second, "state failed", func() bool { return r.Status().State == StateFailed })
	st := r.Status()
	if !strings.Contains(st.LastError, "401") || st.LastErrorAt.IsZero() {
		t.Errorf("LastError %q at %s, want a 401 with its time", st.LastError, st.LastErrorAt)
	}
	if st.PagesRetried != 0 {
		t.Errorf("a 401 was retried %d times; it is permanent", st.PagesRetried)
	}
	if st.NextRestart.IsZero() {
		t.Errorf("failed without a NextRestart")
	}
	waitFor(t, 5*time.Second, "automatic restarts", func() bool { return r.Status().Restarts >= 2 })
	if n := h.sink.Published(); n != 0 {
		t.Fatalf("published %d records with a refused token", n)
	}

	h.setToken(testToken)
	h.waitComplete(r, 10*time.Second)
	waitFor(t, 5*time.Second, "state running", func() bool { return r.Status().State == StateRunning })
	st = r.Status()
	if st.LastSuccess.Before(st.LastErrorAt) {
		t.Errorf("LastSuccess %s before LastErrorAt %s after recovery", st.LastSuccess, st.LastErrorAt)
	}
	if h.sim.Stats().Unauthorized < 2 {
		t.Errorf("simulator refused %d requests, want ≥ 2", h.sim.Stats().Unauthorized)
	}
	stop()
}

// TestRetriesRunOutThenRecover: an agency down longer than the retries fails the
// connector; it restarts by itself when the agency is back.
func TestRetriesRunOutThenRecover(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencyEnvironment)
	h := newHarness(t, a, 30, 5)
	h.sim.SetFaults(simulator.Faults{ErrorRate: 1})
	r, stop := h.start(h.config("env-down"))
	waitFor(t, 5*time.Second, "state failed", func() bool { return r.Status().State == StateFailed })
	if st := r.Status(); !strings.Contains(st.LastError, "giving up") {
		t.Errorf("LastError = %q, want the retries to have run out", st.LastError)
	}
	h.sim.SetFaults(simulator.Faults{})
	h.waitComplete(r, 10*time.Second)
	if st := r.Status(); st.Restarts == 0 {
		t.Errorf("Restarts = 0 after a failure")
	}
	stop()
}

// TestDegradedWhileRetrying: the state is degraded during a Retry-After wait and
// running again after.
func TestDegradedWhileRetrying(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencyCertification)
	h := newHarness(t, a, 20, 6)
	h.sim.SetFaults(simulator.Faults{NextErrors: 1, RetryAfter: time.Second})
	r, stop := h.start(h.config("cert-degraded"))
	waitFor(t, 2*time.Second, "state degraded", func() bool { return r.Status().State == StateDegraded })
	if st := r.Status(); !strings.Contains(st.LastError, "503") {
		t.Errorf("LastError while degraded = %q, want the 503", st.LastError)
	}
	h.waitComplete(r, 10*time.Second)
	waitFor(t, 2*time.Second, "state running", func() bool { return r.Status().State == StateRunning })
	stop()
}

// TestSinkFailureKeepsCursor: a Publish that fails leaves the cursor where it was; the
// connector fails, restarts and publishes the page.
func TestSinkFailureKeepsCursor(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencyCredit)
	h := newHarness(t, a, 30, 7)
	h.sink.FailPublish(3)
	h.cursors.FailPut(1)
	r, stop := h.start(h.config("credit-sink"))
	h.waitComplete(r, 10*time.Second)
	st := r.Status()
	stop()
	if st.Restarts < 3 {
		t.Errorf("Restarts = %d, want ≥ 3 (three failed publishes, one failed cursor write)", st.Restarts)
	}
	// Every injected fault was met (the connector did not skip past a failed page).
	// LastError itself may by now be a transient fetch timeout on a loaded machine.
	if n := h.sink.FailedPublishes(); n != 3 {
		t.Errorf("sink faults met = %d, want 3", n)
	}
}

// TestPauseResumeSync checks the controls and the state shown at each step.
func TestPauseResumeSync(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencySocialInsurance)
	h := newHarness(t, a, 60, 8)
	h.sim.SetFaults(simulator.Faults{Latency: 5 * time.Millisecond})
	cfg := h.config("si-controls")
	cfg.PollInterval = time.Hour // only Sync makes it poll again
	r, stop := h.start(cfg)
	waitFor(t, 5*time.Second, "first records", func() bool { return h.sink.Published() > 0 })

	r.Pause()
	waitFor(t, 2*time.Second, "state paused", func() bool { return r.Status().State == StatePaused })
	before := h.sim.Stats().Requests
	time.Sleep(100 * time.Millisecond)
	if after := h.sim.Stats().Requests; after != before {
		t.Errorf("%d requests while paused", after-before)
	}
	if h.complete(r) == "" {
		t.Fatal("finished before the pause took effect; the test proves nothing")
	}

	r.Resume()
	h.waitComplete(r, 10*time.Second)
	if st := r.Status(); st.State != StateRunning {
		t.Errorf("state after catching up = %s, want running", st.State)
	}

	more := connectorstest.Records(a.Types(), 10, 99)
	for i := range more {
		more[i].ID += "-late"
		more[i].AsOf = more[i].AsOf.Add(1000 * time.Hour)
	}
	if err := h.sim.Append(more...); err != nil {
		t.Fatal(err)
	}
	for k, v := range connectorstest.Winners(more) {
		h.want[k] = v
	}
	time.Sleep(50 * time.Millisecond)
	if h.complete(r) == "" {
		t.Fatal("new records arrived without Sync despite an hour's poll interval")
	}
	r.Sync()
	h.waitComplete(r, 10*time.Second)
	stop()
}

// TestSyncCutsRestartBackoff: Sync restarts a failed connector at once.
func TestSyncCutsRestartBackoff(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencyTax)
	h := newHarness(t, a, 10, 9)
	h.setToken("wrong")
	cfg := h.config("tax-sync")
	cfg.RestartMin, cfg.RestartMax = time.Hour, time.Hour
	r, stop := h.start(cfg)
	waitFor(t, 5*time.Second, "state failed", func() bool { return r.Status().State == StateFailed })
	h.setToken(testToken)
	r.Sync()
	h.waitComplete(r, 5*time.Second)
	stop()
}

func TestPauseWhileFailed(t *testing.T) {
	a, _ := LookupAgency(contracts.AgencyTax)
	h := newHarness(t, a, 10, 10)
	h.setToken("wrong")
	r, stop := h.start(h.config("tax-pause-failed"))
	waitFor(t, 5*time.Second, "state failed", func() bool { return r.Status().State == StateFailed })
	r.Pause()
	waitFor(t, 5*time.Second, "state paused", func() bool { return r.Status().State == StatePaused })
	restarts := r.Status().Restarts
	time.Sleep(300 * time.Millisecond) // longer than RestartMax
	if got := r.Status().Restarts; got != restarts {
		t.Errorf("restarted %d times while paused", got-restarts)
	}
	h.setToken(testToken)
	r.Resume()
	h.waitComplete(r, 5*time.Second)
	stop()
}

func TestNewRunnerRefusesBadInput(t *testing.T) {
	good := Config{Name: "si-1", Agency: "si", BaseURL: "http://127.0.0.1:1", TokenEnv: "X"}
	deps := Deps{Sink: connectorstest.NewSink(), Cursors: connectorstest.NewCursors(), Validator: ValidatorFunc(connectorstest.Validate)}
	if _, err := NewRunner(good, deps); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	bad := good
	bad.Agency = "grant"
	if _, err := NewRunner(bad, deps); err == nil {
		t.Error("a runner for grant (push only) was built")
	}
	if _, err := NewRunner(good, Deps{Sink: deps.Sink}); err == nil {
		t.Error("a runner without cursor store and validator was built")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	deps := Deps{Sink: connectorstest.NewSink(), Cursors: connectorstest.NewCursors(), Validator: ValidatorFunc(connectorstest.Validate)}
	t.Setenv("VERIHUB_TEST_TOKEN", "x")
	r, err := NewRunner(Config{Name: "si-down", Agency: "si", BaseURL: "http://127.0.0.1:1", TokenEnv: "VERIHUB_TEST_TOKEN", RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if st := r.Status(); st.State != StateStopped || st.LastError == "" {
		t.Errorf("status after cancel = %s / %q, want stopped with the connection error kept", st.State, st.LastError)
	}
}
