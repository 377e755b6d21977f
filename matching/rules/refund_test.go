package rules

import (
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

type checkCase struct {
	name     string
	profile  func() *builder
	params   map[string]any
	check    string
	want     string
	decision string // optional
	amount   int64  // checked when decision is eligible
	review   bool
	evidence int // expected evidence count when > 0
	// noEvidence expects no evidence at all.
	noEvidence bool
}

func runChecks(t *testing.T, e *Engine, program string, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p *matching.Profile
			if tc.profile != nil {
				p = tc.profile().p
			}
			r := evaluate(t, e, program, p, tc.params)
			c := resultOf(t, r, tc.check)
			if c.Result != tc.want {
				t.Fatalf("%s = %s (%s), want %s", tc.check, c.Result, c.Detail, tc.want)
			}
			if c.Detail == "" {
				t.Errorf("%s: empty detail", tc.check)
			}
			if (tc.evidence > 0 || tc.noEvidence) && len(c.Evidence) != tc.evidence {
				t.Errorf("%s evidence = %v, want %d records", tc.check, c.Evidence, tc.evidence)
			}
			if tc.decision != "" {
				if r.Decision != tc.decision {
					t.Fatalf("decision = %s, want %s (checks %+v)", r.Decision, tc.decision, r.Checks)
				}
				if r.AmountFen != tc.amount || r.ReviewRequired != tc.review {
					t.Errorf("amount, review = %d, %v; want %d, %v", r.AmountFen, r.ReviewRequired, tc.amount, tc.review)
				}
			}
		})
	}
}

var stale = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC) // more than 400 days before 2019-06-30

