package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/verihub/verihub/contracts"
)

func TestLogin(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	replayed := f.assertion(t, "admin", nil)
	if _, _, err := a.Login(context.Background(), replayed); err != nil {
		t.Fatalf("first use: %v", err)
	}
	for _, tc := range []struct {
		name      string
		assertion string
		status    int
		code      string
	}{
		{"portal key", f.assertion(t, "portal-sz", nil), 403, CodeNotAdmin},
		{"replayed", replayed, 401, CodeReplayed},
		{"empty", "", 401, CodeMissingAssertion},
		{"garbage", "not.a.jws", 401, CodeMalformedAssertion},
		{"wrong audience", f.assertion(t, "admin", func(c map[string]any, _ jws.Headers) { c["aud"] = "https://elsewhere/oauth/token" }), 401, CodeWrongAudience},
		{"expired", f.assertion(t, "admin", func(c map[string]any, _ jws.Headers) { c["exp"] = t0.Add(-time.Hour).Unix() }), 401, CodeAssertionExpired},
		{"tampered signature", f.assertion(t, "admin", nil) + "x", 401, CodeBadSignature},
		{"unknown client", f.assertion(t, "admin", func(c map[string]any, _ jws.Headers) { c["iss"], c["sub"] = "nobody", "nobody" }), 401, CodeUnknownClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := a.Login(context.Background(), tc.assertion)
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("Login = %q, %v; want a *TokenError", tok, err)
			}
			if te.Status != tc.status || te.Code != tc.code {
				t.Errorf("refused %d %s, want %d %s (%s)", te.Status, te.Code, tc.status, tc.code, te.Description)
			}
			if !errors.Is(err, contracts.ErrUnauthorized) {
				t.Error("refusal does not match ErrUnauthorized")
			}
		})
	}

	tok, exp, err := a.Login(context.Background(), f.assertion(t, "admin", nil))
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.Check(context.Background(), tok)
	if err != nil || id.ClientID != "admin" || id.Role != RoleAdmin || !id.HasScope(ScopeAdmin) {
		t.Fatalf("session token checks as %+v, %v", id, err)
	}
	if !exp.Equal(t0.Add(DefaultAccessTokenTTL)) || !id.ExpiresAt.Equal(exp) {
		t.Errorf("expires %v (token says %v), want %v", exp, id.ExpiresAt, t0.Add(DefaultAccessTokenTTL))
	}
}

