package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verihub/verihub/matching/storetest"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/verihub/verihub/connectors/push"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/auth"
)

const feedTokenURL = "https://hub.test/oauth/token"

// fakeSubmitter applies the rules a Submitter promises that these tests need: a
// record of another agency's type is rejected wrong_agency, a record that is not a
// JSON object malformed_json, one whose id starts with "bad" uscc_checksum.
type fakeSubmitter struct {
	mu    sync.Mutex
	calls []submission
	err   error
}

type submission struct {
	agency string
	n      int
}

func (s *fakeSubmitter) Submit(_ context.Context, agency string, raws [][]byte) (int, []FeedReject, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, nil, s.err
	}
	s.calls = append(s.calls, submission{agency, len(raws)})
	accepted, rejected := 0, []FeedReject(nil)
	for i, raw := range raws {
		var env struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		switch {
		case len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &env) != nil:
			rejected = append(rejected, FeedReject{Index: i, Code: contracts.CodeMalformedJSON, Message: "not a JSON object"})
		case contracts.AgencyOf(env.Type) != agency:
			rejected = append(rejected, FeedReject{Index: i, Code: "wrong_agency", Field: "type", Message: "feed " + agency + " may not carry " + env.Type})
		case strings.HasPrefix(env.ID, "bad"):
			rejected = append(rejected, FeedReject{Index: i, Code: contracts.CodeUSCCChecksum, Field: "data.uscc", Message: "check character"})
		default:
			accepted++
		}
	}
	return accepted, rejected, nil
}

func (s *fakeSubmitter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

type feedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *feedClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *feedClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// feedFixture is a hub with a real auth.Authority in front of Feeds.
type feedFixture struct {
	clock    *feedClock
	auth     *auth.Authority
	store    *storetest.Memory
	submit   *fakeSubmitter
	feeds    *Feeds
	handler  http.Handler // token endpoint and feed route, as the hub mounts them
	keys     map[string]jwk.Key
	tokens   map[string]string
	logLines *bytes.Buffer
}

func newKey(t testing.TB, kid string) jwk.Key {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	return k
}

func publicJWK(t testing.TB, k jwk.Key) map[string]any {
	t.Helper()
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(pub)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func newFeedFixture(t testing.TB) *feedFixture {
	t.Helper()
	f := &feedFixture{
		clock:  &feedClock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)},
		submit: &fakeSubmitter{},
		keys: map[string]jwk.Key{
			"agency-si": newKey(t, "si-1"), "agency-tax": newKey(t, "tax-1"),
			"portal": newKey(t, "portal-1"), "portal-verify": newKey(t, "pv-1"),
		},
		tokens:   map[string]string{},
		logLines: &bytes.Buffer{},
	}
	f.store = storetest.NewMemoryAt(f.clock.Now)
	cfg := auth.Config{
		TokenURL: feedTokenURL, SecretEnv: "VERIHUB_TEST_UNUSED",
		Clients: []auth.ClientConfig{
			{ID: "agency-si", Role: auth.RoleAgency, Feed: "si", Keys: []map[string]any{publicJWK(t, f.keys["agency-si"])}},
			{ID: "agency-tax", Role: auth.RoleAgency, Feed: "tax", Keys: []map[string]any{publicJWK(t, f.keys["agency-tax"])}},
			{ID: "portal", Role: auth.RolePortal, Programs: []string{"*"}, PushGrant: true, Keys: []map[string]any{publicJWK(t, f.keys["portal"])}},
			{ID: "portal-verify", Role: auth.RolePortal, Programs: []string{"*"}, Keys: []map[string]any{publicJWK(t, f.keys["portal-verify"])}},
		},
	}
	a, err := auth.New(cfg, auth.Deps{State: f.store, Secret: bytes.Repeat([]byte("k"), 32), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.auth = a
	log := slog.New(slog.NewTextHandler(f.logLines, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.feeds = &Feeds{Keys: a, Submit: f.submit, Receipts: f.store, MaxRecords: 50, MaxBodyBytes: 256 << 10, Log: log}
	mux := http.NewServeMux()
	mux.Handle("POST /oauth/token", a.TokenHandler())
	scope := func(r *http.Request) string { return auth.ScopePush(r.PathValue("agency")) }
	mux.Handle(FeedRoute, Instrument(FeedRoute, 0, nil, log, a.Require("", scope)(f.feeds)))
	f.handler = mux
	for client := range f.keys {
		f.tokens[client] = f.token(t, client)
	}
	return f
}

// token gets an access token for client the way a client does.
func (f *feedFixture) token(t testing.TB, client string) string {
	t.Helper()
	assertion, err := auth.SignAssertion(f.keys[client], client, feedTokenURL, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type": {auth.GrantClientCredentials}, "client_assertion_type": {auth.AssertionTypeJWTBearer},
		"client_assertion": {assertion},
	}
	req := httptest.NewRequest(http.MethodPost, feedTokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	var tr auth.TokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token for %s: %d %s", client, rec.Code, rec.Body)
	}
	return tr.AccessToken
}

type feedResult struct {
	status  int
	code    string
	receipt FeedReceipt
	replay  bool
	raw     []byte
}

func (f *feedFixture) post(t testing.TB, client, agency, contentType string, body []byte) feedResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/feeds/"+agency, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if client != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[client])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return decodeFeedResult(t, rec)
}

func decodeFeedResult(t testing.TB, rec *httptest.ResponseRecorder) feedResult {
	t.Helper()
	res := feedResult{status: rec.Code, raw: rec.Body.Bytes(), replay: rec.Header().Get("Idempotent-Replay") == "true"}
	if rec.Code == http.StatusAccepted {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.receipt); err != nil {
			t.Fatalf("receipt: %v: %s", err, rec.Body)
		}
		return res
	}
	var p struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
		t.Fatalf("refusal %d is not problem+json: %s", rec.Code, rec.Body)
	}
	res.code = p.Code
	return res
}

// recs returns envelopes of typ; ids listed in bad get a "bad" prefix.
func recs(typ string, n int, bad ...int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		id := fmt.Sprintf("91350100M000100Y43:2018-%02d", i%12+1)
		for _, b := range bad {
			if b == i {
				id = "bad" + id
			}
		}
		out[i] = json.RawMessage(fmt.Sprintf(`{"type":%q,"id":%q,"revision":%d,"as_of":"2019-01-05T00:00:00Z","data":{}}`, typ, id, i))
	}
	return out
}