func TestJRR2019(t *testing.T) {
	e := shipped(t)
	withEmployer := func(mod func(*contracts.Employer)) func() *builder {
		return func() *builder {
			return enterprise().employer(fresh, mod).headcount("2017-12", 100).year(2018, 100, 97, 10000, nil)
		}
	}
	withMonths := func(mod func(m int, r *contracts.EmployerMonth) bool) func() *builder {
		return func() *builder {
			return enterprise().employer(fresh, nil).headcount("2017-12", 100).year(2018, 100, 97, 10000, mod)
		}
	}
	layoff := func(region string, start, end int64) func() *builder {
		return func() *builder {
			return enterprise().employer(fresh, func(e *contracts.Employer) { e.RegionCode = region }).
				headcount("2017-12", start).year(2018, start, end, 10000, nil)
		}
	}
	cases := []checkCase{
		{name: "eligible", profile: good2018, check: "enrolled_active", want: Pass, decision: Eligible, amount: 60000, evidence: 1},
		{name: "absent subject", check: "enrolled_active", want: Unknown, decision: InsufficientData, noEvidence: true},
		{name: "empty profile", profile: enterprise, check: "ui_paid_in_full", want: Unknown, decision: InsufficientData, noEvidence: true},
		// enrolled_active
		{name: "no employer", profile: func() *builder { return enterprise().headcount("2017-12", 100).year(2018, 100, 97, 1, nil) }, check: "enrolled_active", want: Unknown, decision: InsufficientData, noEvidence: true},
		{name: "stale employer", profile: func() *builder {
			return enterprise().employer(stale, nil).headcount("2017-12", 100).year(2018, 100, 97, 1, nil)
		}, check: "enrolled_active", want: Unknown, decision: InsufficientData, evidence: 1},
		{name: "employer just fresh", profile: func() *builder {
			return enterprise().employer(time.Date(2018, 5, 26, 23, 0, 0, 0, time.UTC), nil).headcount("2017-12", 100).year(2018, 100, 97, 1, nil)
		}, check: "enrolled_active", want: Pass, evidence: 1},
		{name: "suspended", profile: withEmployer(func(e *contracts.Employer) { e.Status = "suspended" }), check: "enrolled_active", want: Fail, decision: Ineligible, evidence: 1},
		{name: "enrolled after D", profile: withEmployer(func(e *contracts.Employer) { e.EnrolledOn = "2019-01-01" }), check: "enrolled_active", want: Fail, evidence: 1},
		{name: "enrolled on last day of D", profile: withEmployer(func(e *contracts.Employer) { e.EnrolledOn = "2018-12-31" }), check: "enrolled_active", want: Pass, evidence: 1},
		{name: "tombstoned employer", profile: func() *builder { return good2018().tombstone(contracts.TypeEmployer, testUSCC) }, check: "enrolled_active", want: Unknown, noEvidence: true},
		// ui_paid_in_full
		{name: "paid in full", profile: good2018, check: "ui_paid_in_full", want: Pass, evidence: 12},
		{name: "underpaid month", profile: withMonths(func(m int, r *contracts.EmployerMonth) bool {
			if m == 5 {
				r.UIPaidFen = r.UIDueFen - 1
			}
			return true
		}), check: "ui_paid_in_full", want: Fail, decision: Ineligible, evidence: 1},
		{name: "december arrears", profile: withMonths(func(m int, r *contracts.EmployerMonth) bool {
			if m == 12 {
				r.ArrearsFen = 1
			}
			return true
		}), check: "ui_paid_in_full", want: Fail, evidence: 1},
		{name: "arrears before december only", profile: withMonths(func(m int, r *contracts.EmployerMonth) bool {
			if m == 11 {
				r.ArrearsFen = 1
			}
			return true
		}), check: "ui_paid_in_full", want: Pass},
		{name: "missing month", profile: withMonths(func(m int, _ *contracts.EmployerMonth) bool { return m != 7 }), check: "ui_paid_in_full", want: Unknown, decision: InsufficientData, evidence: 11},
		{name: "tombstoned month", profile: func() *builder { return good2018().tombstone(contracts.TypeEmployerMonth, testUSCC+":2018-03") }, check: "ui_paid_in_full", want: Unknown, evidence: 11},
		{name: "underpaid beats missing", profile: withMonths(func(m int, r *contracts.EmployerMonth) bool {
			if m == 2 {
				r.UIPaidFen = 0
			}
			return m != 7
		}), check: "ui_paid_in_full", want: Fail},
		// layoff_rate: default region 3.8%, strictly below
		{name: "3% under default", profile: layoff("350102", 100, 97), check: "layoff_rate", want: Pass, evidence: 3},
		{name: "exactly 3.8% is not below", profile: layoff("350102", 1000, 962), check: "layoff_rate", want: Fail, decision: Ineligible},
		{name: "3.7% below", profile: layoff("350102", 1000, 963), check: "layoff_rate", want: Pass},
		{name: "region 22 at 3.5%", profile: layoff("220102", 1000, 964), check: "layoff_rate", want: Fail},
		{name: "region 22 below 3.5%", profile: layoff("220102", 1000, 966), check: "layoff_rate", want: Pass},
		{name: "region 3205 at 1.8%", profile: layoff("320506", 100, 97), check: "layoff_rate", want: Fail},
		{name: "region 6101 at 3.2%", profile: layoff("610102", 1000, 969), check: "layoff_rate", want: Pass},
		{name: "region 4601 at 2.2%", profile: layoff("460101", 1000, 978), check: "layoff_rate", want: Fail},
		{name: "growth is no layoff", profile: layoff("350102", 100, 150), check: "layoff_rate", want: Pass},
		{name: "zero start is rate 0", profile: layoff("350102", 0, 0), check: "layoff_rate", want: Pass},
		{name: "start from january without previous december", profile: func() *builder {
			return enterprise().employer(fresh, nil).year(2018, 100, 97, 1, func(m int, r *contracts.EmployerMonth) bool {
				if m == 1 {
					r.InsuredCount = 200 // start falls back to January: 200 → 97
				}
				return true
			})
		}, check: "layoff_rate", want: Fail, evidence: 3},
		{name: "no end headcount", profile: withMonths(func(m int, _ *contracts.EmployerMonth) bool { return m != 12 }), check: "layoff_rate", want: Unknown},
		{name: "no start headcount", profile: func() *builder {
			return enterprise().employer(fresh, nil).year(2018, 100, 97, 1, func(m int, _ *contracts.EmployerMonth) bool { return m != 1 })
		}, check: "layoff_rate", want: Unknown},
		{name: "layoff needs employer for region", profile: func() *builder { return enterprise().headcount("2017-12", 100).year(2018, 100, 97, 1, nil) }, check: "layoff_rate", want: Unknown},
		// not_blacklisted
		{name: "active zombie listing", profile: func() *builder { return good2018().listing("L1", "zombie_enterprise", "2019-01-01", "") }, check: "not_blacklisted", want: Fail, decision: Ineligible, evidence: 1},
		{name: "dishonesty listed on the date", profile: func() *builder { return good2018().listing("L1", "serious_dishonesty", "2019-06-30", "") }, check: "not_blacklisted", want: Fail},
		{name: "removed on the date", profile: func() *builder { return good2018().listing("L1", "serious_dishonesty", "2018-01-01", "2019-06-30") }, check: "not_blacklisted", want: Pass, decision: Eligible, amount: 60000, noEvidence: true},
		{name: "removed after the date", profile: func() *builder { return good2018().listing("L1", "serious_dishonesty", "2018-01-01", "2019-07-01") }, check: "not_blacklisted", want: Fail},
		{name: "listed after the date", profile: func() *builder { return good2018().listing("L1", "zombie_enterprise", "2019-07-01", "") }, check: "not_blacklisted", want: Pass},
		{name: "assessment date moves the window", profile: func() *builder { return good2018().listing("L1", "zombie_enterprise", "2019-07-01", "") }, params: map[string]any{"assessment_date": "2019-08-01"}, check: "not_blacklisted", want: Fail},
		{name: "other list types", profile: func() *builder { return good2018().listing("L1", "wage_arrears", "2018-01-01", "") }, check: "not_blacklisted", want: Pass},
		{name: "tombstoned listing", profile: func() *builder {
			return good2018().listing("L1", "zombie_enterprise", "2018-01-01", "").tombstone(contracts.TypeListing, "L1")
		}, check: "not_blacklisted", want: Pass},
		// no_major_env_penalty
		{name: "major penalty in D", profile: func() *builder { return good2018().penalty("P1", "2018-12-31", "major", "in_force") }, check: "no_major_env_penalty", want: Fail, decision: Ineligible, evidence: 1},
		{name: "revoked major penalty", profile: func() *builder { return good2018().penalty("P1", "2018-06-01", "major", "revoked") }, check: "no_major_env_penalty", want: Pass},
		{name: "general penalty", profile: func() *builder { return good2018().penalty("P1", "2018-06-01", "general", "in_force") }, check: "no_major_env_penalty", want: Pass},
		{name: "major penalty before D", profile: func() *builder { return good2018().penalty("P1", "2017-12-31", "major", "in_force") }, check: "no_major_env_penalty", want: Pass},
		{name: "major penalty after D", profile: func() *builder { return good2018().penalty("P1", "2019-01-01", "major", "in_force") }, check: "no_major_env_penalty", want: Pass},
		// not_already_granted
		{name: "granted this year", profile: func() *builder {
			return good2018().award(contracts.Award{GrantID: "G1", Program: "jrr-2019", Year: 2019, AmountFen: 60000, GrantedOn: "2019-07-01"})
		}, check: "not_already_granted", want: Fail, decision: Ineligible, evidence: 1},
		{name: "revoked grant", profile: func() *builder {
			return good2018().award(contracts.Award{GrantID: "G1", Program: "jrr-2019", Year: 2019, Status: "revoked"})
		}, check: "not_already_granted", want: Pass},
		{name: "other program", profile: func() *builder {
			return good2018().award(contracts.Award{GrantID: "G1", Program: "jrr-2020", Year: 2019})
		}, check: "not_already_granted", want: Pass},
		{name: "other year", profile: func() *builder {
			return good2018().award(contracts.Award{GrantID: "G1", Program: "jrr-2019", Year: 2018})
		}, check: "not_already_granted", want: Pass},
		// amount: floor(Σ paid × 50 / 100) and review
		{name: "amount rounds down", profile: func() *builder {
			return enterprise().employer(fresh, nil).headcount("2017-12", 100).year(2018, 100, 97, 10001, func(m int, r *contracts.EmployerMonth) bool {
				if m == 1 {
					r.UIPaidFen, r.UIDueFen = 10000, 10000
				}
				return true
			})
		}, check: "ui_paid_in_full", want: Pass, decision: Eligible, amount: 60005},
		{name: "overpaid months count as paid", profile: func() *builder {
			return enterprise().employer(fresh, nil).headcount("2017-12", 100).year(2018, 100, 97, 10000, func(m int, r *contracts.EmployerMonth) bool {
				r.UIPaidFen = 10002
				return true
			})
		}, check: "ui_paid_in_full", want: Pass, decision: Eligible, amount: 60012},
		{name: "review at threshold", profile: func() *builder {
			// Σ paid = 1,000,000,000 → 500,000,000 = the threshold.
			return enterprise().employer(fresh, nil).headcount("2017-12", 100).year(2018, 100, 97, 1000000000/12, func(m int, r *contracts.EmployerMonth) bool {
				if m == 12 {
					r.UIPaidFen, r.UIDueFen = 1000000000-11*(1000000000/12), 1000000000-11*(1000000000/12)
				}
				return true
			})
		}, check: "ui_paid_in_full", want: Pass, decision: Eligible, amount: 500000000, review: true},
		{name: "review just under", profile: func() *builder {
			return enterprise().employer(fresh, nil).headcount("2017-12", 100).year(2018, 100, 97, 1000000000/12, nil)
		}, check: "ui_paid_in_full", want: Pass, decision: Eligible, amount: (1000000000 / 12) * 12 / 2, review: false},
	}
	runChecks(t, e, "jrr-2019", cases)
}

