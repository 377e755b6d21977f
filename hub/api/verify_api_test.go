package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/signing"
	"github.com/verihub/verihub/matching/rules"
)

// subjectOf is the store key the hub must put in sub for an expected line.
func (f *apiFixture) subjectOf(e synthetic.Expected) string {
	if e.Subject.IDNumber != "" {
		return "person:" + f.prot.Pseudonym(e.Subject.IDNumber)
	}
	return "uscc:" + e.Subject.USCC
}

// checkToken verifies a result token against the served JWKS and checks that its
// claims are the answer to req for client, as the generator's oracle expects.
func (f *apiFixture) checkToken(t *testing.T, set jwk.Set, client string, want synthetic.Expected, resp VerificationResponse) contracts.ResultClaims {
	t.Helper()
	claims, err := signing.Verify(resp.Token, set)
	if err != nil {
		t.Fatalf("token does not verify against the served JWKS: %v", err)
	}
	if claims.Audience != client || claims.Subject != f.subjectOf(want) || claims.Program != want.Program ||
		claims.Issuer != f.srv.URL || claims.ID == "" {
		t.Errorf("claims aud=%q sub=%q program=%q iss=%q jti=%q, want aud=%q sub=%q program=%q iss=%q",
			claims.Audience, claims.Subject, claims.Program, claims.Issuer, claims.ID, client, f.subjectOf(want), want.Program, f.srv.URL)
	}
	if claims.Decision != want.Decision || claims.AmountFen != want.AmountFen {
		t.Errorf("%s: token says %s %d, oracle %s %d", want.Program, claims.Decision, claims.AmountFen, want.Decision, want.AmountFen)
	}
	if want.ReviewRequired != nil && claims.ReviewRequired != *want.ReviewRequired {
		t.Errorf("%s: token review_required %v, oracle %v", want.Program, claims.ReviewRequired, *want.ReviewRequired)
	}
	if claims.Decision != resp.Decision || claims.AmountFen != resp.AmountFen || claims.ReviewRequired != resp.ReviewRequired {
		t.Errorf("response says %s %d, its token %s %d", resp.Decision, resp.AmountFen, claims.Decision, claims.AmountFen)
	}
	if len(claims.Checks) == 0 || len(claims.Checks) != len(resp.Checks) {
		t.Fatalf("token has %d checks, response %d", len(claims.Checks), len(resp.Checks))
	}
	outcomes := map[string]int{}
	for i, c := range claims.Checks {
		if c.ID != resp.Checks[i].ID || c.Result != resp.Checks[i].Result {
			t.Errorf("check %d: token %s=%s, response %s=%s", i, c.ID, c.Result, resp.Checks[i].ID, resp.Checks[i].Result)
		}
		outcomes[c.Result]++
	}
	// SPEC §2: eligible when every check passes, ineligible when any fails,
	// insufficient_data otherwise.
	decided := contracts.DecisionInsufficientData
	switch {
	case outcomes[contracts.CheckFail] > 0:
		decided = contracts.DecisionIneligible
	case outcomes[contracts.CheckPass] == len(claims.Checks):
		decided = contracts.DecisionEligible
	}
	if claims.Decision != decided {
		t.Errorf("decision %s, but the checks (%v) decide %s", claims.Decision, outcomes, decided)
	}
	return claims
}

