package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verihub/verihub/hub/hubtest"
)

// readyWithin is how soon /readyz must follow a dependency going away or coming back.
const (
	unreadyWithin = 10 * time.Second
	readyWithin   = 30 * time.Second
)

// TestReadinessFollowsDependencies runs a hub on a private Redis and a private Kafka
// (own ports and state, so the shared development services are never disturbed),
// stops each and checks /readyz turns 503 within seconds and 200 again once it is
// back, that the process survives both outages, and that records loaded afterwards
// still reach the store.
func TestReadinessFollowsDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end readiness test: skipped under -short")
	}
	if os.Getenv("VERIHUB_TEST_KAFKA_BROKERS") == "" || os.Getenv("VERIHUB_TEST_REDIS_ADDR") == "" {
		t.Skip("VERIHUB_TEST_KAFKA_BROKERS and VERIHUB_TEST_REDIS_ADDR are not set: the integration suite is off " +
			"(this test starts its own private Redis and Kafka from the same installation)")
	}
	ctx := context.Background()
	redis := hubtest.StartRedis(t)
	kafka := hubtest.StartKafka(t)
	dir := t.TempDir()
	secrets := hubtest.NewSecrets(t, filepath.Join(dir, "secrets"))
	h := hubtest.New(t, hubtest.Options{Dir: filepath.Join(dir, "hub"), Brokers: []string{kafka.Addr},
		RedisAddr: redis.Addr, RedisPrefix: "ready", Secrets: &secrets, Partitions: 3})
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}

	step := func(name string, act func() error, want int, within time.Duration) {
		t.Helper()
		began := time.Now()
		if err := act(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		acted := time.Since(began)
		took, err := waitReadyz(ctx, h, want, within)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s (in %s): /readyz %d %s later", name, acted.Round(10*time.Millisecond), want, took.Round(10*time.Millisecond))
		if !h.Running() {
			t.Fatalf("%s: the hub process exited", name)
		}
	}
	step("redis stopped", func() error { redis.Stop(); return nil }, http.StatusServiceUnavailable, unreadyWithin)
	step("redis back", redis.Start, http.StatusOK, readyWithin)
	step("kafka stopped", kafka.Stop, http.StatusServiceUnavailable, unreadyWithin)
	step("kafka back", kafka.Start, http.StatusOK, readyWithin)

	feeds := hubtest.Gen(ctx, t, filepath.Join(dir, "gen"), 3, 20, 40)
	for _, f := range feeds {
		if _, err := h.Tool(ctx, "load", "--agency", f.Agency, f.Path); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.WaitCaughtUp(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, "live.ndjson")
	if _, err := h.Tool(ctx, "dump", "--redis-prefix", "ready", "--out", live); err != nil {
		t.Fatal(err)
	}
	compareDumps(t, h, feeds, live)
	if err := h.Stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}

// waitReadyz polls /readyz until it answers want and returns how long that took.
func waitReadyz(ctx context.Context, h *hubtest.Hub, want int, within time.Duration) (time.Duration, error) {
	start := time.Now()
	last := 0
	for time.Since(start) < within {
		if status, err := h.Ready(ctx); err == nil {
			last = status
			if status == want {
				return time.Since(start), nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), &readyzError{want: want, last: last, within: within}
}

type readyzError struct {
	want, last int
	within     time.Duration
}

func (e *readyzError) Error() string {
	return "/readyz did not answer " + http.StatusText(e.want) + " within " + e.within.String() + " (last " + http.StatusText(e.last) + ")"
}
