package signing

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/contracts"
)

// Config configures a Signer. It decodes from YAML.
type Config struct {
	// Dir is the key set directory (hub keys generate --dir DIR).
	Dir string `yaml:"dir"`
	// Issuer is the iss claim of every result, normally the hub's external URL.
	Issuer string `yaml:"issuer"`
	// TTL is the lifetime of a result token (default 24h). It may not exceed the key
	// set's maximum token lifetime, or rotation could unpublish a key too early.
	TTL time.Duration `yaml:"ttl"`
	// Reload is how often Run re-reads the key set to pick up rotations (default 30s).
	Reload time.Duration `yaml:"reload"`
}

// DefaultTTL is the default lifetime of a result token.
const DefaultTTL = 24 * time.Hour

// WithDefaults returns the configuration with zero fields defaulted.
func (c Config) WithDefaults() Config {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.Reload == 0 {
		c.Reload = 30 * time.Second
	}
	return c
}

// Validate reports the first problem with the (defaulted) configuration.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Dir == "":
		return errors.New("signing: dir is required")
	case c.Issuer == "":
		return errors.New("signing: issuer is required")
	case c.TTL < time.Minute:
		return fmt.Errorf("signing: ttl %s is below 1m", c.TTL)
	case c.Reload < time.Second:
		return fmt.Errorf("signing: reload %s is below 1s", c.Reload)
	}
	return nil
}

// Signer signs verification results with the active key of a key set and serves the
// key set's public keys. It is safe for concurrent use; Reload and Run swap keys
// atomically, so a rotation on disk takes effect without a restart.
type Signer struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	keys atomic.Pointer[loadedKeys]
}

// NewSigner loads the key set named by cfg.
func NewSigner(cfg Config, log *slog.Logger) (*Signer, error) {
	return newSigner(cfg, log, time.Now)
}

func newSigner(cfg Config, log *slog.Logger, now func() time.Time) (*Signer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Signer{cfg: cfg.WithDefaults(), log: log, now: now}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the key set. On error the keys in use stay as they were.
func (s *Signer) Reload() error {
	lk, err := load(s.cfg.Dir, s.now())
	if err != nil {
		return err
	}
	if s.cfg.TTL > lk.maxTTL {
		return fmt.Errorf("signing: ttl %s exceeds the key set's max token lifetime %s", s.cfg.TTL, lk.maxTTL)
	}
	if old := s.keys.Swap(lk); old != nil && old.kid != lk.kid {
		s.log.Info("signing key rotated", "kid", lk.kid, "previous_kid", old.kid)
	}
	return nil
}

// Run reloads the key set every cfg.Reload until ctx ends. A failed reload is logged
// and the previous keys stay in use. It returns nil when ctx ends.
func (s *Signer) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Reload(); err != nil {
				s.log.Warn("reloading signing keys", "dir", s.cfg.Dir, "err", err)
			}
		}
	}
}

// KeyID returns the kid of the active key.
func (s *Signer) KeyID() string { return s.keys.Load().kid }

// PublicKeys returns the published public keys (the JWKS).
func (s *Signer) PublicKeys() jwk.Set { return s.keys.Load().public }

// Sign returns claims as a compact JWS (alg ES256, typ JWT, kid of the active key).
// It fills the defaults: iss the configured issuer, iat now, exp iat + TTL, jti a
// random 128-bit id. It refuses claims without sub, aud or program, a decision
// outside the three, and an exp beyond iat + TTL.
func (s *Signer) Sign(claims contracts.ResultClaims) (string, error) {
	lk := s.keys.Load()
	now := s.now().UTC().Truncate(time.Second)
	if claims.Issuer == "" {
		claims.Issuer = s.cfg.Issuer
	}
	if claims.IssuedAt.IsZero() {
		claims.IssuedAt = now
	}
	if claims.ExpiresAt.IsZero() {
		claims.ExpiresAt = claims.IssuedAt.Add(s.cfg.TTL)
	}
	if claims.ID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("signing result: jti: %w", err)
		}
		claims.ID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	switch {
	case claims.Subject == "":
		return "", errors.New("signing result: sub is required")
	case claims.Audience == "":
		return "", errors.New("signing result: aud is required")
	case claims.Program == "":
		return "", errors.New("signing result: program is required")
	case claims.Decision != contracts.DecisionEligible && claims.Decision != contracts.DecisionIneligible &&
		claims.Decision != contracts.DecisionInsufficientData:
		return "", fmt.Errorf("signing result: decision %q is not one of eligible, ineligible, insufficient_data", claims.Decision)
	case !claims.ExpiresAt.After(claims.IssuedAt):
		return "", errors.New("signing result: exp is not after iat")
	case claims.ExpiresAt.Sub(claims.IssuedAt) > s.cfg.TTL:
		return "", fmt.Errorf("signing result: lifetime %s exceeds %s", claims.ExpiresAt.Sub(claims.IssuedAt), s.cfg.TTL)
	}
	payload, err := claims.Encode()
	if err != nil {
		return "", fmt.Errorf("signing result: encoding claims: %w", err)
	}
	return lk.sign(payload)
}

// sign makes the compact JWS of payload with the active key: the protected header
// is fixed per key (encoded once at load), the signature is ES256 as RFC 7518 §3.4
// defines it — ECDSA P-256 over SHA-256 of the signing input, r and s as 32-byte
// big-endian integers. Any JOSE library verifies it (the interop tests check that).
func (lk *loadedKeys) sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	n := len(lk.header) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, 0, n+1+enc.EncodedLen(64))
	buf = append(buf, lk.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	r, sg, err := ecdsa.Sign(rand.Reader, lk.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing result with key %s: %w", lk.kid, err)
	}
	var sig [64]byte
	r.FillBytes(sig[:32])
	sg.FillBytes(sig[32:])
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig[:])
	return string(buf), nil
}
