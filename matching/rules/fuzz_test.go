package rules

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParams feeds arbitrary JSON objects as request params to every program: the
// answer is a Result or a *ParamError, never a panic or another error, and a
// normalised result normalises to itself.
func FuzzParams(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"year": 2019}`, `{"year": "2021", "assessment_date": "2021-02-29"}`, `{"year": 2021.0}`,
		`{"year": 1e300}`, `{"certificate_no": "C1", "application_date": "2025-03-01"}`,
		`{"certificate_no": "", "application_date": "2025-13-01"}`, `{"assessment_date": null}`, `{"x": []}`,
	} {
		f.Add(s)
	}
	e, err := Load(Overrides{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var params map[string]any
		if json.Unmarshal([]byte(raw), &params) != nil {
			return
		}
		for _, prog := range e.Programs() {
			r, err := e.Evaluate(t.Context(), prog.ID, nil, params)
			if err != nil {
				var pe *ParamError
				if !errors.As(err, &pe) {
					t.Fatalf("%s %s: %v", prog.ID, raw, err)
				}
				continue
			}
			again, err := e.Evaluate(t.Context(), prog.ID, nil, r.Params)
			if err != nil {
				t.Fatalf("%s: normalised params %v rejected: %v", prog.ID, r.Params, err)
			}
			if len(again.Params) != len(r.Params) {
				t.Fatalf("%s: params %v normalise to %v", prog.ID, r.Params, again.Params)
			}
			for k, v := range r.Params {
				if again.Params[k] != v {
					t.Fatalf("%s: params %v normalise to %v", prog.ID, r.Params, again.Params)
				}
			}
		}
	})
}
