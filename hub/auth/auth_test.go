package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verihub/verihub/matching/storetest"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"go.uber.org/goleak"
	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/contracts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const tokenURL = "https://hub.example.gov.cn/oauth/token"

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// fixture is a registry of clients with their private keys.
type fixture struct {
	clock   *clock
	state   *storetest.Memory
	cfg     Config
	secret  []byte
	keys    map[string]jwk.Key // client id → private key
	agency  *httptest.Server   // serves the agency's JWKS
	agencyN int                // JWKS fetches
	served  jwk.Set            // what agency serves
	mu      sync.Mutex
}

func privateKey(t testing.TB, raw any, kid string) jwk.Key {
	t.Helper()
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		_ = k.Set(jwk.KeyIDKey, kid)
	}
	return k
}

func publicMap(t testing.TB, k jwk.Key) map[string]any {
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

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{now: t0}, keys: map[string]jwk.Key{}}
	f.state = storetest.NewMemoryAt(f.clock.Now)
	f.secret = []byte(strings.Repeat("s", 32))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec3, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	agencyKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	f.keys["portal-sz"] = privateKey(t, ec, "")
	f.keys["portal-two"] = privateKey(t, ec2, "k1")
	f.keys["portal-two/k2"] = privateKey(t, ec3, "k2")
	f.keys["admin"] = privateKey(t, ed, "")
	f.keys["portal-rsa"] = privateKey(t, rsaKey, "r1")
	f.keys["agency-tax"] = privateKey(t, agencyKey, "tax-2026")

	agencySet := jwk.NewSet()
	pub, _ := f.keys["agency-tax"].PublicKey()
	_ = agencySet.AddKey(pub)
	f.served = agencySet
	f.agency = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		f.agencyN++
		set := f.served
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(f.agency.Close)

	f.cfg = Config{
		TokenURL: tokenURL, SecretEnv: "VERIHUB_TEST_UNUSED",
		Clients: []ClientConfig{
			{ID: "portal-sz", Role: RolePortal, Programs: []string{"jrr-2021", "sus-2025"}, PushGrant: true,
				Keys: []map[string]any{publicMap(t, f.keys["portal-sz"])}},
			{ID: "portal-two", Role: RolePortal, Programs: []string{"*"},
				Keys: []map[string]any{publicMap(t, f.keys["portal-two"]), publicMap(t, f.keys["portal-two/k2"])}},
			{ID: "portal-rsa", Role: RolePortal, Programs: []string{"jrr-2019"},
				Keys: []map[string]any{publicMap(t, f.keys["portal-rsa"])}},
			{ID: "admin", Role: RoleAdmin, Keys: []map[string]any{publicMap(t, f.keys["admin"])}},
			{ID: "agency-tax", Role: RoleAgency, Feed: contracts.AgencyTax, JWKSURL: f.agency.URL},
		},
	}
	return f
}

