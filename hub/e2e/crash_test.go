package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/verihub/verihub/hub/hubtest"
)

func TestMain(m *testing.M) { hubtest.Main(m) }

// sizeFromEnv reads a positive integer from the environment, or returns def.
func sizeFromEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestCrashRestart loads about 200k generated records, SIGKILLs the hub while the
// matcher is mid-way, restarts it, finishes the load, and checks that the live store
// and a rebuild from the topics both equal, byte for byte, the profiles folded
// independently from the generated files. VERIHUB_E2E_ENTERPRISES and
// VERIHUB_E2E_PERSONS change the size (default 2000 and 4000: ~196k records).
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end crash test: skipped under -short")
	}
	ctx := context.Background()
	feeds := hubtest.Gen(ctx, t, filepath.Join(t.TempDir(), "gen"), 7,
		sizeFromEnv("VERIHUB_E2E_ENTERPRISES", 2000), sizeFromEnv("VERIHUB_E2E_PERSONS", 4000))
	// Both modes use one PII secret so the expectation is folded once: the embedded
	// hub finds it at its default path (DATA/secrets/pii.key), as if it had
	// generated it on a previous start.
	secrets := hubtest.NewSecrets(t, filepath.Join(t.TempDir(), "secrets"))
	piiKey, err := os.ReadFile(secrets.PIIFile)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	expect := func(t *testing.T) []byte {
		if want == nil {
			want = hubtest.Expect(t, bytes.TrimSpace(piiKey), feeds...)
		}
		return want
	}

	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		h := hubtest.New(t, hubtest.Options{Dir: filepath.Join(dir, "hub")})
		if err := os.MkdirAll(filepath.Join(h.DataDir(), "secrets"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.DataDir(), "secrets", "pii.key"), piiKey, 0o600); err != nil {
			t.Fatal(err)
		}
		crashAndFinish(ctx, t, h, feeds)

		rebuilt := filepath.Join(dir, "rebuilt.ndjson")
		start := time.Now()
		if out, err := h.Tool(ctx, "rebuild", "--into", filepath.Join(dir, "rebuilt"), "--dump", rebuilt); err != nil {
			t.Fatal(err)
		} else {
			t.Logf("rebuild in %s: %s", time.Since(start).Round(time.Millisecond), out)
		}
		if err := h.Stop(); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
		live := filepath.Join(dir, "live.ndjson")
		if _, err := h.Tool(ctx, "dump", "--store", filepath.Join(h.DataDir(), "store"), "--out", live); err != nil {
			t.Fatal(err)
		}
		sameDumps(t, expect(t), live, rebuilt)
	})

	t.Run("kafka-redis", func(t *testing.T) {
		brokers := hubtest.KafkaBrokers(t)
		redisAddr := hubtest.RedisAddr(t)
		dir := t.TempDir()
		topics, live, again := hubtest.Unique("e2ecrash"), hubtest.Unique("e2ecrash"), hubtest.Unique("e2ecrash-rebuild")
		hubtest.CleanupTopics(t, brokers, topics)
		hubtest.CleanupRedis(t, redisAddr, live)
		hubtest.CleanupRedis(t, redisAddr, again)
		h := hubtest.New(t, hubtest.Options{Dir: filepath.Join(dir, "hub"), Brokers: brokers, TopicPrefix: topics,
			Group: topics + "-matching", RedisAddr: redisAddr, RedisPrefix: live, Secrets: &secrets})
		crashAndFinish(ctx, t, h, feeds)

		rebuilt := filepath.Join(dir, "rebuilt.ndjson")
		start := time.Now()
		if out, err := h.Tool(ctx, "rebuild", "--redis-prefix", again, "--dump", rebuilt); err != nil {
			t.Fatal(err)
		} else {
			t.Logf("rebuild in %s: %s", time.Since(start).Round(time.Millisecond), out)
		}
		liveDump := filepath.Join(dir, "live.ndjson")
		if _, err := h.Tool(ctx, "dump", "--redis-prefix", live, "--out", liveDump); err != nil {
			t.Fatal(err)
		}
		if err := h.Stop(); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
		sameDumps(t, expect(t), liveDump, rebuilt)
	})
}

// killAfterProfiles is how many profiles the store must hold before the hub is
// killed: well into the load, with the matcher still behind.
const killAfterProfiles = 1000

// crashAndFinish starts h, loads feeds one after another, SIGKILLs h once profiles
// exist and the matcher still lags, restarts it, loads again every file whose load
// did not succeed, and waits for the matcher to catch up.
func crashAndFinish(ctx context.Context, t *testing.T, h *hubtest.Hub, feeds []hubtest.Feed) {
	t.Helper()
	began := time.Now()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	type loaded struct {
		next int // index of the first feed not loaded
		err  error
	}
	loadCtx, cancelLoad := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelLoad()
	done := make(chan loaded, 1)
	go func() {
		for i, f := range feeds {
			if _, err := h.Tool(loadCtx, "load", "--agency", f.Agency, f.Path); err != nil {
				done <- loaded{i, err}
				return
			}
		}
		done <- loaded{len(feeds), nil}
	}()

	var res *loaded
	var killedAt hubtest.PipelineState
	for killed := false; !killed; {
		select {
		case r := <-done:
			res = &r
		case <-time.After(50 * time.Millisecond):
		}
		p, err := h.Pipeline(ctx)
		switch {
		case err != nil:
			t.Logf("reading the pipeline: %v", err)
		case p.Lag > 0 && p.ProfileCount() >= killAfterProfiles:
			h.Kill()
			killed, killedAt = true, p
		case res != nil && res.err != nil:
			t.Fatalf("load of %s failed before the crash: %v", feeds[res.next].Agency, res.err)
		case res != nil && p.Lag == 0:
			t.Fatalf("the matcher caught up (%d profiles) before the hub could be killed mid-way; load more records", p.ProfileCount())
		}
		if time.Since(began) > 3*time.Minute {
			t.Fatal("no mid-way state to kill the hub in within 3 minutes")
		}
	}
	t.Logf("SIGKILL after %s: lag %d, %d enterprise and %d person profiles", time.Since(began).Round(time.Millisecond),
		killedAt.Lag, killedAt.Profiles["enterprise"], killedAt.Profiles["person"])

	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if res == nil {
		r := <-done
		res = &r
	}
	if res.err != nil {
		t.Logf("load of %s stopped by the crash: %v", feeds[res.next].Agency, firstLine(res.err))
	}
	for _, f := range feeds[res.next:] {
		if _, err := h.Tool(ctx, "load", "--agency", f.Agency, f.Path); err != nil {
			t.Fatal(err)
		}
	}
	p, err := h.WaitCaughtUp(ctx, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("caught up %s after the start: %d enterprise and %d person profiles", time.Since(began).Round(time.Millisecond),
		p.Profiles["enterprise"], p.Profiles["person"])
}

// compareDumps checks each dump file against the independent fold of feeds.
func compareDumps(t *testing.T, h *hubtest.Hub, feeds []hubtest.Feed, dumps ...string) {
	t.Helper()
	secret, err := h.PIISecret()
	if err != nil {
		t.Fatal(err)
	}
	sameDumps(t, hubtest.Expect(t, secret, feeds...), dumps...)
}

// sameDumps checks each dump file against want.
func sameDumps(t *testing.T, want []byte, dumps ...string) {
	t.Helper()
	for _, d := range dumps {
		got, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		hubtest.SameDump(t, filepath.Base(d), want, got)
	}
}

func firstLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
