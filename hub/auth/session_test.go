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
	id, err := a.Check(tok)
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
		id, err := a.Check(tok)
		if err != nil || id.Role != RoleAdmin || !id.ExpiresAt.Equal(exp) {
			t.Fatalf("login accepted %q but its token checks as %+v, %v", assertion, id, err)
		}
	})
}
