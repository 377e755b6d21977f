package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/contracts"
)

// Role is what kind of client a client is.
type Role string

const (
	RolePortal Role = "portal" // a subsidy portal: verifies, may push grant awards
	RoleAgency Role = "agency" // an agency: pushes its own feed
	RoleAdmin  Role = "admin"  // an administrator: the admin API and console
)

// Scopes. A portal holds verify:<program> for each program it may verify (verify:*
// for all) and push:grant if it may push awards; an agency holds push:<agency>; an
// administrator holds admin.
const (
	ScopeAdmin     = "admin"
	scopeVerifyAll = "verify:*"
)

// ScopeVerify is the scope to verify subjects under a program.
func ScopeVerify(program string) string { return "verify:" + program }

// ScopePush is the scope to push an agency's feed.
func ScopePush(agency string) string { return "push:" + agency }

// Defaults.
const (
	DefaultAccessTokenTTL    = 10 * time.Minute
	DefaultClockSkew         = 30 * time.Second
	DefaultRevocationRefresh = 5 * time.Second
	// MaxAssertionLifetime is the longest a client assertion may live (SPEC §3).
	MaxAssertionLifetime = 5 * time.Minute
	// MinSecretBytes is the shortest access-token secret accepted.
	MinSecretBytes = 32
)

// Config is the auth section of the hub configuration. It decodes from YAML.
type Config struct {
	// TokenURL is the external URL of POST /oauth/token; an assertion's aud must be
	// exactly this.
	TokenURL string `yaml:"token_url"`
	// AccessTokenTTL is the lifetime of an access token (default 10m, at most 1h).
	AccessTokenTTL time.Duration `yaml:"access_token_ttl"`
	// ClockSkew is the leeway on assertion times (default 30s, at most 2m).
	ClockSkew time.Duration `yaml:"clock_skew"`
	// SecretEnv or SecretFile names where the access-token MAC secret (at least 32
	// bytes, the same for every hub process) is read from. Never inline.
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	// RevocationRefresh is how often revocations written by other hub processes are
	// read (default 5s).
	RevocationRefresh time.Duration `yaml:"revocation_refresh"`
	// RateLimit is the per-client request rate of every client without its own.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Clients is the client registry.
	Clients []ClientConfig `yaml:"clients"`
}

// RateLimit is a token bucket: PerSecond sustained, Burst at once.
type RateLimit struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

// DefaultRateLimit applies when the configuration sets none.
var defaultRateLimit = RateLimit{PerSecond: 50, Burst: 100}

