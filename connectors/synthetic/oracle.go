package synthetic

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verihub/verihub/contracts"
)

// This file is the oracle: matching/rules/PACKS.md implemented a second time, over the
// generator's own winning records, in plain Go. It shares nothing with the CEL packs
// but the document, so that comparing the two finds the mistakes of either.

// Check outcomes and decisions, as PACKS.md names them.
const (
	outcomePass    = "pass"
	outcomeFail    = "fail"
	outcomeUnknown = "unknown"

	decisionEligible     = "eligible"
	decisionIneligible   = "ineligible"
	decisionInsufficient = "insufficient_data"
)

// Pack ids.
const (
	packJilin2018 = "jilin-2018-decapacity"
	packJRR2019   = "jrr-2019"
	packJRR2020   = "jrr-2020"
	packJRR2021   = "jrr-2021"
	packSUS2017   = "sus-2017"
	packSUS2019   = "sus-2019"
	packSUS2022   = "sus-2022"
	packSUS2025   = "sus-2025"
)

// refundPacks lists the refund packs with the policy years expected.ndjson covers.
var refundPacks = []struct {
	id    string
	years []int
}{
	{packJilin2018, []int{2018}},
	{packJRR2019, []int{2019}},
	{packJRR2020, []int{2020}},
	{packJRR2021, []int{2021, 2022, 2023, 2024, 2025}},
}

// CheckResult is one check's outcome as the oracle sees it (expected_checks.ndjson):
// Outcome is pass, fail or unknown.
type CheckResult struct {
	ID      string `json:"id"`
	Outcome string `json:"result"`
	Detail  string `json:"detail,omitempty"`
}

// result is the oracle's answer for one (subject, pack, params).
type result struct {
	Program         string
	USCC            string // enterprise subject
	IDNumber        string // person subject
	Year            int    // refund packs
	CertNo          string // skill packs
	ApplicationDate string // skill packs, YYYY-MM-DD
	Decision        string
	AmountFen       int64
	ReviewRequired  bool
	Tier            int // jilin-2018-decapacity premiums tier (60 or 50) when it passes
	Checks          []CheckResult
}

func (r *result) add(id, outcome, detail string) {
	r.Checks = append(r.Checks, CheckResult{ID: id, Outcome: outcome, Detail: detail})
}

// decide sets the decision from the checks.
func (r *result) decide() {
	r.Decision = decisionEligible
	for _, c := range r.Checks {
		switch c.Outcome {
		case outcomeFail:
			r.Decision = decisionIneligible
			return
		case outcomeUnknown:
			r.Decision = decisionInsufficient
		}
	}
}

// refundParams are a refund pack's request and pack parameters. expected.ndjson uses
// the defaults of defaultRefundParams.
type refundParams struct {
	Year               int
	AssessmentDate     time.Time
	FreshnessDays      int
	ReviewThresholdFen int64
	LayoffFormula      string // "headcount" or "claimants"
}

func defaultRefundParams(year int) refundParams {
	return refundParams{
		Year:               year,
		AssessmentDate:     time.Date(year, 6, 30, 0, 0, 0, 0, time.UTC),
		FreshnessDays:      400,
		ReviewThresholdFen: 500000000,
		LayoffFormula:      "headcount",
	}
}

// registeredRateBP is jrr-2019's registered_unemployment_rate in basis points
// (rate × 10000), looked up by region: 6 digits, then 4, then 2, then the default.
func registeredRateBP(region string) int64 {
	table := map[string]int64{"22": 350, "3205": 180, "6101": 320, "4601": 220}
	for _, n := range []int{6, 4, 2} {
		if len(region) >= n {
			if v, ok := table[region[:n]]; ok {
				return v
			}
		}
	}
	return 380
}

func monthKey(y, m int) string {
	return fmt.Sprintf("%04d-%02d", y, m)
}

func dateString(t time.Time) string { return t.Format(time.DateOnly) }

// stale reports whether a snapshot taken at asOf is older than freshnessDays before
// ref, comparing calendar dates.
func stale(asOf, ref time.Time, freshnessDays int) bool {
	u := asOf.UTC()
	d := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	return d.Before(ref.AddDate(0, 0, -freshnessDays))
}

// employer returns the si.employer snapshot when present and fresh, or the reason it
// cannot be used.
func (f *enterpriseFacts) freshEmployer(ref time.Time, freshnessDays int) (*contracts.Employer, string) {
	if f.employer == nil {
		return nil, "si.employer missing"
	}
	if stale(f.employerAsOf, ref, freshnessDays) {
		return nil, "si.employer stale (as_of " + f.employerAsOf.UTC().Format(time.RFC3339) + ")"
	}
	return f.employer, ""
}