func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	admin, _, err := a.Login(context.Background(), f.assertion(t, "admin", nil))
	if err != nil {
		t.Fatal(err)
	}
	otherAdmin, _, err := a.Login(context.Background(), f.assertion(t, "admin", nil))
	if err != nil {
		t.Fatal(err)
	}
	portal := issue(t, f, a, "portal-sz", "")
	csrf := a.CSRFToken(admin)
	if csrf == a.CSRFToken(otherAdmin) {
		t.Fatal("two sessions share a CSRF token")
	}
	adminOnly := a.Require(RoleAdmin, nil)(echoClient())

	for _, tc := range []struct {
		name, method, cookie, authz, csrf string
		status                            int
		code                              string
	}{
		{"GET with cookie", "GET", admin, "", "", 200, ""},
		{"HEAD with cookie", "HEAD", admin, "", "", 200, ""},
		{"POST with cookie and CSRF", "POST", admin, "", csrf, 200, ""},
		{"DELETE with cookie and CSRF", "DELETE", admin, "", csrf, 200, ""},
		{"POST with cookie, no CSRF", "POST", admin, "", "", 403, CodeCSRFMissing},
		{"POST with cookie, wrong CSRF", "POST", admin, "", "AAAA" + csrf[4:], 403, CodeCSRFInvalid},
		{"POST with CSRF of another session", "POST", admin, "", a.CSRFToken(otherAdmin), 403, CodeCSRFInvalid},
		{"POST with the token as CSRF", "POST", admin, "", admin, 403, CodeCSRFInvalid},
		{"bearer needs no CSRF", "POST", "", "Bearer " + admin, "", 200, ""},
		{"bearer wins over cookie", "POST", "garbage", "Bearer " + admin, "", 200, ""},
		{"other scheme does not fall back to the cookie", "GET", admin, "Basic YTpi", "", 401, CodeMissingToken},
		{"tampered cookie", "GET", admin[:len(admin)-2] + "AA", "", "", 401, CodeInvalidToken},
		{"empty cookie", "GET", "", "", "", 401, CodeMissingToken},
		{"portal token in cookie", "GET", portal, "", "", 403, CodeInsufficientScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "https://hub.example.gov.cn/v1/admin/deadletters/replay", nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tc.cookie})
			}
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			if tc.csrf != "" {
				req.Header.Set(CSRFHeader, tc.csrf)
			}
			rec := httptest.NewRecorder()
			adminOnly.ServeHTTP(rec, req)
			var p problem
			if rec.Code != 200 {
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
					t.Fatalf("problem body: %v: %q", err, rec.Body.String())
				}
			} else if tc.method != "HEAD" && rec.Body.String() != "admin" {
				t.Errorf("handler saw client %q", rec.Body.String())
			}
			if rec.Code != tc.status || p.Code != tc.code {
				t.Errorf("got %d %q, want %d %q", rec.Code, p.Code, tc.status, tc.code)
			}
		})
	}

	f.clock.Add(DefaultAccessTokenTTL)
	req := httptest.NewRequest("GET", "https://hub.example.gov.cn/v1/admin/connectors", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: admin})
	rec := httptest.NewRecorder()
	adminOnly.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), CodeTokenExpired) {
		t.Errorf("expired session: %d %s", rec.Code, rec.Body.String())
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		rec := httptest.NewRecorder()
		SetSessionCookie(rec, "vh1.x.y", time.Now().Add(5*time.Minute), secure)
		ClearSessionCookie(rec, secure)
		cookies := rec.Result().Cookies()
		if len(cookies) != 2 {
			t.Fatalf("%d cookies set", len(cookies))
		}
		set, cleared := cookies[0], cookies[1]
		if set.Name != SessionCookie || set.Value != "vh1.x.y" || !set.HttpOnly || set.SameSite != http.SameSiteStrictMode ||
			set.Path != "/" || set.Secure != secure || set.MaxAge < 290 || set.MaxAge > 300 {
			t.Errorf("secure=%v: session cookie %+v", secure, set)
		}
		if cleared.Name != SessionCookie || cleared.Value != "" || cleared.MaxAge != -1 || !cleared.HttpOnly {
			t.Errorf("secure=%v: cleared cookie %+v", secure, cleared)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(set)
		if tok, ok := SessionToken(req); !ok || tok != "vh1.x.y" {
			t.Errorf("SessionToken = %q, %v", tok, ok)
		}
	}
}

func FuzzLogin(f *testing.F) {
	fx := newFixture(f)
	a := fx.authority(f)
	f.Add(fx.assertion(f, "admin", nil))
	f.Add(fx.assertion(f, "portal-sz", nil))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, assertion string) {
		tok, exp, err := a.Login(context.Background(), assertion)
		if err != nil {
			var te *TokenError
			if !errors.As(err, &te) || te.Code == "" || te.Status < 400 {
				t.Fatalf("refusal %v is not a coded TokenError", err)
			}
			return
		}
		id, err := a.Check(context.Background(), tok)
		if err != nil || id.Role != RoleAdmin || !id.ExpiresAt.Equal(exp) {
			t.Fatalf("login accepted %q but its token checks as %+v, %v", assertion, id, err)
		}
	})
}