func (f *feedFixture) sign(t testing.TB, client string, b push.Batch) []byte {
	t.Helper()
	body, err := push.Sign(f.keys[client], b)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// forgeJWS builds a compact JWS with any header and payload.
func forgeJWS(t testing.TB, head map[string]any, payload []byte, alg jwa.SignatureAlgorithm, key any) []byte {
	t.Helper()
	hb, _ := json.Marshal(head)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(payload)
	var sig []byte
	if key != nil {
		s, err := jws.NewSigner(alg)
		if err != nil {
			t.Fatal(err)
		}
		if sig, err = s.Sign([]byte(input), key); err != nil {
			t.Fatal(err)
		}
	}
	return []byte(input + "." + base64.RawURLEncoding.EncodeToString(sig))
}

func TestFeedRefusals(t *testing.T) {
	f := newFeedFixture(t)
	good, _ := json.Marshal(push.Batch{BatchID: "b-1", Records: recs("si.employer_month", 2)})
	var siRaw any
	_ = f.keys["agency-si"].Raw(&siRaw)
	siPub, _ := json.Marshal(publicJWK(t, f.keys["agency-si"]))
	valid := f.sign(t, "agency-si", push.Batch{BatchID: "b-1", Records: recs("si.employer_month", 2)})
	parts := bytes.Split(valid, []byte{'.'})
	other, _ := json.Marshal(push.Batch{BatchID: "b-1", Records: recs("si.employer_month", 3)})
	tampered := bytes.Join([][]byte{parts[0], []byte(base64.RawURLEncoding.EncodeToString(other)), parts[2]}, []byte{'.'})
	taxUnderSIKid := forgeJWS(t, map[string]any{"alg": "ES256", "kid": "si-1"}, good, jwa.ES256, mustRaw(t, f.keys["agency-tax"]))

	cases := []struct {
		name        string
		client      string
		agency      string
		contentType string
		body        []byte
		status      int
		code        string
	}{
		{"no token", "", "si", push.MediaType, valid, 401, auth.CodeMissingToken},
		{"another agency's feed", "agency-si", "tax", push.MediaType, f.sign(t, "agency-si", push.Batch{BatchID: "x", Records: recs("tax.taxpayer", 1)}), 403, auth.CodeInsufficientScope},
		{"portal without push_grant", "portal-verify", "grant", push.MediaType, f.sign(t, "portal-verify", push.Batch{BatchID: "x", Records: recs("grant.award", 1)}), 403, auth.CodeInsufficientScope},
		{"wrong content type", "agency-si", "si", "application/json", valid, 415, CodeUnsupportedMediaType},
		{"no content type", "agency-si", "si", "", valid, 415, CodeUnsupportedMediaType},
		{"oversized body", "agency-si", "si", push.MediaType, bytes.Repeat([]byte("a"), 256<<10+1), 413, CodeRequestTooLarge},
		{"signed by another agency's key", "agency-si", "si", push.MediaType, f.sign(t, "agency-tax", push.Batch{BatchID: "b-1", Records: recs("si.employer_month", 2)}), 401, push.CodeUnknownKey},
		{"another agency's key under our kid", "agency-si", "si", push.MediaType, taxUnderSIKid, 401, push.CodeBadSignature},
		{"tampered payload", "agency-si", "si", push.MediaType, tampered, 401, push.CodeBadSignature},
		{"alg none", "agency-si", "si", push.MediaType, forgeJWS(t, map[string]any{"alg": "none", "kid": "si-1"}, good, "", nil), 401, push.CodeAlgNotAllowed},
		{"HMAC keyed with the public key", "agency-si", "si", push.MediaType, forgeJWS(t, map[string]any{"alg": "HS256", "kid": "si-1"}, good, jwa.HS256, siPub), 401, push.CodeAlgNotAllowed},
		{"malformed JWS", "agency-si", "si", push.MediaType, []byte("not-a-jws"), 400, push.CodeJWSMalformed},
		{"malformed payload JSON", "agency-si", "si", push.MediaType, forgeJWS(t, map[string]any{"alg": "ES256", "kid": "si-1"}, []byte(`{"batch_id":"b-2","records":[{}`), jwa.ES256, siRaw), 400, push.CodeBatchMalformed},
		{"invalid batch id", "agency-si", "si", push.MediaType, forgeJWS(t, map[string]any{"alg": "ES256", "kid": "si-1"}, []byte(`{"batch_id":"a/b","records":[{}]}`), jwa.ES256, siRaw), 400, push.CodeBatchIDInvalid},
		{"empty batch", "agency-si", "si", push.MediaType, forgeJWS(t, map[string]any{"alg": "ES256", "kid": "si-1"}, []byte(`{"batch_id":"b-3","records":[]}`), jwa.ES256, siRaw), 400, push.CodeBatchEmpty},
		{"too many records", "agency-si", "si", push.MediaType, f.sign(t, "agency-si", push.Batch{BatchID: "b-4", Records: recs("si.employer_month", 51)}), 413, push.CodeTooManyRecords},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.post(t, c.client, c.agency, c.contentType, c.body)
			if res.status != c.status || res.code != c.code {
				t.Errorf("%d %s, want %d %s: %s", res.status, res.code, c.status, c.code, res.raw)
			}
		})
	}
	if n := f.submit.count(); n != 0 {
		t.Errorf("Submit called %d times for refused batches", n)
	}
	// The token endpoint's jti marks are the only state expected.
	for _, k := range f.store.StateKeys() {
		if strings.HasPrefix(k, "feed/") {
			t.Errorf("a refused batch left state %s", k)
		}
	}
}