func (f *fixture) authority(t testing.TB) *Authority {
	t.Helper()
	a, err := New(f.cfg, Deps{State: f.state, Secret: f.secret, Now: f.clock.Now, HTTPClient: f.agency.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// run starts a.Run for the test's lifetime.
func run(t testing.TB, a *Authority) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// assertion signs claims with headers; claims default to a valid assertion of client.
func (f *fixture) assertion(t testing.TB, client string, edit func(claims map[string]any, hdr jws.Headers)) string {
	t.Helper()
	key := f.keys[client]
	id, _, _ := strings.Cut(client, "/")
	now := f.clock.Now()
	claims := map[string]any{
		"iss": id, "sub": id, "aud": tokenURL, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(randBytes(16)),
	}
	hdr := jws.NewHeaders()
	if kid := key.KeyID(); kid != "" {
		_ = hdr.Set(jws.KeyIDKey, kid)
	}
	if edit != nil {
		edit(claims, hdr)
	}
	payload, _ := json.Marshal(claims)
	alg, err := signingAlgorithm(key)
	if err != nil {
		t.Fatal(err)
	}
	// Sign with the raw key: a jwk.Key would put its own kid in the header.
	var raw any
	if err := key.Raw(&raw); err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, raw, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func form(assertion string) url.Values {
	return url.Values{
		"grant_type":            {GrantClientCredentials},
		"client_assertion_type": {AssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
}

type tokenResult struct {
	status int
	body   map[string]any
	header http.Header
}

func postToken(t testing.TB, h http.Handler, v url.Values) tokenResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("token response is not JSON: %v: %s", err, rec.Body.String())
	}
	return tokenResult{rec.Code, body, rec.Header()}
}

func TestTokenIssued(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	run(t, a)
	for _, tc := range []struct {
		client, scope, want string
	}{
		{"portal-sz", "", "verify:jrr-2021 verify:sus-2025 push:grant"},
		{"portal-sz", "verify:jrr-2021", "verify:jrr-2021"},
		{"portal-two", "verify:sus-2019 verify:sus-2019", "verify:sus-2019"},
		{"portal-two/k2", "", "verify:*"},
		{"portal-rsa", "", "verify:jrr-2019"},
		{"admin", "", "admin"},
		{"agency-tax", "", "push:tax"},
	} {
		t.Run(tc.client+" "+tc.scope, func(t *testing.T) {
			v := form(f.assertion(t, tc.client, nil))
			if tc.scope != "" {
				v.Set("scope", tc.scope)
			}
			res := postToken(t, a.TokenHandler(), v)
			if res.status != 200 {
				t.Fatalf("status %d: %v", res.status, res.body)
			}
			if res.body["token_type"] != "Bearer" || res.body["expires_in"] != float64(600) || res.body["scope"] != tc.want {
				t.Errorf("body = %v, want scope %q", res.body, tc.want)
			}
			if res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", res.header.Get("Cache-Control"))
			}
			id, err := a.Check(context.Background(), res.body["access_token"].(string))
			if err != nil {
				t.Fatal(err)
			}
			wantID, _, _ := strings.Cut(tc.client, "/")
			if id.ClientID != wantID || strings.Join(id.Scopes, " ") != tc.want || !id.ExpiresAt.Equal(t0.Add(10*time.Minute)) {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

func TestTokenRefusals(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	run(t, a)
	h := a.TokenHandler()
	now := f.clock.Now()
	valid := func() string { return f.assertion(t, "portal-sz", nil) }
	with := func(edit func(map[string]any, jws.Headers)) url.Values {
		return form(f.assertion(t, "portal-sz", edit))
	}
	unsigned := func(header string, claims map[string]any) string {
		p, _ := json.Marshal(claims)
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
	}
	baseClaims := map[string]any{"iss": "portal-sz", "sub": "portal-sz", "aud": tokenURL, "exp": now.Add(time.Minute).Unix(), "jti": "x1"}
	hmacSigned := func(alg jwa.SignatureAlgorithm) url.Values {
		p, _ := json.Marshal(baseClaims)
		pub, _ := json.Marshal(publicMap(t, f.keys["portal-sz"]))
		tok, err := jws.Sign(p, jws.WithKey(alg, pub))
		if err != nil {
			t.Fatal(err)
		}
		return form(string(tok))
	}
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	strangerSigned := func() url.Values {
		p, _ := json.Marshal(baseClaims)
		tok, _ := jws.Sign(p, jws.WithKey(jwa.ES256, stranger))
		return form(string(tok))
	}
	replayed := valid()
	if res := postToken(t, h, form(replayed)); res.status != 200 {
		t.Fatalf("first use: %d %v", res.status, res.body)
	}

	for _, tc := range []struct {
		name   string
		values url.Values
		status int
		oauth  string
		code   string
	}{
		{"no grant_type", url.Values{"client_assertion": {valid()}}, 400, "invalid_request", CodeMissingGrantType},
		{"password grant", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type", CodeUnsupportedGrantType},
		{"client secret", func() url.Values { v := form(valid()); v.Set("client_secret", "hunter2"); return v }(), 401, "invalid_client", CodeUnsupportedClientAuth},
		{"no assertion type", url.Values{"grant_type": {GrantClientCredentials}, "client_assertion": {valid()}}, 401, "invalid_client", CodeMissingAssertion},
		{"saml assertion type", func() url.Values {
			v := form(valid())
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return v
		}(), 401, "invalid_client", CodeUnsupportedAssertion},
		{"no assertion", func() url.Values { v := form(""); return v }(), 401, "invalid_client", CodeMissingAssertion},
		{"duplicated parameter", func() url.Values { v := form(valid()); v.Add("grant_type", GrantClientCredentials); return v }(), 400, "invalid_request", CodeMalformedRequest},
		{"malformed", form("not-a-jwt"), 401, "invalid_client", CodeMalformedAssertion},
		{"malformed header", form("e30x.e30.AAAA"), 401, "invalid_client", CodeMalformedAssertion},
		{"alg none", form(unsigned(`{"alg":"none"}`, baseClaims)), 401, "invalid_client", CodeAlgNone},
		{"alg NONE", form(unsigned(`{"alg":"NONE","kid":"x"}`, baseClaims)), 401, "invalid_client", CodeAlgNone},
		{"HS256 with the public key", hmacSigned(jwa.HS256), 401, "invalid_client", CodeAlgHMAC},
		{"HS384", hmacSigned(jwa.HS384), 401, "invalid_client", CodeAlgHMAC},
		{"HS512", hmacSigned(jwa.HS512), 401, "invalid_client", CodeAlgHMAC},
		{"alg unknown", form(unsigned(`{"alg":"XS999"}`, baseClaims)), 401, "invalid_client", CodeAlgUnsupported},
		{"jwk in header", with(func(_ map[string]any, h jws.Headers) {
			pk, _ := f.keys["portal-sz"].PublicKey()
			_ = h.Set(jws.JWKKey, pk)
		}), 401, "invalid_client", CodeMalformedAssertion},
		{"alg does not fit the key", form(func() string {
			p, _ := json.Marshal(baseClaims)
			tok, _ := jws.Sign(p, jws.WithKey(jwa.ES384, mustP384(t)))
			return string(tok)
		}()), 401, "invalid_client", CodeAlgKeyMismatch},
		{"no iss", with(func(c map[string]any, _ jws.Headers) { delete(c, "iss") }), 401, "invalid_client", CodeMissingIssuer},
		{"unknown client", with(func(c map[string]any, _ jws.Headers) { c["iss"], c["sub"] = "portal-x", "portal-x" }), 401, "invalid_client", CodeUnknownClient},
		{"unknown kid", with(func(_ map[string]any, h jws.Headers) { _ = h.Set(jws.KeyIDKey, "nope") }), 401, "invalid_client", CodeUnknownKID},
		{"unknown kid at a JWKS URL", form(f.assertion(t, "agency-tax", func(_ map[string]any, h jws.Headers) { _ = h.Set(jws.KeyIDKey, "tax-1999") })), 401, "invalid_client", CodeUnknownKID},
		{"no kid with two keys", form(f.assertion(t, "portal-two", func(_ map[string]any, h jws.Headers) { _ = h.Remove(jws.KeyIDKey) })), 401, "invalid_client", CodeKIDRequired},
		{"bad signature", strangerSigned(), 401, "invalid_client", CodeBadSignature},
		{"tampered claims", form(func() string {
			p := strings.Split(valid(), ".")
			c, _ := base64.RawURLEncoding.DecodeString(p[1])
			c2 := strings.Replace(string(c), `"portal-sz"`, `"portal-sz" `, 1)
			return p[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(c2)) + "." + p[2]
		}()), 401, "invalid_client", CodeBadSignature},
		{"iss != sub", with(func(c map[string]any, _ jws.Headers) { c["sub"] = "admin" }), 401, "invalid_client", CodeIssSubMismatch},
		{"wrong audience", with(func(c map[string]any, _ jws.Headers) { c["aud"] = "https://other.example/oauth/token" }), 401, "invalid_client", CodeWrongAudience},
		{"audience with a trailing slash", with(func(c map[string]any, _ jws.Headers) { c["aud"] = tokenURL + "/" }), 401, "invalid_client", CodeWrongAudience},
		{"two audiences", with(func(c map[string]any, _ jws.Headers) { c["aud"] = []string{tokenURL, "https://other.example"} }), 401, "invalid_client", CodeWrongAudience},
		{"no audience", with(func(c map[string]any, _ jws.Headers) { delete(c, "aud") }), 401, "invalid_client", CodeWrongAudience},
		{"no exp", with(func(c map[string]any, _ jws.Headers) { delete(c, "exp") }), 401, "invalid_client", CodeMissingExp},
		{"expired", with(func(c map[string]any, _ jws.Headers) {
			c["iat"], c["exp"] = now.Add(-3*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		}), 401, "invalid_client", CodeAssertionExpired},
		{"exp too far ahead", with(func(c map[string]any, _ jws.Headers) { c["exp"] = now.Add(10 * time.Minute).Unix() }), 401, "invalid_client", CodeLifetimeTooLong},
		{"exp - iat too long", with(func(c map[string]any, _ jws.Headers) {
			c["iat"], c["exp"] = now.Add(-6*time.Minute).Unix(), now.Add(time.Minute).Unix()
		}), 401, "invalid_client", CodeLifetimeTooLong},
		{"iat in the future", with(func(c map[string]any, _ jws.Headers) { c["iat"] = now.Add(2 * time.Minute).Unix() }), 401, "invalid_client", CodeNotYetValid},
		{"nbf in the future", with(func(c map[string]any, _ jws.Headers) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), 401, "invalid_client", CodeNotYetValid},
		{"exp not a number", with(func(c map[string]any, _ jws.Headers) { c["exp"] = "tomorrow" }), 401, "invalid_client", CodeMalformedAssertion},
		{"no jti", with(func(c map[string]any, _ jws.Headers) { delete(c, "jti") }), 401, "invalid_client", CodeMissingJTI},
		{"replayed", form(replayed), 401, "invalid_client", CodeReplayed},
		{"scope not allowed", func() url.Values { v := form(valid()); v.Set("scope", "admin"); return v }(), 400, "invalid_scope", CodeScopeNotAllowed},
		{"program not allowed", func() url.Values { v := form(valid()); v.Set("scope", "verify:jrr-2019"); return v }(), 400, "invalid_scope", CodeScopeNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := postToken(t, h, tc.values)
			if res.status >= 500 {
				t.Fatalf("status %d: a refusal is never 5xx", res.status)
			}
			if res.status != tc.status || res.body["error"] != tc.oauth || res.body["code"] != tc.code {
				t.Errorf("got %d %v, want %d error=%s code=%s", res.status, res.body, tc.status, tc.oauth, tc.code)
			}
			if res.body["access_token"] != nil {
				t.Error("a refusal carries an access token")
			}
		})
	}

	// Wrong method and content type.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tokenURL, nil))
	if rec.Code != 405 || !strings.Contains(rec.Body.String(), CodeMethodNotAllowed) {
		t.Errorf("GET: %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(`{"grant_type":"client_credentials"}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), CodeUnsupportedContentType) {
		t.Errorf("JSON body: %d %s", rec.Code, rec.Body.String())
	}
}

func mustP384(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestReplayRefusedAcrossInstances(t *testing.T) {
	f := newFixture(t)
	a, b := f.authority(t), f.authority(t) // two hub processes, one shared store
	assertion := f.assertion(t, "portal-sz", nil)
	// Both at once: exactly one wins.
	var wg sync.WaitGroup
	results := make([]tokenResult, 2)
	for i, h := range []http.Handler{a.TokenHandler(), b.TokenHandler()} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = postToken(t, h, form(assertion))
		}()
	}
	wg.Wait()
	ok, replayed := 0, 0
	for _, r := range results {
		switch {
		case r.status == 200:
			ok++
		case r.body["code"] == CodeReplayed:
			replayed++
		}
	}
	if ok != 1 || replayed != 1 {
		t.Errorf("results = %+v, want one issued and one replayed", results)
	}
	// Still refused later on either instance, while the assertion could be valid.
	f.clock.Add(50 * time.Second)
	for _, h := range []http.Handler{a.TokenHandler(), b.TokenHandler()} {
		if r := postToken(t, h, form(assertion)); r.body["code"] != CodeReplayed {
			t.Errorf("later replay: %d %v", r.status, r.body)
		}
	}
}

func TestStateOutageIsUnavailableNotAccepted(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	f.state.SetUnavailable(true)
	r := postToken(t, a.TokenHandler(), form(f.assertion(t, "portal-sz", nil)))
	if r.status != 503 || r.body["code"] != CodeStateUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("got %d %v", r.status, r.body)
	}
}

// issue gets an access token for a client from a.
func issue(t testing.TB, f *fixture, a *Authority, client, scope string) string {
	t.Helper()
	v := form(f.assertion(t, client, nil))
	if scope != "" {
		v.Set("scope", scope)
	}
	r := postToken(t, a.TokenHandler(), v)
	if r.status != 200 {
		t.Fatalf("issuing for %s: %d %v", client, r.status, r.body)
	}
	return r.body["access_token"].(string)
}

type problemResult struct {
	status int
	code   string
	header http.Header
	client string
}

func call(t testing.TB, h http.Handler, authz string) problemResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "https://hub.example.gov.cn/v1/verifications", nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := problemResult{status: rec.Code, header: rec.Header()}
	if rec.Code == 200 {
		res.client = rec.Body.String()
		return res
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, rec.Body.String())
	}
	if p.Status != rec.Code {
		t.Errorf("problem status %d != %d", p.Status, rec.Code)
	}
	res.code = p.Code
	return res
}

func echoClient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", 500)
			return
		}
		_, _ = w.Write([]byte(id.ClientID))
	})
}

func TestRequire(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	portal := issue(t, f, a, "portal-sz", "")
	narrow := issue(t, f, a, "portal-sz", "verify:sus-2025")
	admin := issue(t, f, a, "admin", "")
	verifyJRR := a.Require(RolePortal, func(*http.Request) string { return ScopeVerify("jrr-2021") })(echoClient())
	anyRole := a.Require("", nil)(echoClient())
	adminOnly := a.Require(RoleAdmin, func(*http.Request) string { return ScopeAdmin })(echoClient())

	other := f.authority(t) // same secret: another hub process
	impostor, err := New(f.cfg, Deps{State: f.state, Secret: []byte(strings.Repeat("x", 32)), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	forged, _, _ := impostor.mint(accessClaims{Client: "admin", Role: RoleAdmin, Scope: "admin", IssuedAt: t0.UnixMilli(), Expires: t0.Add(time.Minute).UnixMilli()})

	for _, tc := range []struct {
		name   string
		h      http.Handler
		authz  string
		status int
		code   string
	}{
		{"allowed", verifyJRR, "Bearer " + portal, 200, ""},
		{"scheme is case-insensitive", verifyJRR, "bearer " + portal, 200, ""},
		{"any role", anyRole, "Bearer " + admin, 200, ""},
		{"admin", adminOnly, "Bearer " + admin, 200, ""},
		{"token from another process", other.Require(RolePortal, nil)(echoClient()), "Bearer " + portal, 200, ""},
		{"no header", verifyJRR, "", 401, CodeMissingToken},
		{"basic auth", verifyJRR, "Basic YTpi", 401, CodeMissingToken},
		{"empty bearer", verifyJRR, "Bearer ", 401, CodeMissingToken},
		{"garbage", verifyJRR, "Bearer abc", 401, CodeInvalidToken},
		{"tampered", verifyJRR, "Bearer " + portal[:len(portal)-2] + "AA", 401, CodeInvalidToken},
		{"forged with another secret", adminOnly, "Bearer " + forged, 401, CodeInvalidToken},
		{"client assertion as bearer", verifyJRR, "Bearer " + f.assertion(t, "portal-sz", nil), 401, CodeInvalidToken},
		{"wrong role", adminOnly, "Bearer " + portal, 403, CodeInsufficientScope},
		{"admin on portal route", verifyJRR, "Bearer " + admin, 403, CodeInsufficientScope},
		{"narrowed scope", verifyJRR, "Bearer " + narrow, 403, CodeInsufficientScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, tc.h, tc.authz)
			if r.status != tc.status || r.code != tc.code {
				t.Errorf("got %d %q, want %d %q", r.status, r.code, tc.status, tc.code)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	f.clock.Add(10 * time.Minute)
	if r := call(t, verifyJRR, "Bearer "+portal); r.status != 401 || r.code != CodeTokenExpired {
		t.Errorf("after 10m: %d %q, want 401 token_expired", r.status, r.code)
	}
}

func TestRevocation(t *testing.T) {
	f := newFixture(t)
	f.cfg.RevocationRefresh = 100 * time.Millisecond
	a, b := f.authority(t), f.authority(t)
	ha := a.Require(RolePortal, nil)(echoClient())
	hb := b.Require(RolePortal, nil)(echoClient())
	old := issue(t, f, a, "portal-sz", "")
	otherClient := issue(t, f, a, "portal-two", "")
	f.clock.Add(time.Millisecond)

	if err := a.RevokeClient(context.Background(), "portal-sz"); err != nil {
		t.Fatal(err)
	}
	if r := call(t, ha, "Bearer "+old); r.status != 401 || r.code != CodeTokenRevoked {
		t.Errorf("revoked token on the revoking process: %d %q", r.status, r.code)
	}
	if r := call(t, ha, "Bearer "+otherClient); r.status != 200 {
		t.Errorf("another client's token: %d %q", r.status, r.code)
	}
	// The other process learns of it from the shared state.
	if r := call(t, hb, "Bearer "+old); r.status != 200 {
		t.Fatalf("before refresh the other process still accepts: got %d", r.status)
	}
	run(t, b)
	deadline := time.Now().Add(5 * time.Second)
	for call(t, hb, "Bearer "+old).code != CodeTokenRevoked {
		if time.Now().After(deadline) {
			t.Fatal("the other process never saw the revocation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A token issued after the revocation works everywhere.
	f.clock.Add(time.Millisecond)
	fresh := issue(t, f, b, "portal-sz", "")
	for name, h := range map[string]http.Handler{"a": ha, "b": hb} {
		if r := call(t, h, "Bearer "+fresh); r.status != 200 {
			t.Errorf("fresh token on %s: %d %q", name, r.status, r.code)
		}
	}
	// RevokeToken kills that token too.
	if err := b.RevokeToken(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	if r := call(t, hb, "Bearer "+fresh); r.code != CodeTokenRevoked {
		t.Errorf("after RevokeToken: %d %q", r.status, r.code)
	}
	if err := a.RevokeClient(context.Background(), "nobody"); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("revoking an unknown client: %v", err)
	}
	if err := a.RevokeToken(context.Background(), "vh1.bogus.bogus"); !errors.Is(err, contracts.ErrUnauthorized) {
		t.Errorf("revoking a bogus token: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	f.cfg.Clients[0].RateLimit = &RateLimit{PerSecond: 0.5, Burst: 3}
	a := f.authority(t)
	h := a.Require(RolePortal, nil)(echoClient())
	tok := issue(t, f, a, "portal-sz", "")
	other := issue(t, f, a, "portal-two", "")
	for i := range 3 {
		if r := call(t, h, "Bearer "+tok); r.status != 200 {
			t.Fatalf("request %d within burst: %d %q", i, r.status, r.code)
		}
	}
	r := call(t, h, "Bearer "+tok)
	if r.status != 429 || r.code != CodeRateLimited || r.header.Get("Retry-After") != "2" {
		t.Errorf("over the burst: %d %q Retry-After %q, want 429 rate_limited 2", r.status, r.code, r.header.Get("Retry-After"))
	}
	if r := call(t, h, "Bearer "+other); r.status != 200 {
		t.Errorf("another client is limited too: %d", r.status)
	}
	f.clock.Add(2 * time.Second)
	if r := call(t, h, "Bearer "+tok); r.status != 200 {
		t.Errorf("after waiting Retry-After: %d %q", r.status, r.code)
	}
}

func TestJWKSURLClientCachedAndRefreshedOnRotation(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	run(t, a)
	if r := postToken(t, a.TokenHandler(), form(f.assertion(t, "agency-tax", nil))); r.status != 200 {
		t.Fatalf("agency: %d %v", r.status, r.body)
	}
	if r := postToken(t, a.TokenHandler(), form(f.assertion(t, "agency-tax", nil))); r.status != 200 {
		t.Fatalf("agency again: %d %v", r.status, r.body)
	}
	f.mu.Lock()
	n := f.agencyN
	f.mu.Unlock()
	if n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (cached)", n)
	}

	// The agency rotates: its JWKS now has a new key, which the hub has not cached.
	next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.keys["agency-tax"] = privateKey(t, next, "tax-2027")
	set := jwk.NewSet()
	pub, _ := f.keys["agency-tax"].PublicKey()
	_ = set.AddKey(pub)
	f.mu.Lock()
	f.served = set
	f.mu.Unlock()
	if r := postToken(t, a.TokenHandler(), form(f.assertion(t, "agency-tax", nil))); r.status != 200 {
		t.Fatalf("after the agency's rotation: %d %v", r.status, r.body)
	}
}

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{TokenURL: tokenURL, SecretFile: "/run/secrets/access", Clients: []ClientConfig{
			{ID: "p", Role: RolePortal, Programs: []string{"jrr-2021"}, KeyFiles: []string{"p.jwk"}},
			{ID: "a", Role: RoleAgency, Feed: "si", JWKSURL: "https://si.example/jwks.json"},
			{ID: "root", Role: RoleAdmin, KeyFiles: []string{"root.jwk"}},
		}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"relative token url", func(c *Config) { c.TokenURL = "/oauth/token" }, "token_url"},
		{"no secret", func(c *Config) { c.SecretFile = "" }, "secret"},
		{"two secrets", func(c *Config) { c.SecretEnv = "X" }, "secret"},
		{"ttl too long", func(c *Config) { c.AccessTokenTTL = 2 * time.Hour }, "access_token_ttl"},
		{"duplicate id", func(c *Config) { c.Clients[1].ID = "p" }, "duplicate"},
		{"bad id", func(c *Config) { c.Clients[0].ID = "p q" }, "id"},
		{"bad role", func(c *Config) { c.Clients[0].Role = "root" }, "role"},
		{"portal without programs", func(c *Config) { c.Clients[0].Programs = nil }, "programs"},
		{"agency bad feed", func(c *Config) { c.Clients[1].Feed = "police" }, "feed"},
		{"no keys", func(c *Config) { c.Clients[2].KeyFiles = nil }, "no keys"},
		{"jwks url for a portal", func(c *Config) { c.Clients[0].JWKSURL = "https://p.example/jwks" }, "agencies only"},
		{"bad rate", func(c *Config) { c.Clients[0].RateLimit = &RateLimit{PerSecond: 0, Burst: 1} }, "rate_limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestNewRefusesSecretsAndPrivateKeys(t *testing.T) {
	f := newFixture(t)
	priv, _ := json.Marshal(f.keys["portal-sz"])
	var privMap map[string]any
	_ = json.Unmarshal(priv, &privMap)
	for _, tc := range []struct {
		name string
		key  map[string]any
		want string
	}{
		{"private key", privMap, "private"},
		{"oct key", map[string]any{"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"}, "symmetric"},
		{"alg not fitting", func() map[string]any { m := publicMap(t, f.keys["portal-sz"]); m["alg"] = "RS256"; return m }(), "does not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.cfg
			cfg.Clients = []ClientConfig{{ID: "p", Role: RolePortal, Programs: []string{"*"}, Keys: []map[string]any{tc.key}}}
			_, err := New(cfg, Deps{State: f.state, Secret: f.secret})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := New(f.cfg, Deps{State: f.state, Secret: []byte("short")}); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}

func TestConfigFromYAML(t *testing.T) {
	src := `
token_url: https://hub.example.gov.cn/oauth/token
access_token_ttl: 5m
secret_env: VERIHUB_ACCESS_SECRET
rate_limit: {per_second: 20, burst: 40}
clients:
  - id: portal-sz
    role: portal
    programs: [jrr-2021, sus-2025]
    push_grant: true
    keys:
      - {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
  - id: agency-si
    role: agency
    feed: si
    jwks_url: https://si.example.gov.cn/.well-known/jwks.json
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.AccessTokenTTL != 5*time.Minute || cfg.Clients[0].Keys[0]["crv"] != "P-256" || cfg.RateLimit.Burst != 40 {
		t.Errorf("decoded %+v", cfg)
	}
	t.Setenv("VERIHUB_ACCESS_SECRET", strings.Repeat("k", 40))
	a, err := New(cfg, Deps{State: storetest.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	if a.clients["portal-sz"].keys.Len() != 1 {
		t.Error("inline key not loaded")
	}
}

func TestFetchTokenAgainstHandler(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	a.now = time.Now // FetchToken signs with the real clock
	srv := httptest.NewServer(a.TokenHandler())
	defer srv.Close()
	a.cfg.TokenURL = srv.URL
	key := f.keys["portal-sz"]
	_ = key.Set(ClientIDMember, "portal-sz")
	if ClientIDOf(key) != "portal-sz" {
		t.Fatalf("ClientIDOf = %q", ClientIDOf(key))
	}
	tr, err := FetchToken(context.Background(), srv.Client(), srv.URL, key, ClientIDOf(key), "verify:jrr-2021")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := a.Check(context.Background(), tr.AccessToken); err != nil || id.ClientID != "portal-sz" || tr.Scope != "verify:jrr-2021" {
		t.Errorf("Check = %+v, %v; response %+v", id, err, tr)
	}
	_, err = FetchToken(context.Background(), srv.Client(), srv.URL, key, "portal-sz", "admin")
	var te *TokenError
	if !errors.As(err, &te) || te.Code != CodeScopeNotAllowed || !errors.Is(err, contracts.ErrUnauthorized) {
		t.Errorf("err = %v, want a scope_not_allowed TokenError", err)
	}
}

// TestTokenSourceCaches: one exchange serves many calls while the token is young; a
// refused exchange is an error, not an empty token.
func TestTokenSourceCaches(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	a.now = time.Now
	var exchanges atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exchanges.Add(1)
		a.TokenHandler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	a.cfg.TokenURL = srv.URL
	key := f.keys["portal-sz"]
	ts := &TokenSource{HTTP: srv.Client(), URL: srv.URL, Key: key, ClientID: "portal-sz"}
	first, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if tok, err := ts.Token(context.Background()); err != nil || tok != first {
			t.Fatalf("Token = %q, %v; want the cached token", tok, err)
		}
	}
	if n := exchanges.Load(); n != 1 {
		t.Errorf("%d exchanges for 6 calls, want 1", n)
	}
	if id, err := a.Check(context.Background(), first); err != nil || id.ClientID != "portal-sz" {
		t.Errorf("Check = %+v, %v", id, err)
	}
	bad := &TokenSource{HTTP: srv.Client(), URL: srv.URL, Key: key, ClientID: "portal-sz", Scope: "admin"}
	if tok, err := bad.Token(context.Background()); err == nil || tok != "" {
		t.Errorf("Token with a refused scope = %q, %v", tok, err)
	}
}

func FuzzAccessToken(f *testing.F) {
	fx := newFixture(f)
	a := fx.authority(f)
	tok, _, _ := a.mint(accessClaims{Client: "admin", Role: RoleAdmin, Scope: "admin", IssuedAt: t0.UnixMilli(), Expires: t0.Add(time.Minute).UnixMilli()})
	f.Add(tok)
	f.Add("vh1..")
	f.Add("vh1.e30.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := a.check(s, t0)
		if err == nil && s != tok {
			// Only a token carrying our MAC may pass.
			if _, err2 := a.check(s[:strings.LastIndexByte(s, '.')]+"."+base64.RawURLEncoding.EncodeToString(make([]byte, 32)), t0); err2 == nil {
				t.Fatalf("accepted %q with a zero MAC (claims %+v)", s, c)
			}
		}
	})
}

func FuzzTokenEndpoint(f *testing.F) {
	fx := newFixture(f)
	a := fx.authority(f)
	h := a.TokenHandler()
	f.Add(fx.assertion(f, "portal-sz", nil))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, assertion string) {
		req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form(assertion).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, assertion)
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body not JSON: %s", rec.Body.String())
		}
		if rec.Code != 200 && (body["code"] == nil || body["error"] == nil) {
			t.Fatalf("refusal without code: %v", body)
		}
	})
}

func BenchmarkAccessTokenCheck(b *testing.B) {
	f := newFixture(b)
	a := f.authority(b)
	tok, _, err := a.mint(accessClaims{Client: "portal-sz", Role: RolePortal, Scope: "verify:jrr-2021 verify:sus-2025 push:grant",
		IssuedAt: t0.UnixMilli(), Expires: t0.Add(10 * time.Minute).UnixMilli()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.check(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkES256Verify is what checking a JWT access token would cost instead:
// one ES256 verification of a small token.
func BenchmarkES256Verify(b *testing.B) {
	f := newFixture(b)
	key := f.keys["portal-sz"]
	tok := f.assertion(b, "portal-sz", nil)
	pub, _ := key.PublicKey()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := jws.Verify([]byte(tok), jws.WithKey(jwa.ES256, pub)); err != nil {
			b.Fatal(err)
		}
	}
}
