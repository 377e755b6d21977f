package synthetic

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// canBeUnknown lists, per pack, the checks PACKS.md allows to be unknown.
var canBeUnknown = map[string][]string{
	packJilin2018: {"in_region", "enrolled_active", "premiums"},
	packJRR2019:   {"enrolled_active", "ui_paid_in_full", "layoff_rate"},
	packJRR2020:   {"enrolled_active", "ui_paid_in_full", "layoff_rate"},
	packJRR2021:   {"enrolled_active", "ui_paid_in_full", "layoff_rate"},
	packSUS2017:   {"insured_status", "contribution_months", "application_window", "no_duplicate_award"},
	packSUS2019:   {"insured_status", "contribution_months", "application_window", "no_duplicate_award"},
	packSUS2022:   {"insured_status", "contribution_months", "application_window", "no_duplicate_award"},
	packSUS2025:   {"insured_status", "contribution_months", "application_window", "no_duplicate_award", "annual_limit", "no_lower_level"},
}

// packChecks lists every pack's checks, in PACKS.md's order.
var packChecks = map[string][]string{
	packJilin2018: {"in_region", "enrolled_active", "designation", "not_zombie", "not_dishonest", "premiums", "no_major_env_penalty", "not_already_granted"},
	packJRR2019:   {"enrolled_active", "ui_paid_in_full", "layoff_rate", "not_blacklisted", "no_major_env_penalty", "not_already_granted"},
	packSUS2017:   {"in_force", "insured_status", "contribution_months", "certificate", "application_window", "no_duplicate_award"},
	packSUS2022:   {"in_force", "insured_status", "contribution_months", "certificate", "application_window", "no_duplicate_award", "annual_limit"},
	packSUS2025:   {"in_force", "insured_status", "contribution_months", "certificate", "application_window", "no_duplicate_award", "annual_limit", "no_lower_level"},
}

func init() {
	packChecks[packJRR2020] = packChecks[packJRR2019]
	packChecks[packJRR2021] = packChecks[packJRR2019]
	packChecks[packSUS2019] = packChecks[packSUS2017]
}

// TestEveryCheckIsExercised generates a data set just large enough to hold every
// planted case and requires, per pack and check, a pass and a fail (and an unknown
// where the check can be unknown), every decision per pack, review_required on each
// refund pack, and both jilin tiers among eligible enterprises.
func TestEveryCheckIsExercised(t *testing.T) {
	count := map[string]int{} // program/check/outcome, program//decision, …
	var bad []string
	observe := func(r result) {
		want := packChecks[r.Program]
		var got []string
		for _, c := range r.Checks {
			got = append(got, c.ID)
			count[r.Program+"/"+c.ID+"/"+c.Outcome]++
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			bad = append(bad, fmt.Sprintf("%s checks %v, want %v", r.Program, got, want))
		}
		count[r.Program+"//"+r.Decision]++
		if r.ReviewRequired {
			count[r.Program+"//review_required"]++
		}
		if r.Decision == decisionEligible && r.Program == packJilin2018 {
			count[fmt.Sprintf("%s//tier%d", r.Program, r.Tier)]++
		}
		if r.Decision != decisionEligible && (r.AmountFen != 0 || r.ReviewRequired) {
			bad = append(bad, fmt.Sprintf("%s %s: amount %d review %v", r.Program, r.Decision, r.AmountFen, r.ReviewRequired))
		}
	}
	generate(t, Config{Seed: 11, Enterprises: 3 * len(firmScenarios) * 4, Persons: 3 * len(workerScenarios) * 3, observe: observe})
	for _, b := range bad[:min(len(bad), 10)] {
		t.Error(b)
	}
	var report []string
	for pack, checks := range packChecks {
		for _, c := range checks {
			outcomes := []string{outcomePass, outcomeFail}
			if containsString(canBeUnknown[pack], c) {
				outcomes = append(outcomes, outcomeUnknown)
			} else if n := count[pack+"/"+c+"/"+outcomeUnknown]; n > 0 {
				t.Errorf("%s %s: %d unknown, but PACKS.md never lets it be unknown", pack, c, n)
			}
			for _, o := range outcomes {
				n := count[pack+"/"+c+"/"+o]
				report = append(report, fmt.Sprintf("%-22s %-22s %-8s %6d", pack, c, o, n))
				if n == 0 {
					t.Errorf("%s %s: no %s", pack, c, o)
				}
			}
		}
		for _, d := range []string{decisionEligible, decisionIneligible, decisionInsufficient} {
			if count[pack+"//"+d] == 0 {
				t.Errorf("%s: no %s decision", pack, d)
			}
		}
		if strings.HasPrefix(pack, "j") && count[pack+"//review_required"] == 0 {
			t.Errorf("%s: no eligible enterprise at or above the review threshold", pack)
		}
	}
	if count[packJilin2018+"//tier60"] == 0 || count[packJilin2018+"//tier50"] == 0 {
		t.Errorf("jilin tiers among eligible: 60 ×%d, 50 ×%d", count[packJilin2018+"//tier60"], count[packJilin2018+"//tier50"])
	}
	sort.Strings(report)
	if testing.Verbose() {
		t.Log("\n" + strings.Join(report, "\n"))
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
