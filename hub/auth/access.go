package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Access tokens are "vh1.<payload>.<mac>", both parts base64url: the payload is a
// small JSON object and the MAC is HMAC-SHA-256 under a key derived from the shared
// secret. Checking one costs a MAC and a JSON decode of ~150 bytes — no signature
// verification and no round trip — so it runs on every request.
const accessPrefix = "vh1."

// accessClaims is an access token's payload.
type accessClaims struct {
	Client   string `json:"c"`
	Role     Role   `json:"r"`
	Scope    string `json:"s"`
	IssuedAt int64  `json:"i"` // Unix milliseconds
	Expires  int64  `json:"e"` // Unix milliseconds
	ID       string `json:"j"`
	// Session marks a console session's token (Login): EndSession can end it alone,
	// and every use looks for that end in the shared state.
	Session bool `json:"x,omitempty"`
}

// Errors of checking an access token.
var (
	errTokenInvalid = errors.New("invalid access token")
	errTokenExpired = errors.New("access token expired")
	errTokenRevoked = errors.New("access token revoked")
	errStateDown    = errors.New("the session store is unavailable")
)

// macKey derives the access-token MAC key from the shared secret, so the secret
// itself is never used directly and could serve other purposes without overlap.
func macKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("verihub access token v1"))
	return m.Sum(nil)
}

// mint returns a new access token for claims (ID filled in).
func (a *Authority) mint(c accessClaims) (string, accessClaims, error) {
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", c, err
	}
	c.ID = base64.RawURLEncoding.EncodeToString(id[:])
	payload, err := json.Marshal(c)
	if err != nil {
		return "", c, err
	}
	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(len(accessPrefix) + enc.EncodedLen(len(payload)) + 1 + enc.EncodedLen(sha256.Size))
	b.WriteString(accessPrefix)
	b.WriteString(enc.EncodeToString(payload))
	signed := b.String()
	m := hmac.New(sha256.New, a.macKey)
	m.Write([]byte(signed))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(m.Sum(nil)))
	return b.String(), c, nil
}

// check authenticates an access token at now: MAC, expiry, revocation.
func (a *Authority) check(token string, now time.Time) (accessClaims, error) {
	var c accessClaims
	if len(token) > 2048 || !strings.HasPrefix(token, accessPrefix) {
		return c, errTokenInvalid
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(accessPrefix) {
		return c, errTokenInvalid
	}
	signed, macB64 := token[:dot], token[dot+1:]
	var got [sha256.Size]byte
	if len(macB64) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return c, errTokenInvalid
	}
	if n, err := base64.RawURLEncoding.Decode(got[:], []byte(macB64)); err != nil || n != sha256.Size {
		return c, errTokenInvalid
	}
	m := hmac.New(sha256.New, a.macKey)
	m.Write([]byte(signed))
	if !hmac.Equal(m.Sum(nil), got[:]) {
		return c, errTokenInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(signed[len(accessPrefix):])
	if err != nil {
		return c, errTokenInvalid
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Client == "" {
		return c, errTokenInvalid
	}
	if _, registered := a.clients[c.Client]; !registered {
		return c, errTokenRevoked // removed from the registry since
	}
	if now.UnixMilli() >= c.Expires {
		return c, errTokenExpired
	}
	if before, ok := a.revokedBefore(c.Client); ok && c.IssuedAt <= before {
		return c, errTokenRevoked
	}
	return c, nil
}
