package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/verihub/verihub/contracts"
)

// ClientIDMember is the JWK member naming the client a private key belongs to (the
// demo writes it into portal.jwk, admin.jwk, agency-<name>.jwk).
const ClientIDMember = "client_id"

// ClientIDOf returns the client_id member of a JWK, or "".
func ClientIDOf(key jwk.Key) string {
	v, ok := key.Get(ClientIDMember)
	if !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

// SignAssertion signs an RFC 7523 client assertion: iss = sub = clientID, aud =
// tokenURL, iat now, exp now + 60s, a random jti; alg from the key (its alg member,
// else ES256/ES384/ES512 by curve, RS256, EdDSA), kid from the key if it has one.
func SignAssertion(key jwk.Key, clientID, tokenURL string, now time.Time) (string, error) {
	alg, err := signingAlgorithm(key)
	if err != nil {
		return "", fmt.Errorf("signing assertion for %s: %w", clientID, err)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("signing assertion for %s: %w", clientID, err)
	}
	payload, err := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": tokenURL,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
	})
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	if kid := key.KeyID(); kid != "" {
		_ = h.Set(jws.KeyIDKey, kid)
	}
	_ = h.Set(jws.TypeKey, "JWT")
	tok, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("signing assertion for %s: %w", clientID, err)
	}
	return string(tok), nil
}

// TokenError is a refusal from a token endpoint.
type TokenError struct {
	Status      int
	OAuthError  string `json:"error"`
	Description string `json:"error_description"`
	Code        string `json:"code"`
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("token endpoint refused (%d %s, code %s): %s", e.Status, e.OAuthError, e.Code, e.Description)
}

// Is makes a refusal match contracts.ErrUnauthorized.
func (e *TokenError) Is(target error) bool { return target == contracts.ErrUnauthorized }

// FetchToken signs an assertion with key and exchanges it at tokenURL for an access
// token, asking for scope (all the client may hold when "").
func FetchToken(ctx context.Context, hc *http.Client, tokenURL string, key jwk.Key, clientID, scope string) (TokenResponse, error) {
	assertion, err := SignAssertion(key, clientID, tokenURL, time.Now())
	if err != nil {
		return TokenResponse{}, err
	}
	form := url.Values{
		"grant_type":            {GrantClientCredentials},
		"client_assertion_type": {AssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return TokenResponse{}, fmt.Errorf("requesting token at %s: %w", tokenURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return TokenResponse{}, fmt.Errorf("requesting token at %s: %w", tokenURL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return TokenResponse{}, fmt.Errorf("reading token response from %s: %w", tokenURL, err)
	}
	if res.StatusCode != http.StatusOK {
		te := &TokenError{Status: res.StatusCode}
		if json.Unmarshal(body, te) != nil || te.OAuthError == "" {
			return TokenResponse{}, fmt.Errorf("requesting token at %s: status %d", tokenURL, res.StatusCode)
		}
		return TokenResponse{}, te
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return TokenResponse{}, fmt.Errorf("reading token response from %s: %w", tokenURL, err)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return TokenResponse{}, errors.New("token response has no bearer access_token")
	}
	return tr, nil
}

// TokenSource keeps a client's access token fresh: it fetches one with FetchToken and
// fetches again once three quarters of its lifetime have passed. It is safe for
// concurrent use.
type TokenSource struct {
	HTTP     *http.Client // default http.DefaultClient
	URL      string       // the token endpoint
	Key      jwk.Key      // the client's private key
	ClientID string
	Scope    string // "" for every scope the client has

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// Token returns a valid access token.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Before(s.renewAt) {
		return s.token, nil
	}
	hc := s.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	tr, err := FetchToken(ctx, hc, s.URL, s.Key, s.ClientID, s.Scope)
	if err != nil {
		return "", fmt.Errorf("getting an access token for %s: %w", s.ClientID, err)
	}
	s.token, s.renewAt = tr.AccessToken, time.Now().Add(time.Duration(tr.ExpiresIn)*time.Second*3/4)
	return s.token, nil
}