func TestRefundFacts(t *testing.T) {
	r := evaluate(t, shipped(t), "jrr-2019", good2018().p, nil)
	want := map[string]any{"start_headcount": int64(100), "end_headcount": int64(97), "layoffs": int64(3), "layoff_rate": "3%",
		"layoff_threshold": "3.8%", "ui_paid_sum_fen": int64(120000), "data_year": int64(2018), "region_code": "350102"}
	for k, v := range want {
		if r.Facts[k] != v {
			t.Errorf("fact %s = %#v, want %#v", k, r.Facts[k], v)
		}
	}
	if got := r.DataAsOf["si"]; !got.Equal(fresh) {
		t.Errorf("data_as_of[si] = %v, want %v", got, fresh)
	}
	if r.Params["assessment_date"] != "2019-06-30" || r.Params["year"] != int64(2019) {
		t.Errorf("params = %v", r.Params)
	}
	if c := resultOf(t, r, "layoff_rate"); c.Detail != "2018年裁员率 3% < 3.8% / 2018 layoff rate 3% < 3.8%" {
		t.Errorf("layoff detail = %q", c.Detail)
	}
}

func TestJRR2020(t *testing.T) {
	e := shipped(t)
	firm := func(size string, start, end int64) func() *builder {
		return func() *builder {
			return enterprise().employer(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), func(e *contracts.Employer) { e.Size = size }).
				headcount("2018-12", start).year(2019, start, end, 10000, nil)
		}
	}
	cases := []checkCase{
		{name: "SME at 5.5%", profile: firm("medium", 1000, 945), check: "layoff_rate", want: Pass, decision: Eligible, amount: 120000, evidence: 3},
		{name: "SME above 5.5%", profile: firm("medium", 1000, 944), check: "layoff_rate", want: Fail, decision: Ineligible},
		{name: "small firm 30 at 20%", profile: firm("micro", 30, 24), check: "layoff_rate", want: Pass, decision: Eligible, amount: 120000},
		{name: "small firm 30 above 20%", profile: firm("micro", 30, 23), check: "layoff_rate", want: Fail},
		{name: "31 insured is not small", profile: firm("small", 31, 25), check: "layoff_rate", want: Fail},
		{name: "large below registered rate", profile: firm("large", 1000, 963), check: "layoff_rate", want: Pass, decision: Eligible, amount: 60000},
		{name: "large at registered rate", profile: firm("large", 1000, 962), check: "layoff_rate", want: Fail},
		{name: "large is not small-firm", profile: firm("large", 30, 29), check: "layoff_rate", want: Pass},
		{name: "large small headcount over rate", profile: firm("large", 30, 28), check: "layoff_rate", want: Fail},
		{name: "size needs employer", profile: func() *builder { return enterprise().headcount("2018-12", 10).year(2019, 10, 10, 1, nil) }, check: "layoff_rate", want: Unknown},
		{name: "stale employer", profile: func() *builder {
			return enterprise().employer(time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), nil).headcount("2018-12", 10).year(2019, 10, 10, 1, nil)
		}, check: "layoff_rate", want: Unknown},
	}
	runChecks(t, e, "jrr-2020", cases)
	if _, err := e.Evaluate(t.Context(), "jrr-2020", nil, map[string]any{"year": 2019}); !isParamErr(err, "year") {
		t.Errorf("year 2019 for jrr-2020: err = %v, want invalid_params on year", err)
	}
}

