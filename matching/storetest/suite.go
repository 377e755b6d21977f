package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// NewStore opens a store for one test. A first call for a given t returns an empty
// store; a later call with the same t, after the test closed what the first returned,
// must return the same data reopened (for Redis: a new client on the same key
// prefix). The function registers the cleanup of the data with t (temporary
// directories, keys). Stores may be closed more than once.
type NewStore func(t *testing.T) (matching.Store, matching.StateStore)

// Run runs the conformance suite against the stores newStore opens.
func Run(t *testing.T, newStore NewStore) {
	open := func(t *testing.T) (matching.Store, matching.StateStore) {
		t.Helper()
		s, ss := newStore(t)
		t.Cleanup(func() { s.Close() })
		return s, ss
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open NewStore)
	}{
		{"ApplyAndReadBack", testApplyAndReadBack},
		{"VersionOrdering", testVersionOrdering},
		{"OrderingWithinOneCall", testOrderingWithinOneCall},
		{"TombstoneStaysDeleted", testTombstoneStaysDeleted},
		{"ManyRecordsOneSubject", testManyRecordsOneSubject},
		{"AtomicPerSubject", testAtomicPerSubject},
		{"ConcurrentEqualsSequential", testConcurrentEqualsSequential},
		{"Idempotent", testIdempotent},
		{"DeliveryOrderProperty", testDeliveryOrderProperty},
		{"MemberLinks", testMemberLinks},
		{"ScanAndCount", testScanAndCount},
		{"NotFound", testNotFound},
		{"CanceledContext", testCanceledContext},
		{"StateGetPutDelete", testStateGetPutDelete},
		{"StateTTL", testStateTTL},
		{"StatePutIfAbsentRace", testStatePutIfAbsentRace},
		{"DurableAcrossReopen", testDurableAcrossReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var t0 = time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC)

func rec(typ, id string, rev int64, asOf time.Time, data string) contracts.Envelope {
	e := contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf}
	if data != "" {
		e.Data = []byte(data)
	}
	return e
}

func tomb(typ, id string, rev int64, asOf time.Time) contracts.Envelope {
	return contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf, Deleted: true}
}

func ch(subject string, e contracts.Envelope) matching.Change {
	return matching.Change{Subject: subject, Record: e}
}

func mustApply(t *testing.T, s matching.Store, changes []matching.Change) matching.ApplyStats {
	t.Helper()
	st, err := s.Apply(context.Background(), changes)
	if err != nil {
		t.Fatalf("Apply(%d changes): %v", len(changes), err)
	}
	return st
}

