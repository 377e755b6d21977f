package rules

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/verihub/verihub/contracts"
)

func shippedFS(t *testing.T) fstest.MapFS {
	t.Helper()
	sub, err := fs.Sub(shippedPacks, "packs")
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	names, _ := fs.Glob(sub, "*.yaml")
	for _, n := range names {
		b, err := fs.ReadFile(sub, n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = &fstest.MapFile{Data: b}
	}
	return out
}

func TestLoadShipped(t *testing.T) {
	e := shipped(t)
	want := map[string]string{
		"jrr-2019": "人社部发〔2019〕23号", "jrr-2020": "人社部明电〔2020〕2号", "jrr-2021": "人社部发〔2021〕29号",
		"jilin-2018-decapacity": "吉人社联字〔2018〕54号", "sus-2017": "人社部发〔2017〕40号", "sus-2019": "人社部发〔2017〕40号",
		"sus-2022": "人社部发〔2022〕23号", "sus-2025": "人社部发〔2025〕18号",
	}
	progs := e.Programs()
	if len(progs) != len(want) {
		t.Fatalf("%d programs, want %d", len(progs), len(want))
	}
	for _, p := range progs {
		if !strings.Contains(p.LegalBasis, want[p.ID]) {
			t.Errorf("%s legal basis %q, want %q", p.ID, p.LegalBasis, want[p.ID])
		}
		wantKind := contracts.KindEnterprise
		if strings.HasPrefix(p.ID, "sus-") {
			wantKind = contracts.KindPerson
		}
		if p.SubjectKind != wantKind || p.Title.ZH == "" || p.Title.EN == "" || len(p.Checks) == 0 || len(p.Params) != 2 {
			t.Errorf("%s: %+v", p.ID, p)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Errorf("%s does not marshal: %v", p.ID, err)
		}
	}
	if _, err := e.Evaluate(t.Context(), "jrr-1999", nil, nil); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("unknown program err = %v", err)
	} else if c := err.(*UnknownProgramError).Code(); c != CodeUnknownProgram {
		t.Errorf("code %q", c)
	}
}