func mustRaw(t testing.TB, k jwk.Key) any {
	t.Helper()
	var raw any
	if err := k.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestFeedAcceptsAndReplays(t *testing.T) {
	f := newFeedFixture(t)
	batch := push.Batch{BatchID: "si-2026-03-01.0001", Records: recs("si.employer_month", 5, 1, 3)}
	first := f.post(t, "agency-si", "si", push.MediaType+"; charset=utf-8", f.sign(t, "agency-si", batch))
	if first.status != 202 || first.replay {
		t.Fatalf("first push: %d replay=%v %s", first.status, first.replay, first.raw)
	}
	want := FeedReceipt{BatchID: batch.BatchID, Accepted: 3, Rejected: []FeedReject{
		{Index: 1, Code: contracts.CodeUSCCChecksum, Field: "data.uscc", Message: "check character"},
		{Index: 3, Code: contracts.CodeUSCCChecksum, Field: "data.uscc", Message: "check character"},
	}}
	if !sameReceipt(first.receipt, want) {
		t.Errorf("receipt %+v, want %+v", first.receipt, want)
	}

	cases := []struct {
		name   string
		body   []byte
		status int
		code   string
		replay bool
	}{
		{"the same body again", f.sign(t, "agency-si", batch), 202, "", true},
		{"re-signed, records re-encoded", f.sign(t, "agency-si", push.Batch{BatchID: batch.BatchID, Records: reindent(batch.Records)}), 202, "", true},
		{"the same id for other records", f.sign(t, "agency-si", push.Batch{BatchID: batch.BatchID, Records: recs("si.employer_month", 4)}), 409, CodeBatchIDConflict, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.post(t, "agency-si", "si", push.MediaType, c.body)
			if res.status != c.status || res.code != c.code || res.replay != c.replay {
				t.Fatalf("%d %s replay=%v, want %d %s replay=%v: %s", res.status, res.code, res.replay, c.status, c.code, c.replay, res.raw)
			}
			if c.status == 202 && !bytes.Equal(res.raw, first.raw) {
				t.Errorf("replayed receipt %s, first %s", res.raw, first.raw)
			}
		})
	}
	if n := f.submit.count(); n != 1 {
		t.Errorf("Submit called %d times, want once", n)
	}
	if !strings.Contains(f.logLines.String(), "batch_id=si-2026-03-01.0001") {
		t.Errorf("no log line for the batch: %s", f.logLines)
	}
}