// ClientConfig registers one client.
type ClientConfig struct {
	ID   string `yaml:"id"`
	Role Role   `yaml:"role"`
	// Keys are public JWKs inline (a YAML mapping or JSON object each).
	Keys []map[string]any `yaml:"keys"`
	// KeyFiles are files holding a public JWK or a JWKS.
	KeyFiles []string `yaml:"key_files"`
	// JWKSURL is fetched and cached (agencies only).
	JWKSURL string `yaml:"jwks_url"`
	// Programs a portal may verify ("*" for every program).
	Programs []string `yaml:"programs"`
	// PushGrant lets a portal push grant awards.
	PushGrant bool `yaml:"push_grant"`
	// Feed is the agency whose feed an agency client pushes.
	Feed string `yaml:"feed"`
	// RateLimit overrides Config.RateLimit for this client.
	RateLimit *RateLimit `yaml:"rate_limit"`
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// WithDefaults returns the configuration with zero fields defaulted.
func (c Config) WithDefaults() Config {
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.RevocationRefresh == 0 {
		c.RevocationRefresh = DefaultRevocationRefresh
	}
	if c.RateLimit == (RateLimit{}) {
		c.RateLimit = defaultRateLimit
	}
	return c
}

// Validate reports every problem with the (defaulted) configuration. It reads no
// files; New does.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if u, err := url.Parse(c.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("auth: token_url %q is not an absolute http(s) URL", c.TokenURL))
	}
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > time.Hour {
		errs = append(errs, fmt.Errorf("auth: access_token_ttl %s is outside 1m..1h", c.AccessTokenTTL))
	}
	if c.ClockSkew < 0 || c.ClockSkew > 2*time.Minute {
		errs = append(errs, fmt.Errorf("auth: clock_skew %s is outside 0..2m", c.ClockSkew))
	}
	if c.RevocationRefresh < 100*time.Millisecond || c.RevocationRefresh > time.Minute {
		errs = append(errs, fmt.Errorf("auth: revocation_refresh %s is outside 100ms..1m", c.RevocationRefresh))
	}
	if (c.SecretEnv == "") == (c.SecretFile == "") {
		errs = append(errs, errors.New("auth: exactly one of secret_env and secret_file is required"))
	}
	if err := c.RateLimit.validate(); err != nil {
		errs = append(errs, fmt.Errorf("auth: rate_limit: %w", err))
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		if seen[cl.ID] {
			errs = append(errs, fmt.Errorf("auth: clients[%d]: duplicate id %q", i, cl.ID))
		}
		seen[cl.ID] = true
		if err := cl.validate(); err != nil {
			errs = append(errs, fmt.Errorf("auth: clients[%d] (%s): %w", i, cl.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (r RateLimit) validate() error {
	if r.PerSecond <= 0 || r.Burst < 1 {
		return fmt.Errorf("per_second %v and burst %d must both be positive", r.PerSecond, r.Burst)
	}
	return nil
}

func (cl ClientConfig) validate() error {
	var errs []error
	if !clientIDPattern.MatchString(cl.ID) {
		errs = append(errs, fmt.Errorf("id %q must match %s", cl.ID, clientIDPattern))
	}
	if len(cl.Keys)+len(cl.KeyFiles) == 0 && cl.JWKSURL == "" {
		errs = append(errs, errors.New("no keys, key_files or jwks_url"))
	}
	if cl.JWKSURL != "" {
		if cl.Role != RoleAgency {
			errs = append(errs, errors.New("jwks_url is for agencies only"))
		}
		if u, err := url.Parse(cl.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("jwks_url %q is not an absolute http(s) URL", cl.JWKSURL))
		}
	}
	switch cl.Role {
	case RolePortal:
		if len(cl.Programs) == 0 {
			errs = append(errs, errors.New("a portal needs programs (or \"*\")"))
		}
		if cl.Feed != "" {
			errs = append(errs, errors.New("feed is for agencies; a portal pushes grant with push_grant"))
		}
	case RoleAgency:
		if !slices.Contains(contracts.Agencies, cl.Feed) {
			errs = append(errs, fmt.Errorf("feed %q is not one of %s", cl.Feed, strings.Join(contracts.Agencies, ", ")))
		}
		if len(cl.Programs) > 0 || cl.PushGrant {
			errs = append(errs, errors.New("programs and push_grant are for portals"))
		}
	case RoleAdmin:
		if len(cl.Programs) > 0 || cl.PushGrant || cl.Feed != "" {
			errs = append(errs, errors.New("an admin takes no programs, push_grant or feed"))
		}
	default:
		errs = append(errs, fmt.Errorf("role %q is not portal, agency or admin", cl.Role))
	}
	if cl.RateLimit != nil {
		if err := cl.RateLimit.validate(); err != nil {
			errs = append(errs, fmt.Errorf("rate_limit: %w", err))
		}
	}
	return errors.Join(errs...)
}

// scopes returns every scope the client may hold.
func (cl ClientConfig) scopes() []string {
	switch cl.Role {
	case RolePortal:
		var s []string
		for _, p := range cl.Programs {
			if p == "*" {
				s = append(s, scopeVerifyAll)
			} else {
				s = append(s, ScopeVerify(p))
			}
		}
		if cl.PushGrant {
			s = append(s, ScopePush(contracts.AgencyGrant))
		}
		return s
	case RoleAgency:
		return []string{ScopePush(cl.Feed)}
	case RoleAdmin:
		return []string{ScopeAdmin}
	}
	return nil
}

// staticKeys reads the client's inline keys and key files into a set of public keys.
// It refuses private and symmetric keys: the hub holds no client secret.
func (cl ClientConfig) staticKeys() (jwk.Set, error) {
	set := jwk.NewSet()
	add := func(where string, k jwk.Key) error {
		if err := checkClientKey(k); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		return set.AddKey(k)
	}
	for i, m := range cl.Keys {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		k, err := jwk.ParseKey(b)
		if err != nil {
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		if err := add(fmt.Sprintf("keys[%d]", i), k); err != nil {
			return nil, err
		}
	}
	for _, f := range cl.KeyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading key file: %w", err)
		}
		s, err := jwk.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("reading key file %q: %w", f, err)
		}
		for i := range s.Len() {
			k, _ := s.Key(i)
			if err := add(f, k); err != nil {
				return nil, err
			}
		}
	}
	return set, nil
}

// checkClientKey refuses keys a client may not register.
func checkClientKey(k jwk.Key) error {
	if priv, err := jwk.IsPrivateKey(k); err != nil {
		return fmt.Errorf("%s key: %w", k.KeyType(), err)
	} else if priv {
		return errors.New("a private key: register the public key only")
	}
	if _, err := algorithmsFor(k); err != nil {
		return err
	}
	return nil
}

// Secret reads the access-token MAC secret from the configured env var or file.
func (c Config) Secret() ([]byte, error) {
	var b []byte
	switch {
	case c.SecretEnv != "":
		b = []byte(os.Getenv(c.SecretEnv))
		if len(b) == 0 {
			return nil, fmt.Errorf("auth: env %s is empty", c.SecretEnv)
		}
	case c.SecretFile != "":
		var err error
		if b, err = os.ReadFile(c.SecretFile); err != nil {
			return nil, fmt.Errorf("auth: reading secret: %w", err)
		}
	default:
		return nil, errors.New("auth: no secret_env or secret_file")
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < MinSecretBytes {
		return nil, fmt.Errorf("auth: secret is %d bytes, need at least %d", len(b), MinSecretBytes)
	}
	return b, nil
}
