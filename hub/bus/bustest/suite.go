// Package bustest is the conformance suite of the bus: the behaviour the rest of the
// hub relies on, checked against any broker the bus can talk to (the embedded kfake
// broker always, a real Apache Kafka when one is configured).
package bustest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
)

// NewBus returns a bus for one test. Every call must use a topic prefix no other
// test uses (so tests never see each other's messages) and short consumer retry
// timings; the factory closes the bus in t.Cleanup. The suite calls EnsureTopics
// itself.
type NewBus func(t *testing.T) *bus.Bus

// Run runs the whole suite.
func Run(t *testing.T, newBus NewBus) {
	tests := []struct {
		name string
		fn   func(*testing.T, *bus.Bus)
	}{
		{"TopicsAndConfig", testTopicsAndConfig},
		{"OrderPerSubject", testOrderPerSubject},
		{"HandlerErrorRedelivers", testHandlerErrorRedelivers},
		{"CrashBeforeCommitRedelivers", testCrashBeforeCommit},
		{"NoLossAcrossRestart", testNoLossAcrossRestart},
		{"GroupSplitAndTakeover", testGroupSplitAndTakeover},
		{"Lag", testLag},
		{"ReadAll", testReadAll},
		{"DeadLetters", testDeadLetters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBus(t)
			ctx := t.Context()
			if err := b.EnsureTopics(ctx); err != nil {
				t.Fatalf("EnsureTopics: %v", err)
			}
			tc.fn(t, b)
		})
	}
}

// wait is how long a test waits for a condition that should hold within a few
// seconds (group joins and rebalances included).
const wait = 60 * time.Second

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// records makes n messages for topic spread over subjects; the value of each is
// "<subject>#<sequence within subject>".
func records(topic string, subjects, n int) []bus.Message {
	seq := make([]int, subjects)
	out := make([]bus.Message, n)
	for i := range out {
		s := i % subjects
		subject := fmt.Sprintf("uscc:TEST%014d", s)
		out[i] = bus.Message{
			Topic:   topic,
			Key:     bus.RecordKey(subject, fmt.Sprintf("si.employer_month/%d", i)),
			Value:   fmt.Appendf(nil, "%s#%d", subject, seq[s]),
			Headers: []bus.Header{{Key: "n", Value: []byte(strconv.Itoa(i))}},
		}
		seq[s]++
	}
	return out
}

