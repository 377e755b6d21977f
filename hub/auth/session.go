package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Browser sessions. The admin console signs a client assertion in the browser and
// exchanges it at POST /admin/login (Login) for an ordinary access token, which the
// hub keeps in an HttpOnly, SameSite=Strict cookie instead of handing it to script.
// Require accepts that cookie in place of an Authorization header; for an unsafe
// method it also wants the CSRF token — a MAC of the access token, so it is bound to
// the session, needs no server state and cannot be guessed from the cookie alone — in
// the X-CSRF-Token header. Logging out (EndSession) ends that token alone, in every
// hub process.
const (
	// SessionCookie is the name of the cookie holding the access token.
	SessionCookie = "verihub_session"
	// CSRFHeader carries the session's CSRF token on unsafe requests.
	CSRFHeader = "X-CSRF-Token"
)

// Stable codes of session refusals.
const (
	CodeCSRFMissing = "csrf_missing" // 403: a cookie-authenticated unsafe request without X-CSRF-Token
	CodeCSRFInvalid = "csrf_invalid" // 403: X-CSRF-Token does not belong to the session
	CodeNotAdmin    = "not_admin"    // 403 at login: the key belongs to a client that is not an administrator
)

// Login checks a client assertion exactly as POST /oauth/token does (signature,
// audience = Config.TokenURL, lifetime, one use of its jti), requires the client to
// hold the admin role, and issues an access token with every scope the client may
// hold. A refusal is a *TokenError whose Code is one of the token endpoint's codes or
// CodeNotAdmin; it matches contracts.ErrUnauthorized.
func (a *Authority) Login(ctx context.Context, assertion string) (token string, expires time.Time, err error) {
	if assertion == "" {
		return "", time.Time{}, exported(badClient(CodeMissingAssertion, "client_assertion is required"))
	}
	c, claims, terr := a.authenticate(ctx, assertion)
	if terr != nil {
		return "", time.Time{}, exported(terr)
	}
	if c.Role != RoleAdmin {
		return "", time.Time{}, exported(refuse(http.StatusForbidden, "unauthorized_client", CodeNotAdmin,
			"client %q is not an administrator", c.ID))
	}
	if terr := a.markUsed(ctx, c, claims); terr != nil {
		return "", time.Time{}, exported(terr)
	}
	scope, _ := grantScope(c, "")
	now := a.now()
	tok, ac, err := a.mint(accessClaims{
		Client: c.ID, Role: c.Role, Scope: scope,
		IssuedAt: now.UnixMilli(), Expires: now.Add(a.cfg.AccessTokenTTL).UnixMilli(), Session: true,
	})
	if err != nil {
		return "", time.Time{}, exported(refuse(http.StatusServiceUnavailable, "temporarily_unavailable", CodeStateUnavailable, "issuing the token"))
	}
	a.log.Info("console session started", "client", c.ID)
	return tok, time.UnixMilli(ac.Expires), nil
}

func sessionEndedKey(tokenID string) string { return "auth:session-ended:" + tokenID }

// EndSession ends the console session holding access token tok (logging out): its
// token is refused from then on, by this process at once and by every other hub
// process sharing the state, which looks for the end whenever a session token is
// used. Other sessions and tokens of the same client stay valid. A token that is
// unusable already, or is not a session's, ends nothing. The error says the end
// could not be recorded in the shared state (this process refuses the token anyway).
func (a *Authority) EndSession(ctx context.Context, tok string) error {
	c, err := a.check(tok, a.now())
	if err != nil || !c.Session {
		return nil
	}
	a.ended.Store(c.ID, c.Expires)
	ttl := time.UnixMilli(c.Expires).Sub(a.now()) + a.cfg.ClockSkew + time.Minute
	if err := a.state.Put(ctx, sessionEndedKey(c.ID), []byte{'1'}, ttl); err != nil {
		return fmt.Errorf("ending the console session of %s: %w", c.Client, err)
	}
	a.log.Info("console session ended", "client", c.Client)
	return nil
}

// checkLive checks an access token as a request presents it: check, and for a
// console session's token also that the session has not ended (sessionLive).
func (a *Authority) checkLive(ctx context.Context, token string, now time.Time) (accessClaims, error) {
	c, err := a.check(token, now)
	if err != nil {
		return c, err
	}
	return c, a.sessionLive(ctx, c)
}

// sessionLive refuses a session token whose session has ended, here or in another
// process; errStateDown when the shared state cannot say (a session token is then
// refused: the console cannot log in without the state either).
func (a *Authority) sessionLive(ctx context.Context, c accessClaims) error {
	if !c.Session {
		return nil
	}
	if _, ended := a.ended.Load(c.ID); ended {
		return errTokenRevoked
	}
	_, err := a.state.Get(ctx, sessionEndedKey(c.ID))
	switch {
	case err == nil:
		a.ended.Store(c.ID, c.Expires)
		return errTokenRevoked
	case errors.Is(err, contracts.ErrNotFound):
		return nil
	default:
		return errStateDown
	}
}

// forgetEndedSessions drops the marks of sessions whose tokens have expired.
func (a *Authority) forgetEndedSessions(now time.Time) {
	a.ended.Range(func(id, exp any) bool {
		if exp.(int64) <= now.UnixMilli() {
			a.ended.Delete(id)
		}
		return true
	})
}

func exported(e *tokenError) *TokenError {
	return &TokenError{Status: e.status, OAuthError: e.oauth, Description: e.detail, Code: e.code}
}

// CSRFToken returns the CSRF token of the session holding access token tok.
func (a *Authority) CSRFToken(tok string) string {
	m := hmac.New(sha256.New, a.macKey)
	m.Write([]byte("verihub session csrf v1\x00"))
	m.Write([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether got is the CSRF token of the session holding tok.
func (a *Authority) checkCSRF(tok, got string) bool {
	return hmac.Equal([]byte(a.CSRFToken(tok)), []byte(got))
}

// SetSessionCookie stores an access token in the session cookie until expires.
// secure marks it for HTTPS only (set it whenever the hub is reached over HTTPS).
func SetSessionCookie(w http.ResponseWriter, tok string, expires time.Time, secure bool) {
	maxAge := int(time.Until(expires).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: tok, Path: "/", Expires: expires, MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	})
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	})
}

// SessionToken returns the access token in a request's session cookie.
func SessionToken(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// safeMethod reports whether a method cannot change state, so a cookie-authenticated
// request with it needs no CSRF token.
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}