func reindent(rs []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, len(rs))
	for i, r := range rs {
		var b bytes.Buffer
		_ = json.Indent(&b, r, "", "  ")
		out[i] = b.Bytes()
	}
	return out
}

func sameReceipt(a, b FeedReceipt) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestFeedAgencyRules(t *testing.T) {
	f := newFeedFixture(t)
	mixed := append(recs("si.employer", 2, 1), recs("tax.taxpayer", 1)...)
	mixed = append(mixed, json.RawMessage(`[1,2]`), json.RawMessage(`null`))
	mixed = append(mixed, recs("si.person", 1)...)
	cases := []struct {
		name     string
		client   string
		agency   string
		records  []json.RawMessage
		accepted int
		rejects  []string // "index:code"
	}{
		{"another agency's record type", "agency-si", "si", recs("tax.taxpayer", 2), 0, []string{"0:wrong_agency", "1:wrong_agency"}},
		{"a mix of good and bad records", "agency-si", "si", mixed, 2, []string{"1:uscc_checksum", "2:wrong_agency", "3:malformed_json", "4:malformed_json"}},
		{"a portal pushes grant awards", "portal", "grant", recs("grant.award", 2), 2, nil},
		{"a portal pushes a record of si on the grant feed", "portal", "grant", recs("si.employer", 1), 0, []string{"0:wrong_agency"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := push.Batch{BatchID: fmt.Sprintf("rules-%d", i), Records: c.records}
			res := f.post(t, c.client, c.agency, push.MediaType, f.sign(t, c.client, b))
			if res.status != 202 {
				t.Fatalf("%d %s: %s", res.status, res.code, res.raw)
			}
			var got []string
			for _, r := range res.receipt.Rejected {
				got = append(got, fmt.Sprintf("%d:%s", r.Index, r.Code))
			}
			if res.receipt.Accepted != c.accepted || strings.Join(got, ",") != strings.Join(c.rejects, ",") {
				t.Errorf("accepted %d rejects %v, want %d %v", res.receipt.Accepted, got, c.accepted, c.rejects)
			}
			if res.receipt.Rejected == nil || !bytes.Contains(res.raw, []byte(`"rejected":[`)) {
				t.Errorf("rejected must be a JSON array: %s", res.raw)
			}
		})
	}
}

func TestFeedBatchIDsArePerAgency(t *testing.T) {
	f := newFeedFixture(t)
	si := f.post(t, "agency-si", "si", push.MediaType, f.sign(t, "agency-si", push.Batch{BatchID: "2026-03-01", Records: recs("si.employer", 2)}))
	tax := f.post(t, "agency-tax", "tax", push.MediaType, f.sign(t, "agency-tax", push.Batch{BatchID: "2026-03-01", Records: recs("tax.taxpayer", 3)}))
	if si.status != 202 || tax.status != 202 || si.replay || tax.replay {
		t.Fatalf("si %d replay=%v, tax %d replay=%v", si.status, si.replay, tax.status, tax.replay)
	}
	if si.receipt.Accepted != 2 || tax.receipt.Accepted != 3 {
		t.Errorf("receipts %+v %+v", si.receipt, tax.receipt)
	}
	want := []submission{{"si", 2}, {"tax", 3}}
	if fmt.Sprint(f.submit.calls) != fmt.Sprint(want) {
		t.Errorf("submissions %v, want %v", f.submit.calls, want)
	}
}

