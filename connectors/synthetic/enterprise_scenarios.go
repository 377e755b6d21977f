package synthetic

import (
	"math/rand/v2"
	"time"

	"github.com/verihub/verihub/contracts"
)

// firmScenario is a planted enterprise case: a clean firm with one condition placed
// around data year d, so that one check of the pack of year d+1 turns one way.
type firmScenario struct {
	name            string
	region          string // region prefix the case needs, "" for any
	size            string // declared size the case needs, "" to follow the headcount
	years           []int  // data years to cycle through; nil: 2017, 2018, 2019, 2020–2024
	keepDesignation bool   // do not add the de-capacity listing planted cases of 2017 get
	apply           func(f *firm, r *rand.Rand, d int)
}

// scenarioYear picks the data year of the k-th firm of a scenario, cycling so that
// every pack gets every case.
func scenarioYear(sc *firmScenario, k int, r *rand.Rand) int {
	if sc.years != nil {
		return sc.years[k%len(sc.years)]
	}
	switch k % 4 {
	case 0:
		return 2017
	case 1:
		return 2018
	case 2:
		return 2019
	}
	return 2020 + r.IntN(5)
}

// assessment is the default assessment date of policy year y.
func assessment(y int) time.Time { return day(y, 6, 30) }

// packOfYear is the refund pack of a policy year.
func packOfYear(y int) string {
	switch y {
	case 2018:
		return packJilin2018
	case 2019:
		return packJRR2019
	case 2020:
		return packJRR2020
	}
	return packJRR2021
}

// steady replaces the headcount with a slowly growing one starting at n.
func (f *firm) steady(n int64) {
	for i := f.first; i <= f.last; i++ {
		f.insured[i] = n + n*int64(i-f.first)/1500
	}
}

// underpay leaves 30% of month i unpaid, repaid two months later.
func (f *firm) underpay(i int) {
	f.unpaidPM[i] = 300
	if i+2 < numMonths {
		f.repay[i+2] = true
	}
}

