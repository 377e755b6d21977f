package rules

import (
	"errors"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
)

func isParamErr(err error, field string) bool {
	var pe *ParamError
	return errors.As(err, &pe) && pe.Field == field && pe.Code() == CodeInvalidParams
}

func worker(mods ...func(*builder)) func() *builder {
	return func() *builder {
		b := personProfile().person(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), nil).cert("C1", "6-18-01-01", 4, "2024-06-01", "valid")
		for _, m := range mods {
			m(b)
		}
		return b
	}
}

func app(cert, date string) map[string]any {
	return map[string]any{"certificate_no": cert, "application_date": date}
}

func TestSkillPacks(t *testing.T) {
	e := shipped(t)
	ok := app("C1", "2025-03-01")
	person := func(mod func(*contracts.Person)) func(*builder) {
		return func(b *builder) { b.person(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), mod) }
	}
	award := func(id, prog, occ string, level, year int64) func(*builder) {
		return func(b *builder) {
			b.award(contracts.Award{GrantID: id, Program: prog, Year: year, OccupationCode: occ, Level: level, AmountFen: 1, GrantedOn: "2025-01-02"})
		}
	}
	common := []checkCase{
		{name: "eligible level 4", profile: worker(), params: ok, check: "certificate", want: Pass, decision: Eligible, amount: 150000, evidence: 1},
		{name: "unknown person", params: ok, check: "insured_status", want: Unknown, decision: Ineligible, noEvidence: true},
		{name: "level 5", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 5, "2024-06-01", "valid") }), params: ok, check: "certificate", want: Pass, decision: Eligible, amount: 100000},
		{name: "level 3", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 3, "2024-06-01", "valid") }), params: ok, check: "certificate", want: Pass, decision: Eligible, amount: 200000},
		{name: "level 2", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 2, "2024-06-01", "valid") }), params: ok, check: "certificate", want: Fail, decision: Ineligible},
		{name: "revoked", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 4, "2024-06-01", "revoked") }), params: ok, check: "certificate", want: Fail},
		{name: "issued before 2017", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 4, "2016-12-31", "valid") }), params: app("C1", "2017-06-01"), check: "certificate", want: Fail},
		{name: "not this person's certificate", profile: worker(), params: app("C9", "2025-03-01"), check: "certificate", want: Fail, decision: Ineligible, noEvidence: true},
		{name: "tombstoned certificate", profile: worker(func(b *builder) { b.tombstone(contracts.TypeCertificate, "C1") }), params: ok, check: "certificate", want: Fail},
		{name: "window unknown without certificate", profile: worker(), params: app("C9", "2025-03-01"), check: "application_window", want: Unknown},
		{name: "window last day", profile: worker(), params: app("C1", "2025-06-01"), check: "application_window", want: Pass},
		{name: "window day after", profile: worker(), params: app("C1", "2025-06-02"), check: "application_window", want: Fail, decision: Ineligible},
		{name: "before issue", profile: worker(), params: app("C1", "2024-05-31"), check: "application_window", want: Fail},
		{name: "window from 29 February", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 4, "2024-02-29", "valid") }), params: app("C1", "2025-03-01"), check: "application_window", want: Pass},
		{name: "person missing", profile: func() *builder { return personProfile().cert("C1", "6-18-01-01", 4, "2024-06-01", "valid") }, params: ok, check: "insured_status", want: Unknown, decision: InsufficientData},
		{name: "person stale", profile: worker(func(b *builder) {
			b.person(time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC), nil)
		}), params: ok, check: "contribution_months", want: Unknown},
		{name: "public institution", profile: worker(person(func(p *contracts.Person) { p.Category = "public_institution" })), params: ok, check: "insured_status", want: Fail},
		{name: "retired", profile: worker(person(func(p *contracts.Person) { p.Status = "retired" })), params: ok, check: "insured_status", want: Fail},
		{name: "duplicate award", profile: worker(award("G1", "sus-2019", "6-18-01-01", 4, 2023)), params: ok, check: "no_duplicate_award", want: Fail, decision: Ineligible, evidence: 2},
		{name: "award other level", profile: worker(award("G1", "sus-2019", "6-18-01-01", 5, 2023)), params: ok, check: "no_duplicate_award", want: Pass},
		{name: "award of another program family", profile: worker(award("G1", "jrr-2019", "6-18-01-01", 4, 2023)), params: ok, check: "no_duplicate_award", want: Pass},
		{name: "duplicate unknown without certificate", profile: worker(), params: app("C9", "2025-03-01"), check: "no_duplicate_award", want: Unknown},
	}
	for _, prog := range []string{"sus-2017", "sus-2019", "sus-2022", "sus-2025"} {
		t.Run(prog, func(t *testing.T) { runChecks(t, e, prog, common) })
	}
	receiving := worker(person(func(p *contracts.Person) { p.Status = "receiving_benefits" }))
	months := func(n int64) func() *builder { return worker(person(func(p *contracts.Person) { p.UIMonths = n })) }
	runChecks(t, e, "sus-2017", []checkCase{
		{name: "36 months", profile: months(36), params: ok, check: "contribution_months", want: Pass, evidence: 1},
		{name: "35 months", profile: months(35), params: ok, check: "contribution_months", want: Fail},
		{name: "receiving benefits not allowed", profile: receiving, params: ok, check: "insured_status", want: Fail},
		{name: "in force 2017", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 4, "2017-01-01", "valid") }), params: app("C1", "2017-01-01"), check: "in_force", want: Pass, decision: Eligible, amount: 150000},
	})
	runChecks(t, e, "sus-2019", []checkCase{
		{name: "12 months", profile: months(12), params: ok, check: "contribution_months", want: Pass},
		{name: "11 months", profile: months(11), params: ok, check: "contribution_months", want: Fail},
		{name: "before 2019", profile: worker(func(b *builder) { b.cert("C1", "6-18-01-01", 4, "2018-06-01", "valid") }), params: app("C1", "2018-12-31"), check: "in_force", want: Fail, decision: Ineligible},
	})
	three2025 := func(occ string) func(*builder) {
		return func(b *builder) {
			award("A1", "sus-2022", occ, 4, 2025)(b)
			award("A2", "sus-2022", "1-01-01-01", 3, 2025)(b)
			award("A3", "sus-2025", "1-01-01-02", 3, 2025)(b)
		}
	}
	runChecks(t, e, "sus-2022", []checkCase{
		{name: "receiving benefits allowed", profile: receiving, params: ok, check: "insured_status", want: Pass, decision: Eligible, amount: 150000},
		{name: "three awards this year", profile: worker(three2025("2-02-02-02")), params: ok, check: "annual_limit", want: Fail, decision: Ineligible, evidence: 3},
		{name: "three awards last year", profile: worker(func(b *builder) {
			award("A1", "sus-2022", "1-01-01-03", 4, 2024)(b)
			award("A2", "sus-2022", "1-01-01-01", 3, 2024)(b)
			award("A3", "sus-2022", "1-01-01-02", 3, 2024)(b)
		}), params: ok, check: "annual_limit", want: Pass},
		{name: "two awards this year", profile: worker(award("A1", "sus-2022", "1-01-01-03", 4, 2025), award("A2", "sus-2022", "1-01-01-01", 3, 2025)), params: ok, check: "annual_limit", want: Pass},
		{name: "a revoked award does not count", profile: worker(three2025("2-02-02-02"), func(b *builder) {
			b.award(contracts.Award{GrantID: "A1", Program: "sus-2022", Year: 2025, OccupationCode: "2-02-02-02", Level: 4, Status: "revoked"})
		}), params: ok, check: "annual_limit", want: Pass},
	})
	shortage := func(b *builder) { b.cert("C1", "6-18-01-01", 4, "2024-06-01", "valid") } // on the default shortage list
	ordinary := func(b *builder) { b.cert("C1", "1-02-03-04", 4, "2024-06-01", "valid") } // not on it
	runChecks(t, e, "sus-2025", []checkCase{
		{name: "first award of the year", profile: worker(ordinary), params: ok, check: "annual_limit", want: Pass, decision: Eligible, amount: 150000},
		{name: "second ordinary award", profile: worker(ordinary, award("A1", "sus-2025", "1-01-01-01", 4, 2025)), params: ok, check: "annual_limit", want: Fail, decision: Ineligible},
		{name: "shortage after an ordinary award", profile: worker(shortage, award("A1", "sus-2025", "1-01-01-01", 4, 2025)), params: ok, check: "annual_limit", want: Pass},
		{name: "ordinary after a shortage award", profile: worker(ordinary, award("A1", "sus-2025", "6-20-03-01", 4, 2025)), params: ok, check: "annual_limit", want: Pass},
		{name: "fourth award", profile: worker(shortage, three2025("6-20-03-01")), params: ok, check: "annual_limit", want: Fail},
		{name: "annual limit unknown without certificate", profile: worker(), params: app("C9", "2025-03-01"), check: "annual_limit", want: Unknown},
		{name: "higher certificate held", profile: worker(func(b *builder) { b.cert("C2", "6-18-01-01", 3, "2023-01-01", "valid") }), params: ok, check: "no_lower_level", want: Fail, decision: Ineligible, evidence: 2},
		{name: "revoked higher certificate", profile: worker(func(b *builder) { b.cert("C2", "6-18-01-01", 3, "2023-01-01", "revoked") }), params: ok, check: "no_lower_level", want: Pass},
		{name: "lower certificate held", profile: worker(func(b *builder) { b.cert("C2", "6-18-01-01", 5, "2023-01-01", "valid") }), params: ok, check: "no_lower_level", want: Pass},
		{name: "higher level granted", profile: worker(award("A1", "sus-2022", "6-18-01-01", 2, 2023)), params: ok, check: "no_lower_level", want: Fail},
		{name: "other occupation higher", profile: worker(func(b *builder) { b.cert("C2", "6-20-03-01", 1, "2023-01-01", "valid") }), params: ok, check: "no_lower_level", want: Pass},
		{name: "before 2025", profile: worker(), params: app("C1", "2024-12-31"), check: "in_force", want: Fail},
	})
}

