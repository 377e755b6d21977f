package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/redisstore"
	"github.com/verihub/verihub/matching/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisAddr returns the test server's address, or skips.
func redisAddr(t testing.TB) string {
	addr := os.Getenv("VERIHUB_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("VERIHUB_TEST_REDIS_ADDR not set: skipping tests against a real Redis (deploy/dev/redis.sh start, then VERIHUB_TEST_REDIS_ADDR=127.0.0.1:16379)")
	}
	return addr
}

func uniquePrefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "verihub-test:" + hex.EncodeToString(b[:])
}

// dropPrefix deletes every key under prefix, on every master.
func dropPrefix(t testing.TB, addr, prefix string) {
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}})
	defer c.Close()
	ctx := context.Background()
	del := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *redis.Client:
		err = del(ctx, c)
	}
	if err != nil {
		t.Errorf("dropping test keys under %s: %v", prefix, err)
	}
}

// opener opens a store per test under a unique prefix; a second call with the same t
// reconnects to the same prefix with a new client.
func opener(addr string, cfg redisstore.Config) storetest.NewStore {
	var mu sync.Mutex
	prefixes := map[*testing.T]string{}
	return func(t *testing.T) (matching.Store, matching.StateStore) {
		mu.Lock()
		prefix, ok := prefixes[t]
		if !ok {
			prefix = uniquePrefix(t)
			prefixes[t] = prefix
			t.Cleanup(func() { dropPrefix(t, addr, prefix) })
		}
		mu.Unlock()
		c := cfg
		c.Addrs, c.Prefix = []string{addr}, prefix
		s, err := redisstore.Open(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return s, s
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, opener(redisAddr(t), redisstore.Config{}))
}

// TestConformanceFewBuckets runs the suite with two index sets, so that many
// subjects share a set and SSCAN pages through it.
func TestConformanceFewBuckets(t *testing.T) {
	storetest.Run(t, opener(redisAddr(t), redisstore.Config{IndexBuckets: 2}))
}

func open(t *testing.T, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	addr := redisAddr(t)
	if cfg.Prefix == "" {
		cfg.Prefix = uniquePrefix(t)
		t.Cleanup(func() { dropPrefix(t, addr, cfg.Prefix) })
	}
	cfg.Addrs = []string{addr}
	s, err := redisstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestScriptCacheFlushed: after SCRIPT FLUSH (as after a restart or failover) Apply
// falls back to EVAL and still counts outcomes exactly.
func TestScriptCacheFlushed(t *testing.T) {
	s := open(t, redisstore.Config{})
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: redisAddr(t)})
	defer admin.Close()
	changes := storetest.History(42)
	want := storetest.Reference(changes)
	applied := 0
	for _, p := range want {
		for _, byID := range p.Records {
			applied += len(byID)
		}
	}
	// In-order delivery of distinct versions: every version is newer than the last.
	if err := admin.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := s.Apply(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != len(changes) || st.Duplicate != 0 || st.Stale != 0 {
		t.Errorf("after SCRIPT FLUSH, stats = %+v, want %d applied", st, len(changes))
	}
	if err := admin.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	st, err = s.Apply(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != 0 || st.Duplicate != applied {
		t.Errorf("second apply after SCRIPT FLUSH, stats = %+v, want %d duplicates", st, applied)
	}
}

func TestIndexBucketsFixed(t *testing.T) {
	s := open(t, redisstore.Config{IndexBuckets: 8})
	_ = s
	prefix := uniquePrefix(t)
	addr := redisAddr(t)
	t.Cleanup(func() { dropPrefix(t, addr, prefix) })
	first, err := redisstore.Open(context.Background(), redisstore.Config{Addrs: []string{addr}, Prefix: prefix, IndexBuckets: 8})
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	if _, err := redisstore.Open(context.Background(), redisstore.Config{Addrs: []string{addr}, Prefix: prefix, IndexBuckets: 16}); err == nil {
		t.Error("reopening a prefix with another bucket count succeeded")
	}
}

func TestInvalidChanges(t *testing.T) {
	s := open(t, redisstore.Config{})
	t0 := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	good := matching.Change{Subject: "uscc:good", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}}
	for _, c := range []matching.Change{
		{Subject: "91350100M000100Y43", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}},
		{Subject: "uscc:a}b", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}},
		{Subject: "uscc:a", Record: contracts.Envelope{ID: "a", AsOf: t0}},
	} {
		if _, err := s.Apply(context.Background(), []matching.Change{good, c}); !errors.Is(err, contracts.ErrInvalidRecord) {
			t.Errorf("Apply(%q) = %v, want ErrInvalidRecord", c.Subject, err)
		}
	}
	if _, err := s.Profile(context.Background(), "uscc:good"); !errors.Is(err, contracts.ErrNotFound) {
		t.Error("the valid change of a refused call was applied")
	}
}

// TestUnavailable needs no server: nothing listens on the address.
func TestUnavailable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer client.Close()
	ctx := context.Background()
	if _, err := redisstore.New(ctx, client, redisstore.Config{}); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("New = %v, want ErrUnavailable", err)
	}
	if _, err := redisstore.Open(ctx, redisstore.Config{Addrs: []string{"127.0.0.1:1"}}); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("Open = %v, want ErrUnavailable", err)
	}
}

func TestClosedIsUnavailable(t *testing.T) {
	s := open(t, redisstore.Config{})
	s.Close()
	ctx := context.Background()
	if err := s.Ping(ctx); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("Ping = %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("Get = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  redisstore.Config
		ok   bool
	}{
		{"addr", redisstore.Config{Addrs: []string{"h:1"}}, true},
		{"no addr", redisstore.Config{}, false},
		{"brace", redisstore.Config{Addrs: []string{"h:1"}, Prefix: "a{b"}, false},
		{"buckets", redisstore.Config{Addrs: []string{"h:1"}, IndexBuckets: 20000}, false},
		{"two passwords", redisstore.Config{Addrs: []string{"h:1"}, Password: "x", PasswordFile: "/f"}, false},
	}
	for _, tc := range tests {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
