package hub

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/bus/embedded"
	"github.com/verihub/verihub/hub/signing"
	"github.com/verihub/verihub/matching/boltstore"
	"github.com/verihub/verihub/matching/redisstore"
	"github.com/verihub/verihub/matching/rules"
)

// Config is the whole hub configuration: one YAML document, decoded strictly
// (unknown keys are errors). Each part is owned by its package; secrets are named
// by environment variable or file, never inline.
type Config struct {
	// DataDir holds what an embedded hub keeps on disk: the broker log, the store,
	// signing keys and generated secrets. Default "data".
	DataDir    string              `yaml:"data_dir"`
	HTTP       HTTPConfig          `yaml:"http"`
	Bus        BusConfig           `yaml:"bus"`
	Store      StoreConfig         `yaml:"store"`
	PII        SecretRef           `yaml:"pii"`
	Signing    signing.Config      `yaml:"signing"`
	Auth       auth.Config         `yaml:"auth"`
	Rules      rules.Overrides     `yaml:"rules"`
	Validation ValidationConfig    `yaml:"validation"`
	Matching   MatchingConfig      `yaml:"matching"`
	Connectors []connectors.Config `yaml:"connectors"`
	Log        LogConfig           `yaml:"log"`
}

// HTTPConfig is the API listener.
type HTTPConfig struct {
	// Addr to listen on (default 127.0.0.1:8080).
	Addr string `yaml:"addr"`
	// ExternalURL is how clients reach the hub (default http://Addr); the token
	// endpoint audience is ExternalURL + "/oauth/token".
	ExternalURL string `yaml:"external_url"`
	// MaxBodyBytes bounds request bodies (default 16 MiB: a feed batch of 1,000
	// records).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ShutdownTimeout bounds the graceful stop (default 20s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// DebugAddr, when set, serves Go's net/http/pprof profiles on this loopback
	// address (e.g. 127.0.0.1:6060), without authentication: for measuring the
	// hub under load. Empty (default) serves none.
	DebugAddr string `yaml:"debug_addr"`
}

// BusConfig is the Kafka connection. With no brokers the hub starts the embedded
// Kafka-protocol broker and talks to it with the same client code.
type BusConfig struct {
	bus.Config `yaml:",inline"`
	Embedded   embedded.Config `yaml:"embedded"`
}

// IsEmbedded reports whether the hub runs its own broker.
func (c BusConfig) IsEmbedded() bool { return len(c.Brokers) == 0 }

// StoreConfig chooses the profile store.
type StoreConfig struct {
	// Kind is "embedded" (default) or "redis".
	Kind     string            `yaml:"kind"`
	Embedded boltstore.Config  `yaml:"embedded"`
	Redis    redisstore.Config `yaml:"redis"`
	// RedisPasswordEnv names an environment variable holding the Redis password.
	RedisPasswordEnv string `yaml:"redis_password_env"`
}

// SecretRef names where a secret comes from.
type SecretRef struct {
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
}

// ValidationConfig tunes record validation.
type ValidationConfig struct {
	// LegacyUSCC lists early pilot codes that fail only the USCC check and are
	// accepted with a legacy_checksum warning.
	LegacyUSCC []string `yaml:"legacy_uscc"`
}

