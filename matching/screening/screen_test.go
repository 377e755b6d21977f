package screening

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/rules"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memStore is an in-memory Store whose Scan visits subjects in key order and hands
// out a fresh copy of each profile, as a store decoding from bytes does.
type memStore struct {
	mu       sync.Mutex
	profiles map[string]*matching.Profile
	scanned  int
}

var _ matching.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{profiles: map[string]*matching.Profile{}} }

func (s *memStore) Apply(_ context.Context, changes []matching.Change) (matching.ApplyStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var st matching.ApplyStats
	for _, c := range changes {
		p := s.profiles[c.Subject]
		if p == nil {
			p = matching.NewProfile(c.Subject)
			s.profiles[c.Subject] = p
		}
		switch p.Apply(c.Record) {
		case matching.Applied:
			st.Applied++
		case matching.Duplicate:
			st.Duplicate++
		default:
			st.Stale++
		}
	}
	return st, nil
}

func (s *memStore) copyOf(p *matching.Profile) *matching.Profile {
	b, _ := json.Marshal(p)
	var out matching.Profile
	_ = json.Unmarshal(b, &out)
	return &out
}

func (s *memStore) Profile(_ context.Context, subject string) (*matching.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[subject]
	if !ok {
		return nil, contracts.ErrNotFound
	}
	return s.copyOf(p), nil
}

func (s *memStore) Profiles(ctx context.Context, subjects []string) ([]*matching.Profile, error) {
	out := make([]*matching.Profile, len(subjects))
	for i, subject := range subjects {
		out[i], _ = s.Profile(ctx, subject)
	}
	return out, nil
}

func (s *memStore) Scan(ctx context.Context, kind contracts.SubjectKind, fn func(*matching.Profile) error) error {
	s.mu.Lock()
	keys := make([]string, 0, len(s.profiles))
	for k, p := range s.profiles {
		if p.Kind() == kind {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	s.mu.Unlock()
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		p := s.copyOf(s.profiles[k])
		s.scanned++
		s.mu.Unlock()
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) Count(_ context.Context, kind contracts.SubjectKind) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, p := range s.profiles {
		if p.Kind() == kind {
			n++
		}
	}
	return n, nil
}

func (s *memStore) Close() error { return nil }

func put(changes *[]matching.Change, subject, typ, id string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	*changes = append(*changes, matching.Change{Subject: subject, Record: contracts.Envelope{
		Type: typ, ID: id, Revision: 1, AsOf: time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC), Data: data}})
}

// addEnterprise adds an enterprise for jrr-2019 whose layoffs over 2018 are
// layoffs out of 100 (eligible below 3.8% in most regions).
func addEnterprise(changes *[]matching.Change, uscc, region string, layoffs int64) {
	subj := "uscc:" + uscc
	put(changes, subj, contracts.TypeEmployer, uscc, contracts.Employer{USCC: uscc, Name: "x", RegionCode: region,
		Status: "active", EnrolledOn: "2010-01-01", Size: "small", IndustryCode: "C"})
	put(changes, subj, contracts.TypeEmployerMonth, uscc+":2017-12", contracts.EmployerMonth{USCC: uscc, Month: "2017-12", InsuredCount: 100})
	for m := 1; m <= 12; m++ {
		ym := fmt.Sprintf("2018-%02d", m)
		n := int64(100)
		if m == 12 {
			n -= layoffs
		}
		put(changes, subj, contracts.TypeEmployerMonth, uscc+":"+ym, contracts.EmployerMonth{USCC: uscc, Month: ym,
			InsuredCount: n, UIDueFen: 1000 + int64(m), UIPaidFen: 1000 + int64(m)})
	}
}

func uscc(i int) string { return fmt.Sprintf("9135010000%08d", i) }