// arrearsThrough leaves arrears from November of d−1 outstanding through December of d
// while every month of d is paid in full, and repays them in March of d+1.
func (f *firm) arrearsThrough(d int, deferral bool) {
	i := max(0, monthIndex(d-1, 11))
	f.unpaidPM[i] = 500
	if j := monthIndex(d+1, 3); j < numMonths {
		f.repay[j] = true
	}
	f.deferral = deferral
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// layoffThreshold returns the threshold (basis points) the layoff check of data year
// d applies to an SME of the given region with a start headcount over 30.
func layoffThreshold(d int, rg region) int64 {
	switch {
	case d <= 2018:
		return registeredRateBP(rg.code)
	case d == 2020:
		return 600
	}
	return 550
}

// plantLayoff pins a start headcount S ≥ 200 whose rate at threshold is a whole number
// of layoffs, then layoffs = that number + delta.
func (f *firm) plantLayoff(d int, delta int64) {
	t := layoffThreshold(d, f.region)
	step := 10000 / gcd(t, 10000)
	s := (200 + step - 1) / step * step
	f.steady(s)
	f.pin(monthIndex(d-1, 12), d, s, s-(t*s/10000+delta))
}

// plantSmall pins start s and end e.
func (f *firm) plantSmall(d int, s, e int64) {
	f.steady(max(s, 1))
	f.pin(monthIndex(d-1, 12), d, s, e)
}

// huge makes the firm a very large, well-paying, steady employer.
func (f *firm) huge(r *rand.Rand) {
	f.steady(8000 + r.Int64N(32000))
	f.wage2017 = (12000 + r.Int64N(8000)) * 100
	f.rateHigh, f.rateLow = 100, 70
}

func listedDate(r *rand.Rand, y int) time.Time { return day(y, 1+r.IntN(12), 1+r.IntN(28)) }

var layoffYears = []int{2018, 2019, 2020, 2021, 2022, 2023, 2024}

// firmScenarios are the planted enterprise cases (see README.md).
var firmScenarios = []firmScenario{
	{name: "clean", apply: func(f *firm, r *rand.Rand, d int) { f.steady(f.insured[0]) }},
	{name: "clean_large", size: "large", apply: func(f *firm, r *rand.Rand, d int) { f.steady(400 + r.Int64N(2000)) }},
	{name: "huge", size: "large", apply: func(f *firm, r *rand.Rand, d int) { f.huge(r) }},
	{name: "suspended", apply: func(f *firm, r *rand.Rand, d int) { f.status = "suspended" }},
	{name: "closed", apply: func(f *firm, r *rand.Rand, d int) {
		f.status = "closed"
		f.last = min(numMonths-1, monthIndex(d+1, 3))
	}},
	{name: "enrolled_after_year", apply: func(f *firm, r *rand.Rand, d int) {
		f.enrolled = day(d+1, 1, 1)
		f.first = monthIndex(d+1, 1)
	}},
	{name: "enrolled_last_day", apply: func(f *firm, r *rand.Rand, d int) {
		f.enrolled = day(d, 12, 31)
		f.first = monthIndex(d, 12)
	}},
	{name: "no_employer", apply: func(f *firm, r *rand.Rand, d int) { f.noEmployer = true }},
	{name: "employer_tombstoned", apply: func(f *firm, r *rand.Rand, d int) { f.tombEmployer = true }},
	{name: "employer_stale", apply: func(f *firm, r *rand.Rand, d int) {
		f.employerAsOf = at(r, assessment(d+1).AddDate(0, 0, -401-r.IntN(30)))
	}},
	{name: "employer_fresh_at_limit", apply: func(f *firm, r *rand.Rand, d int) {
		f.employerAsOf = at(r, assessment(d+1).AddDate(0, 0, -400))
	}},
	{name: "employer_stale_by_revision", apply: func(f *firm, r *rand.Rand, d int) {
		f.staleByRev = true
		f.employerAsOf = at(r, assessment(d+1).AddDate(0, 0, -420))
	}},
	{name: "underpaid_month", apply: func(f *firm, r *rand.Rand, d int) { f.underpay(monthIndex(d, 2+r.IntN(8))) }},
	{name: "december_arrears_deferral", apply: func(f *firm, r *rand.Rand, d int) { f.arrearsThrough(d, true) }},
	{name: "december_arrears", apply: func(f *firm, r *rand.Rand, d int) { f.arrearsThrough(d, false) }},
	{name: "missing_month", apply: func(f *firm, r *rand.Rand, d int) { f.missing[monthIndex(d, 2+r.IntN(10))] = true }},
	{name: "month_tombstoned", apply: func(f *firm, r *rand.Rand, d int) { f.tombM[monthIndex(d, 2+r.IntN(10))] = true }},
	{name: "missing_december", apply: func(f *firm, r *rand.Rand, d int) { f.missing[monthIndex(d, 12)] = true }},
	{name: "missing_start_uses_january", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) {
		f.steady(200)
		f.pin(monthIndex(d, 1), d, 200, 200-int64(r.IntN(30)))
		f.missing[monthIndex(d-1, 12)] = true
	}},
	{name: "missing_both_starts", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) {
		f.missing[monthIndex(d-1, 12)] = true
		f.missing[monthIndex(d, 1)] = true
	}},
	{name: "layoff_below", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantLayoff(d, -1) }},
	{name: "layoff_at", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantLayoff(d, 0) }},
	{name: "layoff_above", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantLayoff(d, 1) }},
	{name: "small_20pct", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 30, 24) }},
	{name: "small_23pct", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 30, 23) }},
	{name: "small_19pct", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 26, 21) }},
	{name: "small_21pct", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 19, 15) }},
	{name: "start_31_19pct", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 31, 25) }},
	{name: "large_with_25", size: "large", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 25, 21) }},
	{name: "start_zero", years: layoffYears, apply: func(f *firm, r *rand.Rand, d int) { f.plantSmall(d, 0, 4) }},
	{name: "dishonest_listed", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListSeriousDishonesty, assessment(d+1).AddDate(0, 0, -30-r.IntN(300)), time.Time{})
	}},
	{name: "dishonest_listed_on_assessment", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListSeriousDishonesty, assessment(d+1), time.Time{})
	}},
	{name: "dishonest_removed_on_assessment", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListSeriousDishonesty, listedDate(r, d-1), assessment(d+1))
	}},
	{name: "dishonest_removed_before", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListSeriousDishonesty, listedDate(r, d-1), assessment(d+1).AddDate(0, 0, -1-r.IntN(90)))
	}},
	{name: "dishonest_listed_after", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListSeriousDishonesty, assessment(d+1).AddDate(0, 0, 1+r.IntN(60)), time.Time{})
	}},
	{name: "dishonest_tombstoned", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListSeriousDishonesty, listedDate(r, d), time.Time{}).tomb = true
	}},
	{name: "zombie_listed", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListZombie, listedDate(r, d), time.Time{})
	}},
	{name: "zombie_removed", apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListZombie, listedDate(r, d-1), assessment(d+1).AddDate(0, 0, -10))
	}},
	{name: "major_penalty", apply: func(f *firm, r *rand.Rand, d int) {
		f.addPenalty(r, day(d, 3+r.IntN(8), 1+r.IntN(28)), "major", false)
	}},
	{name: "major_penalty_december_31", apply: func(f *firm, r *rand.Rand, d int) {
		f.addPenalty(r, day(d, 12, 31), "major", false)
	}},
	{name: "major_penalty_next_january_1", apply: func(f *firm, r *rand.Rand, d int) {
		f.addPenalty(r, day(d+1, 1, 1), "major", false)
	}},
	{name: "major_penalty_revoked", apply: func(f *firm, r *rand.Rand, d int) {
		f.addPenalty(r, day(d, 3+r.IntN(8), 1+r.IntN(28)), "major", true)
	}},
	{name: "general_penalty", apply: func(f *firm, r *rand.Rand, d int) {
		f.addPenalty(r, day(d, 3+r.IntN(8), 1+r.IntN(28)), "general", false)
	}},
	{name: "major_penalty_tombstoned", apply: func(f *firm, r *rand.Rand, d int) {
		f.addPenalty(r, day(d, 3+r.IntN(8), 1+r.IntN(28)), "major", false).tomb = true
	}},
	{name: "already_granted", apply: func(f *firm, r *rand.Rand, d int) { f.addAward(r, packOfYear(d+1), d+1, false) }},
	{name: "granted_revoked", apply: func(f *firm, r *rand.Rand, d int) { f.addAward(r, packOfYear(d+1), d+1, true) }},
	{name: "granted_other_year", apply: func(f *firm, r *rand.Rand, d int) { f.addAward(r, packOfYear(d+1), d, false) }},
	{name: "granted_tombstoned", apply: func(f *firm, r *rand.Rand, d int) {
		f.addAward(r, packOfYear(d+1), d+1, false).tomb = true
	}},
	// jilin-2018-decapacity (data year 2017).
	{name: "jilin_key_supported", region: "22", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListKeySupported, listedDate(r, 2016), time.Time{})
	}},
	{name: "jilin_both_designations", region: "22", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListKeySupported, listedDate(r, 2016), time.Time{})
		f.addListing(contracts.ListDeCapacity, listedDate(r, 2017), time.Time{})
	}},
	{name: "jilin_key_supported_arrears_deferral", region: "22", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListKeySupported, listedDate(r, 2016), time.Time{})
		f.arrearsThrough(d, true)
	}},
	{name: "jilin_designation_removed", region: "22", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListDeCapacity, listedDate(r, 2016), day(2018, 3, 1))
	}},
	{name: "jilin_designation_after_assessment", region: "22", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListDeCapacity, day(2018, 7, 1), time.Time{})
	}},
	{name: "jilin_no_designation", region: "22", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {}},
	{name: "jilin_outside_region", region: "3205", years: []int{2017}, keepDesignation: true, apply: func(f *firm, r *rand.Rand, d int) {
		f.addListing(contracts.ListDeCapacity, listedDate(r, 2016), time.Time{})
	}},
	{name: "jilin_huge", region: "22", size: "large", years: []int{2017}, apply: func(f *firm, r *rand.Rand, d int) { f.huge(r) }},
}
