package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// RFC 6749 / RFC 7521 names.
const (
	GrantClientCredentials = "client_credentials"
	AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// Stable codes of POST /oauth/token refusals, beside the RFC 6749 error name. They
// are part of the public contract: never renamed or reused.
const (
	CodeMethodNotAllowed       = "method_not_allowed"
	CodeUnsupportedContentType = "unsupported_content_type"
	CodeMalformedRequest       = "malformed_request"
	CodeMissingGrantType       = "missing_grant_type"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeUnsupportedClientAuth  = "unsupported_client_auth" // client_secret or HTTP Basic
	CodeUnsupportedAssertion   = "unsupported_assertion_type"
	CodeMissingAssertion       = "missing_assertion"
	CodeMalformedAssertion     = "malformed_assertion"
	CodeAlgNone                = "alg_none"
	CodeAlgHMAC                = "alg_hmac"
	CodeAlgUnsupported         = "alg_unsupported"
	CodeAlgKeyMismatch         = "alg_key_mismatch"
	CodeMissingIssuer          = "missing_iss"
	CodeUnknownClient          = "unknown_client"
	CodeUnknownKID             = "unknown_kid"
	CodeKIDRequired            = "kid_required"
	CodeBadSignature           = "bad_signature"
	CodeIssSubMismatch         = "iss_sub_mismatch"
	CodeWrongAudience          = "wrong_audience"
	CodeMissingExp             = "missing_exp"
	CodeAssertionExpired       = "assertion_expired"
	CodeLifetimeTooLong        = "lifetime_too_long"
	CodeNotYetValid            = "not_yet_valid"
	CodeMissingJTI             = "missing_jti"
	CodeReplayed               = "assertion_replayed"
	CodeScopeNotAllowed        = "scope_not_allowed"
	CodeStateUnavailable       = "state_unavailable"
	CodeClientKeysUnavailable  = "client_keys_unavailable"
)

const (
	maxTokenRequestBytes = 64 << 10
	maxJTIBytes          = 256
)

// TokenResponse is the body of a successful POST /oauth/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// tokenError is a refusal at the token endpoint.
type tokenError struct {
	status int
	oauth  string // RFC 6749 error
	code   string // stable code
	detail string
}

func (e *tokenError) Error() string { return e.code + ": " + e.detail }

func refuse(status int, oauth, code, format string, args ...any) *tokenError {
	return &tokenError{status: status, oauth: oauth, code: code, detail: fmt.Sprintf(format, args...)}
}

func badClient(code, format string, args ...any) *tokenError {
	return refuse(http.StatusUnauthorized, "invalid_client", code, format, args...)
}

// TokenHandler serves POST /oauth/token: the client-credentials grant authenticated
// by a private_key_jwt client assertion (RFC 6749 §4.4, RFC 7523 §2.2).
func (a *Authority) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, terr := a.token(r)
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Content-Type", "application/json")
		if terr != nil {
			if terr.status == http.StatusMethodNotAllowed {
				h.Set("Allow", http.MethodPost)
			}
			if terr.status == http.StatusServiceUnavailable {
				h.Set("Retry-After", "5")
			}
			a.log.Info("token request refused", "code", terr.code, "detail", terr.detail)
			w.WriteHeader(terr.status)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"error": terr.oauth, "error_description": terr.detail, "code": terr.code,
			})
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}

func (a *Authority) token(r *http.Request) (TokenResponse, *tokenError) {
	if r.Method != http.MethodPost {
		return TokenResponse{}, refuse(http.StatusMethodNotAllowed, "invalid_request", CodeMethodNotAllowed, "use POST")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return TokenResponse{}, refuse(http.StatusBadRequest, "invalid_request", CodeUnsupportedContentType, "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return TokenResponse{}, refuse(http.StatusBadRequest, "invalid_request", CodeMalformedRequest, "reading the form: %v", err)
	}
	f := r.PostForm
	for _, name := range []string{"grant_type", "client_assertion_type", "client_assertion", "scope"} {
		if len(f[name]) > 1 {
			return TokenResponse{}, refuse(http.StatusBadRequest, "invalid_request", CodeMalformedRequest, "%s given more than once", name)
		}
	}
	switch gt := f.Get("grant_type"); gt {
	case "":
		return TokenResponse{}, refuse(http.StatusBadRequest, "invalid_request", CodeMissingGrantType, "grant_type is required")
	case GrantClientCredentials:
	default:
		return TokenResponse{}, refuse(http.StatusBadRequest, "unsupported_grant_type", CodeUnsupportedGrantType, "grant_type %q is not supported; use client_credentials", trunc(gt))
	}
	if f.Get("client_secret") != "" || r.Header.Get("Authorization") != "" {
		return TokenResponse{}, badClient(CodeUnsupportedClientAuth, "client secrets are not accepted; authenticate with a private_key_jwt client assertion")
	}
	switch at := f.Get("client_assertion_type"); at {
	case AssertionTypeJWTBearer:
	case "":
		return TokenResponse{}, badClient(CodeMissingAssertion, "client_assertion_type and client_assertion are required")
	default:
		return TokenResponse{}, badClient(CodeUnsupportedAssertion, "client_assertion_type %q is not supported", trunc(at))
	}
	assertion := f.Get("client_assertion")
	if assertion == "" {
		return TokenResponse{}, badClient(CodeMissingAssertion, "client_assertion is required")
	}
	c, claims, terr := a.authenticate(r.Context(), assertion)
	if terr != nil {
		return TokenResponse{}, terr
	}
	scope, terr := grantScope(c, f.Get("scope"))
	if terr != nil {
		return TokenResponse{}, terr
	}
	if terr := a.markUsed(r.Context(), c, claims); terr != nil {
		return TokenResponse{}, terr
	}
	now := a.now()
	tok, _, err := a.mint(accessClaims{
		Client: c.ID, Role: c.Role, Scope: scope,
		IssuedAt: now.UnixMilli(), Expires: now.Add(a.cfg.AccessTokenTTL).UnixMilli(),
	})
	if err != nil {
		return TokenResponse{}, refuse(http.StatusServiceUnavailable, "temporarily_unavailable", CodeStateUnavailable, "issuing the token")
	}
	a.log.Info("access token issued", "client", c.ID, "scope", scope)
	return TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(a.cfg.AccessTokenTTL / time.Second), Scope: scope}, nil
}

