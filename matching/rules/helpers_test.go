package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

const testUSCC = "91350100M000100Y43"

var (
	engineOnce sync.Once
	engine     *Engine
	engineErr  error
)

// shipped returns the engine with the shipped packs and no overrides.
func shipped(t testing.TB) *Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = Load(Overrides{}) })
	if engineErr != nil {
		t.Fatalf("Load: %v", engineErr)
	}
	return engine
}

var fresh = time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)

// builder makes profiles out of contracts records, as ingest would.
type builder struct {
	p   *matching.Profile
	key string
	rev int64 // each put is a newer version, so a later put replaces an earlier one
}

func enterprise() *builder {
	return &builder{p: matching.NewProfile("uscc:" + testUSCC), key: testUSCC}
}

func personProfile() *builder {
	return &builder{p: matching.NewProfile("person:abcdef0123456789abcdef0123456789"), key: "abcdef0123456789abcdef0123456789"}
}

func (b *builder) put(typ, id string, asOf time.Time, v any) *builder {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	b.rev++
	b.p.Apply(contracts.Envelope{Type: typ, ID: id, Revision: b.rev, AsOf: asOf, Data: data})
	return b
}

func (b *builder) tombstone(typ, id string) *builder {
	b.rev++
	b.p.Apply(contracts.Envelope{Type: typ, ID: id, Revision: b.rev, AsOf: fresh, Deleted: true})
	return b
}

func (b *builder) employer(asOf time.Time, mod func(*contracts.Employer)) *builder {
	e := contracts.Employer{USCC: testUSCC, Name: "测试", RegionCode: "350102", Status: "active", EnrolledOn: "2015-03-01", Size: "small", IndustryCode: "C13"}
	if mod != nil {
		mod(&e)
	}
	return b.put(contracts.TypeEmployer, testUSCC, asOf, e)
}

// year adds the 12 months of y with headcount start → end falling evenly and
// paid = due = fen; mod may change or drop (return false) a month.
func (b *builder) year(y, start, end, fen int64, mod func(m int, r *contracts.EmployerMonth) bool) *builder {
	for m := 1; m <= 12; m++ {
		r := contracts.EmployerMonth{USCC: testUSCC, Month: fmt.Sprintf("%04d-%02d", y, m),
			InsuredCount: start - (start-end)*int64(m)/12, UIDueFen: fen, UIPaidFen: fen}
		if mod != nil && !mod(m, &r) {
			continue
		}
		b.month(r)
	}
	return b
}

func (b *builder) month(r contracts.EmployerMonth) *builder {
	r.USCC = testUSCC
	return b.put(contracts.TypeEmployerMonth, testUSCC+":"+r.Month, fresh, r)
}

func (b *builder) headcount(month string, n int64) *builder {
	return b.month(contracts.EmployerMonth{Month: month, InsuredCount: n, UIDueFen: 1, UIPaidFen: 1})
}

func (b *builder) listing(id, listType, on, off string) *builder {
	l := contracts.Listing{ListingID: id, ListType: listType, Authority: "x", ListedOn: on, RemovedOn: off}
	if b.p.Kind() == contracts.KindPerson {
		l.SubjectIDNumber = "pii1:x"
	} else {
		l.SubjectUSCC = testUSCC
	}
	return b.put(contracts.TypeListing, id, fresh, l)
}

func (b *builder) penalty(id, on, severity, status string) *builder {
	return b.put(contracts.TypePenalty, id, fresh, contracts.Penalty{USCC: testUSCC, DecisionNo: id, DecidedOn: on, Severity: severity, Status: status, FineFen: 1})
}

func (b *builder) award(a contracts.Award) *builder {
	if b.p.Kind() == contracts.KindPerson {
		a.SubjectIDNumber = "pii1:x"
	} else {
		a.SubjectUSCC = testUSCC
	}
	if a.Status == "" {
		a.Status = "granted"
	}
	return b.put(contracts.TypeAward, a.GrantID, fresh, a)
}

func (b *builder) person(asOf time.Time, mod func(*contracts.Person)) *builder {
	p := contracts.Person{IDNumber: "pii1:x", Name: "张三", UIMonths: 40, Status: "contributing", Category: "enterprise"}
	if mod != nil {
		mod(&p)
	}
	return b.put(contracts.TypePerson, b.key, asOf, p)
}

func (b *builder) cert(no, occ string, level int64, issued, status string) *builder {
	return b.put(contracts.TypeCertificate, no, fresh, contracts.Certificate{CertNo: no, IDNumber: "pii1:x", Name: "张三",
		OccupationCode: occ, OccupationName: "x", Level: level, Kind: "skill_level", IssuedOn: issued, Issuer: "x", Status: status})
}

func evaluate(t *testing.T, e *Engine, program string, p *matching.Profile, params map[string]any) Result {
	t.Helper()
	r, err := e.Evaluate(context.Background(), program, p, params)
	if err != nil {
		t.Fatalf("Evaluate(%s): %v", program, err)
	}
	return r
}

func resultOf(t *testing.T, r Result, check string) CheckResult {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == check {
			return c
		}
	}
	t.Fatalf("no check %q in %s result", check, r.Program)
	return CheckResult{}
}

// good2018 is an enterprise eligible for jrr-2019: 100 insured at 2017-12, 97 at
// 2018-12 (3%), 10,000 fen paid each month.
func good2018() *builder {
	return enterprise().employer(fresh, nil).headcount("2017-12", 100).year(2018, 100, 97, 10000, nil)
}