func publish(t *testing.T, b *bus.Bus, msgs []bus.Message) {
	t.Helper()
	// Several calls, as producers do.
	for chunk := range slices.Chunk(msgs, 250) {
		if err := b.Publish(t.Context(), chunk); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
}

// collector runs one Consume and records what its handler saw.
type collector struct {
	mu      sync.Mutex
	seen    []bus.Message
	batches int
	// before, when set, runs before a batch is recorded; an error fails the call.
	before func(c *collector, ctx context.Context, batch []bus.Message) error

	cancel context.CancelFunc
	done   chan error
}

func startConsumer(t *testing.T, b *bus.Bus, group string, topics []string, before func(*collector, context.Context, []bus.Message) error) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	c := &collector{before: before, cancel: cancel, done: make(chan error, 1)}
	go func() {
		c.done <- b.Consume(ctx, group, topics, func(ctx context.Context, batch []bus.Message) error {
			if c.before != nil {
				if err := c.before(c, ctx, batch); err != nil {
					return err
				}
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.seen = append(c.seen, batch...)
			c.batches++
			return nil
		})
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the consumer and waits for Consume to return.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	c.cancel()
	select {
	case err, ok := <-c.done:
		if ok && err != nil {
			t.Errorf("Consume returned %v, want nil after cancel", err)
		}
		if ok {
			close(c.done)
		}
	case <-time.After(wait):
		t.Errorf("Consume did not return within %v of cancel", wait)
	}
}

func (c *collector) messages() []bus.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// ids returns the distinct "n" headers of msgs and how many duplicates there were.
func ids(msgs []bus.Message) (map[string]bool, int) {
	set := map[string]bool{}
	dups := 0
	for _, m := range msgs {
		n := string(m.Header("n"))
		if set[n] {
			dups++
		}
		set[n] = true
	}
	return set, dups
}

func checkAll(t *testing.T, what string, got map[string]bool, want []bus.Message) {
	t.Helper()
	missing := 0
	for _, m := range want {
		if !got[string(m.Header("n"))] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%s: %d of %d messages never handled", what, missing, len(want))
	}
}

func group(t *testing.T) string {
	return "g-" + strings.ReplaceAll(t.Name(), "/", "-")
}

func testTopicsAndConfig(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	cfg := b.Config()
	if err := b.EnsureTopics(ctx); err != nil {
		t.Fatalf("second EnsureTopics (must be idempotent): %v", err)
	}
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	want := []struct {
		topic, policy string
		partitions    int
	}{
		{cfg.RecordsTopic(contracts.AgencySocialInsurance), "compact", cfg.Partitions},
		{cfg.RecordsTopic(contracts.AgencyGrant), "compact", cfg.Partitions},
		{cfg.DeadLetterTopic(), "delete", cfg.DeadLetterPartitions},
		{cfg.AuditTopic(), "delete", cfg.AuditPartitions},
	}
	for _, w := range want {
		conf, err := b.TopicConfig(ctx, w.topic)
		if err != nil {
			t.Fatalf("TopicConfig(%s): %v", w.topic, err)
		}
		if conf["cleanup.policy"] != w.policy {
			t.Errorf("%s cleanup.policy = %q, want %q", w.topic, conf["cleanup.policy"], w.policy)
		}
		if w.policy == "delete" && conf["retention.ms"] == "" {
			t.Errorf("%s has no retention.ms", w.topic)
		}
		lags, err := b.Lag(ctx, group(t), []string{w.topic})
		if err != nil {
			t.Fatalf("Lag(%s): %v", w.topic, err)
		}
		if len(lags) != w.partitions {
			t.Errorf("%s has %d partitions, want %d", w.topic, len(lags), w.partitions)
		}
	}
	if conf, _ := b.TopicConfig(ctx, cfg.DeadLetterTopic()); conf["retention.ms"] != "-1" && cfg.DeadLetterRetention == 0 {
		t.Errorf("dead letters retention.ms = %q, want -1 (kept until purged)", conf["retention.ms"])
	}
	if err := b.Publish(ctx, []bus.Message{{Key: []byte("k"), Value: []byte("v")}}); err == nil {
		t.Errorf("Publish of a message without topic succeeded")
	}
	if err := b.Consume(ctx, "", []string{cfg.AuditTopic()}, nil); err == nil {
		t.Errorf("Consume without group succeeded")
	}
}

func testOrderPerSubject(t *testing.T, b *bus.Bus) {
	cfg := b.Config()
	si, tax := cfg.RecordsTopic(contracts.AgencySocialInsurance), cfg.RecordsTopic(contracts.AgencyTax)
	msgs := append(records(si, 37, 1500), records(tax, 11, 300)...)
	// Make the tax header ids distinct from si's.
	for i := 1500; i < len(msgs); i++ {
		msgs[i].Headers[0].Value = []byte("tax-" + string(msgs[i].Headers[0].Value))
	}
	publish(t, b, msgs)

	c := startConsumer(t, b, group(t), []string{si, tax}, nil)
	eventually(t, "every message handled", func() bool { got, _ := ids(c.messages()); return len(got) == len(msgs) })
	got := c.messages()
	set, _ := ids(got)
	checkAll(t, "order test", set, msgs)

	type tk struct{ topic, subject string }
	last := map[tk]int{}
	part := map[tk]int{}
	for _, m := range got {
		subject, rec := bus.SplitKey(m.Key)
		if len(rec) == 0 {
			t.Fatalf("key %q has no record part", m.Key)
		}
		k := tk{m.Topic, string(subject)}
		seqText := string(m.Value[strings.LastIndexByte(string(m.Value), '#')+1:])
		seq, err := strconv.Atoi(seqText)
		if err != nil {
			t.Fatalf("value %q: %v", m.Value, err)
		}
		if prev, ok := last[k]; ok && seq <= prev {
			t.Fatalf("%s subject %s: sequence %d handled after %d", m.Topic, subject, seq, prev)
		}
		last[k] = seq
		if p, ok := part[k]; ok && p != m.Partition {
			t.Fatalf("%s subject %s on partitions %d and %d", m.Topic, subject, p, m.Partition)
		}
		part[k] = m.Partition
		if want := bus.SubjectPartition(subject, cfg.Partitions); m.Partition != want {
			t.Fatalf("%s subject %s on partition %d, SubjectPartition says %d", m.Topic, subject, m.Partition, want)
		}
	}
	used := map[int]bool{}
	for k, p := range part {
		if k.topic == si {
			used[p] = true
		}
	}
	if len(used) < 2 {
		t.Errorf("37 subjects all landed on %d partition(s): the balancer does not spread subjects", len(used))
	}
}

func testHandlerErrorRedelivers(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	topic := b.Config().RecordsTopic(contracts.AgencyCertification)
	msgs := records(topic, 5, 200)
	publish(t, b, msgs)
	poison := string(msgs[123].Header("n"))
	var mu sync.Mutex
	failures := 0
	c := startConsumer(t, b, group(t), []string{topic}, func(_ *collector, _ context.Context, batch []bus.Message) error {
		for _, m := range batch {
			if string(m.Header("n")) == poison {
				mu.Lock()
				defer mu.Unlock()
				if failures < 3 {
					failures++
					return errors.New("transient failure")
				}
			}
		}
		return nil
	})
	eventually(t, "every message handled", func() bool { got, _ := ids(c.messages()); return len(got) == len(msgs) })
	mu.Lock()
	if failures != 3 {
		t.Errorf("handler failed %d times, want 3", failures)
	}
	mu.Unlock()
	eventually(t, "lag 0 after the retried batch is committed", func() bool {
		lags, err := b.Lag(ctx, group(t), []string{topic})
		return err == nil && bus.TotalLag(lags) == 0
	})
}

func testCrashBeforeCommit(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	topic := b.Config().RecordsTopic(contracts.AgencyEnvironment)
	msgs := records(topic, 7, 300)
	publish(t, b, msgs)

	// The first consumer dies while handling its first batch: its handler never
	// succeeds, so nothing may be committed.
	handled := make(chan struct{})
	var once sync.Once
	first := startConsumer(t, b, group(t), []string{topic}, func(c *collector, _ context.Context, _ []bus.Message) error {
		once.Do(func() { close(handled) })
		c.cancel()
		return errors.New("crashed")
	})
	select {
	case <-handled:
	case <-time.After(wait):
		t.Fatal("first consumer never got a batch")
	}
	first.stop(t)
	lags, err := b.Lag(ctx, group(t), []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got := bus.TotalLag(lags); got != int64(len(msgs)) {
		t.Fatalf("lag after a crash before commit = %d, want %d (nothing committed)", got, len(msgs))
	}

	second := startConsumer(t, b, group(t), []string{topic}, nil)
	eventually(t, "redelivery to the next consumer", func() bool { got, _ := ids(second.messages()); return len(got) == len(msgs) })
	set, _ := ids(second.messages())
	checkAll(t, "after crash", set, msgs)
}

func testNoLossAcrossRestart(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	topic := b.Config().RecordsTopic(contracts.AgencyCredit)
	msgs := records(topic, 13, 2000)
	publish(t, b, msgs[:1000])

	// The first consumer is stopped from inside its first handler call: Consume
	// must let that call finish and commit it, and commit nothing it did not hand
	// to the handler.
	var stopped sync.Once
	first := startConsumer(t, b, group(t), []string{topic}, func(c *collector, ctx context.Context, _ []bus.Message) error {
		stopped.Do(c.cancel)
		time.Sleep(50 * time.Millisecond)
		if ctx.Err() != nil {
			return fmt.Errorf("handler ctx ended right after Consume's ctx: %w", ctx.Err())
		}
		return nil
	})
	select {
	case err := <-first.done:
		first.done <- err
	case <-time.After(wait):
		t.Fatal("first consumer did not stop")
	}
	first.stop(t)
	n1 := first.count()
	if n1 < 1 || n1 > 1000 {
		t.Fatalf("first consumer handled %d messages, want 1..1000", n1)
	}
	lags, err := b.Lag(ctx, group(t), []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got := bus.TotalLag(lags); got != int64(1000-n1) {
		t.Fatalf("lag after a clean stop = %d, want %d: what was handled must be committed", got, 1000-n1)
	}

	publish(t, b, msgs[1000:])
	second := startConsumer(t, b, group(t), []string{topic}, nil)
	eventually(t, "the rest handled by the restarted consumer", func() bool { return second.count() >= len(msgs)-n1 })
	all := append(first.messages(), second.messages()...)
	set, dups := ids(all)
	checkAll(t, "across restart", set, msgs)
	if dups != 0 {
		t.Errorf("%d messages handled twice across a clean restart", dups)
	}
}

func testGroupSplitAndTakeover(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	cfg := b.Config()
	topic := cfg.RecordsTopic(contracts.AgencySocialInsurance)
	msgs := records(topic, 60, 3000)
	publish(t, b, msgs[:1500])

	// A holds its first batch until B has received one, so the group must
	// rebalance and give B part of the partitions.
	aGot, bGot := make(chan struct{}), make(chan struct{})
	var aOnce, bOnce sync.Once
	a := startConsumer(t, b, group(t), []string{topic}, func(_ *collector, ctx context.Context, _ []bus.Message) error {
		aOnce.Do(func() { close(aGot) })
		select {
		case <-bGot:
		case <-ctx.Done():
		case <-time.After(wait):
		}
		return nil
	})
	select {
	case <-aGot:
	case <-time.After(wait):
		t.Fatal("A never received a batch")
	}
	bRef := startConsumer(t, b, group(t), []string{topic}, func(*collector, context.Context, []bus.Message) error {
		bOnce.Do(func() { close(bGot) })
		return nil
	})
	eventually(t, "A and B together handle every message", func() bool {
		set, _ := ids(append(a.messages(), bRef.messages()...))
		return len(set) == 1500
	})
	partsOf := func(c *collector) map[int]bool {
		out := map[int]bool{}
		for _, m := range c.messages() {
			out[m.Partition] = true
		}
		return out
	}
	bParts := partsOf(bRef)
	if len(bParts) == 0 || len(bParts) == cfg.Partitions {
		t.Fatalf("B handled partitions %v of %d: the group did not split them", keys(bParts), cfg.Partitions)
	}

	// A leaves; B must take over A's partitions and lose nothing.
	a.stop(t)
	publish(t, b, msgs[1500:])
	eventually(t, "B handles everything after A left", func() bool {
		set, _ := ids(append(a.messages(), bRef.messages()...))
		return len(set) == len(msgs)
	})
	set, _ := ids(append(a.messages(), bRef.messages()...))
	checkAll(t, "split and takeover", set, msgs)
	if after := partsOf(bRef); len(after) != cfg.Partitions {
		t.Errorf("after A left B handled partitions %v, want all %d", keys(after), cfg.Partitions)
	}
	eventually(t, "lag 0", func() bool {
		lags, err := b.Lag(ctx, group(t), []string{topic})
		return err == nil && bus.TotalLag(lags) == 0
	})
}

func keys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func testLag(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	topic := b.Config().RecordsTopic(contracts.AgencyTax)
	msgs := records(topic, 9, 900)
	const m = 400
	publish(t, b, msgs[:m])

	lags, err := b.Lag(ctx, group(t), []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got := bus.TotalLag(lags); got != m {
		t.Fatalf("lag of a group that never consumed = %d, want %d", got, m)
	}
	for _, l := range lags {
		if l.Committed != -1 {
			t.Errorf("partition %d committed = %d before any consumption, want -1", l.Partition, l.Committed)
		}
	}

	c := startConsumer(t, b, group(t), []string{topic}, nil)
	eventually(t, "first messages handled", func() bool { return c.count() >= m })
	eventually(t, "lag 0", func() bool {
		lags, err := b.Lag(ctx, group(t), []string{topic})
		return err == nil && bus.TotalLag(lags) == 0
	})
	c.stop(t)
	publish(t, b, msgs[m:])
	lags, err = b.Lag(ctx, group(t), []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got, want := bus.TotalLag(lags), int64(len(msgs)-m); got != want {
		t.Fatalf("lag after publishing %d and consuming %d = %d, want %d", len(msgs), m, got, want)
	}
	perPartition := map[int]int64{}
	for _, msg := range msgs[m:] {
		subject, _ := bus.SplitKey(msg.Key)
		perPartition[bus.SubjectPartition(subject, b.Config().Partitions)]++
	}
	for _, l := range lags {
		if l.Lag != perPartition[l.Partition] {
			t.Errorf("partition %d lag = %d, want %d", l.Partition, l.Lag, perPartition[l.Partition])
		}
		if l.Committed < 0 || l.HighWatermark-l.Committed != l.Lag {
			t.Errorf("partition %d: committed %d, high watermark %d, lag %d do not add up", l.Partition, l.Committed, l.HighWatermark, l.Lag)
		}
	}
}

func testReadAll(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	cfg := b.Config()
	si, grant := cfg.RecordsTopic(contracts.AgencySocialInsurance), cfg.RecordsTopic(contracts.AgencyGrant)
	msgs := append(records(si, 17, 1200), records(grant, 3, 100)...)
	for i := 1200; i < len(msgs); i++ {
		msgs[i].Headers[0].Value = []byte("g-" + string(msgs[i].Headers[0].Value))
	}
	publish(t, b, msgs)

	var got []bus.Message
	var calls int
	// Publishing continues while ReadAll runs: ReadAll must stop at the
	// high watermarks it started with.
	more := records(si, 17, 500)
	for i := range more {
		more[i].Headers[0].Value = []byte("late-" + string(more[i].Headers[0].Value))
	}
	err := b.ReadAll(ctx, []string{si, grant}, func(batch []bus.Message) error {
		if calls == 0 {
			publish(t, b, more)
		}
		calls++
		for i := 1; i < len(batch); i++ {
			if batch[i].Partition != batch[0].Partition || batch[i].Topic != batch[0].Topic || batch[i].Offset <= batch[i-1].Offset {
				return fmt.Errorf("batch mixes partitions or is out of offset order at %d", i)
			}
		}
		got = append(got, batch...)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	set, dups := ids(got)
	checkAll(t, "ReadAll", set, msgs)
	if dups != 0 || len(got) != len(msgs) {
		t.Fatalf("ReadAll returned %d messages (%d duplicates), want exactly %d", len(got), dups, len(msgs))
	}
	byN := map[string]bus.Message{}
	for _, m := range got {
		byN[string(m.Header("n"))] = m
	}
	for _, w := range msgs {
		g := byN[string(w.Header("n"))]
		if string(g.Key) != string(w.Key) || string(g.Value) != string(w.Value) || g.Topic != w.Topic {
			t.Fatalf("ReadAll message %s = %q/%q on %s, want %q/%q on %s", w.Header("n"), g.Key, g.Value, g.Topic, w.Key, w.Value, w.Topic)
		}
	}

	stop := errors.New("stop")
	if err := b.ReadAll(ctx, []string{si}, func([]bus.Message) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ReadAll with a failing fn returned %v, want its error", err)
	}
	if err := b.ReadAll(ctx, []string{cfg.TopicPrefix + ".no-such-topic"}, func([]bus.Message) error { return nil }); err == nil {
		t.Errorf("ReadAll of a missing topic succeeded")
	}
}

func testDeadLetters(t *testing.T, b *bus.Bus) {
	ctx := t.Context()
	cfg := b.Config()
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	src := &bus.Position{Topic: cfg.RecordsTopic(contracts.AgencySocialInsurance), Partition: 4, Offset: 1234}
	in := []bus.DeadLetter{
		{Code: contracts.CodeUSCCChecksum, Message: "check character wrong", Field: "data.uscc", Agency: "si", Time: base, Value: []byte(`{"type":"si.employer"}`)},
		{Code: contracts.CodeEnum, Message: "status not in enum", Field: "data.status", Agency: "tax", Time: base.Add(time.Minute), Value: []byte(`{"type":"tax.taxpayer"}`)},
		{Code: contracts.CodeUSCCChecksum, Message: "again", Agency: "si", Time: base.Add(2 * time.Minute), Source: src, Key: []byte("uscc:X|si.employer/X"), Value: []byte(`{}`)},
		{Code: contracts.CodeDate, Message: "bad date", Agency: "env", Time: base.Add(3 * time.Minute)},
		{Code: contracts.CodeUSCCChecksum, Message: "third", Agency: "si", Time: base.Add(4 * time.Minute)},
	}
	for _, dl := range in {
		if err := b.DeadLetter(ctx, dl); err != nil {
			t.Fatalf("DeadLetter: %v", err)
		}
	}
	if err := b.DeadLetter(ctx, bus.DeadLetter{Agency: "si"}); err == nil {
		t.Errorf("DeadLetter without a code succeeded")
	}

	all, err := b.ListDeadLetters(ctx, bus.DeadLetterFilter{}, "", 0)
	if err != nil {
		t.Fatalf("ListDeadLetters: %v", err)
	}
	if len(all.Items) != len(in) || all.Next != "" {
		t.Fatalf("ListDeadLetters returned %d items (next %q), want %d and no next", len(all.Items), all.Next, len(in))
	}
	for i, got := range all.Items {
		want := in[i]
		if got.Code != want.Code || got.Message != want.Message || got.Field != want.Field || got.Agency != want.Agency ||
			!got.Time.Equal(want.Time) || string(got.Value) != string(want.Value) || string(got.Key) != string(want.Key) {
			t.Errorf("dead letter %d = %+v, want %+v", i, got, want)
		}
		if (got.Source == nil) != (want.Source == nil) || (got.Source != nil && *got.Source != *want.Source) {
			t.Errorf("dead letter %d source = %+v, want %+v", i, got.Source, want.Source)
		}
		if got.At.Topic != cfg.DeadLetterTopic() {
			t.Errorf("dead letter %d At.Topic = %q", i, got.At.Topic)
		}
		back, err := b.ReadDeadLetter(ctx, got.At.Partition, got.At.Offset)
		if err != nil {
			t.Fatalf("ReadDeadLetter(%+v): %v", got.At, err)
		}
		if back.Code != got.Code || back.Message != got.Message || back.At != got.At {
			t.Errorf("ReadDeadLetter(%+v) = %+v, want %+v", got.At, back, got)
		}
	}
	if _, err := b.ReadDeadLetter(ctx, 0, 1_000_000); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("ReadDeadLetter past the end: %v, want ErrNotFound", err)
	}

	filters := []struct {
		name string
		f    bus.DeadLetterFilter
		want []int
	}{
		{"agency", bus.DeadLetterFilter{Agency: "si"}, []int{0, 2, 4}},
		{"code", bus.DeadLetterFilter{Code: contracts.CodeEnum}, []int{1}},
		{"agency and code", bus.DeadLetterFilter{Agency: "si", Code: contracts.CodeDate}, nil},
		{"since", bus.DeadLetterFilter{Since: base.Add(2 * time.Minute)}, []int{2, 3, 4}},
		{"until", bus.DeadLetterFilter{Until: base.Add(2 * time.Minute)}, []int{0, 1}},
		{"window", bus.DeadLetterFilter{Since: base.Add(time.Minute), Until: base.Add(4 * time.Minute)}, []int{1, 2, 3}},
		{"future", bus.DeadLetterFilter{Since: time.Now().Add(time.Hour)}, nil},
	}
	for _, tc := range filters {
		page, err := b.ListDeadLetters(ctx, tc.f, "", 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, dl := range page.Items {
			got = append(got, dl.Message)
		}
		var want []string
		for _, i := range tc.want {
			want = append(want, in[i].Message)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, want)
		}
	}

	// Paging visits every item once.
	var paged []string
	cursor := ""
	for range 10 {
		page, err := b.ListDeadLetters(ctx, bus.DeadLetterFilter{}, cursor, 2)
		if err != nil {
			t.Fatalf("page %q: %v", cursor, err)
		}
		if len(page.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(page.Items))
		}
		for _, dl := range page.Items {
			paged = append(paged, dl.Message)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	var want []string
	for _, dl := range in {
		want = append(want, dl.Message)
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paging got %q, want %q", paged, want)
	}
	for _, bad := range []string{"x", "p-1o0", "p0o", "p0o-5", "p01o1", "p0o1x"} {
		if _, err := b.ListDeadLetters(ctx, bus.DeadLetterFilter{}, bad, 0); !errors.Is(err, bus.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
}
