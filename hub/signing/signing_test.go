package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func sampleClaims() contracts.ResultClaims {
	return contracts.ResultClaims{
		Audience: "portal-suzhou",
		Subject:  "uscc:91350100M000100Y43",
		Program:  "jrr-2021",
		Params:   map[string]any{"year": 2022, "region_code": "320500"},
		Decision: contracts.DecisionEligible, AmountFen: 123456789, ReviewRequired: true,
		Checks: []contracts.CheckResult{{
			ID: "ui_paid_in_full", Result: contracts.CheckPass, Detail: "12 of 12 months paid",
			Evidence: []contracts.Evidence{{Type: "si.employer_month", ID: "91350100M000100Y43:2021-12", AsOf: t0.Add(-48 * time.Hour)}},
		}},
		Facts:    map[string]any{"layoff_rate": 0.031},
		DataAsOf: map[string]time.Time{"si": t0.Add(-48 * time.Hour)},
	}
}

// newTestSigner makes a key set in a temporary directory and a signer on it.
func newTestSigner(t testing.TB, c *clock) (*Signer, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	if _, err := generateAt(dir, 0, c.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := newSigner(Config{Dir: dir, Issuer: "https://hub.example.gov.cn"}, nil, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestGenerateWritesPrivateKeysOwnerOnly(t *testing.T) {
	c := &clock{now: t0}
	dir := filepath.Join(t.TempDir(), "keys")
	info, err := generateAt(dir, 0, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(privPath(dir, info.KID))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(dir)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode = %v, want 0700", dst.Mode().Perm())
	}
	if _, err := generateAt(dir, 0, c.Now()); !errors.Is(err, contracts.ErrConflict) {
		t.Errorf("second generate: err = %v, want ErrConflict", err)
	}
	// A private key readable by others is refused.
	if err := os.Chmod(privPath(dir, info.KID), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(dir, c.Now()); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Errorf("load with 0644 key: err = %v, want a mode complaint", err)
	}
	if _, err := Rotate(filepath.Join(t.TempDir(), "none")); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("rotate without key set: err = %v, want ErrNotFound", err)
	}
	if _, err := generateAt(filepath.Join(t.TempDir(), "short"), time.Minute, c.Now()); err == nil {
		t.Error("generate with a 1m max lifetime succeeded")
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	c := &clock{now: t0}
	s, _ := newTestSigner(t, c)
	want := sampleClaims()
	tok, err := s.Sign(want)
	if err != nil {
		t.Fatal(err)
	}
	hdr := decodeHeader(t, tok)
	if hdr["alg"] != "ES256" || hdr["typ"] != "JWT" || hdr["kid"] != s.KeyID() {
		t.Errorf("header = %v", hdr)
	}
	got, err := verifyAt(tok, s.PublicKeys(), c.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Issuer != "https://hub.example.gov.cn" || got.Audience != want.Audience || got.Subject != want.Subject ||
		got.Program != want.Program || got.Decision != want.Decision || got.AmountFen != want.AmountFen ||
		!got.ReviewRequired || got.ID == "" {
		t.Errorf("claims = %+v", got)
	}
	if !got.IssuedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(DefaultTTL)) {
		t.Errorf("iat, exp = %v, %v; want %v, %v", got.IssuedAt, got.ExpiresAt, t0, t0.Add(DefaultTTL))
	}
	if len(got.Checks) != 1 || got.Checks[0].Evidence[0].ID != want.Checks[0].Evidence[0].ID ||
		!got.Checks[0].Evidence[0].AsOf.Equal(want.Checks[0].Evidence[0].AsOf) {
		t.Errorf("checks = %+v", got.Checks)
	}
	if !got.DataAsOf["si"].Equal(want.DataAsOf["si"]) {
		t.Errorf("data_as_of = %v", got.DataAsOf)
	}
	if n, ok := got.Params["year"].(json.Number); !ok || n.String() != "2022" {
		t.Errorf("params.year = %#v", got.Params["year"])
	}
	// Two signatures of the same claims get distinct jti.
	tok2, _ := s.Sign(want)
	got2, _ := verifyAt(tok2, s.PublicKeys(), c.Now())
	if got2.ID == got.ID {
		t.Error("two results share a jti")
	}
}

func TestSignRefuses(t *testing.T) {
	c := &clock{now: t0}
	s, _ := newTestSigner(t, c)
	for _, tc := range []struct {
		name   string
		mutate func(*contracts.ResultClaims)
	}{
		{"no subject", func(r *contracts.ResultClaims) { r.Subject = "" }},
		{"no audience", func(r *contracts.ResultClaims) { r.Audience = "" }},
		{"no program", func(r *contracts.ResultClaims) { r.Program = "" }},
		{"bad decision", func(r *contracts.ResultClaims) { r.Decision = "maybe" }},
		{"too long", func(r *contracts.ResultClaims) { r.IssuedAt = t0; r.ExpiresAt = t0.Add(DefaultTTL + time.Second) }},
		{"exp before iat", func(r *contracts.ResultClaims) { r.IssuedAt = t0; r.ExpiresAt = t0.Add(-time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleClaims()
			tc.mutate(&r)
			if tok, err := s.Sign(r); err == nil {
				t.Errorf("Sign succeeded: %s", tok)
			}
		})
	}
}

func TestSignerTTLAboveKeySetLifetimeRefused(t *testing.T) {
	c := &clock{now: t0}
	_, dir := newTestSigner(t, c)
	_, err := newSigner(Config{Dir: dir, Issuer: "x", TTL: 48 * time.Hour}, nil, c.Now)
	if err == nil || !strings.Contains(err.Error(), "max token lifetime") {
		t.Errorf("err = %v, want a lifetime refusal", err)
	}
}

func TestVerifyRefusals(t *testing.T) {
	c := &clock{now: t0}
	s, _ := newTestSigner(t, c)
	good, err := s.Sign(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	set := s.PublicKeys()
	parts := strings.Split(good, ".")

	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signWith := func(alg jwa.SignatureAlgorithm, key any, kid string, payload []byte) string {
		h := jws.NewHeaders()
		_ = h.Set(jws.KeyIDKey, kid)
		tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
		if err != nil {
			t.Fatal(err)
		}
		return string(tok)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := strings.Replace(string(payload), `"amount_fen":123456789`, `"amount_fen":923456789`, 1)
	if tampered == string(payload) {
		t.Fatal("tamper did not change the payload")
	}
	pubJWK, _ := set.Key(0)
	pubJSON, _ := json.Marshal(pubJWK)
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + s.KeyID() + `"}`))

	for _, tc := range []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2], t0, ErrSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + parts[2][:10] + "AAAA" + parts[2][14:], t0, ErrSignature},
		{"unknown key", signWith(jwa.ES256, stranger, "stranger", payload), t0, ErrUnknownKey},
		{"stranger claiming our kid", signWith(jwa.ES256, stranger, s.KeyID(), payload), t0, ErrSignature},
		{"alg none", noneHeader + "." + parts[1] + ".", t0, ErrAlgorithm},
		{"HS256 with the public key as secret", signWith(jwa.HS256, pubJSON, s.KeyID(), payload), t0, ErrAlgorithm},
		{"expired", good, t0.Add(DefaultTTL + ClockSkew), ErrExpired},
		{"issued in the future", good, t0.Add(-2 * ClockSkew), ErrNotYetValid},
		{"two parts", parts[0] + "." + parts[1], t0, ErrMalformed},
		{"four parts", good + ".x", t0, ErrMalformed},
		{"garbage header", "!!!." + parts[1] + "." + parts[2], t0, ErrMalformed},
		{"empty", "", t0, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyAt(tc.token, set, tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, contracts.ErrUnauthorized) {
				t.Errorf("err = %v does not match ErrUnauthorized", err)
			}
		})
	}
	if _, err := verifyAt(good, set, t0.Add(DefaultTTL-time.Second)); err != nil {
		t.Errorf("good token just before exp: %v", err)
	}
}