func TestVerificationAgreesWithOracle(t *testing.T) {
	f := newAPIFixture(t)
	set := f.jwks(t)
	// The first line of each program and decision the data set holds.
	type key struct{ program, decision string }
	picked := map[key]synthetic.Expected{}
	var order []key
	for _, e := range f.expected {
		k := key{e.Program, e.Decision}
		if _, ok := picked[k]; !ok {
			picked[k] = e
			order = append(order, k)
		}
	}
	eligible := 0
	for _, k := range order {
		if k.decision == contracts.DecisionEligible {
			eligible++
		}
	}
	if eligible < 8 {
		t.Fatalf("the data set has eligible lines for %d programs, want 8", eligible)
	}
	jtis := map[string]bool{}
	for _, k := range order {
		want := picked[k]
		t.Run(k.program+"/"+k.decision, func(t *testing.T) {
			before := len(f.audit.recorded())
			res := f.postJSON(t, clientAll, "/v1/verifications", requestOf(want))
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if got := res.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			var resp VerificationResponse
			if err := json.Unmarshal(res.body, &resp); err != nil {
				t.Fatal(err)
			}
			claims := f.checkToken(t, set, clientAll, want, resp)
			if jtis[claims.ID] {
				t.Errorf("jti %s reused", claims.ID)
			}
			jtis[claims.ID] = true
			events := f.audit.recorded()[before:]
			if len(events) != 1 {
				t.Fatalf("%d audit events, want 1", len(events))
			}
			ev := events[0]
			if ev.Action != audit.ActionVerification || ev.Client != clientAll || ev.Subject != claims.Subject ||
				ev.Program != want.Program || ev.Decision != claims.Decision || ev.AmountFen != claims.AmountFen ||
				ev.TokenID != claims.ID || ev.RequestID != res.header.Get("X-Request-Id") || ev.RequestID == "" {
				t.Errorf("audit event %+v does not describe the answer (jti %s, request %s)", ev, claims.ID, res.header.Get("X-Request-Id"))
			}
		})
	}
}

// payloadOf decodes a compact JWS's payload without verifying it.
func payloadOf(t *testing.T, token string) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPersonVerificationNeverCarriesTheIDNumber(t *testing.T) {
	f := newAPIFixture(t)
	set := f.jwks(t)
	for _, decision := range []string{contracts.DecisionEligible, contracts.DecisionIneligible} {
		want := f.find(t, "person line decided "+decision, func(e synthetic.Expected) bool {
			return e.Subject.IDNumber != "" && e.Decision == decision
		})
		t.Run(decision, func(t *testing.T) {
			res := f.postJSON(t, clientAll, "/v1/verifications", requestOf(want))
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			var resp VerificationResponse
			if err := json.Unmarshal(res.body, &resp); err != nil {
				t.Fatal(err)
			}
			claims := f.checkToken(t, set, clientAll, want, resp)
			pseudonym := f.prot.Pseudonym(want.Subject.IDNumber)
			if claims.Subject != "person:"+pseudonym || strings.Contains(claims.Subject, want.Subject.IDNumber) {
				t.Errorf("sub %q, want person:<pseudonym>", claims.Subject)
			}
			id := want.Subject.IDNumber
			for what, b := range map[string][]byte{"response": res.body, "token payload": payloadOf(t, resp.Token)} {
				if bytes.Contains(b, []byte(id)) || bytes.Contains(b, []byte(id[:6]+id[6:14])) {
					t.Errorf("the raw ID number appears in the %s", what)
				}
			}
			for _, ev := range f.audit.recorded() {
				if b, _ := json.Marshal(ev); bytes.Contains(b, []byte(id)) {
					t.Errorf("the raw ID number appears in an audit event")
				}
			}
		})
	}
}

func TestAuditFailureFailsTheRequest(t *testing.T) {
	f := newAPIFixture(t)
	f.dependencyDown = true
	f.audit.setFail(errors.New("audit topic unreachable: broker 10.1.2.3:9092"))
	ent := f.find(t, "eligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionEligible
	})
	cases := []struct {
		name string
		path string
		body any
	}{
		{"single", "/v1/verifications", requestOf(ent)},
		{"batch", "/v1/verifications:batch", map[string]any{"items": []VerificationRequest{requestOf(ent), requestOf(ent)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.postJSON(t, clientAll, c.path, c.body)
			if res.status != http.StatusServiceUnavailable || res.problem == nil || res.problem.Code != "unavailable" {
				t.Fatalf("%d %s, want 503 unavailable", res.status, res.body)
			}
			if bytes.Contains(res.body, []byte("token")) || bytes.Contains(res.body, []byte("eyJ")) {
				t.Errorf("an unaudited answer carries a token: %s", res.body)
			}
			if bytes.Contains(res.body, []byte("10.1.2.3")) {
				t.Errorf("internal error text leaked: %s", res.body)
			}
		})
	}
	t.Run("screening", func(t *testing.T) {
		res := f.do(t, clientAll, http.MethodGet, "/v1/programs/jrr-2019/candidates?year=2019", "", nil)
		if res.status != http.StatusServiceUnavailable || bytes.Contains(res.body, []byte("uscc:")) {
			t.Fatalf("%d %s, want 503 without candidates", res.status, res.body)
		}
	})
}

