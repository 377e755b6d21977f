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