func fixture(t testing.TB) (*memStore, *rules.Engine) {
	t.Helper()
	eng, err := rules.Load(rules.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	s := newMemStore()
	var changes []matching.Change
	regions := []string{"350102", "350203", "220102", "320506"}
	for i := 0; i < 40; i++ {
		addEnterprise(&changes, uscc(i), regions[i%4], int64(i%5)) // 0…4% layoffs
	}
	put(&changes, "person:abc", contracts.TypePerson, "abc", contracts.Person{IDNumber: "pii1:x", Status: "contributing", Category: "enterprise"})
	if _, err := s.Apply(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	return s, eng
}

func TestScreen(t *testing.T) {
	s, eng := fixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		filter Filter
		want   func(i int) bool // which enterprises are emitted
	}{
		// Default 3.8% (strictly below): 0–3 layoffs pass; region 22 (3.5%): 0–3; 3205 (1.8%): 0–1.
		{"eligible everywhere", Filter{}, func(i int) bool { return i%5 <= 3 && !(i%4 == 3 && i%5 > 1) }},
		{"region 35", Filter{RegionPrefix: "35"}, func(i int) bool { return i%4 <= 1 && i%5 <= 3 }},
		{"region 3205", Filter{RegionPrefix: "3205"}, func(i int) bool { return i%4 == 3 && i%5 <= 1 }},
		{"all results", Filter{IncludeIneligible: true}, func(int) bool { return true }},
		{"all of region 22", Filter{RegionPrefix: "220102", IncludeIneligible: true}, func(i int) bool { return i%4 == 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := Screen(ctx, s, eng, "jrr-2019", nil, tc.filter, func(r rules.Result) error {
				if !tc.filter.IncludeIneligible && r.Decision != rules.Eligible {
					t.Errorf("%s emitted with %s", r.Subject, r.Decision)
				}
				if r.Decision == rules.Eligible && r.AmountFen != (12*1000+78)/2 {
					t.Errorf("%s amount %d", r.Subject, r.AmountFen)
				}
				got = append(got, r.Subject)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := 0; i < 40; i++ {
				if tc.want(i) {
					want = append(want, "uscc:"+uscc(i))
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("emitted (in order)\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func TestScreenPersons(t *testing.T) {
	s, eng := fixture(t)
	var got []rules.Result
	err := Screen(context.Background(), s, eng, "sus-2019", map[string]any{"certificate_no": "C1", "application_date": "2025-01-01"},
		Filter{IncludeIneligible: true}, func(r rules.Result) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Subject != "person:abc" {
		t.Errorf("got %+v", got)
	}
}

func TestScreenErrors(t *testing.T) {
	s, eng := fixture(t)
	ctx := context.Background()
	nop := func(rules.Result) error { return nil }
	var pe *rules.ParamError
	if err := Screen(ctx, s, eng, "jrr-2019", map[string]any{"year": 2018}, Filter{}, nop); !errors.As(err, &pe) || pe.Field != "year" {
		t.Errorf("bad year: %v", err)
	}
	if err := Screen(ctx, s, eng, "nope", nil, Filter{}, nop); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("unknown program: %v", err)
	}
	if err := Screen(ctx, s, eng, "sus-2019", nil, Filter{RegionPrefix: "35"}, nop); !errors.As(err, &pe) {
		t.Errorf("region filter on persons: %v", err)
	}
	s.scanned = 0
	stop := errors.New("stop")
	n := 0
	err := Screen(ctx, s, eng, "jrr-2019", nil, Filter{IncludeIneligible: true}, func(rules.Result) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("emit error: err %v after %d emits", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Screen(cctx, s, eng, "jrr-2019", nil, Filter{}, nop); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// BenchmarkScreen screens 10,000 synthetic enterprises with 13 month records each.
func BenchmarkScreen(b *testing.B) {
	eng, err := rules.Load(rules.Overrides{})
	if err != nil {
		b.Fatal(err)
	}
	s := newMemStore()
	var changes []matching.Change
	for i := 0; i < 10000; i++ {
		addEnterprise(&changes, uscc(i), "350102", int64(i%5))
	}
	if _, err := s.Apply(context.Background(), changes); err != nil {
		b.Fatal(err)
	}
	// Scan from memory without the fake's JSON copy, so the figure is the screening's.
	fast := &sharedStore{s}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := Screen(context.Background(), fast, eng, "jrr-2019", nil, Filter{}, func(rules.Result) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 8000 {
			b.Fatalf("%d eligible, want 8000", n)
		}
	}
}

// sharedStore scans the memStore's profiles without copying them.
type sharedStore struct{ *memStore }

func (s *sharedStore) Scan(ctx context.Context, kind contracts.SubjectKind, fn func(*matching.Profile) error) error {
	for _, p := range s.profiles {
		if p.Kind() != kind {
			continue
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// TestScreenSkipsSubjectsOverTheCostLimit: with OnLimit set, a subject whose
// evaluation exceeds the cost limit is reported and left out, and the others are
// still screened; without it the screening stops with the *rules.LimitError.
func TestScreenSkipsSubjectsOverTheCostLimit(t *testing.T) {
	src, err := os.ReadFile("../rules/packs/jrr-2019.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"jrr-2019.yaml": {Data: []byte(strings.Replace(string(src), "facts:\n",
		"facts:\n  - {name: t_pairs, expr: 'listings.all(a, listings.all(b, a.listing_id != \"\" && b.listing_id != \"\"))'}\n", 1))}}
	eng, err := rules.LoadFS(fsys, rules.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := fixture(t)
	heavy := uscc(7)
	var changes []matching.Change
	for i := range 2000 {
		id := fmt.Sprintf("L%04d", i)
		put(&changes, "uscc:"+heavy, contracts.TypeListing, id, contracts.Listing{ListingID: id, SubjectUSCC: heavy,
			ListType: "wage_arrears", Authority: "x", ListedOn: "2015-01-01", RemovedOn: "2016-01-01"})
	}
	if _, err := s.Apply(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	var got []string
	err = Screen(context.Background(), s, eng, "jrr-2019", nil, Filter{IncludeIneligible: true,
		OnLimit: func(subject string, le *rules.LimitError) { skipped = append(skipped, subject+" "+le.Where) }},
		func(r rules.Result) error { got = append(got, r.Subject); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(skipped, ",") != "uscc:"+heavy+" fact t_pairs" {
		t.Errorf("skipped %v, want the heavy subject", skipped)
	}
	if len(got) != 39 || slices.Contains(got, "uscc:"+heavy) {
		t.Errorf("emitted %d results (heavy one included: %v), want the other 39", len(got), slices.Contains(got, "uscc:"+heavy))
	}
	var le *rules.LimitError
	if err := Screen(context.Background(), s, eng, "jrr-2019", nil, Filter{}, func(rules.Result) error { return nil }); !errors.As(err, &le) {
		t.Errorf("without OnLimit: %v, want the *rules.LimitError", err)
	}
}