// batchResult is one result of a batch answer as a client reads it.
type batchResult struct {
	VerificationResponse
	Error *struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	} `json:"error"`
}

// postBatch sends items as one batch of clientAll and returns the answer and its
// results, failing unless it is 200 with one result per item.
func (f *apiFixture) postBatch(t *testing.T, items []VerificationRequest) ([]byte, []batchResult) {
	t.Helper()
	res := f.postJSON(t, clientAll, "/v1/verifications:batch", map[string]any{"items": items})
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var body struct {
		Results []batchResult `json:"results"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Results) != len(items) {
		t.Fatalf("%d results for %d items", len(body.Results), len(items))
	}
	return res.body, body.Results
}

func TestBatchMixedItems(t *testing.T) {
	f := newAPIFixture(t)
	set := f.jwks(t)
	ent := f.find(t, "eligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionEligible
	})
	inel := f.find(t, "ineligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionIneligible
	})
	person := f.find(t, "eligible person", func(e synthetic.Expected) bool {
		return e.Subject.IDNumber != "" && e.Decision == contracts.DecisionEligible
	})
	badYear := requestOf(ent)
	badYear.Params = map[string]any{"year": "next"}
	items := []struct {
		req  VerificationRequest
		want *synthetic.Expected
		code string
	}{
		{requestOf(ent), &ent, ""},
		{VerificationRequest{Program: "no-such-pack", Subject: SubjectRef{USCC: ent.Subject.USCC}}, nil, rules.CodeUnknownProgram},
		{requestOf(person), &person, ""},
		{VerificationRequest{Program: ent.Program, Subject: SubjectRef{USCC: "91350100M000100Y44"}, Params: map[string]any{"year": ent.Params.Year}}, nil, "invalid_subject"},
		{badYear, nil, rules.CodeInvalidParams},
		{requestOf(inel), &inel, ""},
		{VerificationRequest{Subject: SubjectRef{USCC: ent.Subject.USCC}}, nil, "invalid_request"},
	}
	reqs := make([]VerificationRequest, len(items))
	for i, it := range items {
		reqs[i] = it.req
	}
	raw, results := f.postBatch(t, reqs)
	jtis := map[string]int{}
	for i, it := range items {
		got := results[i]
		if it.code != "" {
			if got.Error == nil || got.Error.Code != it.code || got.Error.Status < 400 || got.Error.Status >= 500 || got.Token != "" {
				t.Errorf("item %d: %+v, want problem %s and no token", i, got, it.code)
			}
			continue
		}
		if got.Error != nil {
			t.Errorf("item %d: problem %+v", i, got.Error)
			continue
		}
		claims := f.checkToken(t, set, clientAll, *it.want, got.VerificationResponse)
		if prev, ok := jtis[claims.ID]; ok {
			t.Errorf("items %d and %d share jti %s", prev, i, claims.ID)
		}
		jtis[claims.ID] = i
	}
	if bytes.Contains(raw, []byte(person.Subject.IDNumber)) {
		t.Error("the raw ID number appears in the batch answer")
	}
	events := f.audit.recorded()
	if len(events) != len(jtis) {
		t.Fatalf("%d audit events for %d answered items", len(events), len(jtis))
	}
	for _, ev := range events {
		i, ok := jtis[ev.TokenID]
		if !ok || ev.Item != i || ev.Action != audit.ActionBatchItem || ev.Client != clientAll || ev.RequestID == "" {
			t.Errorf("audit event %+v does not name an answered item", ev)
		}
	}
}

// TestBatchAcrossChunks sends a batch several times batchChunk long, of enterprises
// and persons, with refused items and repeated subjects scattered through it: every
// result lands at its item's position and agrees with the oracle, however the
// workers split the batch.
func TestBatchAcrossChunks(t *testing.T) {
	f := newAPIFixture(t)
	set := f.jwks(t)
	n := 3*batchChunk + 17
	var items []VerificationRequest
	var want []*synthetic.Expected
	for i, e := 0, 0; len(items) < n; i++ {
		switch {
		case i%11 == 5:
			items = append(items, VerificationRequest{Program: "no-such-pack", Subject: SubjectRef{USCC: "91350100M000100Y43"}})
			want = append(want, nil)
		case i%13 == 7 && len(want) > 0 && want[len(want)-1] != nil: // the previous item again
			prev := *want[len(want)-1]
			items = append(items, requestOf(prev))
			want = append(want, &prev)
		default:
			line := f.expected[(e*37)%len(f.expected)]
			e++
			items = append(items, requestOf(line))
			want = append(want, &line)
		}
	}
	_, results := f.postBatch(t, items)
	refused, kinds := 0, map[string]bool{}
	for i, got := range results {
		if want[i] == nil {
			refused++
			if got.Error == nil || got.Error.Code != rules.CodeUnknownProgram || got.Token != "" {
				t.Errorf("item %d: %+v, want the unknown_program problem", i, got)
			}
			continue
		}
		if got.Error != nil {
			t.Errorf("item %d: problem %s", i, got.Error.Code)
			continue
		}
		f.checkToken(t, set, clientAll, *want[i], got.VerificationResponse)
		kinds[f.subjectOf(*want[i])[:4]] = true
	}
	if refused == 0 || !kinds["uscc"] || !kinds["pers"] {
		t.Fatalf("the batch lacks a refused item (%d) or a subject kind (%v)", refused, kinds)
	}
	if got := len(f.audit.recorded()); got != n-refused {
		t.Errorf("%d audit events for %d answered items", got, n-refused)
	}
}

func TestBatchSize(t *testing.T) {
	f := newAPIFixture(t)
	ent := f.find(t, "enterprise line", func(e synthetic.Expected) bool { return e.Subject.USCC != "" })
	for _, n := range []int{0, MaxBatchItems + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			items := make([]VerificationRequest, n)
			for i := range items {
				items[i] = requestOf(ent)
			}
			res := f.postJSON(t, clientAll, "/v1/verifications:batch", map[string]any{"items": items})
			if res.status != http.StatusBadRequest || res.problem == nil || res.problem.Code != "batch_size" {
				t.Fatalf("%d %s, want 400 batch_size", res.status, res.body)
			}
		})
	}
	if n := len(f.audit.recorded()); n != 0 {
		t.Errorf("%d audit events for refused batches", n)
	}
}

func TestVerificationRefusals(t *testing.T) {
	f := newAPIFixture(t)
	ent := f.find(t, "jrr-2019 line", func(e synthetic.Expected) bool { return e.Program == "jrr-2019" })
	person := f.find(t, "person line", func(e synthetic.Expected) bool { return e.Subject.IDNumber != "" })
	id := person.Subject.IDNumber
	// The same number with a wrong check character.
	badID := id[:17] + map[bool]string{true: "1", false: "0"}[id[17] == '0']
	asJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	withParams := func(req VerificationRequest, params map[string]any) VerificationRequest {
		req.Params = params
		return req
	}
	personReq := requestOf(person)
	cases := []struct {
		name        string
		client      string
		contentType string
		body        string
		status      int
		code        string
		secret      string // must not appear in the answer
	}{
		{"unknown program", clientAll, "application/json", asJSON(VerificationRequest{Program: "jrr-1999", Subject: SubjectRef{USCC: ent.Subject.USCC}}), 404, rules.CodeUnknownProgram, ""},
		{"year outside the pack", clientAll, "application/json", asJSON(withParams(requestOf(ent), map[string]any{"year": 2031})), 400, rules.CodeInvalidParams, ""},
		{"year of the wrong type", clientAll, "application/json", asJSON(withParams(requestOf(ent), map[string]any{"year": []int{2019}})), 400, rules.CodeInvalidParams, ""},
		{"unknown param", clientAll, "application/json", asJSON(withParams(requestOf(ent), map[string]any{"year": 2019, "discount": 2})), 400, rules.CodeInvalidParams, ""},
		{"person params missing", clientAll, "application/json", asJSON(withParams(personReq, nil)), 400, rules.CodeInvalidParams, id},
		{"invalid USCC", clientAll, "application/json", asJSON(VerificationRequest{Program: "jrr-2019", Subject: SubjectRef{USCC: "91350100M000100Y44"}, Params: map[string]any{"year": 2019}}), 400, "invalid_subject", ""},
		{"invalid ID number", clientAll, "application/json", asJSON(VerificationRequest{Program: person.Program, Subject: SubjectRef{IDNumber: badID}, Params: personReq.Params}), 400, "invalid_subject", badID[:14]},
		{"both subjects", clientAll, "application/json", asJSON(VerificationRequest{Program: person.Program, Subject: SubjectRef{USCC: ent.Subject.USCC, IDNumber: id}, Params: personReq.Params}), 400, "invalid_subject", id},
		{"no subject", clientAll, "application/json", asJSON(VerificationRequest{Program: "jrr-2019", Params: map[string]any{"year": 2019}}), 400, "invalid_subject", ""},
		{"enterprise for a person program", clientAll, "application/json", asJSON(VerificationRequest{Program: person.Program, Subject: SubjectRef{USCC: ent.Subject.USCC}, Params: personReq.Params}), 400, "invalid_subject", ""},
		{"person for an enterprise program", clientAll, "application/json", asJSON(VerificationRequest{Program: "jrr-2019", Subject: SubjectRef{IDNumber: id}, Params: map[string]any{"year": 2019}}), 400, "invalid_subject", id},
		{"no program", clientAll, "application/json", asJSON(VerificationRequest{Subject: SubjectRef{USCC: ent.Subject.USCC}}), 400, "invalid_request", ""},
		{"program outside the client's scope", clientNarrow, "application/json", asJSON(VerificationRequest{Program: "jrr-2020", Subject: SubjectRef{USCC: ent.Subject.USCC}, Params: map[string]any{"year": 2020}}), 403, auth.CodeInsufficientScope, ""},
		{"admin token", clientAdmin, "application/json", asJSON(requestOf(ent)), 403, auth.CodeInsufficientScope, ""},
		{"no token", "", "application/json", asJSON(requestOf(ent)), 401, auth.CodeMissingToken, ""},
		{"malformed JSON", clientAll, "application/json", `{"program":"jrr-2019","subject":{"uscc":`, 400, CodeMalformedRequest, ""},
		{"two documents", clientAll, "application/json", asJSON(requestOf(ent)) + asJSON(requestOf(ent)), 400, CodeMalformedRequest, ""},
		{"unknown field", clientAll, "application/json", `{"program":"jrr-2019","subject":{"uscc":"x"},"params":{},"extra":1}`, 400, CodeMalformedRequest, ""},
		{"wrong type echoes no value", clientAll, "application/json", `{"program":"jrr-2019","subject":{"id_number":` + id[:17] + `}}`, 400, CodeMalformedRequest, id[:14]},
		{"empty body", clientAll, "application/json", "", 400, CodeMalformedRequest, ""},
		{"not JSON", clientAll, "text/plain", asJSON(requestOf(ent)), 415, CodeUnsupportedMediaType, ""},
		{"oversized body", clientAll, "application/json", `{"program":"` + strings.Repeat("a", 1<<20) + `"}`, 413, CodeRequestTooLarge, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.do(t, c.client, http.MethodPost, "/v1/verifications", c.contentType, strings.NewReader(c.body))
			if res.status != c.status || res.problem == nil || res.problem.Code != c.code {
				t.Fatalf("%d %s, want %d %s", res.status, res.body, c.status, c.code)
			}
			if c.secret != "" && bytes.Contains(res.body, []byte(c.secret)) {
				t.Errorf("the answer echoes the ID number: %s", res.body)
			}
		})
	}
	if n := len(f.audit.recorded()); n != 0 {
		t.Errorf("%d audit events for refused requests", n)
	}
}

func TestTokenRefusals(t *testing.T) {
	f := newAPIFixture(t)
	ent := f.find(t, "enterprise line", func(e synthetic.Expected) bool { return e.Subject.USCC != "" })
	body, _ := json.Marshal(requestOf(ent))
	for _, c := range []struct {
		name, header, code string
	}{
		{"not bearer", "Basic cG9ydGFsOnNlY3JldA==", auth.CodeMissingToken},
		{"garbage", "Bearer not-a-token", auth.CodeInvalidToken},
		{"tampered", "Bearer " + f.tokens[clientAll][:len(f.tokens[clientAll])-2] + "AA", auth.CodeInvalidToken},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/verifications", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", c.header)
			res, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p struct{ Code string }
			_ = json.NewDecoder(res.Body).Decode(&p)
			if res.StatusCode != 401 || p.Code != c.code || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%d %s %s, want 401 %s problem", res.StatusCode, res.Header.Get("Content-Type"), p.Code, c.code)
			}
		})
	}
}

// TestStoreDownIsUnavailable: with the profile store down, single and batch
// verifications are 503 unavailable (never a decision over a missing profile), and
// answer again once it is back.
func TestStoreDownIsUnavailable(t *testing.T) {
	f := newAPIFixture(t)
	ent := f.find(t, "eligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionEligible
	})
	cases := map[string]struct {
		path string
		body any
	}{
		"single": {"/v1/verifications", requestOf(ent)},
		"batch":  {"/v1/verifications:batch", map[string]any{"items": []VerificationRequest{requestOf(ent), requestOf(ent)}}},
	}
	f.dependencyDown = true
	f.store.SetUnavailable(true)
	for name, c := range cases {
		res := f.postJSON(t, clientAll, c.path, c.body)
		if res.status != http.StatusServiceUnavailable || res.problem == nil || res.problem.Code != "unavailable" {
			t.Errorf("%s with the store down: %d %s, want 503 unavailable", name, res.status, res.body)
		}
		if bytes.Contains(res.body, []byte("eyJ")) {
			t.Errorf("%s with the store down carries a token: %s", name, res.body)
		}
	}
	f.store.SetUnavailable(false)
	f.dependencyDown = false
	for name, c := range cases {
		if res := f.postJSON(t, clientAll, c.path, c.body); res.status != http.StatusOK {
			t.Errorf("%s with the store back: %d %s", name, res.status, res.body)
		}
	}
}

// TestBatchAdmission: batches compute one at a time; while one does, BatchQueue
// more wait their turn and any beyond are refused 503 overloaded with Retry-After.
func TestBatchAdmission(t *testing.T) {
	f := newAPIFixture(t)
	v := f.server.Verifier
	v.BatchQueue = 1
	ent := f.find(t, "eligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionEligible
	})
	body := map[string]any{"items": []VerificationRequest{requestOf(ent)}}
	release, err := v.admitBatch(t.Context()) // as a batch being computed
	if err != nil {
		t.Fatal(err)
	}
	f.dependencyDown = true
	waiting := make(chan response, 1)
	go func() { waiting <- f.postJSON(t, clientAll, "/v1/verifications:batch", body) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(v.batchWait) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second batch never queued")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := f.postJSON(t, clientAll, "/v1/verifications:batch", body)
	if res.status != http.StatusServiceUnavailable || res.problem == nil || res.problem.Code != "overloaded" || res.header.Get("Retry-After") != "1" {
		t.Fatalf("a batch beyond the queue: %d %s (Retry-After %q), want 503 overloaded", res.status, res.body, res.header.Get("Retry-After"))
	}
	release()
	select {
	case res := <-waiting:
		if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"token"`)) {
			t.Fatalf("the queued batch: %d %s", res.status, res.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the queued batch was not answered after its turn came")
	}
}

// TestVerificationAdmission: beyond MaxInFlight verifications in progress, one more
// is refused 503 overloaded with Retry-After, and is answered once there is room.
func TestVerificationAdmission(t *testing.T) {
	f := newAPIFixture(t)
	v := f.server.Verifier
	v.MaxInFlight = 2
	ent := f.find(t, "eligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionEligible
	})
	v.inFlight.Add(2) // two verifications in progress
	f.dependencyDown = true
	res := f.postJSON(t, clientAll, "/v1/verifications", requestOf(ent))
	if res.status != http.StatusServiceUnavailable || res.problem == nil || res.problem.Code != "overloaded" || res.header.Get("Retry-After") != "1" {
		t.Fatalf("beyond the limit: %d %s (Retry-After %q), want 503 overloaded", res.status, res.body, res.header.Get("Retry-After"))
	}
	v.inFlight.Add(-1)
	f.dependencyDown = false
	if res := f.postJSON(t, clientAll, "/v1/verifications", requestOf(ent)); res.status != http.StatusOK {
		t.Fatalf("with room: %d %s", res.status, res.body)
	}
	if n := v.inFlight.Load(); n != 1 {
		t.Errorf("%d in flight after the answer, want the 1 the test holds", n)
	}
}