// MatchingConfig tunes the consumer that applies records to profiles.
type MatchingConfig struct {
	// Group is the Kafka consumer group (default "verihub-matching"): every hub
	// process in a deployment uses the same one, so they share the partitions.
	Group string `yaml:"group"`
	// Disabled runs a process that serves the API without applying records.
	Disabled bool `yaml:"disabled"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info (default) | warn | error
	Format string `yaml:"format"` // text (default) | json
}

// LoadConfig reads and strictly decodes a YAML configuration file, applies defaults
// and validates it.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig strictly decodes YAML, applies defaults and validates.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("decoding: %w", err)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = "127.0.0.1:8080"
	}
	if c.HTTP.ExternalURL == "" {
		c.HTTP.ExternalURL = "http://" + c.HTTP.Addr
	}
	c.HTTP.ExternalURL = strings.TrimRight(c.HTTP.ExternalURL, "/")
	if c.HTTP.MaxBodyBytes == 0 {
		c.HTTP.MaxBodyBytes = 16 << 20
	}
	if c.HTTP.ShutdownTimeout == 0 {
		c.HTTP.ShutdownTimeout = 20 * time.Second
	}
	if c.Bus.IsEmbedded() {
		if c.Bus.Embedded.DataDir == "" {
			c.Bus.Embedded.DataDir = filepath.Join(c.DataDir, "broker")
		}
		if c.Bus.Embedded.Addr == "" {
			c.Bus.Embedded.Addr = embedded.DefaultAddr
		}
		if c.Bus.AuditPartitions == 0 {
			// Every verification waits for its audit write; on one broker and one
			// disk each partition's batch is a separate fsync, so one partition
			// batches them best (ordering is per subject either way).
			c.Bus.AuditPartitions = 1
		}
	}
	if c.Store.Kind == "" {
		c.Store.Kind = "embedded"
	}
	if c.Store.Kind == "embedded" && c.Store.Embedded.Dir == "" {
		c.Store.Embedded.Dir = filepath.Join(c.DataDir, "store")
	}
	if c.Signing.Dir == "" {
		c.Signing.Dir = filepath.Join(c.DataDir, "keys")
	}
	if c.Signing.Issuer == "" {
		c.Signing.Issuer = c.HTTP.ExternalURL
	}
	c.Signing = c.Signing.WithDefaults()
	if c.Bus.IsEmbedded() {
		// One machine, nothing to set up: secrets are generated once under the data
		// directory (ensureSecret) unless configured.
		if c.PII.SecretEnv == "" && c.PII.SecretFile == "" {
			c.PII.SecretFile = filepath.Join(c.DataDir, "secrets", "pii.key")
		}
		if c.Auth.SecretEnv == "" && c.Auth.SecretFile == "" {
			c.Auth.SecretFile = filepath.Join(c.DataDir, "secrets", "access.key")
		}
	}
	if c.Auth.TokenURL == "" {
		c.Auth.TokenURL = c.HTTP.ExternalURL + "/oauth/token"
	}
	c.Auth = c.Auth.WithDefaults()
	if c.Matching.Group == "" {
		c.Matching.Group = "verihub-matching"
	}
	for i := range c.Connectors {
		c.Connectors[i] = c.Connectors[i].WithDefaults()
	}
	return c
}

// Validate checks every part; the error names the part.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		errs = append(errs, fmt.Errorf("http.addr: %w", err))
	}
	if c.HTTP.DebugAddr != "" {
		host, _, err := net.SplitHostPort(c.HTTP.DebugAddr)
		if ip := net.ParseIP(host); err == nil && (ip == nil || !ip.IsLoopback()) {
			err = fmt.Errorf("%q is not a loopback address (profiles are served without authentication)", host)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("http.debug_addr: %w", err))
		}
	}
	if !c.Bus.IsEmbedded() {
		if err := c.Bus.Config.WithDefaults().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("bus: %w", err))
		}
	}
	switch c.Store.Kind {
	case "embedded":
		if err := c.Store.Embedded.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("store.embedded: %w", err))
		}
	case "redis":
		if err := c.Store.Redis.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("store.redis: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("store.kind: %q is not embedded or redis", c.Store.Kind))
	}
	if !c.Bus.IsEmbedded() && c.Store.Kind == "embedded" {
		errs = append(errs, errors.New("store.kind: a hub on a Kafka cluster needs the shared redis store (each process would otherwise keep its own profiles)"))
	}
	if err := c.Signing.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("signing: %w", err))
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("auth: %w", err))
	}
	if _, err := rules.Load(c.Rules); err != nil {
		errs = append(errs, fmt.Errorf("rules: %w", err))
	}
	names := map[string]bool{}
	for i, cc := range c.Connectors {
		if err := cc.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("connectors[%d]: %w", i, err))
		}
		if names[cc.Name] {
			errs = append(errs, fmt.Errorf("connectors[%d]: duplicate name %q", i, cc.Name))
		}
		names[cc.Name] = true
	}
	if c.PII.SecretEnv != "" && c.PII.SecretFile != "" {
		errs = append(errs, errors.New("pii: give secret_env or secret_file, not both"))
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q", c.Log.Level))
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q", c.Log.Format))
	}
	return errors.Join(errs...)
}

// readSecret returns the secret a SecretRef names (at least 32 bytes).
func readSecret(ref SecretRef, name string) ([]byte, error) {
	var b []byte
	switch {
	case ref.SecretEnv != "":
		b = []byte(os.Getenv(ref.SecretEnv))
	case ref.SecretFile != "":
		var err error
		if b, err = os.ReadFile(ref.SecretFile); err != nil {
			return nil, fmt.Errorf("%s secret: %w", name, err)
		}
		b = bytes.TrimSpace(b)
	default:
		return nil, fmt.Errorf("%s secret: not configured (secret_env or secret_file); every hub process must share it", name)
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("%s secret: %d bytes, need at least 32", name, len(b))
	}
	return b, nil
}

// ensureSecret creates a random secret file (0600) if it does not exist yet. Only an
// embedded hub does this, for its default secret paths.
func ensureSecret(path string) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("creating secret %s: %w", path, err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return false, fmt.Errorf("creating secret %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%x\n", b)), 0o600); err != nil {
		return false, fmt.Errorf("creating secret %s: %w", path, err)
	}
	return true, nil
}
