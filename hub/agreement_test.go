package hub_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/rules"
)

// TestPacksAgreeWithOracle compares, for every line of expected.ndjson, the decision,
// amount and review flag the CEL packs compute over profiles built the way the hub
// builds them (validate → protect → route → apply) with those of the generator's
// independent oracle. A moderate data set runs always; VERIHUB_AGREEMENT_FULL=1 runs
// the full size (10k enterprises, 50k persons).
func TestPacksAgreeWithOracle(t *testing.T) {
	cfg := synthetic.Config{Seed: 7, Enterprises: 800, Persons: 1500, Checks: true}
	if os.Getenv("VERIHUB_AGREEMENT_FULL") != "" {
		cfg.Enterprises, cfg.Persons = 10000, 50000
	} else if testing.Short() {
		cfg.Enterprises, cfg.Persons = 700, 400
	}
	cfg.Out = t.TempDir()
	if _, err := synthetic.Generate(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	profiles, prot := buildProfiles(t, cfg.Out)
	eng, err := rules.Load(rules.Overrides{})
	if err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(filepath.Join(cfg.Out, synthetic.FileChecks))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<22)
	perPack := map[string][2]int{} // program → {agree, total}
	decisions := map[string]map[string]int{}
	mismatches, leanMismatches := 0, 0
	for sc.Scan() {
		var want synthetic.ExpectedChecks
		if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		subject := "uscc:" + want.Subject.USCC
		params := map[string]any{"year": want.Params.Year}
		if want.Subject.IDNumber != "" {
			subject = "person:" + prot.Pseudonym(want.Subject.IDNumber)
			params = map[string]any{"certificate_no": want.Params.CertificateNo, "application_date": want.Params.ApplicationDate}
		}
		p := profiles[subject]
		if p == nil {
			p = matching.NewProfile(subject)
		}
		got, err := eng.Evaluate(context.Background(), want.Program, p, params)
		if err != nil {
			t.Fatalf("%s %s: %v", want.Program, subject, err)
		}
		// Decide (what screening uses) must reach the same decision, check by check.
		lean, err := eng.Decide(context.Background(), want.Program, p, params)
		if err != nil {
			t.Fatalf("%s %s: Decide: %v", want.Program, subject, err)
		}
		if err := rules.CompareDecision(got, lean); err != nil {
			leanMismatches++
			if leanMismatches <= 5 {
				t.Errorf("%s %s: Decide differs from Evaluate: %v", want.Program, maskSubject(want), err)
			}
		}
		if decisions[want.Program] == nil {
			decisions[want.Program] = map[string]int{}
		}
		decisions[want.Program][want.Decision]++
		c := perPack[want.Program]
		c[1]++
		review := want.ReviewRequired == nil || *want.ReviewRequired == got.ReviewRequired
		if got.Decision == want.Decision && got.AmountFen == want.AmountFen && review {
			c[0]++
		} else {
			mismatches++
			if mismatches <= 15 {
				t.Errorf("%s %s %v: got %s %d review=%v, oracle %s %d review=%v\n%s", want.Program, maskSubject(want), params,
					got.Decision, got.AmountFen, got.ReviewRequired, want.Decision, want.AmountFen, want.ReviewRequired,
					diffChecks(want.Checks, got.Checks))
			}
		}
		perPack[want.Program] = c
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(perPack))
	for n := range perPack {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := decisions[n]
		t.Logf("%-22s %7d / %7d agree (eligible %d, ineligible %d, insufficient_data %d)", n, perPack[n][0], perPack[n][1],
			d[contracts.DecisionEligible], d[contracts.DecisionIneligible], d[contracts.DecisionInsufficientData])
		if d[contracts.DecisionEligible] == 0 || d[contracts.DecisionIneligible] == 0 {
			t.Errorf("%s: the data set does not exercise both eligible and ineligible: %v", n, d)
		}
	}
	if len(perPack) != 8 {
		t.Errorf("expected lines cover %d packs, want 8", len(perPack))
	}
	if mismatches > 0 {
		t.Errorf("%d lines disagree with the oracle", mismatches)
	}
	if leanMismatches > 0 {
		t.Errorf("%d lines where Decide differs from Evaluate", leanMismatches)
	}
}

func maskSubject(e synthetic.ExpectedChecks) string {
	if e.Subject.IDNumber != "" {
		return contracts.MaskID(e.Subject.IDNumber)
	}
	return e.Subject.USCC
}

func diffChecks(want []synthetic.CheckResult, got []rules.CheckResult) string {
	gotBy := map[string]rules.CheckResult{}
	for _, c := range got {
		gotBy[c.ID] = c
	}
	var b strings.Builder
	for _, w := range want {
		g, ok := gotBy[w.ID]
		switch {
		case !ok:
			fmt.Fprintf(&b, "    %s: oracle %s (%s), packs have no such check\n", w.ID, w.Outcome, w.Detail)
		case g.Result != w.Outcome:
			fmt.Fprintf(&b, "    %s: packs %s (%s) / oracle %s (%s)\n", w.ID, g.Result, g.Detail, w.Outcome, w.Detail)
		}
		delete(gotBy, w.ID)
	}
	for id, g := range gotBy {
		fmt.Fprintf(&b, "    %s: packs %s (%s), oracle has no such check\n", id, g.Result, g.Detail)
	}
	return b.String()
}

// buildProfiles folds every agency file into profiles exactly as the hub's pipeline
// does, in memory.
func buildProfiles(t *testing.T, dir string) (map[string]*matching.Profile, *contracts.Protector) {
	t.Helper()
	v, err := contracts.NewValidator(contracts.Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	prot, err := contracts.NewProtector(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	profiles := map[string]*matching.Profile{}
	for _, agency := range contracts.Agencies {
		f, err := os.Open(filepath.Join(dir, synthetic.AgencyFile(agency)))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), contracts.MaxRecordBytes*2)
		for sc.Scan() {
			val, err := v.Validate(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: generated record refused: %v", agency, err)
			}
			rec, subject, err := prot.Protect(val.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range matching.Route(subject, rec) {
				p := profiles[ch.Subject]
				if p == nil {
					p = matching.NewProfile(ch.Subject)
					profiles[ch.Subject] = p
				}
				p.Apply(ch.Record)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return profiles, prot
}
