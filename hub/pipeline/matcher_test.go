package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/matching/storetest"
)

// fakeDLQ records dead-letter writes.
type fakeDLQ struct{ writes [][]bus.DeadLetter }

func (f *fakeDLQ) Consume(context.Context, string, []string, bus.Handler) error { return nil }
func (f *fakeDLQ) DeadLetters(_ context.Context, dls []bus.DeadLetter) error {
	f.writes = append(f.writes, dls)
	return nil
}

// TestMatcherAppliesAndDeadLettersUndecodable: good messages reach the store (twice
// is a duplicate, not a second application); undecodable ones are kept as dead
// letters with their source position, in one write per batch.
func TestMatcherAppliesAndDeadLettersUndecodable(t *testing.T) {
	dlq := &fakeDLQ{}
	store := storetest.NewMemory()
	m := NewMatcher(dlq, store, "g", nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)

	data, _ := json.Marshal(contracts.Rating{USCC: "91350100M000100Y43", Year: 2018, Rating: "green"})
	rec, _ := json.Marshal(contracts.Envelope{Type: contracts.TypeRating, ID: "91350100M000100Y43:2018",
		AsOf: time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC), Data: data})
	good := bus.Message{Topic: "t", Partition: 0, Offset: 1, Key: bus.RecordKey("uscc:91350100M000100Y43", "env.rating/91350100M000100Y43:2018"), Value: rec}
	batch := []bus.Message{
		good,
		{Topic: "t", Partition: 2, Offset: 7, Key: []byte("no-subject"), Value: rec},
		{Topic: "t", Partition: 2, Offset: 8, Key: good.Key, Value: []byte("{not json")},
		good,
	}
	if err := m.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	p, err := store.Profile(context.Background(), "uscc:91350100M000100Y43")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Get(contracts.TypeRating, "91350100M000100Y43:2018"); !ok {
		t.Fatal("good record not applied")
	}
	if len(dlq.writes) != 1 || len(dlq.writes[0]) != 2 {
		t.Fatalf("dead-letter writes %v, want one write of two", dlq.writes)
	}
	for i, off := range []int64{7, 8} {
		dl := dlq.writes[0][i]
		if dl.Code != "undecodable_message" || dl.Source == nil || dl.Source.Partition != 2 || dl.Source.Offset != off {
			t.Errorf("dead letter %d = %+v", i, dl)
		}
	}
}