// listingActive reports whether the enterprise has a listing of one of the types
// active on date d (YYYY-MM-DD): listed_on <= d and (removed_on empty or > d).
func listingActive(ls []contracts.Listing, d string, types ...string) bool {
	for _, l := range ls {
		if !slices.Contains(types, l.ListType) {
			continue
		}
		if l.ListedOn <= d && (l.RemovedOn == "" || l.RemovedOn > d) {
			return true
		}
	}
	return false
}

// rateOK compares the rate num/den against a threshold in basis points: op "<" or
// "<=", exactly in integers.
func rateOK(num, den, thresholdBP int64, op string) bool {
	l, r := num*10000, thresholdBP*den
	if op == "<" {
		return l < r
	}
	return l <= r
}

// evaluateRefund evaluates one refund pack for one enterprise.
func evaluateRefund(f *enterpriseFacts, pack string, p refundParams) result {
	r := result{Program: pack, USCC: f.uscc, Year: p.Year}
	d := p.Year - 1
	assess := dateString(p.AssessmentDate)
	emp, why := f.freshEmployer(p.AssessmentDate, p.FreshnessDays)

	enrolledActive := func() {
		switch {
		case emp == nil:
			r.add("enrolled_active", outcomeUnknown, why)
		case emp.Status == "active" && emp.EnrolledOn <= fmt.Sprintf("%04d-12-31", d):
			r.add("enrolled_active", outcomePass, "")
		default:
			r.add("enrolled_active", outcomeFail, "status "+emp.Status+", enrolled "+emp.EnrolledOn)
		}
	}
	// premiums scans the 12 months of D: underpaid (any present month paid < due),
	// missing (some month absent), and the sums.
	var underpaid, missing bool
	var sumPaid, sumDue, sumClaimants, sumInsured int64
	for m := 1; m <= 12; m++ {
		mo := f.months[monthKey(d, m)]
		if mo == nil {
			missing = true
			continue
		}
		if mo.UIPaidFen < mo.UIDueFen {
			underpaid = true
		}
		sumPaid += mo.UIPaidFen
		sumDue += mo.UIDueFen
		sumClaimants += mo.NewUIClaimants
		sumInsured += mo.InsuredCount
	}
	dec := f.months[monthKey(d, 12)]
	noMajorPenalty := func() {
		for _, pe := range f.penalties {
			if pe.Severity == "major" && pe.Status == "in_force" && strings.HasPrefix(pe.DecidedOn, fmt.Sprintf("%04d-", d)) {
				r.add("no_major_env_penalty", outcomeFail, "major penalty "+pe.DecisionNo+" decided "+pe.DecidedOn)
				return
			}
		}
		r.add("no_major_env_penalty", outcomePass, "")
	}
	notGranted := func() {
		for _, a := range f.awards {
			if a.Status == "granted" && a.Program == pack && a.Year == int64(p.Year) {
				r.add("not_already_granted", outcomeFail, "granted "+a.GrantID)
				return
			}
		}
		r.add("not_already_granted", outcomePass, "")
	}

	if pack == packJilin2018 {
		switch {
		case emp == nil:
			r.add("in_region", outcomeUnknown, why)
		case strings.HasPrefix(emp.RegionCode, "22"):
			r.add("in_region", outcomePass, "")
		default:
			r.add("in_region", outcomeFail, "region "+emp.RegionCode)
		}
		enrolledActive()
		deCap := listingActive(f.listings, assess, contracts.ListDeCapacity)
		if deCap || listingActive(f.listings, assess, contracts.ListKeySupported) {
			r.add("designation", outcomePass, "")
		} else {
			r.add("designation", outcomeFail, "no active designation on "+assess)
		}
		if listingActive(f.listings, assess, contracts.ListZombie) {
			r.add("not_zombie", outcomeFail, "zombie_enterprise listed on "+assess)
		} else {
			r.add("not_zombie", outcomePass, "")
		}
		if listingActive(f.listings, assess, contracts.ListSeriousDishonesty) {
			r.add("not_dishonest", outcomeFail, "serious_dishonesty listed on "+assess)
		} else {
			r.add("not_dishonest", outcomePass, "")
		}
		switch {
		case underpaid:
			r.add("premiums", outcomeFail, "a month underpaid")
		case missing:
			r.add("premiums", outcomeUnknown, "months missing")
		case dec.ArrearsFen == 0:
			r.Tier = 50
			if deCap {
				r.Tier = 60
			}
			r.add("premiums", outcomePass, fmt.Sprintf("tier %d", r.Tier))
		case dec.DeferralAgreement:
			r.Tier = 50
			r.add("premiums", outcomePass, "tier 50: arrears under a deferral agreement")
		default:
			r.add("premiums", outcomeFail, "arrears without a deferral agreement")
		}
		noMajorPenalty()
		notGranted()
		r.decide()
		if r.Decision == decisionEligible {
			r.AmountFen = sumDue * int64(r.Tier) / 100
		}
		r.ReviewRequired = r.Decision == decisionEligible && r.AmountFen >= p.ReviewThresholdFen
		return r
	}

	enrolledActive()
	switch {
	case underpaid:
		r.add("ui_paid_in_full", outcomeFail, "a month underpaid")
	case dec != nil && dec.ArrearsFen > 0:
		r.add("ui_paid_in_full", outcomeFail, fmt.Sprintf("arrears %d at %04d-12", dec.ArrearsFen, d))
	case missing:
		r.add("ui_paid_in_full", outcomeUnknown, "months missing")
	default:
		r.add("ui_paid_in_full", outcomePass, "")
	}
	r.Checks = append(r.Checks, layoffOutcome(f, pack, d, emp, why, p.LayoffFormula, missing, sumClaimants, sumInsured))
	if listingActive(f.listings, assess, contracts.ListSeriousDishonesty, contracts.ListZombie) {
		r.add("not_blacklisted", outcomeFail, "listed on "+assess)
	} else {
		r.add("not_blacklisted", outcomePass, "")
	}
	noMajorPenalty()
	notGranted()
	r.decide()
	if r.Decision == decisionEligible {
		pct := int64(50)
		switch pack {
		case packJRR2020:
			if emp.Size != "large" {
				pct = 100
			}
		case packJRR2021:
			pct = 60
			if emp.Size == "large" {
				pct = 30
			}
		}
		r.AmountFen = sumPaid * pct / 100
	}
	r.ReviewRequired = r.Decision == decisionEligible && r.AmountFen >= p.ReviewThresholdFen
	return r
}