func TestJRR2021(t *testing.T) {
	e := shipped(t)
	firm := func(size string, y, start, end int64) func() *builder {
		return func() *builder {
			return enterprise().employer(time.Date(int(y), 5, 1, 0, 0, 0, 0, time.UTC), func(e *contracts.Employer) { e.Size = size }).
				headcount(monthOf(y-2, 12), start).year(y-1, start, end, 10001, nil)
		}
	}
	y := func(n int) map[string]any { return map[string]any{"year": n} }
	cases := []checkCase{
		{name: "2021 SME at 6%", profile: firm("small", 2021, 1000, 940), params: y(2021), check: "layoff_rate", want: Pass, decision: Eligible, amount: 10001 * 12 * 60 / 100},
		{name: "2021 SME above 6%", profile: firm("small", 2021, 1000, 939), params: y(2021), check: "layoff_rate", want: Fail},
		{name: "2022 6% is above 5.5%", profile: firm("small", 2022, 1000, 940), params: y(2022), check: "layoff_rate", want: Fail},
		{name: "2022 at 5.5%", profile: firm("small", 2022, 1000, 945), params: y(2022), check: "layoff_rate", want: Pass},
		{name: "2025 large at 30%", profile: firm("large", 2025, 1000, 990), params: y(2025), check: "layoff_rate", want: Pass, decision: Eligible, amount: 10001 * 12 * 30 / 100},
		{name: "small firm branch for large too", profile: firm("large", 2023, 20, 16), params: y(2023), check: "layoff_rate", want: Pass},
		{name: "layoff rate needs no employer", profile: func() *builder {
			return enterprise().headcount("2021-12", 100).year(2022, 100, 99, 1, nil)
		}, params: y(2023), check: "layoff_rate", want: Pass, decision: InsufficientData},
	}
	runChecks(t, e, "jrr-2021", cases)
	for _, bad := range []any{2020, 2026, "abc", 2021.5} {
		if _, err := e.Evaluate(t.Context(), "jrr-2021", nil, map[string]any{"year": bad}); !isParamErr(err, "year") {
			t.Errorf("year %v: err = %v, want invalid_params on year", bad, err)
		}
	}
}

