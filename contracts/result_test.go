package contracts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestResultClaimsJSON(t *testing.T) {
	iat := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	c := ResultClaims{
		Issuer: "https://hub", Audience: "portal", Subject: "person:abc", IssuedAt: iat, ExpiresAt: iat.Add(time.Hour),
		ID: "j1", Program: "sus-2025", Params: map[string]any{"certificate_no": "S001", "big": int64(9007199254740993)},
		Decision: DecisionEligible, AmountFen: 200000,
		DataAsOf: map[string]time.Time{"cert": iat.Add(-time.Hour)},
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"iat":1772352000`, `"exp":1772355600`, `"aud":"portal"`, `"checks":[]`, `"big":9007199254740993`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("encoding %s lacks %s", b, want)
		}
	}
	var back ResultClaims
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.IssuedAt.Equal(c.IssuedAt) || !back.ExpiresAt.Equal(c.ExpiresAt) || back.Audience != "portal" ||
		back.Params["big"].(json.Number).String() != "9007199254740993" || !back.DataAsOf["cert"].Equal(c.DataAsOf["cert"]) {
		t.Errorf("round trip = %+v", back)
	}
	for _, tc := range []struct {
		in      string
		aud     string
		wantErr bool
	}{
		{`{"aud":["portal"]}`, "portal", false},
		{`{"aud":[]}`, "", false},
		{`{}`, "", false},
		{`{"aud":["a","b"]}`, "", true},
		{`{"aud":7}`, "", true},
		{`{"iat":"yesterday"}`, "", true},
	} {
		var r ResultClaims
		err := json.Unmarshal([]byte(tc.in), &r)
		if (err != nil) != tc.wantErr || r.Audience != tc.aud {
			t.Errorf("%s: aud %q err %v", tc.in, r.Audience, err)
		}
	}
}

func FuzzResultClaimsJSON(f *testing.F) {
	f.Add(`{"iss":"h","aud":["p"],"iat":1,"exp":2,"checks":[{"id":"x","result":"pass"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var r ResultClaims
		if json.Unmarshal([]byte(s), &r) != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", r, err)
		}
		var again ResultClaims
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("decoding own encoding %s: %v", b, err)
		}
		if again.Audience != r.Audience || !again.ExpiresAt.Equal(r.ExpiresAt) {
			t.Fatalf("round trip changed %+v to %+v", r, again)
		}
	})
}

// TestEncodeIsEncodingJSON holds the hand-written encoder to encoding/json's bytes
// over values that exercise every branch: escapes, HTML-safe characters, invalid
// UTF-8, U+2028, nested params, json.Number, floats (through the fallback), empty
// and nil collections, evidence and times with zones and fractions.
func TestEncodeIsEncodingJSON(t *testing.T) {
	iat := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	cst := time.FixedZone("CST", 8*3600)
	base := ResultClaims{Issuer: "https://hub", Audience: "portal", Subject: "uscc:91350100M000100Y43",
		IssuedAt: iat, ExpiresAt: iat.Add(24 * time.Hour), ID: "abc", Program: "jrr-2021", Decision: DecisionEligible}
	cases := map[string]func(*ResultClaims){
		"bare":       func(*ResultClaims) {},
		"zero times": func(c *ResultClaims) { c.IssuedAt, c.ExpiresAt = time.Time{}, time.Time{} },
		"escapes": func(c *ResultClaims) {
			c.Issuer = "a\"b\\c\n\r\t\b\f\x00\x1f<>&'\u2028\u2029\x7f é 中文 \xff\xfe end"
			c.Audience = "<script>&amp;"
		},
		"checks and evidence": func(c *ResultClaims) {
			c.Checks = []CheckResult{
				{ID: "a", Result: CheckPass, Detail: "2018年裁员率 3.1% ≤ 5.5% / rate <5.5%", Evidence: []Evidence{
					{Type: TypeEmployer, ID: "x", AsOf: iat},
					{Type: TypeEmployerMonth, ID: "x:2018-12", AsOf: time.Date(2019, 1, 2, 3, 4, 5, 600700800, cst)},
				}},
				{ID: "b", Result: CheckUnknown, Detail: "", Evidence: []Evidence{}},
				{ID: "c", Result: CheckFail},
			}
		},
		"empty checks": func(c *ResultClaims) { c.Checks = []CheckResult{} },
		"params and facts": func(c *ResultClaims) {
			c.Params = map[string]any{"year": int64(2021), "z": "last", "a": true, "n": nil, "num": json.Number("12.50"),
				"list": []any{int64(1), "two", []any{}, map[string]any{"k": false}}, "i": 7, "f": 0.000001, "g": 1e21, "h": 2.5,
				"strs": []string{"x", "<y>"}, "nilmap": map[string]any(nil), "nillist": []any(nil)}
			c.Facts = map[string]any{"layoff_rate": "3.12%", "months_present": int64(12), "u\u2028": "\xff"}
			c.DataAsOf = map[string]time.Time{"si": iat, "tax": iat.In(cst).Add(time.Nanosecond), "credit": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}
		},
		"empty maps": func(c *ResultClaims) {
			c.Params, c.Facts, c.DataAsOf = map[string]any{}, map[string]any{}, map[string]time.Time{}
		},
		"amount and review": func(c *ResultClaims) {
			c.AmountFen, c.ReviewRequired, c.Decision = -1<<63, true, DecisionIneligible
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			c := base
			mod(&c)
			assertEncodingJSON(t, c)
		})
	}
	t.Run("time out of range", func(t *testing.T) {
		c := base
		c.DataAsOf = map[string]time.Time{"si": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
		if _, err := c.Encode(); err == nil {
			t.Fatal("year 10000 encoded")
		}
		if _, err := c.encodeReflect(); err == nil {
			t.Fatal("the reference encoded year 10000")
		}
	})
}

func assertEncodingJSON(t *testing.T, c ResultClaims) {
	t.Helper()
	got, err := c.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	want, err := c.encodeReflect()
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if string(got) != string(want) {
		t.Fatalf("Encode differs from encoding/json:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatalf("invalid JSON %s", got)
	}
}

// encodeReflect is Encode by encoding/json, the reference the appenders are
// tested against.
func (c ResultClaims) encodeReflect() ([]byte, error) {
	aud, err := json.Marshal(c.Audience)
	if err != nil {
		return nil, err
	}
	checks := c.Checks
	if checks == nil {
		checks = []CheckResult{}
	}
	w := resultWire{
		Issuer: c.Issuer, Audience: aud, Subject: c.Subject,
		IssuedAt: unixOrZero(c.IssuedAt), ExpiresAt: unixOrZero(c.ExpiresAt),
		ID: c.ID, Program: c.Program, Params: c.Params, Decision: c.Decision,
		AmountFen: c.AmountFen, ReviewRequired: c.ReviewRequired, Checks: checks,
		Facts: c.Facts, DataAsOf: c.DataAsOf,
	}
	return json.Marshal(w)
}