// layoffOutcome is the layoff_rate check of the jrr packs.
func layoffOutcome(f *enterpriseFacts, pack string, d int, emp *contracts.Employer, why, formula string,
	missing bool, sumClaimants, sumInsured int64) CheckResult {
	res := func(outcome, detail string) CheckResult {
		return CheckResult{ID: "layoff_rate", Outcome: outcome, Detail: detail}
	}
	if pack != packJRR2021 && emp == nil {
		// jrr-2019 and jrr-2020 thresholds depend on the region (and size).
		return res(outcomeUnknown, why)
	}
	start := f.months[monthKey(d-1, 12)]
	if start == nil {
		start = f.months[monthKey(d, 1)]
	}
	end := f.months[monthKey(d, 12)]
	if start == nil || end == nil {
		return res(outcomeUnknown, "start or end headcount missing")
	}
	s := start.InsuredCount
	num, den := max(0, s-end.InsuredCount), s
	if formula == "claimants" {
		if missing {
			return res(outcomeUnknown, "months missing")
		}
		num, den = 12*sumClaimants, sumInsured
	}
	if den == 0 {
		num, den = 0, 1
	}
	detail := fmt.Sprintf("%d/%d (start %d)", num, den, s)
	var ok bool
	switch pack {
	case packJRR2019:
		ok = rateOK(num, den, registeredRateBP(emp.RegionCode), "<")
	case packJRR2020:
		if emp.Size == "large" {
			ok = rateOK(num, den, registeredRateBP(emp.RegionCode), "<")
		} else {
			ok = rateOK(num, den, 550, "<=") || (s <= 30 && rateOK(num, den, 2000, "<="))
		}
	case packJRR2021:
		target := int64(550)
		if d == 2020 {
			target = 600
		}
		ok = rateOK(num, den, target, "<=") || (s <= 30 && rateOK(num, den, 2000, "<="))
	}
	if ok {
		return res(outcomePass, detail)
	}
	return res(outcomeFail, detail)
}

// skillPack is one skill-upgrade pack's fixed parameters.
type skillPack struct {
	id        string
	effective string // YYYY-MM-DD
	statuses  []string
	minMonths int64
}

var skillPacks = []skillPack{
	{packSUS2017, "2017-01-01", []string{"contributing"}, 36},
	{packSUS2019, "2019-01-01", []string{"contributing"}, 12},
	{packSUS2022, "2022-01-01", []string{"contributing", "receiving_benefits"}, 12},
	{packSUS2025, "2025-01-01", []string{"contributing", "receiving_benefits"}, 12},
}

// shortageOccupations is sus-2025's default shortage list.
var shortageOccupations = []string{"6-18-01-01", "6-20-03-01", "4-10-01-02", "6-31-01-03", "2-02-07-04"}

// amountByLevelFen is the default province table of the skill packs.
var amountByLevelFen = map[int64]int64{5: 100000, 4: 150000, 3: 200000}

