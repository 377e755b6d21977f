package synthetic

import (
	"fmt"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
)

const testUSCC = "91350100M000100Y43"

func env(typ, id string, rev int64, asOf string, data any) contracts.Envelope {
	t, err := time.Parse(time.RFC3339, asOf)
	if err != nil {
		panic(err)
	}
	return version(typ, id, rev, t, data, false)
}

func tomb(e contracts.Envelope) contracts.Envelope {
	e.Deleted = true
	return e
}

// firmRecords builds an enterprise with an employer snapshot and the months of
// data year d (and December d−1) with headcount start → end, all paid in full.
type firmRecords struct {
	employer   contracts.Employer
	employerAt string
	d          int
	start, end int64
	edit       func(m *contracts.EmployerMonth) // per month, after the defaults
	drop       map[string]bool                  // months not delivered
	extra      []contracts.Envelope
}

func (fr firmRecords) envelopes() []contracts.Envelope {
	emp := fr.employer
	if emp.USCC == "" {
		emp = contracts.Employer{USCC: testUSCC, Name: "测试有限公司", RegionCode: "220102", Status: "active",
			EnrolledOn: "2010-01-01", Size: "medium", IndustryCode: "C3311"}
	}
	at := fr.employerAt
	if at == "" {
		at = "2025-01-10T00:00:00Z"
	}
	out := []contracts.Envelope{env(contracts.TypeEmployer, emp.USCC, 0, at, emp)}
	for i := 0; i <= 12; i++ {
		y, m := fr.d, i
		n := fr.start + (fr.end-fr.start)*int64(i)/12
		if i == 0 {
			y, m = fr.d-1, 12
		}
		if i == 1 {
			n = fr.start
		}
		mo := contracts.EmployerMonth{USCC: emp.USCC, Month: monthKey(y, m), InsuredCount: n, UIDueFen: 1000 * n, UIPaidFen: 1000 * n}
		if fr.edit != nil {
			fr.edit(&mo)
		}
		if fr.drop[mo.Month] {
			continue
		}
		out = append(out, env(contracts.TypeEmployerMonth, emp.USCC+":"+mo.Month, 0, fmt.Sprintf("%04d-%02d-28T00:00:00Z", y, m), mo))
	}
	return append(out, fr.extra...)
}

func evalFirm(t *testing.T, fr firmRecords, pack string, year int) result {
	t.Helper()
	f, err := newEnterpriseFacts(testUSCC, fr.envelopes())
	if err != nil {
		t.Fatal(err)
	}
	return evaluateRefund(f, pack, defaultRefundParams(year))
}

func outcome(r result, check string) string {
	for _, c := range r.Checks {
		if c.ID == check {
			return c.Outcome
		}
	}
	return "absent"
}

