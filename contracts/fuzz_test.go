package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzValidate(f *testing.F) {
	for _, tc := range validateCases(f) {
		if len(tc.raw) <= 4096 {
			f.Add(tc.raw)
		}
	}
	v := testValidator(f, "91350100M0001TGQXM")
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := v.Validate(raw)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || len(re.Rejects) == 0 {
				t.Fatalf("error %v is not a *RecordError with rejects", err)
			}
			for _, r := range re.Rejects {
				if r.Code == "" || r.Message == "" {
					t.Fatalf("reject without code or message: %+v", r)
				}
			}
			if !reflect.DeepEqual(got, Validated{}) {
				t.Fatalf("refused record returned %+v", got)
			}
			return
		}
		// An accepted record is in normal form: encoding it and validating again
		// yields the same envelope.
		enc, err := json.Marshal(got.Envelope)
		if err != nil {
			t.Fatalf("encoding accepted envelope: %v", err)
		}
		again, err := v.Validate(enc)
		if err != nil {
			t.Fatalf("normal form %s refused: %v", enc, err)
		}
		if !reflect.DeepEqual(again.Envelope, got.Envelope) {
			t.Fatalf("normal form not stable:\n%+v\n%+v", got.Envelope, again.Envelope)
		}
		if got.Envelope.Data != nil && !json.Valid(got.Envelope.Data) {
			t.Fatalf("data %q is not JSON", got.Envelope.Data)
		}
		if _, err := SubjectOf(got.Envelope); err != nil {
			t.Fatalf("accepted record has no subject: %v", err)
		}
	})
}

// refUSCC is an independent reading of GB 32100 and GB 11714.
func refUSCC(code string) (shape, org, check bool) {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	if len(code) != 18 {
		return false, false, false
	}
	sum := 0
	for i := 0; i < 18; i++ {
		v := strings.IndexByte(chars, code[i])
		if v < 0 {
			return false, false, false
		}
		if i < 17 {
			w := 1
			for k := 0; k < i; k++ {
				w = w * 3 % 31
			}
			sum += v * w
		}
	}
	check = chars[(31-sum%31)%31] == code[17]
	osum := 0
	for i, w := range []int{3, 7, 9, 10, 5, 8, 4, 2} {
		osum += strings.IndexByte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", code[8+i]) * w
	}
	want := "0123456789X0"[11-osum%11 : 11-osum%11+1]
	if 11-osum%11 == 11 {
		want = "0"
	}
	return true, code[16] == want[0], check
}

func FuzzUSCC(f *testing.F) {
	for _, s := range []string{"91350100M000100Y43", "91310110666007217T", "914403001922038216", "91350100M0001TGQXM", "", "9135"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		warn, err := ValidateUSCC(code, nil)
		shape, org, check := refUSCC(code)
		if (err == nil) != (shape && org && check) || warn != nil {
			t.Fatalf("ValidateUSCC(%q) = %v, %v; reference says shape %v org %v check %v", code, warn, err, shape, org, check)
		}
		warn, err = ValidateUSCC(code, map[string]bool{code: true})
		legacy := shape && org && !check
		if (warn != nil) != legacy || (err == nil) != (shape && org) {
			t.Fatalf("ValidateUSCC(%q, allowlisted) = %v, %v; reference says shape %v org %v check %v", code, warn, err, shape, org, check)
		}
	})
}

func FuzzIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "440524188001010014", "11010519491231002x", "110105491231002", "110105194912310021", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		out, err := NormalizeIDNumber(id, testNow)
		if err != nil {
			if strings.Contains(err.Error(), id) && len(id) > 4 {
				t.Fatalf("error reveals the input: %v", err)
			}
			return
		}
		if len(out) != 18 || withIDCheck(out[:17]) != out {
			t.Fatalf("NormalizeIDNumber(%q) = %q: not an 18-character number with a valid check", id, out)
		}
		if len(id) == 18 && out != strings.ToUpper(id) {
			t.Fatalf("NormalizeIDNumber(%q) = %q changed more than the case", id, out)
		}
		if again, err := NormalizeIDNumber(out, testNow); err != nil || again != out {
			t.Fatalf("normal form %q not stable: %q, %v", out, again, err)
		}
	})
}

