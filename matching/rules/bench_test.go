package rules

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// benchEnterprise is a realistic enterprise profile: the employer, 120 month
// records (2015–2024), a few listings, penalties and awards.
func benchEnterprise() *matching.Profile {
	b := enterprise().employer(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), func(e *contracts.Employer) { e.RegionCode = "220102" })
	for y := int64(2015); y <= 2024; y++ {
		b.year(y, 120, 116, 25000, nil)
	}
	b.listing("L1", "de_capacity_enterprise", "2016-01-01", "").listing("L2", "wage_arrears", "2015-01-01", "2016-01-01")
	b.penalty("P1", "2016-04-01", "general", "in_force")
	b.award(contracts.Award{GrantID: "G1", Program: "jrr-2019", Year: 2019, AmountFen: 1})
	return b.p
}

func benchPerson() *matching.Profile {
	b := personProfile().person(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	for i := 0; i < 4; i++ {
		b.cert(fmt.Sprintf("C%d", i), "6-18-01-01", int64(5-i%3), "2024-06-01", "valid")
	}
	b.award(contracts.Award{GrantID: "G1", Program: "sus-2022", Year: 2024, OccupationCode: "1-01-01-01", Level: 4, AmountFen: 1})
	return b.p
}

// BenchmarkEvaluate measures one evaluation per shipped pack, params included.
func BenchmarkEvaluate(b *testing.B) {
	e := shipped(b)
	ent, per := benchEnterprise(), benchPerson()
	ctx := context.Background()
	for _, prog := range e.Programs() {
		p, params := ent, map[string]any{}
		if prog.SubjectKind == contracts.KindPerson {
			p, params = per, map[string]any{"certificate_no": "C1", "application_date": "2025-03-01"}
		}
		b.Run(prog.ID, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := e.Evaluate(ctx, prog.ID, p, params); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time in nanoseconds. On a machine
// shared with other work, CPU time per operation says more than wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