func TestLoadBroken(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(string) string
		want []string
	}{
		"syntax error": {func(s string) string {
			return strings.Replace(s, "when: size(granted) > 0", "when: size(granted) >", 1)
		}, []string{"pack jrr-2019", "check not_already_granted", "size(granted) >"}},
		"undeclared name": {func(s string) string {
			return strings.Replace(s, "when: size(major_penalties) > 0", "when: size(major_penaltys) > 0", 1)
		}, []string{"pack jrr-2019", "check no_major_env_penalty", "major_penaltys"}},
		"when not bool": {func(s string) string {
			return strings.Replace(s, "when: size(blacklisted) > 0", "when: size(blacklisted)", 1)
		}, []string{"pack jrr-2019", "check not_blacklisted", "want bool"}},
		"no such field (found by the self-test)": {func(s string) string {
			return strings.Replace(s, "employer.enrolled_on <= d_last", "employer.enroled_on <= d_last", 1)
		}, []string{"pack jrr-2019", "check enrolled_active", "enroled_on"}},
		"unknown key": {func(s string) string {
			return strings.Replace(s, "legal_basis:", "legal_basis_typo: x\nlegal_basis:", 1)
		}, []string{"jrr-2019.yaml", "legal_basis_typo"}},
		"bad result": {func(s string) string {
			return strings.Replace(s, "result: unknown", "result: maybe", 1)
		}, []string{"jrr-2019.yaml", "maybe"}},
		"bad template": {func(s string) string {
			return strings.Replace(s, "en: si.employer record is stale (as of {employer.as_of})", "en: stale {employer.as_of", 1)
		}, []string{"pack jrr-2019", "check enrolled_active", "unclosed"}},
		"rate with five decimals": {func(s string) string {
			return strings.Replace(s, "default: 0.038", "default: 0.03812", 1)
		}, []string{"jrr-2019", "registered_unemployment_rate", "four decimals"}},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := shippedFS(t)
			orig := string(fsys["jrr-2019.yaml"].Data)
			edited := tc.edit(orig)
			if edited == orig {
				t.Fatal("edit did not apply")
			}
			fsys["jrr-2019.yaml"] = &fstest.MapFile{Data: []byte(edited)}
			_, err := LoadFS(fsys, Overrides{})
			if err == nil {
				t.Fatal("broken pack loaded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	layoff := func(region string) *builder {
		return enterprise().employer(fresh, func(e *contracts.Employer) { e.RegionCode = region }).
			headcount("2017-12", 100).year(2018, 100, 97, 10000, nil)
	}
	e, err := Load(Overrides{
		Parameters: map[string]any{"review_threshold_fen": 48000},
		Regions:    map[string]map[string]any{"32": {"freshness_days": 10}},
		Programs: map[string]ProgramOverrides{
			"jrr-2019": {
				Parameters: map[string]any{"registered_unemployment_rate": 0.02, "refund_percent": 40},
				Regions:    map[string]map[string]any{"35": {"registered_unemployment_rate": 0.031}, "350102": {"registered_unemployment_rate": 0.029}},
			},
			"sus-2019": {Parameters: map[string]any{"amount_by_level_fen": map[string]any{"4": 180000}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		region   string
		want     string
		decision string
		amount   int64
	}{
		{"350102", Fail, Ineligible, 0},   // the exact code's 2.9% beats the prefix 35
		{"350103", Pass, Eligible, 48000}, // prefix 35: 3.1%
		{"220102", Pass, Eligible, 48000}, // the pack's own "22" (3.5%) beats the overridden default
		{"440101", Fail, Ineligible, 0},   // overridden default 2%
	} {
		r := evaluate(t, e, "jrr-2019", layoff(tc.region).p, nil)
		if c := resultOf(t, r, "layoff_rate"); c.Result != tc.want || r.Decision != tc.decision || r.AmountFen != tc.amount {
			t.Errorf("region %s: %s %s %d (%s)", tc.region, c.Result, r.Decision, r.AmountFen, c.Detail)
		}
		if r.ReviewRequired != (tc.decision == Eligible) { // threshold overridden to 48,000
			t.Errorf("region %s: review = %v", tc.region, r.ReviewRequired)
		}
	}
	r := evaluate(t, e, "jrr-2019", layoff("320506").p, nil)
	if c := resultOf(t, r, "enrolled_active"); c.Result != Unknown {
		t.Errorf("freshness override for region 32: enrolled_active = %s", c.Result)
	}
	if r := evaluate(t, e, "sus-2019", worker()().p, app("C1", "2025-03-01")); r.AmountFen != 180000 {
		t.Errorf("province table override: amount %d", r.AmountFen)
	}
	for name, o := range map[string]Overrides{
		"unknown parameter":     {Parameters: map[string]any{"no_such": 1}},
		"unknown program":       {Programs: map[string]ProgramOverrides{"jrr-1999": {}}},
		"parameter of another":  {Programs: map[string]ProgramOverrides{"jrr-2019": {Parameters: map[string]any{"sme_percent": 1}}}},
		"bad region prefix":     {Regions: map[string]map[string]any{"3": {"freshness_days": 1}}},
		"wrong type":            {Parameters: map[string]any{"freshness_days": "soon"}},
		"rate above one":        {Programs: map[string]ProgramOverrides{"jrr-2019": {Parameters: map[string]any{"registered_unemployment_rate": 1.5}}}},
		"value outside allowed": {Parameters: map[string]any{"layoff_formula": "guess"}},
		"unknown region param":  {Regions: map[string]map[string]any{"32": {"nope": 1}}},
	} {
		if _, err := Load(o); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func TestClaimantsFormula(t *testing.T) {
	e, err := Load(Overrides{Programs: map[string]ProgramOverrides{"jrr-2021": {Parameters: map[string]any{"layoff_formula": "claimants"}}}})
	if err != nil {
		t.Fatal(err)
	}
	prof := func(claimants int64, drop int) *builder {
		return enterprise().employer(fresh, nil).headcount("2020-12", 100).year(2021, 100, 100, 1, func(m int, r *contracts.EmployerMonth) bool {
			if m == 1 {
				r.NewUIClaimants = claimants // Σ claimants / (Σ insured / 12) = claimants / 100
			}
			return m != drop
		})
	}
	params := map[string]any{"year": 2022}
	for _, tc := range []struct {
		claimants int64
		drop      int
		want      string
	}{{5, 0, Pass}, {6, 0, Fail}, {5, 4, Unknown}} {
		r := evaluate(t, e, "jrr-2021", prof(tc.claimants, tc.drop).p, params)
		if c := resultOf(t, r, "layoff_rate"); c.Result != tc.want {
			t.Errorf("%d claimants, month %d dropped: %s, want %s (%s)", tc.claimants, tc.drop, c.Result, tc.want, c.Detail)
		}
	}
}