// assertionClaims are the claims of a client assertion this handler reads.
type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
	Iat *json.Number    `json:"iat"`
	Nbf *json.Number    `json:"nbf"`
	JTI string          `json:"jti"`
}

// authenticate checks a client assertion and returns its client. The order matters:
// the header is judged before any key is touched, the signature before any claim is
// believed (only iss is read first, to find the key).
func (a *Authority) authenticate(ctx context.Context, assertion string) (*client, assertionClaims, *tokenError) {
	var claims assertionClaims
	if len(assertion) > 16<<10 {
		return nil, claims, badClient(CodeMalformedAssertion, "the assertion is larger than 16 KiB")
	}
	headB64, rest, ok1 := strings.Cut(assertion, ".")
	payloadB64, sigB64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sigB64, ".") {
		return nil, claims, badClient(CodeMalformedAssertion, "the assertion is not a compact JWS")
	}
	var head struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
		B64  *bool           `json:"b64"`
		Jku  string          `json:"jku"`
		Jwk  json.RawMessage `json:"jwk"`
		X5u  string          `json:"x5u"`
	}
	if err := decodeB64JSON(headB64, &head); err != nil {
		return nil, claims, badClient(CodeMalformedAssertion, "the assertion header: %v", err)
	}
	alg := jwa.SignatureAlgorithm(head.Alg)
	switch {
	case strings.EqualFold(head.Alg, "none"):
		return nil, claims, badClient(CodeAlgNone, "alg none is refused")
	case strings.HasPrefix(strings.ToUpper(head.Alg), "HS"):
		return nil, claims, badClient(CodeAlgHMAC, "HMAC algorithms are refused: sign with the client's private key")
	case !slices.Contains(assertionAlgs, alg):
		return nil, claims, badClient(CodeAlgUnsupported, "alg %q is not supported", trunc(head.Alg))
	case head.Crit != nil || head.B64 != nil:
		return nil, claims, badClient(CodeMalformedAssertion, "critical header extensions are not accepted")
	case head.Jku != "" || head.Jwk != nil || head.X5u != "":
		return nil, claims, badClient(CodeMalformedAssertion, "keys named in the header (jku, jwk, x5u) are not accepted")
	}
	if err := decodeB64JSON(payloadB64, &claims); err != nil {
		return nil, claims, badClient(CodeMalformedAssertion, "the assertion claims: %v", err)
	}
	if claims.Iss == "" {
		return nil, claims, badClient(CodeMissingIssuer, "iss (the client id) is required")
	}
	c, ok := a.clients[claims.Iss]
	if !ok {
		return nil, claims, badClient(CodeUnknownClient, "client %q is not registered", trunc(claims.Iss))
	}
	key, terr := a.assertionKey(ctx, c, head.Kid)
	if terr != nil {
		return nil, claims, terr
	}
	algs, err := algorithmsFor(key)
	if err != nil || !slices.Contains(algs, alg) {
		return nil, claims, badClient(CodeAlgKeyMismatch, "alg %s does not fit the client's key %q", alg, key.KeyID())
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, claims, badClient(CodeMalformedAssertion, "the assertion signature: %v", err)
	}
	verifier, err := jws.NewVerifier(alg)
	if err != nil {
		return nil, claims, badClient(CodeAlgUnsupported, "alg %s: %v", alg, err)
	}
	if err := verifier.Verify([]byte(assertion[:len(headB64)+1+len(payloadB64)]), sig, key); err != nil {
		return nil, claims, badClient(CodeBadSignature, "the signature does not verify with the key of client %q", c.ID)
	}
	if terr := a.checkClaims(c, claims); terr != nil {
		return nil, claims, terr
	}
	return c, claims, nil
}