func TestRotationKeepsIssuedTokensValidUntilTheyExpire(t *testing.T) {
	c := &clock{now: t0}
	s, dir := newTestSigner(t, c)
	oldKID := s.KeyID()
	before, err := s.Sign(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}

	c.Add(time.Hour)
	info, err := rotateAt(dir, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.KeyID() != info.KID || info.KID == oldKID {
		t.Fatalf("active kid = %s, rotated to %s, old %s", s.KeyID(), info.KID, oldKID)
	}
	if _, err := os.Stat(privPath(dir, oldKID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("retired private key still on disk: %v", err)
	}
	after, err := s.Sign(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	if kid := decodeHeader(t, after)["kid"]; kid != info.KID {
		t.Errorf("new token kid = %v, want %s", kid, info.KID)
	}
	set := s.PublicKeys()
	if set.Len() != 2 {
		t.Fatalf("JWKS after rotation has %d keys, want 2", set.Len())
	}
	for name, tok := range map[string]string{"before": before, "after": after} {
		if _, err := verifyAt(tok, set, c.Now()); err != nil {
			t.Errorf("token signed %s rotation: %v", name, err)
		}
	}
	keys, err := listAt(dir, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys[0].Active() || keys[1].KID != oldKID || !keys[1].DropsAt.Equal(c.Now().Add(DefaultMaxTokenLifetime)) {
		t.Errorf("List = %+v", keys)
	}

	// Just before the old key drops out it is still published; after, it is not,
	// and every token it signed has expired by then.
	dropsAt := c.Now().Add(DefaultMaxTokenLifetime)
	c.Set(dropsAt.Add(-time.Second))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.PublicKeys().Len() != 2 {
		t.Errorf("old key left the JWKS before its drop time")
	}
	c.Set(dropsAt)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if s.PublicKeys().Len() != 1 {
		t.Errorf("old key still in the JWKS after its drop time")
	}
	claims, err := jwsClaimsUnverified(before)
	if err != nil {
		t.Fatal(err)
	}
	if !claims.ExpiresAt.Before(dropsAt) {
		t.Errorf("a token of the old key (exp %v) outlives its publication (%v)", claims.ExpiresAt, dropsAt)
	}
	if _, err := verifyAt(before, s.PublicKeys(), c.Now()); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old token after drop: err = %v, want ErrUnknownKey", err)
	}

	// A later rotation prunes the dropped key from the manifest.
	if _, err := rotateAt(dir, c.Now()); err != nil {
		t.Fatal(err)
	}
	m, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range m.Keys {
		if k.KID == oldKID {
			t.Errorf("dropped key %s still in the manifest", oldKID)
		}
	}
}

func TestConcurrentSignDuringRotation(t *testing.T) {
	c := &clock{now: t0}
	s, dir := newTestSigner(t, c)
	var wg sync.WaitGroup
	toks := make(chan string, 400)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				tok, err := s.Sign(sampleClaims())
				if err != nil {
					t.Error(err)
					return
				}
				toks <- tok
			}
		}()
	}
	for range 3 {
		if _, err := rotateAt(dir, c.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(toks)
	set := s.PublicKeys()
	for tok := range toks {
		if _, err := verifyAt(tok, set, c.Now()); err != nil {
			t.Fatalf("token signed during rotation: %v", err)
		}
	}
}

func TestJWKSHandler(t *testing.T) {
	c := &clock{now: t0}
	s, dir := newTestSigner(t, c)
	srv := httptest.NewServer(s.JWKSHandler())
	defer srv.Close()

	get := func(inm string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := get("")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=300" || res.Header.Get("ETag") == "" {
		t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
	}
	set, err := jwk.ParseReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := set.Key(0)
	if set.Len() != 1 || k.KeyID() != s.KeyID() {
		t.Errorf("JWKS = %d keys, first %q", set.Len(), k.KeyID())
	}
	if ok, _ := jwk.IsPrivateKey(k); ok {
		t.Fatal("JWKS publishes a private key")
	}
	etag := res.Header.Get("ETag")
	if r := get(etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match current etag: status %d, want 304", r.StatusCode)
	}
	if _, err := rotateAt(dir, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	r := get(etag)
	if r.StatusCode != 200 || r.Header.Get("ETag") == etag {
		t.Errorf("after rotation: status %d etag %q (old %q)", r.StatusCode, r.Header.Get("ETag"), etag)
	}
	post, err := srv.Client().Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", post.StatusCode)
	}
}

func FuzzVerify(f *testing.F) {
	c := &clock{now: t0}
	s, _ := newTestSigner(f, c)
	good, _ := s.Sign(sampleClaims())
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	set := s.PublicKeys()
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := verifyAt(tok, set, t0)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not match ErrInvalidToken", err)
			}
			return
		}
		if claims.ExpiresAt.IsZero() {
			t.Fatal("accepted a token without exp")
		}
	})
}

func decodeHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func jwsClaimsUnverified(tok string) (contracts.ResultClaims, error) {
	var c contracts.ResultClaims
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

func BenchmarkSignES256(b *testing.B) {
	c := &clock{now: t0}
	s, _ := newTestSigner(b, c)
	claims := sampleClaims()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Sign(claims); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyES256(b *testing.B) {
	c := &clock{now: t0}
	s, _ := newTestSigner(b, c)
	tok, err := s.Sign(sampleClaims())
	if err != nil {
		b.Fatal(err)
	}
	set := s.PublicKeys()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := verifyAt(tok, set, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
