package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/problem"
)

// TestResponseEncodingIsEncodingJSON holds the hand-written response and batch
// encoders to the bytes encoding/json gives for the same values.
func TestResponseEncodingIsEncodingJSON(t *testing.T) {
	asOf := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	full := &VerificationResponse{Token: "eyJ.a<b>.c", Decision: contracts.DecisionIneligible, AmountFen: 12345, ReviewRequired: true,
		Checks: []contracts.CheckResult{{ID: "layoff_rate", Result: contracts.CheckFail, Detail: "2018年裁员率 8.38% ≥ 3.5% / \"rate\" & more",
			Evidence: []contracts.Evidence{{Type: contracts.TypeEmployer, ID: "91350100M000100Y43", AsOf: asOf}}}},
		Facts: map[string]any{"layoff_rate": "8.38%", "months_present": int64(12), "list": []any{"a", nil}}}
	bare := &VerificationResponse{Token: "t", Decision: contracts.DecisionEligible}
	for name, r := range map[string]*VerificationResponse{"full": full, "bare": bare} {
		got, err := r.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(r)
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	p := problem.From(&problem.Error{Status: 400, Code: "invalid_subject", Field: "subject.uscc", Detail: "bad <code>"})
	results := []BatchItemResult{{VerificationResponse: full}, {Error: &p}, {VerificationResponse: bare}}
	got, err := appendBatch(nil, results)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(map[string]any{"results": results})
	if string(got) != string(want) {
		t.Errorf("batch:\n got %s\nwant %s", got, want)
	}
}