func TestFeedExpiredToken(t *testing.T) {
	f := newFeedFixture(t)
	body := f.sign(t, "agency-si", push.Batch{BatchID: "late", Records: recs("si.employer", 1)})
	f.clock.Add(auth.DefaultAccessTokenTTL + time.Second)
	res := f.post(t, "agency-si", "si", push.MediaType, body)
	if res.status != 401 || res.code != auth.CodeTokenExpired {
		t.Errorf("%d %s, want 401 %s", res.status, res.code, auth.CodeTokenExpired)
	}
	if f.submit.count() != 0 {
		t.Error("submitted with an expired token")
	}
}

func TestFeedNothingHalfApplied(t *testing.T) {
	f := newFeedFixture(t)
	batch := push.Batch{BatchID: "retry-me", Records: recs("si.employer", 3, 2)}
	body := f.sign(t, "agency-si", batch)

	f.submit.mu.Lock()
	f.submit.err = fmt.Errorf("publishing: %w", contracts.ErrUnavailable)
	f.submit.mu.Unlock()
	res := f.post(t, "agency-si", "si", push.MediaType, body)
	if res.status != 503 || res.code != CodeUnavailable {
		t.Fatalf("submit failure: %d %s", res.status, res.code)
	}
	if strings.Contains(string(res.raw), "publishing") {
		t.Errorf("503 leaks internal text: %s", res.raw)
	}
	if v, _ := f.store.Get(context.Background(), receiptKey("si", batch.BatchID)); string(v) != pendingReceipt {
		t.Errorf("after a failed submit the receipt is %q, want %q", v, pendingReceipt)
	}

	// The agency re-sends the same batch: it is submitted (not replayed).
	f.submit.mu.Lock()
	f.submit.err = nil
	f.submit.mu.Unlock()
	res = f.post(t, "agency-si", "si", push.MediaType, body)
	if res.status != 202 || res.replay || res.receipt.Accepted != 2 || len(res.receipt.Rejected) != 1 {
		t.Fatalf("re-send: %d replay=%v %s", res.status, res.replay, res.raw)
	}
	if res = f.post(t, "agency-si", "si", push.MediaType, body); !res.replay {
		t.Errorf("third send not replayed: %s", res.raw)
	}
	if n := f.submit.count(); n != 1 {
		t.Errorf("%d successful submissions, want 1", n)
	}

	// The receipt store is down: nothing is submitted.
	f.store.SetUnavailable(true)
	defer f.store.SetUnavailable(false)
	res = f.post(t, "agency-si", "si", push.MediaType, f.sign(t, "agency-si", push.Batch{BatchID: "store-down", Records: recs("si.employer", 1)}))
	if res.status != 503 || res.code != CodeUnavailable {
		t.Errorf("store down: %d %s", res.status, res.code)
	}
	if n := f.submit.count(); n != 1 {
		t.Errorf("submitted while the receipt store was down")
	}
}

// TestFeedHandlerChecksCaller exercises the handler's own checks, as if it were
// mounted without Require or with a looser one.
func TestFeedHandlerChecksCaller(t *testing.T) {
	f := newFeedFixture(t)
	body := f.sign(t, "agency-si", push.Batch{BatchID: "direct", Records: recs("si.employer", 1)})
	cases := []struct {
		name   string
		id     *auth.Identity
		agency string
		status int
		code   string
	}{
		{"no identity", nil, "si", 401, auth.CodeMissingToken},
		{"unknown agency", &auth.Identity{ClientID: "agency-si", Role: auth.RoleAgency, Scopes: []string{"push:police"}}, "police", 404, CodeUnknownAgency},
		{"scope of another feed", &auth.Identity{ClientID: "agency-si", Role: auth.RoleAgency, Scopes: []string{"push:tax"}}, "si", 403, auth.CodeInsufficientScope},
		{"scope held, keys of another client", &auth.Identity{ClientID: "agency-tax", Role: auth.RoleAgency, Scopes: []string{"push:si"}}, "si", 401, push.CodeUnknownKey},
		{"unregistered client", &auth.Identity{ClientID: "ghost", Role: auth.RoleAgency, Scopes: []string{"push:si"}}, "si", 401, push.CodeUnknownKey},
		{"accepted", &auth.Identity{ClientID: "agency-si", Role: auth.RoleAgency, Scopes: []string{"push:si"}}, "si", 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/feeds/"+c.agency, bytes.NewReader(body))
			req.Header.Set("Content-Type", push.MediaType)
			req.SetPathValue("agency", c.agency)
			if c.id != nil {
				req = req.WithContext(auth.NewContext(req.Context(), *c.id))
			}
			rec := httptest.NewRecorder()
			f.feeds.ServeHTTP(rec, req)
			res := decodeFeedResult(t, rec)
			if res.status != c.status || res.code != c.code {
				t.Errorf("%d %s, want %d %s: %s", res.status, res.code, c.status, c.code, res.raw)
			}
		})
	}
}

