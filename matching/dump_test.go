package matching_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/storetest"
)

func TestWriteCanonical(t *testing.T) {
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name    string
		changes []matching.Change
		want    string
	}{
		{"empty", nil, ""},
		{"sorted subjects and records, UTC, tombstone without data", []matching.Change{
			{Subject: "uscc:B", Record: contracts.Envelope{Type: "tax.taxpayer", ID: "B", Revision: 1, AsOf: t0.In(cst), Data: []byte(`{"b": 1}`)}},
			{Subject: "person:a", Record: contracts.Envelope{Type: "cert.certificate", ID: "z", AsOf: t0, Deleted: true}},
			{Subject: "person:a", Record: contracts.Envelope{Type: "cert.certificate", ID: "y", AsOf: t0, Data: []byte(`{}`)}},
			{Subject: "uscc:A", Record: contracts.Envelope{Type: "si.employer_month", ID: "A:2018-02", AsOf: t0, Data: []byte(`2`)}},
			{Subject: "uscc:A", Record: contracts.Envelope{Type: "si.employer", ID: "A", AsOf: t0, Data: []byte(`1`)}},
			{Subject: "uscc:A", Record: contracts.Envelope{Type: "si.employer_month", ID: "A:2018-01", AsOf: t0, Data: []byte(`3`)}},
		}, `{"subject":"person:a","records":[{"type":"cert.certificate","id":"y","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}},{"type":"cert.certificate","id":"z","revision":0,"as_of":"2019-01-05T00:00:00Z","deleted":true}]}
{"subject":"uscc:A","records":[{"type":"si.employer","id":"A","revision":0,"as_of":"2019-01-05T00:00:00Z","data":1},{"type":"si.employer_month","id":"A:2018-01","revision":0,"as_of":"2019-01-05T00:00:00Z","data":3},{"type":"si.employer_month","id":"A:2018-02","revision":0,"as_of":"2019-01-05T00:00:00Z","data":2}]}
{"subject":"uscc:B","records":[{"type":"tax.taxpayer","id":"B","revision":1,"as_of":"2019-01-05T00:00:00Z","data":{"b":1}}]}
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.NewMemory()
			if _, err := s.Apply(ctx, tc.changes); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := matching.WriteCanonical(ctx, s, &buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Errorf("dump:\n%s\nwant:\n%s", buf.String(), tc.want)
			}
		})
	}
}

// TestWriteCanonicalOrderIndependent: stores fed the same history in different
// orders dump the same bytes, and a different history does not.
func TestWriteCanonicalOrderIndependent(t *testing.T) {
	ctx := context.Background()
	var history []matching.Change
	for seed := range uint64(30) {
		history = append(history, storetest.History(seed)...)
	}
	dump := func(seed uint64, changes []matching.Change) string {
		s := storetest.NewMemory()
		for _, b := range storetest.Deliver(rand.New(rand.NewPCG(seed, 5)), changes) {
			if _, err := s.Apply(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := matching.WriteCanonical(ctx, s, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	first := dump(1, history)
	if strings.Count(first, "\n") < 30 {
		t.Fatalf("dump has %d lines", strings.Count(first, "\n"))
	}
	for seed := uint64(2); seed < 6; seed++ {
		if got := dump(seed, history); got != first {
			t.Fatalf("delivery %d dumps different bytes", seed)
		}
	}
	if got := dump(1, history[:len(history)-1]); got == first {
		t.Error("dropping a change did not change the dump")
	}
}

type failingStore struct{ *storetest.Memory }

func (failingStore) Profile(context.Context, string) (*matching.Profile, error) {
	return nil, contracts.ErrUnavailable
}

func TestWriteCanonicalErrors(t *testing.T) {
	s := storetest.NewMemory()
	if _, err := s.Apply(context.Background(), []matching.Change{{Subject: "uscc:A", Record: contracts.Envelope{Type: "t", ID: "a", AsOf: t0}}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := matching.WriteCanonical(context.Background(), failingStore{s}, &buf); !errors.Is(err, contracts.ErrUnavailable) {
		t.Errorf("with a failing store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := matching.WriteCanonical(ctx, s, &buf); !errors.Is(err, context.Canceled) {
		t.Errorf("with a canceled context: %v", err)
	}
}