// evaluateSkill evaluates one skill pack for one person, certificate number and
// application date (YYYY-MM-DD).
func evaluateSkill(f *personFacts, pk skillPack, certNo, appDate string) result {
	const freshnessDays = 400
	r := result{Program: pk.id, IDNumber: f.id, CertNo: certNo, ApplicationDate: appDate}
	app, err := time.Parse(time.DateOnly, appDate)
	if err != nil {
		panic("synthetic: generator produced application date " + appDate)
	}
	if appDate >= pk.effective {
		r.add("in_force", outcomePass, "")
	} else {
		r.add("in_force", outcomeFail, "before "+pk.effective)
	}
	var per *contracts.Person
	why := "si.person missing"
	if f.person != nil {
		if stale(f.personAsOf, app, freshnessDays) {
			why = "si.person stale (as_of " + f.personAsOf.UTC().Format(time.RFC3339) + ")"
		} else {
			per = f.person
		}
	}
	switch {
	case per == nil:
		r.add("insured_status", outcomeUnknown, why)
		r.add("contribution_months", outcomeUnknown, why)
	default:
		if slices.Contains(pk.statuses, per.Status) && per.Category == "enterprise" {
			r.add("insured_status", outcomePass, "")
		} else {
			r.add("insured_status", outcomeFail, per.Status+"/"+per.Category)
		}
		if per.UIMonths >= pk.minMonths {
			r.add("contribution_months", outcomePass, "")
		} else {
			r.add("contribution_months", outcomeFail, fmt.Sprintf("%d < %d", per.UIMonths, pk.minMonths))
		}
	}
	var cert *contracts.Certificate
	for i := range f.certs {
		if f.certs[i].CertNo == certNo {
			cert = &f.certs[i]
			break
		}
	}
	if cert == nil {
		r.add("certificate", outcomeFail, "not found among the person's certificates")
		r.add("application_window", outcomeUnknown, "certificate not found")
		r.add("no_duplicate_award", outcomeUnknown, "certificate not found")
	} else {
		if cert.Status == "valid" && cert.Level >= 3 && cert.Level <= 5 && cert.IssuedOn >= "2017-01-01" {
			r.add("certificate", outcomePass, "")
		} else {
			r.add("certificate", outcomeFail, fmt.Sprintf("%s level %d issued %s", cert.Status, cert.Level, cert.IssuedOn))
		}
		issued, err := time.Parse(time.DateOnly, cert.IssuedOn)
		if err != nil {
			panic("synthetic: generator produced issued_on " + cert.IssuedOn)
		}
		if !app.Before(issued) && !app.After(issued.AddDate(0, 12, 0)) {
			r.add("application_window", outcomePass, "")
		} else {
			r.add("application_window", outcomeFail, "issued "+cert.IssuedOn)
		}
		dup := ""
		for _, a := range f.awards {
			if a.OccupationCode == cert.OccupationCode && a.Level == cert.Level {
				dup = a.GrantID
				break
			}
		}
		if dup != "" {
			r.add("no_duplicate_award", outcomeFail, "granted "+dup)
		} else {
			r.add("no_duplicate_award", outcomePass, "")
		}
	}
	var n, m int
	for _, a := range f.awards {
		if a.Year == int64(app.Year()) {
			n++
			if !slices.Contains(shortageOccupations, a.OccupationCode) {
				m++
			}
		}
	}
	switch pk.id {
	case packSUS2022:
		if n >= 3 {
			r.add("annual_limit", outcomeFail, fmt.Sprintf("%d awards in %d", n, app.Year()))
		} else {
			r.add("annual_limit", outcomePass, "")
		}
	case packSUS2025:
		switch {
		case cert == nil:
			r.add("annual_limit", outcomeUnknown, "certificate not found")
		case n < 3 && (slices.Contains(shortageOccupations, cert.OccupationCode) || m < 1):
			r.add("annual_limit", outcomePass, "")
		default:
			r.add("annual_limit", outcomeFail, fmt.Sprintf("%d awards (%d outside the shortage list) in %d", n, m, app.Year()))
		}
		if cert == nil {
			r.add("no_lower_level", outcomeUnknown, "certificate not found")
		} else {
			higher := ""
			for _, c := range f.certs {
				if c.CertNo != cert.CertNo && c.Status == "valid" && c.OccupationCode == cert.OccupationCode && c.Level < cert.Level {
					higher = "certificate " + c.CertNo
					break
				}
			}
			for _, a := range f.awards {
				if higher == "" && a.OccupationCode == cert.OccupationCode && a.Level < cert.Level {
					higher = "award " + a.GrantID
				}
			}
			if higher != "" {
				r.add("no_lower_level", outcomeFail, "higher level held: "+higher)
			} else {
				r.add("no_lower_level", outcomePass, "")
			}
		}
	}
	r.decide()
	if r.Decision == decisionEligible {
		r.AmountFen = amountByLevelFen[cert.Level]
	}
	return r
}
