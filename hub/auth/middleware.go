package auth

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Identity is the authenticated caller of a request.
type Identity struct {
	ClientID  string
	Role      Role
	Scopes    []string
	TokenID   string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// HasScope reports whether the caller holds scope (verify:* covers every program).
func (id Identity) HasScope(scope string) bool { return scopeAllows(id.Scopes, scope) }

type identityKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the caller Require put in the request context.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// ScopeFunc returns the scope a request needs, or "" when the role is enough. It may
// not read the body; handlers that learn the scope from the body (a verification's
// program) check Identity.HasScope themselves.
type ScopeFunc func(r *http.Request) string

// Stable problem codes of Require.
const (
	CodeMissingToken      = "missing_token"
	CodeInvalidToken      = "invalid_token"
	CodeTokenExpired      = "token_expired"
	CodeTokenRevoked      = "token_revoked"
	CodeInsufficientScope = "insufficient_scope"
	CodeRateLimited       = "rate_limited"
)

// Check authenticates an access token and returns the caller. The error names the
// reason with one of the codes above (see CodeOf).
func (a *Authority) Check(ctx context.Context, token string) (Identity, error) {
	c, err := a.checkLive(ctx, token, a.now())
	if err != nil {
		return Identity{}, err
	}
	return Identity{
		ClientID: c.Client, Role: c.Role, Scopes: strings.Fields(c.Scope), TokenID: c.ID,
		IssuedAt: time.UnixMilli(c.IssuedAt), ExpiresAt: time.UnixMilli(c.Expires),
	}, nil
}

// CodeOf returns the problem code of an error from Check.
func CodeOf(err error) string {
	switch {
	case errors.Is(err, errTokenExpired):
		return CodeTokenExpired
	case errors.Is(err, errTokenRevoked):
		return CodeTokenRevoked
	case errors.Is(err, errStateDown):
		return CodeStateUnavailable
	}
	return CodeInvalidToken
}

// Require returns middleware that lets a request through only with a valid bearer
// access token of a client with the role (any role when role is "") and the scope
// scope returns (none when scope is nil or returns ""), within the client's rate
// limit. The Identity is in the request context for next. Without an Authorization
// header the token may come from the console's session cookie (SessionCookie); then
// a request with an unsafe method must carry the session's CSRF token in
// X-CSRF-Token. Refusals are application/problem+json with a stable code: 401
// missing_token, invalid_token, token_expired, token_revoked (also a console session
// that has ended); 429 rate_limited (with Retry-After); 403 insufficient_scope,
// csrf_missing, csrf_invalid; 503 state_unavailable (with Retry-After) when a console
// session's token cannot be checked against the shared state.
func (a *Authority) Require(role Role, scope ScopeFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, ok := bearer(r.Header.Get("Authorization"))
			fromCookie := false
			if !ok && r.Header.Get("Authorization") == "" {
				tok, fromCookie = SessionToken(r)
				ok = fromCookie
			}
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="verihub"`)
				writeProblem(w, http.StatusUnauthorized, CodeMissingToken, "an Authorization: Bearer access token is required (POST /oauth/token)")
				return
			}
			now := a.now()
			c, err := a.checkLive(r.Context(), tok, now)
			if errors.Is(err, errStateDown) {
				w.Header().Set("Retry-After", "5")
				writeProblem(w, http.StatusServiceUnavailable, CodeStateUnavailable, "checking the console session: "+err.Error())
				return
			}
			if err != nil {
				code := CodeOf(err)
				w.Header().Set("WWW-Authenticate", `Bearer realm="verihub", error="invalid_token"`)
				writeProblem(w, http.StatusUnauthorized, code, err.Error())
				return
			}
			if fromCookie && !safeMethod(r.Method) {
				switch got := r.Header.Get(CSRFHeader); {
				case got == "":
					writeProblem(w, http.StatusForbidden, CodeCSRFMissing, "a request authenticated by the session cookie needs the "+CSRFHeader+" header")
					return
				case !a.checkCSRF(tok, got):
					writeProblem(w, http.StatusForbidden, CodeCSRFInvalid, "the "+CSRFHeader+" header does not belong to this session")
					return
				}
			}
			cl := a.clients[c.Client]
			res := a.limiter(cl).ReserveN(now, 1)
			if d := res.DelayFrom(now); !res.OK() || d > 0 {
				res.CancelAt(now)
				secs := int(math.Ceil(d.Seconds()))
				if secs < 1 {
					secs = 1
				}
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				writeProblem(w, http.StatusTooManyRequests, CodeRateLimited, "client "+c.Client+" is over its request rate")
				return
			}
			id := Identity{
				ClientID: c.Client, Role: c.Role, Scopes: strings.Fields(c.Scope), TokenID: c.ID,
				IssuedAt: time.UnixMilli(c.IssuedAt), ExpiresAt: time.UnixMilli(c.Expires),
			}
			if role != "" && id.Role != role {
				writeProblem(w, http.StatusForbidden, CodeInsufficientScope, "this needs a client of role "+string(role))
				return
			}
			if scope != nil {
				if s := scope(r); s != "" && !id.HasScope(s) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="verihub", error="insufficient_scope", scope="`+s+`"`)
					writeProblem(w, http.StatusForbidden, CodeInsufficientScope, "this needs scope "+s)
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
		})
	}
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// problem is an RFC 9457 problem detail with verihub's stable code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail})
}