func monthOf(y int64, m int) string {
	return time.Date(int(y), time.Month(m), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

func TestJilin2018(t *testing.T) {
	e := shipped(t)
	base := func(mod func(m int, r *contracts.EmployerMonth) bool) *builder {
		return enterprise().employer(fresh, func(e *contracts.Employer) { e.RegionCode = "220102" }).
			headcount("2016-12", 50).year(2017, 50, 40, 10003, mod)
	}
	decap := func() *builder { return base(nil).listing("L1", "de_capacity_enterprise", "2017-05-01", "") }
	keySupported := func() *builder { return base(nil).listing("L1", "key_supported_enterprise", "2017-05-01", "") }
	arrears := func(deferral bool) func() *builder {
		return func() *builder {
			return base(func(m int, r *contracts.EmployerMonth) bool {
				if m == 12 {
					r.ArrearsFen, r.DeferralAgreement = 7777, deferral
				}
				return true
			}).listing("L1", "de_capacity_enterprise", "2017-05-01", "")
		}
	}
	due := int64(10003 * 12)
	cases := []checkCase{
		{name: "de-capacity, no arrears: 60%", profile: decap, check: "premiums", want: Pass, decision: Eligible, amount: due * 60 / 100, evidence: 12},
		{name: "key-supported only: 50%", profile: keySupported, check: "designation", want: Pass, decision: Eligible, amount: due * 50 / 100, evidence: 1},
		{name: "arrears with deferral: 50%", profile: arrears(true), check: "premiums", want: Pass, decision: Eligible, amount: due * 50 / 100},
		{name: "arrears without deferral", profile: arrears(false), check: "premiums", want: Fail, decision: Ineligible},
		{name: "underpaid", profile: func() *builder {
			return base(func(m int, r *contracts.EmployerMonth) bool {
				if m == 4 {
					r.UIPaidFen = 0
				}
				return true
			}).listing("L1", "de_capacity_enterprise", "2017-05-01", "")
		}, check: "premiums", want: Fail, evidence: 1},
		{name: "missing month", profile: func() *builder {
			return base(func(m int, _ *contracts.EmployerMonth) bool { return m != 4 }).listing("L1", "de_capacity_enterprise", "2017-05-01", "")
		}, check: "premiums", want: Unknown, decision: InsufficientData},
		{name: "no designation", profile: func() *builder { return base(nil) }, check: "designation", want: Fail, decision: Ineligible, noEvidence: true},
		{name: "designation removed before the date", profile: func() *builder { return base(nil).listing("L1", "de_capacity_enterprise", "2017-05-01", "2018-01-01") }, check: "designation", want: Fail},
		{name: "zombie", profile: func() *builder { return decap().listing("L2", "zombie_enterprise", "2018-01-01", "") }, check: "not_zombie", want: Fail, decision: Ineligible},
		{name: "dishonest", profile: func() *builder { return decap().listing("L2", "serious_dishonesty", "2018-01-01", "") }, check: "not_dishonest", want: Fail},
		{name: "outside Jilin", profile: func() *builder {
			return enterprise().employer(fresh, nil).year(2017, 50, 40, 1, nil).listing("L1", "de_capacity_enterprise", "2017-05-01", "")
		}, check: "in_region", want: Fail, decision: Ineligible},
		{name: "region needs employer", profile: func() *builder { return enterprise().year(2017, 50, 40, 1, nil) }, check: "in_region", want: Unknown},
		{name: "major penalty in 2017", profile: func() *builder { return decap().penalty("P", "2017-03-03", "major", "in_force") }, check: "no_major_env_penalty", want: Fail},
		{name: "already granted", profile: func() *builder {
			return decap().award(contracts.Award{GrantID: "G", Program: "jilin-2018-decapacity", Year: 2018})
		}, check: "not_already_granted", want: Fail},
	}
	runChecks(t, e, "jilin-2018-decapacity", cases)
	r := evaluate(t, e, "jilin-2018-decapacity", keySupported().p, nil)
	if r.Facts["tier"] != int64(50) || r.Facts["ui_due_sum_fen"] != due {
		t.Errorf("facts = %v", r.Facts)
	}
	for _, c := range r.Checks {
		if c.ID == "layoff_rate" {
			t.Errorf("jilin pack has a layoff_rate check")
		}
	}
}
