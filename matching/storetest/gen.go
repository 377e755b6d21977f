package storetest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// History returns a random set of record versions for a handful of subjects, as a
// source could deliver them over time: several versions per record, some equal in
// revision but not in as_of, some tombstones, some subjects of each kind, and member
// links from si.person records. Every version of a record is listed once, in
// ascending version order; the same seed gives the same history. Subjects carry the
// seed so that histories of different seeds never share a subject.
//
// Two copies of one version always carry the same bytes (a version names its
// content), which is what makes delivery order irrelevant (see Deliver).
func History(seed uint64) []matching.Change {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var out []matching.Change
	nSubjects := 2 + rng.IntN(5)
	for s := range nSubjects {
		var subject string
		person := rng.IntN(2) == 0
		if person {
			subject = fmt.Sprintf("person:%016x%016x", seed, uint64(s))
		} else {
			subject = fmt.Sprintf("uscc:9135%06d%08d", seed%1_000_000, s)
		}
		types := []string{contracts.TypeEmployerMonth, contracts.TypeTaxpayer, contracts.TypeListing}
		if person {
			types = []string{contracts.TypePerson, contracts.TypeCertificate, contracts.TypeAward}
		}
		for r := range 1 + rng.IntN(4) {
			typ := types[rng.IntN(len(types))]
			id := fmt.Sprintf("r%d", r)
			if typ == contracts.TypePerson {
				id = subject[len("person:"):]
			}
			// Versions: a strictly ascending walk over (revision, as_of).
			rev, asOf := int64(rng.IntN(2)), baseTime.Add(time.Duration(rng.IntN(48))*time.Hour)
			for range 1 + rng.IntN(5) {
				if rng.IntN(2) == 0 {
					rev++
				} else {
					asOf = asOf.Add(time.Duration(1+rng.IntN(36)) * time.Hour)
				}
				rec := versionOf(typ, id, rev, asOf, subject, seed)
				out = append(out, matching.Route(subject, rec)...)
			}
		}
	}
	return out
}

var baseTime = time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC)

var cst = time.FixedZone("CST", 8*3600)

