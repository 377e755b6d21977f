package matching_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/storetest"
)

var t0 = time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC)

func TestProfileApply(t *testing.T) {
	tests := []struct {
		name     string
		have     []contracts.Envelope
		incoming contracts.Envelope
		want     matching.Outcome
		wantData string
	}{
		{"first version", nil, contracts.Envelope{Type: "t", ID: "a", Revision: 0, AsOf: t0, Data: json.RawMessage(`1`)}, matching.Applied, "1"},
		{"newer revision", []contracts.Envelope{{Type: "t", ID: "a", Revision: 1, AsOf: t0, Data: json.RawMessage(`1`)}},
			contracts.Envelope{Type: "t", ID: "a", Revision: 2, AsOf: t0.Add(-time.Hour), Data: json.RawMessage(`2`)}, matching.Applied, "2"},
		{"newer as_of", []contracts.Envelope{{Type: "t", ID: "a", Revision: 1, AsOf: t0, Data: json.RawMessage(`1`)}},
			contracts.Envelope{Type: "t", ID: "a", Revision: 1, AsOf: t0.Add(time.Nanosecond), Data: json.RawMessage(`2`)}, matching.Applied, "2"},
		{"equal", []contracts.Envelope{{Type: "t", ID: "a", Revision: 1, AsOf: t0, Data: json.RawMessage(`1`)}},
			contracts.Envelope{Type: "t", ID: "a", Revision: 1, AsOf: t0, Data: json.RawMessage(`2`)}, matching.Duplicate, "1"},
		{"older", []contracts.Envelope{{Type: "t", ID: "a", Revision: 1, AsOf: t0, Data: json.RawMessage(`1`)}},
			contracts.Envelope{Type: "t", ID: "a", Revision: 0, AsOf: t0.Add(time.Hour), Data: json.RawMessage(`2`)}, matching.Stale, "1"},
		{"other id", []contracts.Envelope{{Type: "t", ID: "b", Revision: 9, AsOf: t0, Data: json.RawMessage(`9`)}},
			contracts.Envelope{Type: "t", ID: "a", Revision: 0, AsOf: t0, Data: json.RawMessage(`1`)}, matching.Applied, "1"},
		{"tombstone drops data", nil, contracts.Envelope{Type: "t", ID: "a", Revision: 0, AsOf: t0, Deleted: true, Data: json.RawMessage(`1`)}, matching.Applied, ""},
		{"older after tombstone", []contracts.Envelope{{Type: "t", ID: "a", Revision: 3, AsOf: t0, Deleted: true}},
			contracts.Envelope{Type: "t", ID: "a", Revision: 2, AsOf: t0, Data: json.RawMessage(`2`)}, matching.Stale, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := matching.NewProfile("uscc:91350100M000100Y43")
			for _, h := range tc.have {
				p.Apply(h)
			}
			if got := p.Apply(tc.incoming); got != tc.want {
				t.Errorf("Apply = %v, want %v", got, tc.want)
			}
			r := p.Records["t"]["a"]
			if string(r.Data) != tc.wantData {
				t.Errorf("stored data %q, want %q", r.Data, tc.wantData)
			}
		})
	}
}

// TestApplyDeliveryOrderProperty: random histories of record versions (several per
// record, equal revisions with different as_of, tombstones, member links), delivered
// reordered, duplicated and batched anyhow, give the profiles of in-order single
// delivery. The same property runs against every store in storetest.Run.
func TestApplyDeliveryOrderProperty(t *testing.T) {
	for seed := range uint64(500) {
		history := storetest.History(seed)
		want := storetest.Reference(history)
		rng := rand.New(rand.NewPCG(seed, 11))
		for round := range 3 {
			got := map[string]*matching.Profile{}
			var stats [3]int
			for _, batch := range storetest.Deliver(rng, history) {
				for _, c := range batch {
					p := got[c.Subject]
					if p == nil {
						p = matching.NewProfile(c.Subject)
						got[c.Subject] = p
					}
					stats[p.Apply(c.Record)]++
				}
			}
			if len(got) != len(want) {
				t.Fatalf("seed %d round %d: %d profiles, want %d", seed, round, len(got), len(want))
			}
			applied := 0
			for subject, w := range want {
				g, ok := got[subject]
				if !ok {
					t.Fatalf("seed %d round %d: no profile %s", seed, round, subject)
				}
				gb, _ := matching.CanonicalJSON(g)
				wb, _ := matching.CanonicalJSON(w)
				if string(gb) != string(wb) {
					t.Fatalf("seed %d round %d, %s:\n got %s\nwant %s", seed, round, subject, gb, wb)
				}
				for _, byID := range w.Records {
					applied += len(byID)
				}
			}
			// Every record's first arrival is applied; more than that may be when a
			// newer version comes after an older one.
			if stats[matching.Applied] < applied || stats[matching.Applied] > len(history) {
				t.Fatalf("seed %d round %d: %d applied for %d records and %d versions", seed, round, stats[matching.Applied], applied, len(history))
			}
		}
	}
}

func TestRouteMemberLink(t *testing.T) {
	const person = "person:0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		rec  contracts.Envelope
		link string // employer subject of the link, "" for none
	}{
		{"employer named", contracts.Envelope{Type: contracts.TypePerson, ID: "p", Revision: 4, AsOf: t0, Data: json.RawMessage(`{"employer_uscc":"91350100M000100Y43"}`)}, "uscc:91350100M000100Y43"},
		{"no employer", contracts.Envelope{Type: contracts.TypePerson, ID: "p", AsOf: t0, Data: json.RawMessage(`{"employer_uscc":""}`)}, ""},
		{"tombstone", contracts.Envelope{Type: contracts.TypePerson, ID: "p", AsOf: t0, Deleted: true, Data: json.RawMessage(`{"employer_uscc":"91350100M000100Y43"}`)}, ""},
		{"other type", contracts.Envelope{Type: contracts.TypeCertificate, ID: "c", AsOf: t0, Data: json.RawMessage(`{"employer_uscc":"91350100M000100Y43"}`)}, ""},
		{"bad data", contracts.Envelope{Type: contracts.TypePerson, ID: "p", AsOf: t0, Data: json.RawMessage(`[`)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := matching.Route(person, tc.rec)
			if out[0].Subject != person || out[0].Record.Key() != tc.rec.Key() {
				t.Errorf("first change = %+v", out[0])
			}
			switch {
			case tc.link == "" && len(out) != 1:
				t.Errorf("got %d changes, want 1", len(out))
			case tc.link != "":
				if len(out) != 2 {
					t.Fatalf("got %d changes, want 2", len(out))
				}
				l := out[1]
				if l.Subject != tc.link || l.Record.Type != matching.TypeMemberLink || l.Record.ID != person ||
					l.Record.Version().Compare(tc.rec.Version()) != 0 {
					t.Errorf("link = %+v", l)
				}
			}
		})
	}
}