func TestSkillParams(t *testing.T) {
	e := shipped(t)
	p := worker()().p
	for name, tc := range map[string]struct {
		params map[string]any
		field  string
	}{
		"no certificate":      {map[string]any{"application_date": "2025-01-01"}, "certificate_no"},
		"no date":             {map[string]any{"certificate_no": "C1"}, "application_date"},
		"bad date":            {app("C1", "2025-02-30"), "application_date"},
		"date with time":      {app("C1", "2025-02-03T00:00:00Z"), "application_date"},
		"number certificate":  {map[string]any{"certificate_no": 12, "application_date": "2025-01-01"}, "certificate_no"},
		"unknown param":       {map[string]any{"certificate_no": "C1", "application_date": "2025-01-01", "year": 2025}, "year"},
		"empty certificate":   {app("", "2025-01-01"), "certificate_no"},
		"enterprise profile?": {app("C1", "2025-01-01"), "subject"},
	} {
		t.Run(name, func(t *testing.T) {
			prof := p
			if tc.field == "subject" {
				prof = enterprise().p
			}
			_, err := e.Evaluate(t.Context(), "sus-2019", prof, tc.params)
			if !isParamErr(err, tc.field) {
				t.Fatalf("err = %v, want invalid_params on %s", err, tc.field)
			}
		})
	}
	if r := evaluate(t, e, "sus-2019", p, app("C1", "2025-03-01")); r.ReviewRequired {
		t.Error("skill pack set review_required")
	}
}
