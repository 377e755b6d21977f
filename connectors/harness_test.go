package connectors

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/connectors/connectorstest"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/contracts"
)

const testToken = "sim-token-0123456789"

// harness is one agency simulator on a real listener, a fake sink, and an in-memory
// cursor store that checks at every cursor write that no record before the cursor is
// still missing from the sink.
type harness struct {
	t         *testing.T
	agency    Agency
	sim       *simulator.Simulator
	srv       *simulator.Server
	sink      *connectorstest.Sink
	cursors   *connectorstest.Cursors
	tokenFile string
	want      map[string]contracts.Envelope
	invalid   []json.RawMessage
}

func newHarness(t *testing.T, a Agency, n int, seed uint64) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		agency:  a,
		sim:     a.NewSimulator(testToken, seed),
		sink:    connectorstest.NewSink(),
		cursors: connectorstest.NewCursors(),
	}
	recs := connectorstest.Records(a.Types(), n, seed)
	if err := h.sim.Append(recs...); err != nil {
		t.Fatal(err)
	}
	h.want = connectorstest.Winners(recs)
	for _, typ := range a.Types() {
		bad := connectorstest.Invalid(a.Name, typ)
		if err := h.sim.AppendRaw(typ, bad...); err != nil {
			t.Fatal(err)
		}
		h.invalid = append(h.invalid, bad...)
	}
	h.cursors.Check = h.checkCursor
	h.tokenFile = filepath.Join(t.TempDir(), "token")
	h.setToken(testToken)
	srv, err := simulator.Listen(h.sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	t.Cleanup(func() { srv.Stop() })
	return h
}

func (h *harness) setToken(tok string) {
	h.t.Helper()
	if err := os.WriteFile(h.tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// checkCursor is the invariant: a cursor is stored only when every record before it
// has reached the sink (published or rejected).
func (h *harness) checkCursor(key string, value []byte) error {
	typ := key[strings.LastIndex(key, "/")+1:]
	off, err := simulator.DecodeCursor(string(value))
	if err != nil {
		return fmt.Errorf("cursor %q for %s: %v", value, typ, err)
	}
	recs := h.sim.Records(typ)
	if off > len(recs) {
		return fmt.Errorf("cursor for %s at %d, past the %d records", typ, off, len(recs))
	}
	for i, raw := range recs[:off] {
		if !h.sink.Handled(raw) {
			return fmt.Errorf("cursor for %s stored at %d while record %d was not yet published", typ, off, i)
		}
	}
	return nil
}

// config is a connector with short timings for tests.
func (h *harness) config(name string) Config {
	return Config{
		Name:          name,
		Agency:        h.agency.Name,
		BaseURL:       h.srv.URL(),
		TokenFile:     h.tokenFile,
		PollInterval:  20 * time.Millisecond,
		PageSize:      7,
		Timeout:       300 * time.Millisecond,
		RetryMax:      6,
		RetryWaitMin:  5 * time.Millisecond,
		RetryWaitMax:  40 * time.Millisecond,
		MaxRetryAfter: 2 * time.Second,
		RestartMin:    20 * time.Millisecond,
		RestartMax:    200 * time.Millisecond,
	}
}

func (h *harness) deps() Deps {
	return Deps{Sink: h.sink, Cursors: h.cursors, Validator: ValidatorFunc(connectorstest.Validate)}
}

// start runs a runner for cfg; stop cancels it and waits for Run to return.
func (h *harness) start(cfg Config) (*Runner, func()) {
	h.t.Helper()
	r, err := NewRunner(cfg, h.deps())
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				h.t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			h.t.Errorf("Run did not return after cancel")
		}
		if st := r.Status(); st.State != StateStopped {
			h.t.Errorf("state after Run returned = %s, want stopped", st.State)
		}
	}
	h.t.Cleanup(stop)
	return r, stop
}

// complete reports whether the sink holds exactly the simulator's data, every invalid
// record was rejected, and every cursor is at the end.
func (h *harness) complete(r *Runner) string {
	if d := h.sink.Diff(h.want); d != "" {
		return d
	}
	rej := h.sink.Rejected()
	for _, raw := range h.invalid {
		if _, ok := rej[string(raw)]; !ok {
			return fmt.Sprintf("invalid record not rejected: %s", raw)
		}
	}
	if len(rej) != len(h.invalid) {
		return fmt.Sprintf("%d records rejected, want %d", len(rej), len(h.invalid))
	}
	st := r.Status()
	for _, typ := range h.agency.Types() {
		want := simulator.EncodeCursor(len(h.sim.Records(typ)))
		if st.Cursor[typ] != want {
			return fmt.Sprintf("cursor of %s = %q, want %q", typ, st.Cursor[typ], want)
		}
	}
	return ""
}

func (h *harness) waitComplete(r *Runner, within time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		if last = h.complete(r); last == "" {
			h.checkViolations()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("not complete after %s: %s\nstatus: %+v", within, last, r.Status())
}

func (h *harness) checkViolations() {
	h.t.Helper()
	for _, v := range h.cursors.Violations() {
		h.t.Errorf("cursor invariant: %s", v)
	}
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}
