package signing

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/verihub/verihub/contracts"
)

// Errors Verify returns. Every one matches ErrInvalidToken, which matches
// contracts.ErrUnauthorized.
var (
	ErrInvalidToken = fmt.Errorf("invalid result token: %w", contracts.ErrUnauthorized)
	ErrMalformed    = fmt.Errorf("%w: malformed", ErrInvalidToken)
	ErrAlgorithm    = fmt.Errorf("%w: algorithm not ES256", ErrInvalidToken)
	ErrUnknownKey   = fmt.Errorf("%w: unknown key", ErrInvalidToken)
	ErrSignature    = fmt.Errorf("%w: bad signature", ErrInvalidToken)
	ErrExpired      = fmt.Errorf("%w: expired", ErrInvalidToken)
	ErrNotYetValid  = fmt.Errorf("%w: issued in the future", ErrInvalidToken)
)

// ClockSkew is the leeway Verify allows on exp and iat.
const ClockSkew = time.Minute

// MaxTokenBytes bounds the size of a token Verify reads.
const MaxTokenBytes = 256 << 10

// Verify checks a result token against a key set — the hub's JWKS — and returns its
// claims: compact serialization, alg ES256, a kid naming an EC P-256 key of the set,
// a valid signature, not expired and not issued in the future (ClockSkew leeway). It
// does not decide whether the audience or issuer are the ones the caller expects.
func Verify(token string, set jwk.Set) (contracts.ResultClaims, error) {
	return verifyAt(token, set, time.Now())
}

func verifyAt(token string, set jwk.Set, now time.Time) (contracts.ResultClaims, error) {
	var zero contracts.ResultClaims
	token = strings.TrimSpace(token)
	if len(token) > MaxTokenBytes {
		return zero, fmt.Errorf("%w: %d bytes", ErrMalformed, len(token))
	}
	headB64, rest, ok1 := strings.Cut(token, ".")
	payloadB64, sigB64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sigB64, ".") {
		return zero, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	headJSON, err := base64.RawURLEncoding.DecodeString(headB64)
	if err != nil {
		return zero, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var head struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Typ  string          `json:"typ"`
		Crit json.RawMessage `json:"crit"`
		B64  *bool           `json:"b64"`
	}
	if err := json.Unmarshal(headJSON, &head); err != nil {
		return zero, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	switch {
	case head.Alg != jwa.ES256.String():
		return zero, fmt.Errorf("%w: %q", ErrAlgorithm, head.Alg)
	case head.Kid == "":
		return zero, fmt.Errorf("%w: no kid", ErrUnknownKey)
	case head.Crit != nil || head.B64 != nil:
		return zero, fmt.Errorf("%w: critical header extensions are not accepted", ErrMalformed)
	case head.Typ != "" && !strings.EqualFold(head.Typ, "JWT"):
		return zero, fmt.Errorf("%w: typ %q", ErrMalformed, head.Typ)
	}
	key, ok := set.LookupKeyID(head.Kid)
	if !ok {
		return zero, fmt.Errorf("%w: kid %q", ErrUnknownKey, head.Kid)
	}
	if alg := key.Algorithm().String(); alg != "" && alg != jwa.ES256.String() {
		return zero, fmt.Errorf("%w: key %q is for %s", ErrAlgorithm, head.Kid, alg)
	}
	if key.KeyType() != jwa.EC {
		return zero, fmt.Errorf("%w: key %q is %s, not EC", ErrUnknownKey, head.Kid, key.KeyType())
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigB64)
	if err != nil {
		return zero, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	verifier, err := jws.NewVerifier(jwa.ES256)
	if err != nil {
		return zero, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if err := verifier.Verify([]byte(token[:len(headB64)+1+len(payloadB64)]), sig, key); err != nil {
		return zero, fmt.Errorf("%w: key %q", ErrSignature, head.Kid)
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadB64)
	if err != nil {
		return zero, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	var claims contracts.ResultClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return zero, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	switch {
	case claims.ExpiresAt.IsZero():
		return zero, fmt.Errorf("%w: no exp", ErrMalformed)
	case !now.Before(claims.ExpiresAt.Add(ClockSkew)):
		return zero, fmt.Errorf("%w: at %s", ErrExpired, claims.ExpiresAt.Format(time.RFC3339))
	case claims.IssuedAt.After(now.Add(ClockSkew)):
		return zero, fmt.Errorf("%w: iat %s", ErrNotYetValid, claims.IssuedAt.Format(time.RFC3339))
	}
	return claims, nil
}
