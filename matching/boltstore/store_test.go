package boltstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/boltstore"
	"github.com/verihub/verihub/matching/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// opener returns a storetest.NewStore that keeps one directory per test, so that a
// second call with the same t reopens the first's data.
func opener(cfg boltstore.Config) storetest.NewStore {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	return func(t *testing.T) (matching.Store, matching.StateStore) {
		mu.Lock()
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		mu.Unlock()
		c := cfg
		c.Dir = dir
		s, err := boltstore.Open(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return s, s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(boltstore.Config{}))
}

// TestConformanceSmallChunks runs the suite with Scan reading two profiles per
// transaction, so that resuming a scan between chunks is exercised.
func TestConformanceSmallChunks(t *testing.T) {
	storetest.Run(t, opener(boltstore.Config{ScanChunk: 2}))
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  boltstore.Config
		ok   bool
	}{
		{"dir", boltstore.Config{Dir: "/x"}, true},
		{"no dir", boltstore.Config{}, false},
		{"negative", boltstore.Config{Dir: "/x", ScanChunk: -1}, false},
	}
	for _, tc := range tests {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

func TestLockedByAnotherOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := boltstore.Open(context.Background(), boltstore.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = boltstore.Open(context.Background(), boltstore.Config{Dir: dir, LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("second Open = %v, want ErrUnavailable", err)
	}
}

func TestInvalidChanges(t *testing.T) {
	s, err := boltstore.Open(context.Background(), boltstore.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		c    matching.Change
	}{
		{"no kind", matching.Change{Subject: "91350100M000100Y43", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}}},
		{"empty key", matching.Change{Subject: "uscc:", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}}},
		{"nul in subject", matching.Change{Subject: "uscc:a\x00b", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}}},
		{"nul in type", matching.Change{Subject: "uscc:a", Record: contracts.Envelope{Type: "t\x00", ID: "a", AsOf: t0}}},
		{"no type", matching.Change{Subject: "uscc:a", Record: contracts.Envelope{ID: "a", AsOf: t0}}},
	}
	for _, tc := range tests {
		good := matching.Change{Subject: "uscc:good", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}}
		if _, err := s.Apply(context.Background(), []matching.Change{good, tc.c}); !errors.Is(err, contracts.ErrInvalidRecord) {
			t.Errorf("%s: Apply = %v, want ErrInvalidRecord", tc.name, err)
		}
		if _, err := s.Profile(context.Background(), "uscc:good"); !errors.Is(err, contracts.ErrNotFound) {
			t.Errorf("%s: the valid change of a refused call was applied", tc.name)
		}
	}
}

func TestClosedIsUnavailable(t *testing.T) {
	s, err := boltstore.Open(context.Background(), boltstore.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ctx := context.Background()
	if err := s.Ping(ctx); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("Ping = %v", err)
	}
	if _, err := s.Apply(ctx, []matching.Change{{Subject: "uscc:a", Record: contracts.Envelope{Type: "t", ID: "a"}}}); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("Apply = %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("Get = %v", err)
	}
}

func TestSweepAndRun(t *testing.T) {
	s, err := boltstore.Open(context.Background(), boltstore.Config{Dir: t.TempDir(), SweepInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Put(ctx, k, []byte(k), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "keep", []byte("k"), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if n, err := s.Sweep(ctx); err != nil || n != 3 {
		t.Errorf("Sweep = %d, %v, want 3", n, err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("second Sweep = %d, %v, want 0", n, err)
	}
	if err := s.Put(ctx, "d", []byte("d"), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- s.Run(runCtx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("after Run, Sweep = %d, %v, want 0 (Run swept)", n, err)
	}
	if v, err := s.Get(ctx, "keep"); err != nil || string(v) != "k" {
		t.Errorf("Get(keep) = %q, %v", v, err)
	}
}
