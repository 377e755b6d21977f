package rules

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/verihub/verihub/contracts"
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

// FuzzDecodeRecord checks the reflection-free decoder against encoding/json: when
// decodeFlat accepts data, encoding/json must accept it too, and every field the
// record yields must be the value encoding/json decodes into the contracts struct.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"uscc":"91350100M000100Y43","month":"2018-12","insured_count":97,"ui_due_fen":10000,"ui_paid_fen":10000,"arrears_fen":0,"deferral_agreement":true}`,
		`{"month":"2018-12","insured_count":-3, "arrears_fen": null}`, `{}`, ` { "month" : "中文" } `,
		`{"insured_count":1.5}`, `{"month":"a\"b"}`, `{"insured_count":"3"}`, `{"insured_count":012}`,
		`{"arrears_fen":5,"uscc":"X","insured_count":7}`, `{"insured_count":1,"insured_count":2}`,
		`{"insured_count":4,"insured_count":null}`, `{"Month":"2018-12"}`,
	} {
		f.Add(s)
	}
	kinds := newRecordKinds()
	k := kinds["si.employer_month"]
	f.Fuzz(func(t *testing.T, data string) {
		if !decodeFlat(k, []byte(data), make([]flatField, len(k.kinds))) {
			return
		}
		var m contracts.EmployerMonth
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("decodeFlat accepted %q, encoding/json: %v", data, err)
		}
		r, err := decodeRecord(kinds, contracts.Envelope{Type: "si.employer_month", Data: json.RawMessage(data)})
		if err != nil {
			t.Fatal(err)
		}
		if r.data == nil {
			t.Fatalf("%q: decodeRecord did not keep decodeFlat's reading", data)
		}
		mv := reflect.ValueOf(m)
		for i, name := range k.names {
			var want ref.Val
			switch f := mv.FieldByIndex(fieldIndex(k.goType, name)); f.Kind() {
			case reflect.String:
				want = types.String(f.String())
			case reflect.Int64:
				want = types.Int(f.Int())
			case reflect.Bool:
				want = types.Bool(f.Bool())
			}
			if got := r.value(i); got.Equal(want) != types.True {
				t.Fatalf("%q field %s: flat %v, encoding/json %v", data, name, got, want)
			}
		}
	})
}