// TestEndSession: logging out ends that session's token alone — in this process at
// once, in another process sharing the state on its next use — whether it comes as
// the cookie or as a bearer token. Other sessions and bearer tokens of the same
// client stay valid, and a session cannot be checked while the state is down.
func TestEndSession(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	other := f.authority(t) // another hub process on the same state
	ctx := context.Background()
	ended, _, err := a.Login(ctx, f.assertion(t, "admin", nil))
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := a.Login(ctx, f.assertion(t, "admin", nil))
	if err != nil {
		t.Fatal(err)
	}
	bearer := issue(t, f, a, "admin", "")
	code := func(p *Authority, tok string) string {
		t.Helper()
		if _, err := p.Check(ctx, tok); err != nil {
			return CodeOf(err)
		}
		return ""
	}
	withCookie := func(p *Authority, tok string) problemResult {
		t.Helper()
		req := httptest.NewRequest("GET", "https://hub.example.gov.cn/v1/admin/connectors", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
		rec := httptest.NewRecorder()
		p.Require(RoleAdmin, nil)(echoClient()).ServeHTTP(rec, req)
		var pr problem
		_ = json.Unmarshal(rec.Body.Bytes(), &pr)
		return problemResult{status: rec.Code, code: pr.Code, header: rec.Header()}
	}
	for _, p := range []*Authority{a, other} {
		for _, tok := range []string{ended, kept, bearer} {
			if c := code(p, tok); c != "" {
				t.Fatalf("before logout: %s", c)
			}
		}
	}

	if err := a.EndSession(ctx, ended); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*Authority{"this process": a, "another process": other} {
		if c := code(p, ended); c != CodeTokenRevoked {
			t.Errorf("%s: the ended session checks as %q, want %s", name, c, CodeTokenRevoked)
		}
		if r := withCookie(p, ended); r.status != 401 || r.code != CodeTokenRevoked {
			t.Errorf("%s: the ended session's cookie: %d %q", name, r.status, r.code)
		}
		if r := call(t, p.Require(RoleAdmin, nil)(echoClient()), "Bearer "+ended); r.status != 401 || r.code != CodeTokenRevoked {
			t.Errorf("%s: the ended session's token as a bearer token: %d %q", name, r.status, r.code)
		}
		if c := code(p, kept); c != "" {
			t.Errorf("%s: another session of the same client: %s", name, c)
		}
		if r := call(t, p.Require(RoleAdmin, nil)(echoClient()), "Bearer "+bearer); r.status != 200 {
			t.Errorf("%s: a bearer token of the same client: %d %q", name, r.status, r.code)
		}
	}

	// Only sessions end: a bearer token or garbage ends nothing and is no error.
	if err := a.EndSession(ctx, bearer); err != nil || code(a, bearer) != "" {
		t.Errorf("EndSession(bearer token) = %v; the token checks as %q", err, code(a, bearer))
	}
	if err := a.EndSession(ctx, "vh1.garbage.x"); err != nil {
		t.Errorf("EndSession(garbage) = %v", err)
	}

	// With the state down a session cannot be checked (503), a bearer token can, and
	// a logout is refused in the shared state but holds in its own process.
	f.state.SetUnavailable(true)
	if r := withCookie(other, kept); r.status != 503 || r.code != CodeStateUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("session with the state down: %d %q", r.status, r.code)
	}
	if c := code(other, kept); c != CodeStateUnavailable {
		t.Errorf("Check with the state down: %q", c)
	}
	if r := call(t, other.Require(RoleAdmin, nil)(echoClient()), "Bearer "+bearer); r.status != 200 {
		t.Errorf("bearer token with the state down: %d %q", r.status, r.code)
	}
	if err := a.EndSession(ctx, kept); err == nil {
		t.Error("EndSession with the state down reports no error")
	}
	if c := code(a, kept); c != CodeTokenRevoked {
		t.Errorf("the process that ended the session with the state down accepts it: %q", c)
	}
	f.state.SetUnavailable(false)

	// Marks last as long as the tokens: once expired, they are forgotten.
	f.clock.Add(DefaultAccessTokenTTL)
	a.forgetEndedSessions(f.clock.Now())
	n := 0
	a.ended.Range(func(any, any) bool { n++; return true })
	if n != 0 || code(a, ended) != CodeTokenExpired {
		t.Errorf("after expiry: %d marks kept; the ended token checks as %q", n, code(a, ended))
	}
}