func FuzzCheckCode(f *testing.F) {
	for _, s := range []string{"91350100M000100Y43", "11010519491231002X", "110105194912310021", "914403001922038216", "110105491231002", "abc"} {
		f.Add(uint8(0), s)
	}
	kinds := []string{"", CodeKindUSCC, CodeKindID}
	f.Fuzz(func(t *testing.T, k uint8, code string) {
		kind := kinds[int(k)%len(kinds)]
		res := checkCode(kind, code, nil, testNow)
		if res.Code != code || res.Kind != CodeKindUSCC && res.Kind != CodeKindID || kind != "" && res.Kind != kind {
			t.Fatalf("checkCode(%q, %q) = %+v", kind, code, res)
		}
		switch res.Status {
		case StatusValid:
			if res.Kind == CodeKindID {
				if _, err := NormalizeIDNumber(code, testNow); err != nil {
					t.Fatalf("valid id %q fails NormalizeIDNumber: %v", code, err)
				}
			} else if _, err := ValidateUSCC(code, nil); err != nil {
				t.Fatalf("valid uscc %q fails ValidateUSCC: %v", code, err)
			}
		case StatusLegacy:
			if warn, err := ValidateUSCC(code, map[string]bool{code: true}); res.Kind != CodeKindUSCC || warn == nil || err != nil {
				t.Fatalf("legacy %q: ValidateUSCC with it allowlisted = %v, %v", code, warn, err)
			}
		case StatusInvalid:
			if res.Reason == "" {
				t.Fatalf("invalid %q without a reason", code)
			}
		default:
			t.Fatalf("status %q", res.Status)
		}
	})
}

// FuzzSchemaAgreement extends TestSchemasAgreeWithGeneralValidator to mutated
// records. Inputs outside what JSON Schema can judge are skipped: invalid UTF-8
// (encoding/json replaces it; the validator refuses it), duplicate fields (the last
// one wins in encoding/json), oversized records, and exponents too large for big.Rat.
func FuzzSchemaAgreement(f *testing.F) {
	for _, raw := range schemaCorpus(f) {
		if len(raw) <= 2048 {
			f.Add(raw)
		}
	}
	g := newGeneralValidator(f)
	v := testValidator(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !utf8.Valid(raw) || len(raw) > MaxRecordBytes || bytes.ContainsAny(raw, "eE") && hugeExponent.Match(raw) {
			return
		}
		_, fastErr := v.Validate(raw)
		var re *RecordError
		if errors.As(fastErr, &re) {
			for _, r := range re.Rejects {
				if r.Code == CodeDuplicateField {
					return
				}
			}
		}
		generalErr := g.validate(raw)
		if fastErr != nil && generalErr == nil && onlyCode(re.Rejects, CodeIDMismatch) {
			return
		}
		if (fastErr == nil) != (generalErr == nil) {
			t.Fatalf("fast validator says %v; JSON Schema says %v\nrecord: %s", fastErr, generalErr, raw)
		}
	})
}

var hugeExponent = regexp.MustCompile(`[0-9][eE][+-]?[0-9]{4,}`)

// FuzzResultEncoding: the claims encoder writes encoding/json's bytes for any strings.
func FuzzResultEncoding(f *testing.F) {
	f.Add("https://hub", "portal", "3.1% <5%", "k", "v\u2028\xff")
	f.Fuzz(func(t *testing.T, iss, aud, detail, key, val string) {
		c := ResultClaims{Issuer: iss, Audience: aud, Subject: "s", ID: "j", Program: "p", Decision: DecisionEligible,
			Params: map[string]any{key: val, "n": int64(len(val))}, Facts: map[string]any{val: []any{key, true}},
			Checks: []CheckResult{{ID: key, Result: CheckPass, Detail: detail, Evidence: []Evidence{{Type: key, ID: val}}}}}
		assertEncodingJSON(t, c)
	})
}