// versionOf derives a version's content from its identity alone, so two copies of one
// version are byte-identical: whether it is a tombstone, its payload and the time zone
// its as_of is written in.
func versionOf(typ, id string, rev int64, asOf time.Time, subject string, seed uint64) contracts.Envelope {
	h := fnv(fmt.Sprintf("%s|%s|%d|%d|%d", typ, id, rev, asOf.UnixNano(), seed))
	rec := contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf}
	if h%3 == 0 {
		rec.AsOf = asOf.In(cst)
	}
	if h%5 == 0 {
		rec.Deleted = true
		return rec
	}
	switch typ {
	case contracts.TypePerson:
		employer := ""
		if h%2 == 0 {
			employer = fmt.Sprintf("9135%06d%08d", seed%1_000_000, h%4)
		}
		rec.Data = []byte(fmt.Sprintf(`{"id_number":"pii1:%x","employer_uscc":%q,"ui_months":%d}`, h, employer, h%97))
	default:
		rec.Data = []byte(fmt.Sprintf(`{"subject":%q,"n":%d}`, subject, h%1000))
	}
	return rec
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Deliver returns the changes as an unreliable pipeline might hand them over: every
// change at least once, some several times, in a random order, cut into batches of
// random sizes.
func Deliver(rng *rand.Rand, changes []matching.Change) [][]matching.Change {
	var all []matching.Change
	for _, c := range changes {
		all = append(all, c)
		for rng.IntN(3) == 0 {
			all = append(all, c)
		}
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var out [][]matching.Change
	for len(all) > 0 {
		n := min(len(all), 1+rng.IntN(8))
		out = append(out, all[:n:n])
		all = all[n:]
	}
	return out
}

// Reference applies changes in order with Profile.Apply: the profiles every store
// must end up holding for them.
func Reference(changes []matching.Change) map[string]*matching.Profile {
	out := map[string]*matching.Profile{}
	for _, c := range changes {
		p := out[c.Subject]
		if p == nil {
			p = matching.NewProfile(c.Subject)
			out[c.Subject] = p
		}
		p.Apply(c.Record)
	}
	return out
}

// Workload produces a stream of new record versions shaped like an agency backfill:
// each enterprise brings its si.employer, tax.taxpayer and about 100 months of
// si.employer_month, and around it persons with an si.person (routed to a member link
// in the employer's profile) and a certificate. Payload sizes are those of real
// records. It is what the stores' BenchmarkApply feeds them.
type Workload struct {
	enterprise int
	pending    []matching.Change
}

// Next returns the next n changes.
func (w *Workload) Next(n int) []matching.Change {
	for len(w.pending) < n {
		w.pending = append(w.pending, w.enterpriseChanges(w.enterprise)...)
		w.enterprise++
	}
	out := w.pending[:n:n]
	w.pending = w.pending[n:]
	return out
}

// Enterprise returns the subject key of the i-th enterprise Workload generates.
func (w *Workload) Enterprise(i int) string { return "uscc:" + usccOf(i) }

func usccOf(i int) string { return fmt.Sprintf("91350100M%09d", i) }

func (w *Workload) enterpriseChanges(i int) []matching.Change {
	uscc := usccOf(i)
	subject := "uscc:" + uscc
	asOf := baseTime
	var out []matching.Change
	add := func(subject string, rec contracts.Envelope) { out = append(out, matching.Route(subject, rec)...) }
	add(subject, contracts.Envelope{Type: contracts.TypeEmployer, ID: uscc, Revision: 1, AsOf: asOf, Data: []byte(fmt.Sprintf(
		`{"uscc":%q,"name":"福建某某制造有限公司%d","region_code":"350100","status":"active","enrolled_on":"2012-03-01","size":"small","industry_code":"C3311"}`, uscc, i))})
	add(subject, contracts.Envelope{Type: contracts.TypeTaxpayer, ID: uscc, Revision: 1, AsOf: asOf, Data: []byte(fmt.Sprintf(
		`{"uscc":%q,"name":"福建某某制造有限公司%d","status":"normal","abnormal_since":"","credit_grade":"B","credit_year":2018}`, uscc, i))})
	for m := range 100 {
		month := fmt.Sprintf("%04d-%02d", 2012+m/12, 1+m%12)
		add(subject, contracts.Envelope{Type: contracts.TypeEmployerMonth, ID: uscc + ":" + month, Revision: 0, AsOf: asOf, Data: []byte(fmt.Sprintf(
			`{"uscc":%q,"month":%q,"insured_count":%d,"ui_due_fen":%d,"ui_paid_fen":%d,"arrears_fen":0,"deferral_agreement":false,"new_ui_claimants":%d,"retired_or_deceased":0}`,
			uscc, month, 20+m%7, 412300+m, 412300+m, m%3))})
		if m%10 == 0 { // ten persons per enterprise, two records each (+ the member link)
			person := fmt.Sprintf("%016x%016x", uint64(i), uint64(m))
			add("person:"+person, contracts.Envelope{Type: contracts.TypePerson, ID: person, Revision: 1, AsOf: asOf, Data: []byte(fmt.Sprintf(
				`{"id_number":"pii1:Q2h1bmtfb2ZfY2lwaGVydGV4dF9mb3JfJWQ%d","name":"pii1:bmFtZQ","employer_uscc":%q,"ui_months":%d,"status":"contributing","category":"enterprise"}`, m, uscc, 12+m))})
			add("person:"+person, contracts.Envelope{Type: contracts.TypeCertificate, ID: fmt.Sprintf("S%012d%04d", i, m), Revision: 0, AsOf: asOf, Data: []byte(fmt.Sprintf(
				`{"cert_no":"S%012d%04d","id_number":"pii1:Q2h1bmtfb2Zf%d","name":"pii1:bmFtZQ","occupation_code":"6-18-01-01","occupation_name":"电工","level":4,"kind":"skill_level","issued_on":"2018-06-30","issuer":"福建省职业技能鉴定指导中心","status":"valid"}`, i, m, m))})
		}
	}
	return out
}