// rotatingKeys serves one set from ClientKeys and another from RefreshClientKeys.
type rotatingKeys struct {
	cached, fresh jwk.Set
	refreshes     int
}

func (k *rotatingKeys) ClientKeys(context.Context, string) (jwk.Set, error) { return k.cached, nil }
func (k *rotatingKeys) RefreshClientKeys(context.Context, string) (jwk.Set, error) {
	k.refreshes++
	return k.fresh, nil
}

func TestFeedRefreshesKeysForUnknownKID(t *testing.T) {
	oldKey, rotated := newKey(t, "2025"), newKey(t, "2026")
	set := func(k jwk.Key) jwk.Set {
		s := jwk.NewSet()
		pub, _ := k.PublicKey()
		_ = s.AddKey(pub)
		return s
	}
	keys := &rotatingKeys{cached: set(oldKey), fresh: set(rotated)}
	feeds := &Feeds{Keys: keys, Submit: &fakeSubmitter{}, Receipts: storetest.NewMemory()}
	post := func(k jwk.Key, id string) feedResult {
		body, err := push.Sign(k, push.Batch{BatchID: id, Records: recs("si.employer", 1)})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/feeds/si", bytes.NewReader(body))
		req.Header.Set("Content-Type", push.MediaType)
		req.SetPathValue("agency", "si")
		req = req.WithContext(auth.NewContext(req.Context(), auth.Identity{ClientID: "agency-si", Scopes: []string{"push:si"}}))
		rec := httptest.NewRecorder()
		feeds.ServeHTTP(rec, req)
		return decodeFeedResult(t, rec)
	}
	if res := post(oldKey, "a"); res.status != 202 || keys.refreshes != 0 {
		t.Errorf("cached key: %d, %d refreshes", res.status, keys.refreshes)
	}
	if res := post(rotated, "b"); res.status != 202 || keys.refreshes != 1 {
		t.Errorf("rotated key: %d %s, %d refreshes", res.status, res.code, keys.refreshes)
	}
	if res := post(newKey(t, "2027"), "c"); res.status != 401 || res.code != push.CodeUnknownKey {
		t.Errorf("unknown key after refresh: %d %s", res.status, res.code)
	}
}

// TestFeedEndToEnd pushes a file with push.Client through a real HTTP server: token
// endpoint, Require and Feeds, then again to see every batch replayed.
func TestFeedEndToEnd(t *testing.T) {
	f := newFeedFixture(t)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	var lines []string
	for i := range 120 {
		typ := "si.employer"
		if i == 77 {
			typ = "tax.taxpayer"
		}
		lines = append(lines, fmt.Sprintf(`{"type":%q,"id":"r%d","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}}`, typ, i))
	}
	file := strings.Join(lines, "\n") + "\n"
	tok := f.tokens["agency-si"]
	c, err := push.NewClient(push.ClientConfig{
		HubURL: srv.URL, Agency: "si", Key: f.keys["agency-si"], BatchSize: 50,
		Token:     func(context.Context) (string, error) { return tok, nil },
		Transport: srv.Client().Transport,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for run, wantReplayed := range []int{0, 3} {
		rep, err := c.Push(context.Background(), strings.NewReader(file))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if rep.Batches != 3 || rep.Replayed != wantReplayed || rep.Accepted != 119 || rep.Rejected != 1 ||
			rep.Rejects[0].Line != 78 || rep.Rejects[0].Code != "wrong_agency" {
			t.Errorf("run %d: %+v", run, rep)
		}
	}
	if n := f.submit.count(); n != 3 {
		t.Errorf("%d submissions, want 3", n)
	}
}

func TestLoggableBatchID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2026-03-01.0001", "2026-03-01.0001"},
		{"p-11010519491231002X-1", "p-110105********002X-1"},
		{"11010519491231002x", "110105********002x"},
	}
	for _, c := range cases {
		if got := loggableBatchID(c.in); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}