// assertionAlgs are the algorithms an assertion may use.
var assertionAlgs = []jwa.SignatureAlgorithm{
	jwa.ES256, jwa.ES384, jwa.ES512, jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512, jwa.EdDSA,
}

func (a *Authority) assertionKey(ctx context.Context, c *client, kid string) (jwk.Key, *tokenError) {
	for attempt := range 2 {
		set, err := a.clientKeys(ctx, c, attempt == 1)
		if err != nil {
			return nil, refuse(http.StatusServiceUnavailable, "temporarily_unavailable", CodeClientKeysUnavailable, "the keys of client %q cannot be fetched now", c.ID)
		}
		if kid == "" {
			if set.Len() == 1 {
				k, _ := set.Key(0)
				return k, nil
			}
			return nil, badClient(CodeKIDRequired, "client %q has %d keys: name one with kid", c.ID, set.Len())
		}
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
		if c.JWKSURL == "" {
			break
		}
	}
	return nil, badClient(CodeUnknownKID, "client %q has no key %q", c.ID, trunc(kid))
}

func (a *Authority) checkClaims(c *client, cl assertionClaims) *tokenError {
	now := a.now()
	skew := a.cfg.ClockSkew
	if cl.Sub != cl.Iss {
		return badClient(CodeIssSubMismatch, "sub must equal iss (the client id)")
	}
	if aud, ok := singleAudience(cl.Aud); !ok || aud != a.cfg.TokenURL {
		return badClient(CodeWrongAudience, "aud must be exactly %q", a.cfg.TokenURL)
	}
	if cl.Exp == nil {
		return badClient(CodeMissingExp, "exp is required")
	}
	exp, ok := numericDate(cl.Exp)
	if !ok {
		return badClient(CodeMalformedAssertion, "exp is not a NumericDate")
	}
	if !now.Before(exp.Add(skew)) {
		return badClient(CodeAssertionExpired, "the assertion expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if exp.Sub(now) > MaxAssertionLifetime+skew {
		return badClient(CodeLifetimeTooLong, "exp is more than %s ahead", MaxAssertionLifetime)
	}
	for name, v := range map[string]*json.Number{"iat": cl.Iat, "nbf": cl.Nbf} {
		if v == nil {
			continue
		}
		t, ok := numericDate(v)
		if !ok {
			return badClient(CodeMalformedAssertion, "%s is not a NumericDate", name)
		}
		if t.After(now.Add(skew)) {
			return badClient(CodeNotYetValid, "%s is in the future", name)
		}
		if name == "iat" && exp.Sub(t) > MaxAssertionLifetime+skew {
			return badClient(CodeLifetimeTooLong, "exp - iat is more than %s", MaxAssertionLifetime)
		}
	}
	if cl.JTI == "" {
		return badClient(CodeMissingJTI, "jti is required")
	}
	if len(cl.JTI) > maxJTIBytes {
		return badClient(CodeMalformedAssertion, "jti is longer than %d bytes", maxJTIBytes)
	}
	return nil
}

// markUsed records the assertion's jti in the shared state until the assertion
// expires; a second use anywhere is refused.
func (a *Authority) markUsed(ctx context.Context, c *client, cl assertionClaims) *tokenError {
	exp, _ := numericDate(cl.Exp)
	ttl := exp.Sub(a.now()) + a.cfg.ClockSkew
	sum := sha256.Sum256([]byte(cl.JTI))
	key := "auth:jti:" + c.ID + ":" + hex.EncodeToString(sum[:16])
	_, created, err := a.state.PutIfAbsent(ctx, key, []byte(strconv.FormatInt(a.now().Unix(), 10)), ttl)
	if err != nil {
		a.log.Error("recording assertion jti", "client", c.ID, "err", err)
		return refuse(http.StatusServiceUnavailable, "temporarily_unavailable", CodeStateUnavailable, "the replay store is unavailable; retry")
	}
	if !created {
		return badClient(CodeReplayed, "this assertion (jti) was already used")
	}
	return nil
}

// grantScope returns the scope to grant: all the client may hold when none is asked
// for, else the requested scopes if the client may hold each.
func grantScope(c *client, requested string) (string, *tokenError) {
	if strings.TrimSpace(requested) == "" {
		return strings.Join(c.allowed, " "), nil
	}
	var out []string
	for _, s := range strings.Fields(requested) {
		if !scopeAllows(c.allowed, s) {
			return "", refuse(http.StatusBadRequest, "invalid_scope", CodeScopeNotAllowed, "client %q may not hold scope %q", c.ID, trunc(s))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " "), nil
}

// scopeAllows reports whether held grants want; verify:* covers every verify:<program>.
func scopeAllows(held []string, want string) bool {
	for _, h := range held {
		if h == want || (h == scopeVerifyAll && strings.HasPrefix(want, "verify:") && want != "verify:") {
			return true
		}
	}
	return false
}

func singleAudience(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return list[0], true
	}
	return "", false
}

func numericDate(n *json.Number) (time.Time, bool) {
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0), true
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(f*float64(time.Second))), true
}

func decodeB64JSON(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return errors.New("not base64url")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// trunc shortens client-supplied text echoed in an error.
func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