func TestWinners(t *testing.T) {
	a := env(contracts.TypeRating, "x:2020", 1, "2021-01-01T00:00:00Z", contracts.Rating{Rating: "green"})
	b := env(contracts.TypeRating, "x:2020", 2, "2020-06-01T00:00:00Z", contracts.Rating{Rating: "red"}) // higher revision, older as_of
	c := env(contracts.TypeRating, "x:2020", 2, "2020-06-01T00:00:00Z", contracts.Rating{Rating: "blue"})
	d := env(contracts.TypeRating, "x:2020", 2, "2020-06-02T00:00:00Z", contracts.Rating{Rating: "black"})
	tests := []struct {
		name string
		in   []contracts.Envelope
		want string // winning data, or "deleted"
	}{
		{"revision beats as_of", []contracts.Envelope{a, b}, `{"uscc":"","year":0,"rating":"red"}`},
		{"newer first in the file", []contracts.Envelope{b, a}, `{"uscc":"","year":0,"rating":"red"}`},
		{"equal version is a no-op", []contracts.Envelope{b, c}, `{"uscc":"","year":0,"rating":"red"}`},
		{"as_of breaks a revision tie", []contracts.Envelope{d, b}, `{"uscc":"","year":0,"rating":"black"}`},
		{"tombstone deletes", []contracts.Envelope{a, tomb(b)}, "deleted"},
		{"older copy after a tombstone stays dead", []contracts.Envelope{tomb(b), a}, "deleted"},
		{"newer version after a tombstone revives", []contracts.Envelope{tomb(b), d}, `{"uscc":"","year":0,"rating":"black"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := winners(tt.in)
			if len(w) != 1 {
				t.Fatalf("%d winners", len(w))
			}
			got := string(w[0].Data)
			if w[0].Deleted {
				got = "deleted"
			}
			if got != tt.want {
				t.Errorf("winner %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRefundChecks(t *testing.T) {
	listing := func(lt, listed, removed string) contracts.Envelope {
		return env(contracts.TypeListing, "L"+lt+listed, 0, "2025-01-01T00:00:00Z",
			contracts.Listing{ListingID: "L" + lt + listed, SubjectUSCC: testUSCC, ListType: lt, Authority: "a", ListedOn: listed, RemovedOn: removed})
	}
	suzhou := contracts.Employer{USCC: testUSCC, Name: "n", RegionCode: "320505", Status: "active", EnrolledOn: "2010-01-01", Size: "large", IndustryCode: "C3311"}
	small := suzhou
	small.Size = "small"
	tests := []struct {
		name  string
		fr    firmRecords
		pack  string
		year  int
		check string
		want  string
	}{
		{"jilin rate below 3.5%", firmRecords{d: 2018, start: 1000, end: 966}, packJRR2019, 2019, "layoff_rate", outcomePass},
		{"jilin rate at 3.5% is not below", firmRecords{d: 2018, start: 1000, end: 965}, packJRR2019, 2019, "layoff_rate", outcomeFail},
		{"suzhou rate 1.8% fails, 1.6% passes", firmRecords{employer: suzhou, d: 2018, start: 500, end: 492}, packJRR2019, 2019, "layoff_rate", outcomePass},
		{"suzhou at 1.8%", firmRecords{employer: suzhou, d: 2018, start: 500, end: 491}, packJRR2019, 2019, "layoff_rate", outcomeFail},
		{"start zero is rate zero", firmRecords{d: 2018, start: 0, end: 5}, packJRR2019, 2019, "layoff_rate", outcomePass},
		{"sme at 5.5%", firmRecords{employer: small, d: 2019, start: 200, end: 189}, packJRR2020, 2020, "layoff_rate", outcomePass},
		{"sme above 5.5%", firmRecords{employer: small, d: 2019, start: 200, end: 188}, packJRR2020, 2020, "layoff_rate", outcomeFail},
		{"small firm at 20%", firmRecords{employer: small, d: 2019, start: 30, end: 24}, packJRR2020, 2020, "layoff_rate", outcomePass},
		{"small firm above 20%", firmRecords{employer: small, d: 2019, start: 30, end: 23}, packJRR2020, 2020, "layoff_rate", outcomeFail},
		{"31 is not small", firmRecords{employer: small, d: 2019, start: 31, end: 25}, packJRR2020, 2020, "layoff_rate", outcomeFail},
		{"large with 25 has no small-firm branch in 2020", firmRecords{employer: suzhou, d: 2019, start: 25, end: 21}, packJRR2020, 2020, "layoff_rate", outcomeFail},
		{"large with 25 has it in 2021", firmRecords{employer: suzhou, d: 2020, start: 25, end: 21}, packJRR2021, 2021, "layoff_rate", outcomePass},
		{"6% in data year 2020", firmRecords{d: 2020, start: 200, end: 188}, packJRR2021, 2021, "layoff_rate", outcomePass},
		{"5.5% from data year 2021", firmRecords{d: 2021, start: 200, end: 188}, packJRR2021, 2022, "layoff_rate", outcomeFail},
		{"start from January when December is absent", firmRecords{d: 2021, start: 200, end: 190, drop: map[string]bool{"2020-12": true}}, packJRR2021, 2022, "layoff_rate", outcomePass},
		{"no start", firmRecords{d: 2021, start: 200, end: 190, drop: map[string]bool{"2020-12": true, "2021-01": true}}, packJRR2021, 2022, "layoff_rate", outcomeUnknown},
		{"jrr-2019 needs the region", firmRecords{d: 2018, start: 100, end: 100, extra: []contracts.Envelope{tomb(env(contracts.TypeEmployer, testUSCC, 1, "2025-02-01T00:00:00Z", suzhou))}}, packJRR2019, 2019, "layoff_rate", outcomeUnknown},
		{"jrr-2021 does not", firmRecords{d: 2020, start: 100, end: 100, extra: []contracts.Envelope{tomb(env(contracts.TypeEmployer, testUSCC, 1, "2025-02-01T00:00:00Z", suzhou))}}, packJRR2021, 2021, "layoff_rate", outcomePass},
		{"fresh at exactly 400 days", firmRecords{d: 2023, start: 9, end: 9, employerAt: "2023-05-27T00:00:00Z"}, packJRR2021, 2024, "enrolled_active", outcomePass},
		{"stale at 401 days", firmRecords{d: 2023, start: 9, end: 9, employerAt: "2023-05-26T23:59:59Z"}, packJRR2021, 2024, "enrolled_active", outcomeUnknown},
		{"enrolled on December 31", firmRecords{employer: contracts.Employer{USCC: testUSCC, RegionCode: "220102", Status: "active", EnrolledOn: "2020-12-31", Size: "small"}, d: 2020, start: 9, end: 9}, packJRR2021, 2021, "enrolled_active", outcomePass},
		{"enrolled on January 1", firmRecords{employer: contracts.Employer{USCC: testUSCC, RegionCode: "220102", Status: "active", EnrolledOn: "2021-01-01", Size: "small"}, d: 2020, start: 9, end: 9}, packJRR2021, 2021, "enrolled_active", outcomeFail},
		{"an underpaid month beats a missing one", firmRecords{d: 2020, start: 9, end: 9, drop: map[string]bool{"2020-03": true}, edit: func(m *contracts.EmployerMonth) {
			if m.Month == "2020-05" {
				m.UIPaidFen--
			}
		}}, packJRR2021, 2021, "ui_paid_in_full", outcomeFail},
		{"a missing month", firmRecords{d: 2020, start: 9, end: 9, drop: map[string]bool{"2020-03": true}}, packJRR2021, 2021, "ui_paid_in_full", outcomeUnknown},
		{"december arrears", firmRecords{d: 2020, start: 9, end: 9, edit: func(m *contracts.EmployerMonth) {
			if m.Month == "2020-12" {
				m.ArrearsFen = 1
			}
		}}, packJRR2021, 2021, "ui_paid_in_full", outcomeFail},
		{"november arrears only", firmRecords{d: 2020, start: 9, end: 9, edit: func(m *contracts.EmployerMonth) {
			if m.Month == "2020-11" {
				m.ArrearsFen = 1
			}
		}}, packJRR2021, 2021, "ui_paid_in_full", outcomePass},
		{"listed on the assessment date", firmRecords{d: 2020, start: 9, end: 9, extra: []contracts.Envelope{listing(contracts.ListSeriousDishonesty, "2021-06-30", "")}}, packJRR2021, 2021, "not_blacklisted", outcomeFail},
		{"removed on the assessment date", firmRecords{d: 2020, start: 9, end: 9, extra: []contracts.Envelope{listing(contracts.ListZombie, "2019-06-30", "2021-06-30")}}, packJRR2021, 2021, "not_blacklisted", outcomePass},
		{"other list types do not count", firmRecords{d: 2020, start: 9, end: 9, extra: []contracts.Envelope{listing(contracts.ListJudgmentDefaulter, "2019-06-30", "")}}, packJRR2021, 2021, "not_blacklisted", outcomePass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evalFirm(t, tt.fr, tt.pack, tt.year)
			if got := outcome(r, tt.check); got != tt.want {
				t.Errorf("%s = %s, want %s (%+v)", tt.check, got, tt.want, r.Checks)
			}
		})
	}
}

func TestRefundAmounts(t *testing.T) {
	listing := func(lt string) contracts.Envelope {
		return env(contracts.TypeListing, "L"+lt, 0, "2017-01-01T00:00:00Z",
			contracts.Listing{ListingID: "L" + lt, SubjectUSCC: testUSCC, ListType: lt, Authority: "a", ListedOn: "2016-05-01"})
	}
	arrears := func(deferral bool) func(m *contracts.EmployerMonth) {
		return func(m *contracts.EmployerMonth) {
			if m.Month == "2017-12" {
				m.ArrearsFen, m.DeferralAgreement = 500, deferral
			}
		}
	}
	tests := []struct {
		name     string
		fr       firmRecords
		pack     string
		year     int
		decision string
		amount   int64
	}{
		// 12 months of 1,000 fen per insured; start = end = 333 → Σ = 3,996,000.
		{"jrr-2019 50%", firmRecords{d: 2018, start: 333, end: 333}, packJRR2019, 2019, decisionEligible, 1998000},
		{"jrr-2021 medium 60%", firmRecords{d: 2022, start: 333, end: 333}, packJRR2021, 2023, decisionEligible, 2397600},
		{"jilin de-capacity 60%", firmRecords{d: 2017, start: 333, end: 333, extra: []contracts.Envelope{listing(contracts.ListDeCapacity)}}, packJilin2018, 2018, decisionEligible, 2397600},
		{"jilin key-supported 50%", firmRecords{d: 2017, start: 333, end: 333, extra: []contracts.Envelope{listing(contracts.ListKeySupported)}}, packJilin2018, 2018, decisionEligible, 1998000},
		{"jilin arrears with deferral 50%", firmRecords{d: 2017, start: 333, end: 333, edit: arrears(true), extra: []contracts.Envelope{listing(contracts.ListDeCapacity)}}, packJilin2018, 2018, decisionEligible, 1998000},
		{"jilin arrears without deferral", firmRecords{d: 2017, start: 333, end: 333, edit: arrears(false), extra: []contracts.Envelope{listing(contracts.ListDeCapacity)}}, packJilin2018, 2018, decisionIneligible, 0},
		{"jilin without designation", firmRecords{d: 2017, start: 333, end: 333}, packJilin2018, 2018, decisionIneligible, 0},
		{"missing month", firmRecords{d: 2018, start: 333, end: 333, drop: map[string]bool{"2018-04": true}}, packJRR2019, 2019, decisionInsufficient, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := evalFirm(t, tt.fr, tt.pack, tt.year)
			if r.Decision != tt.decision || r.AmountFen != tt.amount || r.ReviewRequired {
				t.Errorf("%s %d review %v, want %s %d (%+v)", r.Decision, r.AmountFen, r.ReviewRequired, tt.decision, tt.amount, r.Checks)
			}
		})
	}
	// review_required at exactly the threshold: jrr-2019 at 50% of Σ paid = 500,000,000.
	const total, per = int64(1_000_000_000), int64(1_000_000_000 / 12)
	at := firmRecords{d: 2018, start: 1000, end: 1000, edit: func(m *contracts.EmployerMonth) {
		m.UIDueFen, m.UIPaidFen = per, per
		if m.Month == "2018-12" {
			m.UIDueFen, m.UIPaidFen = total-11*per, total-11*per
		}
	}}
	if r := evalFirm(t, at, packJRR2019, 2019); r.AmountFen != 500000000 || !r.ReviewRequired {
		t.Errorf("at threshold: amount %d review %v", r.AmountFen, r.ReviewRequired)
	}
}

func TestSkillChecks(t *testing.T) {
	const id = "11010519491231002X"
	person := env(contracts.TypePerson, id, 0, "2025-01-05T00:00:00Z",
		contracts.Person{IDNumber: id, Name: "张三", UIMonths: 40, Status: "contributing", Category: "enterprise"})
	cert := func(no, occ string, level int64, issued, status string) contracts.Envelope {
		return env(contracts.TypeCertificate, no, 0, "2025-01-01T00:00:00Z", contracts.Certificate{CertNo: no, IDNumber: id, Name: "张三",
			OccupationCode: occ, OccupationName: "x", Level: level, Kind: "skill_level", IssuedOn: issued, Issuer: "i", Status: status})
	}
	award := func(no, occ string, level int64, year int64, status string) contracts.Envelope {
		return env(contracts.TypeAward, no, 0, "2025-01-01T00:00:00Z", contracts.Award{GrantID: no, Program: "sus-2022", SubjectIDNumber: id,
			Year: year, RegionCode: "110105", AmountFen: 1, GrantedOn: "2025-01-01", OccupationCode: occ, Level: level, Status: status})
	}
	const other = "4-03-02-01" // not a shortage occupation
	const short = "6-18-01-01"
	tests := []struct {
		name    string
		recs    []contracts.Envelope
		pack    string
		certNo  string
		app     string
		check   string
		want    string
		eligble bool
	}{
		{"window ends 12 calendar months after a leap day", []contracts.Envelope{person, cert("C1", other, 4, "2024-02-29", "valid")}, packSUS2022, "C1", "2025-03-01", "application_window", outcomePass, true},
		{"a day later is outside", []contracts.Envelope{person, cert("C1", other, 4, "2024-02-29", "valid")}, packSUS2022, "C1", "2025-03-02", "application_window", outcomeFail, false},
		{"not found", []contracts.Envelope{person}, packSUS2025, "C9", "2025-03-02", "no_lower_level", outcomeUnknown, false},
		{"not found fails the certificate", []contracts.Envelope{person}, packSUS2025, "C9", "2025-03-02", "certificate", outcomeFail, false},
		{"tombstoned certificate is not found", []contracts.Envelope{person, tomb(cert("C1", other, 4, "2024-05-01", "valid"))}, packSUS2019, "C1", "2024-06-01", "application_window", outcomeUnknown, false},
		{"revoked award is no duplicate", []contracts.Envelope{person, cert("C1", other, 4, "2024-05-01", "valid"), award("G1", other, 4, 2023, "revoked")}, packSUS2019, "C1", "2024-06-01", "no_duplicate_award", outcomePass, true},
		{"granted award is", []contracts.Envelope{person, cert("C1", other, 4, "2024-05-01", "valid"), award("G1", other, 4, 2023, "granted")}, packSUS2019, "C1", "2024-06-01", "no_duplicate_award", outcomeFail, false},
		{"sus-2017 needs 36 months", []contracts.Envelope{person, cert("C1", other, 4, "2024-05-01", "valid")}, packSUS2017, "C1", "2024-06-01", "contribution_months", outcomePass, true},
		{"three awards this year", []contracts.Envelope{person, cert("C1", other, 4, "2024-05-01", "valid"), award("G1", "a", 5, 2024, "granted"), award("G2", "b", 5, 2024, "granted"), award("G3", "c", 5, 2024, "granted")}, packSUS2022, "C1", "2024-06-01", "annual_limit", outcomeFail, false},
		{"three awards last year", []contracts.Envelope{person, cert("C1", other, 4, "2024-05-01", "valid"), award("G1", "a", 5, 2023, "granted"), award("G2", "b", 5, 2023, "granted"), award("G3", "c", 5, 2023, "granted")}, packSUS2022, "C1", "2024-06-01", "annual_limit", outcomePass, true},
		{"2025: one non-shortage award blocks a non-shortage certificate", []contracts.Envelope{person, cert("C1", other, 4, "2025-02-01", "valid"), award("G1", "4-12-01-01", 5, 2025, "granted")}, packSUS2025, "C1", "2025-03-01", "annual_limit", outcomeFail, false},
		{"2025: a shortage award does not", []contracts.Envelope{person, cert("C1", other, 4, "2025-02-01", "valid"), award("G1", short, 5, 2025, "granted")}, packSUS2025, "C1", "2025-03-01", "annual_limit", outcomePass, true},
		{"2025: shortage certificate with two other awards", []contracts.Envelope{person, cert("C1", short, 4, "2025-02-01", "valid"), award("G1", "x", 5, 2025, "granted"), award("G2", "y", 5, 2025, "granted")}, packSUS2025, "C1", "2025-03-01", "annual_limit", outcomePass, true},
		{"2025: a higher level held", []contracts.Envelope{person, cert("C1", short, 4, "2025-02-01", "valid"), cert("C0", short, 3, "2020-02-01", "valid")}, packSUS2025, "C1", "2025-03-01", "no_lower_level", outcomeFail, false},
		{"2025: a revoked higher level does not count", []contracts.Envelope{person, cert("C1", short, 4, "2025-02-01", "valid"), cert("C0", short, 3, "2020-02-01", "revoked")}, packSUS2025, "C1", "2025-03-01", "no_lower_level", outcomePass, true},
		{"2025: a higher level granted", []contracts.Envelope{person, cert("C1", short, 4, "2025-02-01", "valid"), award("G1", short, 2, 2020, "granted")}, packSUS2025, "C1", "2025-03-01", "no_lower_level", outcomeFail, false},
		{"level 2 is not subsidised", []contracts.Envelope{person, cert("C1", short, 2, "2025-02-01", "valid")}, packSUS2025, "C1", "2025-03-01", "certificate", outcomeFail, false},
		{"before 2025 for sus-2025", []contracts.Envelope{person, cert("C1", short, 4, "2024-02-01", "valid")}, packSUS2025, "C1", "2024-12-31", "in_force", outcomeFail, false},
		{"stale person", []contracts.Envelope{person, cert("C1", short, 4, "2026-01-01", "valid")}, packSUS2025, "C1", "2026-02-10", "insured_status", outcomeUnknown, false},
		{"fresh person at 400 days", []contracts.Envelope{person, cert("C1", short, 4, "2026-01-01", "valid")}, packSUS2025, "C1", "2026-02-09", "insured_status", outcomePass, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := newPersonFacts(id, tt.recs)
			if err != nil {
				t.Fatal(err)
			}
			pk := skillPacks[0]
			for _, p := range skillPacks {
				if p.id == tt.pack {
					pk = p
				}
			}
			r := evaluateSkill(f, pk, tt.certNo, tt.app)
			if got := outcome(r, tt.check); got != tt.want {
				t.Errorf("%s = %s, want %s (%+v)", tt.check, got, tt.want, r.Checks)
			}
			if (r.Decision == decisionEligible) != tt.eligble || (tt.eligble && r.AmountFen != amountByLevelFen[4]) {
				t.Errorf("decision %s amount %d (%+v)", r.Decision, r.AmountFen, r.Checks)
			}
		})
	}
}
