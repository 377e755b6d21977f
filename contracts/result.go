package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Decisions a result token carries (SPEC §2): eligible when every check passes,
// ineligible when any fails, insufficient_data otherwise.
const (
	DecisionEligible         = "eligible"
	DecisionIneligible       = "ineligible"
	DecisionInsufficientData = "insufficient_data"
)

// Check results.
const (
	CheckPass    = "pass"
	CheckFail    = "fail"
	CheckUnknown = "unknown"
)

// ResultClaims are the claims of a signed verification result (SPEC §3): a compact
// JWS, ES256, which any standard JOSE library can verify with the hub's JWKS.
//
// IssuedAt and ExpiresAt travel as JWT NumericDates (whole seconds since the epoch);
// Audience travels as a single string (the requesting client) and is read back from
// either a string or a one-element array.
type ResultClaims struct {
	Issuer         string               `json:"iss"`
	Audience       string               `json:"aud"`
	Subject        string               `json:"sub"` // "uscc:<code>" or "person:<pseudonym>"
	IssuedAt       time.Time            `json:"iat"`
	ExpiresAt      time.Time            `json:"exp"`
	ID             string               `json:"jti"`
	Program        string               `json:"program"`
	Params         map[string]any       `json:"params,omitempty"`
	Decision       string               `json:"decision"`
	AmountFen      int64                `json:"amount_fen"`
	ReviewRequired bool                 `json:"review_required"`
	Checks         []CheckResult        `json:"checks"`
	Facts          map[string]any       `json:"facts,omitempty"`
	DataAsOf       map[string]time.Time `json:"data_as_of,omitempty"` // agency name → newest as_of used
}

// CheckResult is one check of a rule pack applied to one subject.
type CheckResult struct {
	ID       string     `json:"id"`
	Result   string     `json:"result"` // pass | fail | unknown
	Detail   string     `json:"detail"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence names one record version a check used.
type Evidence struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	AsOf time.Time `json:"as_of"`
}

// resultWire is ResultClaims as it is encoded: times as NumericDate, aud flexible.
type resultWire struct {
	Issuer         string               `json:"iss"`
	Audience       json.RawMessage      `json:"aud"`
	Subject        string               `json:"sub"`
	IssuedAt       int64                `json:"iat"`
	ExpiresAt      int64                `json:"exp"`
	ID             string               `json:"jti"`
	Program        string               `json:"program"`
	Params         map[string]any       `json:"params,omitempty"`
	Decision       string               `json:"decision"`
	AmountFen      int64                `json:"amount_fen"`
	ReviewRequired bool                 `json:"review_required"`
	Checks         []CheckResult        `json:"checks"`
	Facts          map[string]any       `json:"facts,omitempty"`
	DataAsOf       map[string]time.Time `json:"data_as_of,omitempty"`
}

// MarshalJSON encodes the claims with iat and exp as NumericDates.
func (c ResultClaims) MarshalJSON() ([]byte, error) { return c.Encode() }

// Encode returns the claims' JSON (what MarshalJSON returns), written without
// reflection: signing calls it on every verification. Members come in the order of
// resultWire; the bytes are those json.Marshal(resultWire) gives (a test holds
// them to it).
func (c ResultClaims) Encode() ([]byte, error) {
	return c.AppendJSON(make([]byte, 0, 2048))
}

// AppendJSON appends the claims' JSON (see Encode) to b.
func (c ResultClaims) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"iss":`...)
	b = AppendJSONString(b, c.Issuer)
	b = append(b, `,"aud":`...)
	b = AppendJSONString(b, c.Audience)
	b = append(b, `,"sub":`...)
	b = AppendJSONString(b, c.Subject)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, unixOrZero(c.IssuedAt), 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, unixOrZero(c.ExpiresAt), 10)
	b = append(b, `,"jti":`...)
	b = AppendJSONString(b, c.ID)
	b = append(b, `,"program":`...)
	b = AppendJSONString(b, c.Program)
	var err error
	if len(c.Params) > 0 {
		b = append(b, `,"params":`...)
		if b, err = appendMap(b, c.Params); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"decision":`...)
	b = AppendJSONString(b, c.Decision)
	b = append(b, `,"amount_fen":`...)
	b = strconv.AppendInt(b, c.AmountFen, 10)
	b = append(b, `,"review_required":`...)
	b = strconv.AppendBool(b, c.ReviewRequired)
	b = append(b, `,"checks":`...)
	checks := c.Checks
	if checks == nil {
		checks = []CheckResult{}
	}
	if b, err = AppendChecks(b, checks); err != nil {
		return nil, err
	}
	if len(c.Facts) > 0 {
		b = append(b, `,"facts":`...)
		if b, err = appendMap(b, c.Facts); err != nil {
			return nil, err
		}
	}
	if len(c.DataAsOf) > 0 {
		b = append(b, `,"data_as_of":`...)
		if b, err = appendSorted(b, c.DataAsOf, appendTime); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes claims written by MarshalJSON or by another JWT library.
func (c *ResultClaims) UnmarshalJSON(b []byte) error {
	var w resultWire
	// Numbers in params and facts stay json.Number, so large integers survive.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	aud, err := singleAudience(w.Audience)
	if err != nil {
		return err
	}
	*c = ResultClaims{
		Issuer: w.Issuer, Audience: aud, Subject: w.Subject,
		IssuedAt: timeOrZero(w.IssuedAt), ExpiresAt: timeOrZero(w.ExpiresAt),
		ID: w.ID, Program: w.Program, Params: w.Params, Decision: w.Decision,
		AmountFen: w.AmountFen, ReviewRequired: w.ReviewRequired, Checks: w.Checks,
		Facts: w.Facts, DataAsOf: w.DataAsOf,
	}
	return nil
}

func singleAudience(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("reading aud: %w", err)
	}
	switch len(list) {
	case 0:
		return "", nil
	case 1:
		return list[0], nil
	}
	return "", errors.New("reading aud: a result has exactly one audience")
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