func canonical(t *testing.T, p *matching.Profile) string {
	t.Helper()
	b, err := matching.CanonicalJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertProfiles checks that s holds exactly want for want's subjects.
func assertProfiles(t *testing.T, s matching.Store, want map[string]*matching.Profile) {
	t.Helper()
	subjects := make([]string, 0, len(want))
	for subject := range want {
		subjects = append(subjects, subject)
	}
	sort.Strings(subjects)
	for _, subject := range subjects {
		got, err := s.Profile(context.Background(), subject)
		if err != nil {
			t.Errorf("Profile(%q): %v", subject, err)
			continue
		}
		if g, w := canonical(t, got), canonical(t, want[subject]); g != w {
			t.Errorf("Profile(%q):\n got %s\nwant %s", subject, g, w)
		}
	}
	// Profiles reads the same, in the order asked, with an unknown subject nil.
	const unknown = "uscc:91310110666007217T"
	asked := append(append([]string{unknown}, subjects...), subjects...)
	all, err := s.Profiles(context.Background(), asked)
	if err != nil {
		t.Fatalf("Profiles(%d subjects): %v", len(asked), err)
	}
	if len(all) != len(asked) {
		t.Fatalf("Profiles(%d subjects) returned %d", len(asked), len(all))
	}
	for i, subject := range asked {
		if _, known := want[subject]; !known {
			if all[i] != nil {
				t.Errorf("Profiles: unknown subject %q got %s", subject, canonical(t, all[i]))
			}
			continue
		}
		if all[i] == nil {
			t.Errorf("Profiles: %q missing", subject)
			continue
		}
		if g, w := canonical(t, all[i]), canonical(t, want[subject]); g != w {
			t.Errorf("Profiles[%d] (%q):\n got %s\nwant %s", i, subject, g, w)
		}
	}
}

func testApplyAndReadBack(t *testing.T, open NewStore) {
	s, _ := open(t)
	const e, p = "uscc:91350100M000100Y43", "person:0123456789abcdef0123456789abcdef"
	changes := []matching.Change{
		ch(e, rec(contracts.TypeEmployer, "91350100M000100Y43", 1, t0, `{"uscc":"91350100M000100Y43","name":"甲公司","status":"active"}`)),
		ch(e, rec(contracts.TypeEmployerMonth, "91350100M000100Y43:2018-12", 0, t0, `{"uscc":"91350100M000100Y43","month":"2018-12","insured_count":12}`)),
		ch(e, rec(contracts.TypeEmployerMonth, "91350100M000100Y43:2018-11", 0, t0, `{"uscc":"91350100M000100Y43","month":"2018-11","insured_count":13}`)),
		ch(p, rec(contracts.TypeCertificate, "S0001", 2, t0.Add(time.Hour).In(cst), `{"cert_no":"S0001","level":4}`)),
	}
	st := mustApply(t, s, changes)
	if want := (matching.ApplyStats{Applied: 4}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	assertProfiles(t, s, Reference(changes))
	got, err := s.Profile(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != e || got.Kind() != contracts.KindEnterprise {
		t.Errorf("profile subject %q kind %s", got.Subject, got.Kind())
	}
	if r, ok := got.Get(contracts.TypeEmployerMonth, "91350100M000100Y43:2018-11"); !ok || !bytes.Contains(r.Data, []byte(`"insured_count":13`)) {
		t.Errorf("month record = %+v, %v", r, ok)
	}
	pp, err := s.Profile(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := pp.Get(contracts.TypeCertificate, "S0001"); !ok || !r.AsOf.Equal(t0.Add(time.Hour)) || r.Revision != 2 {
		t.Errorf("certificate = %+v, %v", r, ok)
	}
}

func testVersionOrdering(t *testing.T, open NewStore) {
	s, _ := open(t)
	tests := []struct {
		name      string
		have, got contracts.Envelope
		want      matching.ApplyStats
		keep      string // the data that must be stored afterwards
	}{
		{"newer revision", rec("tax.taxpayer", "x", 1, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 2, t0, `{"v":"new"}`), matching.ApplyStats{Applied: 1}, "new"},
		{"same revision newer as_of", rec("tax.taxpayer", "x", 1, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 1, t0.Add(time.Nanosecond), `{"v":"new"}`), matching.ApplyStats{Applied: 1}, "new"},
		{"revision beats as_of", rec("tax.taxpayer", "x", 1, t0.Add(time.Hour), `{"v":"old"}`), rec("tax.taxpayer", "x", 2, t0, `{"v":"new"}`), matching.ApplyStats{Applied: 1}, "new"},
		{"equal version", rec("tax.taxpayer", "x", 1, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 1, t0, `{"v":"old"}`), matching.ApplyStats{Duplicate: 1}, "old"},
		{"equal instant other zone", rec("tax.taxpayer", "x", 1, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 1, t0.In(cst), `{"v":"old"}`), matching.ApplyStats{Duplicate: 1}, "old"},
		{"older revision", rec("tax.taxpayer", "x", 3, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 2, t0.Add(time.Hour), `{"v":"new"}`), matching.ApplyStats{Stale: 1}, "old"},
		{"older as_of", rec("tax.taxpayer", "x", 3, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 3, t0.Add(-time.Second), `{"v":"new"}`), matching.ApplyStats{Stale: 1}, "old"},
		{"negative revision older", rec("tax.taxpayer", "x", 0, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", -1, t0.Add(time.Hour), `{"v":"new"}`), matching.ApplyStats{Stale: 1}, "old"},
		{"before 1970 older", rec("tax.taxpayer", "x", 0, t0, `{"v":"old"}`), rec("tax.taxpayer", "x", 0, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), `{"v":"new"}`), matching.ApplyStats{Stale: 1}, "old"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subject := fmt.Sprintf("uscc:91350100M0%07d", i)
			if st := mustApply(t, s, []matching.Change{ch(subject, tc.have)}); st != (matching.ApplyStats{Applied: 1}) {
				t.Fatalf("first apply stats = %+v", st)
			}
			if st := mustApply(t, s, []matching.Change{ch(subject, tc.got)}); st != tc.want {
				t.Errorf("stats = %+v, want %+v", st, tc.want)
			}
			p, err := s.Profile(context.Background(), subject)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := p.Get("tax.taxpayer", "x")
			if want := fmt.Sprintf(`{"v":%q}`, tc.keep); !ok || string(r.Data) != want {
				t.Errorf("stored %s (%v), want %s", r.Data, ok, want)
			}
		})
	}
}

func testOrderingWithinOneCall(t *testing.T, open NewStore) {
	s, _ := open(t)
	const subject = "uscc:91350100M000100Y43"
	changes := []matching.Change{
		ch(subject, rec("tax.taxpayer", "x", 1, t0, `{"v":1}`)),
		ch(subject, rec("tax.taxpayer", "x", 3, t0, `{"v":3}`)),
		ch(subject, rec("tax.taxpayer", "x", 2, t0, `{"v":2}`)),
		ch(subject, rec("tax.taxpayer", "x", 3, t0, `{"v":3}`)),
		ch(subject, rec("tax.taxpayer", "y", 0, t0, `{"v":0}`)),
	}
	st := mustApply(t, s, changes)
	if want := (matching.ApplyStats{Applied: 3, Stale: 1, Duplicate: 1}); st != want {
		t.Errorf("stats = %+v, want %+v (changes of one call apply in call order)", st, want)
	}
	assertProfiles(t, s, Reference(changes))
}

func testTombstoneStaysDeleted(t *testing.T, open NewStore) {
	s, _ := open(t)
	tests := []struct {
		name  string
		steps [][]contracts.Envelope // one Apply per step
		want  matching.ApplyStats    // of the last step
	}{
		{"late older copies", [][]contracts.Envelope{
			{rec("env.penalty", "D1", 2, t0, `{"fine_fen":100}`)},
			{tomb("env.penalty", "D1", 3, t0)},
			{rec("env.penalty", "D1", 1, t0, `{"fine_fen":50}`), rec("env.penalty", "D1", 2, t0, `{"fine_fen":100}`)},
		}, matching.ApplyStats{Stale: 2}},
		{"tombstone first", [][]contracts.Envelope{
			{tomb("env.penalty", "D1", 5, t0)},
			{rec("env.penalty", "D1", 4, t0.Add(time.Hour), `{"fine_fen":50}`), tomb("env.penalty", "D1", 5, t0)},
		}, matching.ApplyStats{Stale: 1, Duplicate: 1}},
		{"tombstone with data drops it", [][]contracts.Envelope{
			{{Type: "env.penalty", ID: "D1", Revision: 1, AsOf: t0, Deleted: true, Data: []byte(`{"fine_fen":7}`)}},
		}, matching.ApplyStats{Applied: 1}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subject := fmt.Sprintf("uscc:91350100M1%07d", i)
			var all []matching.Change
			var st matching.ApplyStats
			for _, step := range tc.steps {
				var changes []matching.Change
				for _, e := range step {
					changes = append(changes, ch(subject, e))
				}
				all = append(all, changes...)
				st = mustApply(t, s, changes)
			}
			if st != tc.want {
				t.Errorf("last stats = %+v, want %+v", st, tc.want)
			}
			p, err := s.Profile(context.Background(), subject)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := p.Get("env.penalty", "D1"); ok {
				t.Error("a tombstoned record is live again")
			}
			if live := p.Live("env.penalty"); len(live) != 0 {
				t.Errorf("Live = %v", live)
			}
			r, ok := p.Records["env.penalty"]["D1"]
			if !ok || !r.Deleted || r.Data != nil {
				t.Errorf("tombstone not kept with its version: %+v (present %v)", r, ok)
			}
			assertProfiles(t, s, Reference(all))
		})
	}
}

func testManyRecordsOneSubject(t *testing.T, open NewStore) {
	s, _ := open(t)
	const subject = "uscc:91350100M000100Y43"
	var changes []matching.Change
	for i := range 1300 {
		changes = append(changes, ch(subject, rec(contracts.TypeEmployerMonth, fmt.Sprintf("m%04d", i), 1, t0, fmt.Sprintf(`{"i":%d}`, i))))
	}
	changes = append(changes, changes[7], ch(subject, rec(contracts.TypeEmployerMonth, "m0008", 0, t0, `{"old":true}`)))
	st := mustApply(t, s, changes)
	if want := (matching.ApplyStats{Applied: 1300, Duplicate: 1, Stale: 1}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	assertProfiles(t, s, Reference(changes))
}

// testAtomicPerSubject has writers apply pairs of records with one revision each to
// the same subjects while readers check they never see the two records of a pair
// from different calls.
func testAtomicPerSubject(t *testing.T, open NewStore) {
	s, _ := open(t)
	subjects := []string{"uscc:91350100M200000001", "uscc:91350100M200000002", "person:00000000000000000000000000000003"}
	const writers, rounds = 8, 25
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, writers+4)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range rounds {
				rev := int64(rng.IntN(1000))
				var changes []matching.Change
				for _, subject := range subjects {
					changes = append(changes,
						ch(subject, rec("pair.a", "x", rev, t0, fmt.Sprintf(`{"rev":%d}`, rev))),
						ch(subject, rec("pair.b", "x", rev, t0, fmt.Sprintf(`{"rev":%d}`, rev))))
				}
				if _, err := s.Apply(ctx, changes); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	done := make(chan struct{})
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				p, err := s.Profile(ctx, subjects[r])
				if errors.Is(err, contracts.ErrNotFound) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				a, aok := p.Get("pair.a", "x")
				b, bok := p.Get("pair.b", "x")
				if aok != bok || a.Revision != b.Revision {
					errs <- fmt.Errorf("torn read of %s: pair.a %d (%v), pair.b %d (%v)", subjects[r], a.Revision, aok, b.Revision, bok)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The winner is the greatest revision any writer drew.
	var max int64 = -1
	for w := range writers {
		rng := rand.New(rand.NewPCG(uint64(w), 1))
		for range rounds {
			max = maxInt(max, int64(rng.IntN(1000)))
		}
	}
	for _, subject := range subjects {
		p, err := s.Profile(context.Background(), subject)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := p.Get("pair.a", "x")
		b, _ := p.Get("pair.b", "x")
		if a.Revision != max || b.Revision != max {
			t.Errorf("%s: revisions %d and %d, want %d", subject, a.Revision, b.Revision, max)
		}
	}
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// testConcurrentEqualsSequential delivers random histories from many goroutines at
// once and compares with in-order delivery.
func testConcurrentEqualsSequential(t *testing.T, open NewStore) {
	s, _ := open(t)
	var all []matching.Change
	for seed := uint64(100); seed < 110; seed++ {
		all = append(all, History(seed)...)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	batches := Deliver(rng, all)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total matching.ApplyStats
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(batches); i += 8 {
				st, err := s.Apply(context.Background(), batches[i])
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total.Add(st)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	delivered := 0
	for _, b := range batches {
		delivered += len(b)
	}
	if n := total.Applied + total.Duplicate + total.Stale; n != delivered {
		t.Errorf("stats %+v add up to %d, delivered %d", total, n, delivered)
	}
	assertProfiles(t, s, Reference(all))
}

func testIdempotent(t *testing.T, open NewStore) {
	var changes []matching.Change
	for seed := uint64(200); seed < 205; seed++ {
		changes = append(changes, History(seed)...)
	}
	ref := Reference(changes)
	t.Run("same batch twice", func(t *testing.T) {
		s, _ := open(t)
		first := mustApply(t, s, changes)
		if first.Applied == 0 {
			t.Fatalf("first apply stats %+v", first)
		}
		second := mustApply(t, s, changes)
		var want matching.ApplyStats // each change is now the stored version or older
		for _, c := range changes {
			if c.Record.Version().Compare(ref[c.Subject].Records[c.Record.Type][c.Record.ID].Version()) == 0 {
				want.Duplicate++
			} else {
				want.Stale++
			}
		}
		if second != want {
			t.Errorf("second apply stats = %+v, want %+v", second, want)
		}
		assertProfiles(t, s, ref)
	})
	for i := range 3 {
		t.Run(fmt.Sprintf("shuffled %d", i), func(t *testing.T) {
			s, _ := open(t)
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			for _, b := range Deliver(rng, changes) {
				mustApply(t, s, b)
			}
			assertProfiles(t, s, ref)
		})
	}
}

// testDeliveryOrderProperty is the property behind idempotent apply: any delivery
// of a history (reordered, duplicated, batched anyhow) yields the profiles of
// in-order single delivery.
func testDeliveryOrderProperty(t *testing.T, open NewStore) {
	s, _ := open(t)
	for seed := uint64(1000); seed < 1040; seed++ {
		changes := History(seed)
		rng := rand.New(rand.NewPCG(seed, 3))
		for _, b := range Deliver(rng, changes) {
			mustApply(t, s, b)
		}
		assertProfiles(t, s, Reference(changes))
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

func testMemberLinks(t *testing.T, open NewStore) {
	s, _ := open(t)
	const person, employer = "person:0123456789abcdef0123456789abcdef", "91350100M000100Y43"
	rp := rec(contracts.TypePerson, "0123456789abcdef0123456789abcdef", 2, t0, `{"id_number":"pii1:x","employer_uscc":"91350100M000100Y43"}`)
	changes := matching.Route(person, rp)
	if len(changes) != 2 {
		t.Fatalf("Route gave %d changes", len(changes))
	}
	mustApply(t, s, changes)
	e, err := s.Profile(context.Background(), "uscc:"+employer)
	if err != nil {
		t.Fatal(err)
	}
	link, ok := e.Get(matching.TypeMemberLink, person)
	if !ok || link.Revision != 2 || !link.AsOf.Equal(t0) {
		t.Errorf("member link = %+v, %v", link, ok)
	}
	if n, err := s.Count(context.Background(), contracts.KindEnterprise); err != nil || n != 1 {
		t.Errorf("enterprise count = %d, %v; the link creates the employer's profile", n, err)
	}
	// A tombstone of the person routes no link; the link stays (readers confirm it
	// against the person's own profile).
	mustApply(t, s, matching.Route(person, tomb(contracts.TypePerson, "0123456789abcdef0123456789abcdef", 3, t0)))
	e, err = s.Profile(context.Background(), "uscc:"+employer)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Get(matching.TypeMemberLink, person); !ok {
		t.Error("member link removed by a person tombstone")
	}
	p, err := s.Profile(context.Background(), person)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Get(contracts.TypePerson, "0123456789abcdef0123456789abcdef"); ok {
		t.Error("person record live after its tombstone")
	}
}

func testScanAndCount(t *testing.T, open NewStore) {
	s, _ := open(t)
	ctx := context.Background()
	for _, kind := range []contracts.SubjectKind{contracts.KindEnterprise, contracts.KindPerson} {
		if n, err := s.Count(ctx, kind); err != nil || n != 0 {
			t.Errorf("empty Count(%s) = %d, %v", kind, n, err)
		}
		if err := s.Scan(ctx, kind, func(*matching.Profile) error { return errors.New("called") }); err != nil {
			t.Errorf("empty Scan(%s) = %v", kind, err)
		}
	}
	var w Workload
	changes := w.Next(2500) // 23 enterprises with their months, persons and links
	for i := 0; i < len(changes); i += 700 {
		mustApply(t, s, changes[i:min(i+700, len(changes))])
	}
	ref := Reference(changes)
	want := map[contracts.SubjectKind]map[string]string{contracts.KindEnterprise: {}, contracts.KindPerson: {}}
	for subject, p := range ref {
		want[p.Kind()][subject] = canonical(t, p)
	}
	for kind, profiles := range want {
		n, err := s.Count(ctx, kind)
		if err != nil || n != int64(len(profiles)) {
			t.Errorf("Count(%s) = %d, %v, want %d", kind, n, err, len(profiles))
		}
		seen := map[string]bool{}
		err = s.Scan(ctx, kind, func(p *matching.Profile) error {
			if seen[p.Subject] {
				t.Errorf("Scan(%s) gave %s twice", kind, p.Subject)
			}
			seen[p.Subject] = true
			if w, ok := profiles[p.Subject]; !ok {
				t.Errorf("Scan(%s) gave %s, not of that kind or unknown", kind, p.Subject)
			} else if g := canonical(t, p); g != w {
				t.Errorf("Scan(%s) profile %s:\n got %s\nwant %s", kind, p.Subject, g, w)
			}
			return nil
		})
		if err != nil {
			t.Errorf("Scan(%s): %v", kind, err)
		}
		if len(seen) != len(profiles) {
			t.Errorf("Scan(%s) gave %d profiles, want %d", kind, len(seen), len(profiles))
		}
		stop := errors.New("stop here")
		calls := 0
		err = s.Scan(ctx, kind, func(*matching.Profile) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Scan(%s) with fn failing: err %v after %d calls, want the fn's error after 1", kind, err, calls)
		}
	}
}

func testNotFound(t *testing.T, open NewStore) {
	s, ss := open(t)
	ctx := context.Background()
	mustApply(t, s, []matching.Change{ch("uscc:91350100M000100Y43", rec("tax.taxpayer", "91350100M000100Y43", 0, t0, `{}`))})
	for _, subject := range []string{"uscc:91310110666007217T", "person:ffffffffffffffffffffffffffffffff", "uscc:91350100M000100Y4"} {
		if _, err := s.Profile(ctx, subject); !errors.Is(err, contracts.ErrNotFound) {
			t.Errorf("Profile(%q) = %v, want ErrNotFound", subject, err)
		}
	}
	if ps, err := s.Profiles(ctx, []string{"uscc:91310110666007217T", "person:ffffffffffffffffffffffffffffffff"}); err != nil || len(ps) != 2 || ps[0] != nil || ps[1] != nil {
		t.Errorf("Profiles of unknown subjects = %v, %v; want two nils", ps, err)
	}
	if ps, err := s.Profiles(ctx, nil); err != nil || len(ps) != 0 {
		t.Errorf("Profiles of none = %v, %v", ps, err)
	}
	if _, err := ss.Get(ctx, "no/such/key"); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("Get of an absent key = %v, want ErrNotFound", err)
	}
	if err := ss.Delete(ctx, "no/such/key"); err != nil {
		t.Errorf("Delete of an absent key = %v", err)
	}
}

func testCanceledContext(t *testing.T, open NewStore) {
	s, ss := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	const subject = "uscc:91350100M000100Y43"
	if _, err := s.Apply(ctx, []matching.Change{ch(subject, rec("tax.taxpayer", "x", 0, t0, `{}`))}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.Profile(context.Background(), subject); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("after a canceled Apply, Profile = %v, want ErrNotFound", err)
	}
	if err := ss.Put(ctx, "k", []byte("v"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.Profiles(ctx, []string{subject}); !errors.Is(err, context.Canceled) {
		t.Errorf("Profiles with a canceled context = %v, want context.Canceled", err)
	}
}

func testStateGetPutDelete(t *testing.T, open NewStore) {
	_, ss := open(t)
	ctx := context.Background()
	tests := []struct {
		key   string
		value []byte
	}{
		{"cursor/si/si.employer", []byte("2019-01-05T00:00:00Z|42")},
		{"receipt/tax/batch-0001", []byte(`{"accepted":10,"rejected":[]}`)},
		{"binary", []byte{0, 1, 2, 0xff, '\n', 0}},
		{"empty", []byte{}},
		{"unicode 键", []byte("值")},
	}
	for _, tc := range tests {
		if err := ss.Put(ctx, tc.key, tc.value, 0); err != nil {
			t.Fatalf("Put(%q): %v", tc.key, err)
		}
	}
	for _, tc := range tests {
		got, err := ss.Get(ctx, tc.key)
		if err != nil || !bytes.Equal(got, tc.value) {
			t.Errorf("Get(%q) = %q, %v, want %q", tc.key, got, err, tc.value)
		}
	}
	if err := ss.Put(ctx, tests[0].key, []byte("overwritten"), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.Get(ctx, tests[0].key); err != nil || string(got) != "overwritten" {
		t.Errorf("after overwrite Get = %q, %v", got, err)
	}
	if err := ss.Delete(ctx, tests[0].key); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Get(ctx, tests[0].key); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("after Delete Get = %v, want ErrNotFound", err)
	}
	if got, err := ss.Get(ctx, tests[1].key); err != nil || !bytes.Equal(got, tests[1].value) {
		t.Errorf("Delete touched another key: Get = %q, %v", got, err)
	}
}

func testStateTTL(t *testing.T, open NewStore) {
	_, ss := open(t)
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	if err := ss.Put(ctx, "short", []byte("a"), ttl); err != nil {
		t.Fatal(err)
	}
	if err := ss.Put(ctx, "cleared", []byte("b"), ttl); err != nil {
		t.Fatal(err)
	}
	if err := ss.Put(ctx, "cleared", []byte("c"), 0); err != nil { // a later Put without ttl keeps it
		t.Fatal(err)
	}
	if _, created, err := ss.PutIfAbsent(ctx, "jti", []byte("first"), ttl); err != nil || !created {
		t.Fatalf("PutIfAbsent = %v, %v", created, err)
	}
	if got, err := ss.Get(ctx, "short"); err != nil || string(got) != "a" {
		t.Errorf("before expiry Get = %q, %v", got, err)
	}
	time.Sleep(ttl + 250*time.Millisecond)
	if _, err := ss.Get(ctx, "short"); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("after expiry Get = %v, want ErrNotFound", err)
	}
	if got, err := ss.Get(ctx, "cleared"); err != nil || string(got) != "c" {
		t.Errorf("Put without ttl over a ttl key: Get = %q, %v", got, err)
	}
	stored, created, err := ss.PutIfAbsent(ctx, "jti", []byte("second"), ttl)
	if err != nil || !created || string(stored) != "second" {
		t.Errorf("PutIfAbsent after expiry = %q, %v, %v; want to create", stored, created, err)
	}
}

func testStatePutIfAbsentRace(t *testing.T, open NewStore) {
	_, ss := open(t)
	ctx := context.Background()
	for round := range 5 {
		key := fmt.Sprintf("replay/jti-%d", round)
		const callers = 16
		type result struct {
			value   []byte
			stored  []byte
			created bool
			err     error
		}
		results := make([]result, callers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			wg.Go(func() {
				<-start
				v := []byte(fmt.Sprintf("caller-%d", i))
				stored, created, err := ss.PutIfAbsent(ctx, key, v, time.Minute)
				results[i] = result{v, stored, created, err}
			})
		}
		close(start)
		wg.Wait()
		var winner []byte
		for _, r := range results {
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.created {
				if winner != nil {
					t.Fatalf("round %d: two callers created %s", round, key)
				}
				winner = r.value
				if !bytes.Equal(r.stored, r.value) {
					t.Errorf("creator got back %q, stored its %q", r.stored, r.value)
				}
			}
		}
		if winner == nil {
			t.Fatalf("round %d: no caller created %s", round, key)
		}
		for i, r := range results {
			if !bytes.Equal(r.stored, winner) {
				t.Errorf("caller %d saw %q, winner stored %q", i, r.stored, winner)
			}
		}
		if got, err := ss.Get(ctx, key); err != nil || !bytes.Equal(got, winner) {
			t.Errorf("Get = %q, %v, want the winner's %q", got, err, winner)
		}
	}
}

func testDurableAcrossReopen(t *testing.T, open NewStore) {
	s, ss := open(t)
	ctx := context.Background()
	var changes []matching.Change
	for seed := uint64(300); seed < 305; seed++ {
		changes = append(changes, History(seed)...)
	}
	mustApply(t, s, changes)
	if err := ss.Put(ctx, "cursor", []byte("c-1"), 0); err != nil {
		t.Fatal(err)
	}
	if err := ss.Put(ctx, "expiring", []byte("e"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s2, ss2 := open(t)
	ref := Reference(changes)
	assertProfiles(t, s2, ref)
	for kind, want := range countKinds(ref) {
		if n, err := s2.Count(ctx, kind); err != nil || n != want {
			t.Errorf("reopened Count(%s) = %d, %v, want %d", kind, n, err, want)
		}
	}
	for key, want := range map[string]string{"cursor": "c-1", "expiring": "e"} {
		if got, err := ss2.Get(ctx, key); err != nil || string(got) != want {
			t.Errorf("reopened Get(%q) = %q, %v", key, got, err)
		}
	}
	if st := mustApply(t, s2, changes); st.Applied != 0 {
		t.Errorf("reapplying after reopen applied %d", st.Applied)
	}
	if p, ok := s2.(matching.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}
}

func countKinds(ref map[string]*matching.Profile) map[contracts.SubjectKind]int64 {
	out := map[contracts.SubjectKind]int64{contracts.KindEnterprise: 0, contracts.KindPerson: 0}
	for _, p := range ref {
		out[p.Kind()]++
	}
	return out
}
