package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/bus/embedded"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// freeAddr returns a loopback address with a port that was free a moment ago; a
// restarted broker must come back on the same address its clients know.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func newBus(t *testing.T, addr string) *bus.Bus {
	t.Helper()
	b, err := bus.New(bus.Config{
		Brokers:     []string{addr},
		TopicPrefix: "persist",
		Consumer:    bus.ConsumerConfig{RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond, SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond},
	}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureTopics(t.Context()); err != nil {
		t.Fatalf("EnsureTopics: %v", err)
	}
	return b
}

func messages(topic string, from, to int) []bus.Message {
	var out []bus.Message
	for i := from; i < to; i++ {
		subject := fmt.Sprintf("uscc:S%03d", i%29)
		out = append(out, bus.Message{
			Topic: topic,
			Key:   bus.RecordKey(subject, "si.employer_month/"+strconv.Itoa(i)),
			Value: []byte("v" + strconv.Itoa(i)),
		})
	}
	return out
}

// consumeUntil consumes as group until n distinct values were handled, then stops
// cleanly (committing what was handled) and returns them.
func consumeUntil(t *testing.T, b *bus.Bus, group, topic string, n int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var mu sync.Mutex
	seen := map[string]int{}
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, group, []string{topic}, func(_ context.Context, batch []bus.Message) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range batch {
				seen[string(m.Value)]++
			}
			if len(seen) >= n {
				cancel()
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Consume: %v", err)
		}
	case <-time.After(60 * time.Second):
		cancel()
		<-done
		t.Fatalf("consumed %d of %d messages within 60s", len(seen), n)
	}
	return seen
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx := t.Context()

	br, err := embedded.Start(embedded.Config{Addr: addr, DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	b := newBus(t, addr)
	topic := b.Config().RecordsTopic(contracts.AgencySocialInsurance)
	if err := b.Publish(ctx, messages(topic, 0, 500)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := consumeUntil(t, b, "persist-group", topic, 500); len(got) != 500 {
		t.Fatalf("consumed %d before restart, want 500", len(got))
	}
	if err := b.Publish(ctx, messages(topic, 500, 700)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for i := range 3 {
		if err := b.DeadLetter(ctx, bus.DeadLetter{Code: contracts.CodeEnum, Agency: "si", Message: "m" + strconv.Itoa(i)}); err != nil {
			t.Fatalf("DeadLetter: %v", err)
		}
	}
	b.Close()
	br.Close()

	br, err = embedded.Start(embedded.Config{Addr: addr, DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer br.Close()
	b = newBus(t, addr) // EnsureTopics on existing topics
	defer b.Close()

	conf, err := b.TopicConfig(ctx, topic)
	if err != nil {
		t.Fatalf("TopicConfig: %v", err)
	}
	if conf["cleanup.policy"] != "compact" {
		t.Errorf("cleanup.policy after restart = %q, want compact", conf["cleanup.policy"])
	}
	var all []bus.Message
	if err := b.ReadAll(ctx, []string{topic}, func(batch []bus.Message) error { all = append(all, batch...); return nil }); err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if len(all) != 700 {
		t.Fatalf("ReadAll after restart: %d messages, want 700", len(all))
	}
	for _, m := range all {
		subject, _ := bus.SplitKey(m.Key)
		if !strings.HasPrefix(string(subject), "uscc:S") || !strings.HasPrefix(string(m.Value), "v") {
			t.Fatalf("message after restart %q=%q", m.Key, m.Value)
		}
	}
	lags, err := b.Lag(ctx, "persist-group", []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got := bus.TotalLag(lags); got != 200 {
		t.Fatalf("lag after restart = %d, want 200: committed offsets must survive", got)
	}
	page, err := b.ListDeadLetters(ctx, bus.DeadLetterFilter{}, "", 0)
	if err != nil {
		t.Fatalf("ListDeadLetters: %v", err)
	}
	if len(page.Items) != 3 {
		t.Fatalf("%d dead letters after restart, want 3", len(page.Items))
	}
	rest := consumeUntil(t, b, "persist-group", topic, 200)
	for v, n := range rest {
		i, _ := strconv.Atoi(strings.TrimPrefix(v, "v"))
		if i < 500 || n != 1 {
			t.Fatalf("after restart the group got %s %d times; want only v500..v699 once", v, n)
		}
	}
	if len(rest) != 200 {
		t.Fatalf("after restart the group got %d messages, want 200", len(rest))
	}
}

func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	first, err := embedded.Start(embedded.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer first.Close()
	second, err := embedded.Start(embedded.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err == nil {
		second.Close()
		t.Fatal("a second broker started on a data dir in use")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %q does not say the dir is in use", err)
	}
	first.Close()
	third, err := embedded.Start(embedded.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err != nil {
		t.Fatalf("Start after the first closed: %v", err)
	}
	third.Close()
}

func TestAddress(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"[::1]:0", true},
		{"0.0.0.0:0", false},
		{"192.0.2.10:9092", false},
		{":9092", false},
		{"no-port", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			br, err := embedded.Start(embedded.Config{Addr: tc.addr}, nil)
			if br != nil {
				defer br.Close()
			}
			if tc.ok && err != nil {
				if strings.Contains(err.Error(), "cannot assign") || strings.Contains(err.Error(), "address family") {
					t.Skipf("loopback %s unavailable here: %v", tc.addr, err)
				}
				t.Fatalf("Start(%q): %v", tc.addr, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("Start(%q) succeeded, want refusal", tc.addr)
			}
			if tc.ok {
				host, port, _ := net.SplitHostPort(br.Addr())
				if port == "0" || !net.ParseIP(host).IsLoopback() {
					t.Errorf("Addr() = %q", br.Addr())
				}
			}
		})
	}
}
