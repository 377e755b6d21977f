package hubtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/hub/auth"
)

// Client is an API client registered with the hubs of a test: its private key stays
// here, its public key goes into the configuration's auth.clients. One Client works
// with every hub process sharing the access-token secret.
type Client struct {
	ID       string
	Role     auth.Role
	Programs []string // portals: the programs it may verify ("*" for all)
	key      jwk.Key
	public   map[string]any
	http     *http.Client

	mu      sync.Mutex
	tokens  map[string]string // hub base URL → access token
	expires map[string]time.Time
}

// NewClient creates a client with a fresh P-256 key.
func NewClient(t testing.TB, id string, role auth.Role, programs ...string) *Client {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := jwk.AssignKeyID(priv); err != nil {
		t.Fatal(err)
	}
	pub, err := priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &Client{ID: id, Role: role, Programs: programs, key: priv, public: m,
		http:   &http.Client{Timeout: 30 * time.Second},
		tokens: map[string]string{}, expires: map[string]time.Time{}}
}

// registration is the client's entry in auth.clients.
func (c *Client) registration() map[string]any {
	m := map[string]any{"id": c.ID, "role": string(c.Role), "keys": []any{c.public},
		"rate_limit": map[string]any{"per_second": 10000, "burst": 10000}}
	if len(c.Programs) > 0 {
		m["programs"] = c.Programs
	}
	return m
}

// Token returns an access token from the hub at baseURL, reusing one until a minute
// before it expires.
func (c *Client) Token(ctx context.Context, baseURL string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok, ok := c.tokens[baseURL]; ok && time.Until(c.expires[baseURL]) > time.Minute {
		return tok, nil
	}
	tr, err := auth.FetchToken(ctx, c.http, baseURL+"/oauth/token", c.key, c.ID, "")
	if err != nil {
		return "", fmt.Errorf("token for %s from %s: %w", c.ID, baseURL, err)
	}
	c.tokens[baseURL] = tr.AccessToken
	c.expires[baseURL] = time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	return tr.AccessToken, nil
}

// Do sends a request with the client's bearer token and returns the status and body.
// body may be nil; a non-nil body is sent as JSON.
func (c *Client) Do(ctx context.Context, baseURL, method, path string, body any) (int, []byte, error) {
	tok, err := c.Token(ctx, baseURL)
	if err != nil {
		return 0, nil, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// GetJSON GETs path and decodes a 200 answer into v.
func (c *Client) GetJSON(ctx context.Context, baseURL, path string, v any) error {
	status, b, err := c.Do(ctx, baseURL, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s%s: %d %s", baseURL, path, status, tail(string(b), 500))
	}
	return json.Unmarshal(b, v)
}
