package connectors

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Config is one connector instance, decoded from YAML (strictly) and checked by
// Validate. Durations are strings such as "30s". The token is never inline: it comes
// from an environment variable or a file, read at every (re)connect so a rotated
// secret is picked up.
type Config struct {
	Name      string `yaml:"name"`       // unique, [a-z0-9][a-z0-9_-]*
	Agency    string `yaml:"agency"`     // si, tax, cert, env or credit
	BaseURL   string `yaml:"base_url"`   // the agency API root
	TokenEnv  string `yaml:"token_env"`  // environment variable holding the token
	TokenFile string `yaml:"token_file"` // or a file holding it
	// PollInterval is the idle wait after the connector has caught up (has_more
	// false on every type) before it polls again (default 30s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Schedule, when set, starts a poll every Schedule measured from the start of the
	// previous one, instead of PollInterval after its end.
	Schedule  time.Duration `yaml:"schedule"`
	PageSize  int           `yaml:"page_size"`  // records per request (default 500, at most 1000)
	Timeout   time.Duration `yaml:"timeout"`    // per HTTP attempt, body included (default 30s)
	RateLimit float64       `yaml:"rate_limit"` // requests per second, retries included (0 = unlimited)
	RateBurst int           `yaml:"rate_burst"` // default 1
	// Types restricts the record types pulled (default: all of the agency's).
	Types []string `yaml:"types"`
	// Retries per request after the first attempt (default 5), and the bounds of their
	// backoff (defaults 200ms, 30s).
	RetryMax     int           `yaml:"retry_max"`
	RetryWaitMin time.Duration `yaml:"retry_wait_min"`
	RetryWaitMax time.Duration `yaml:"retry_wait_max"`
	// MaxRetryAfter caps an agency's Retry-After (default 5m).
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
	// RestartMin and RestartMax bound the backoff before a failed connector restarts
	// itself (defaults 1s, 5m); it doubles per consecutive failure.
	RestartMin time.Duration `yaml:"restart_min"`
	RestartMax time.Duration `yaml:"restart_max"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.PollInterval <= 0 {
		c.PollInterval = 30 * time.Second
	}
	if c.PageSize <= 0 {
		c.PageSize = 500
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 1
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5
	}
	if c.RetryWaitMin <= 0 {
		c.RetryWaitMin = 200 * time.Millisecond
	}
	if c.RetryWaitMax <= 0 {
		c.RetryWaitMax = 30 * time.Second
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 5 * time.Minute
	}
	if c.RestartMin <= 0 {
		c.RestartMin = time.Second
	}
	if c.RestartMax <= 0 {
		c.RestartMax = 5 * time.Minute
	}
	if len(c.Types) == 0 {
		if a, ok := LookupAgency(c.Agency); ok {
			c.Types = a.Types()
		}
	}
	return c
}

// Validate reports every problem with the configuration (after defaults), joined.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !nameRE.MatchString(c.Name) {
		bad("name %q: want lower-case letters, digits, '-' or '_', at most 63", c.Name)
	}
	a, ok := LookupAgency(c.Agency)
	if !ok {
		bad("agency %q: want one of %s", c.Agency, strings.Join(AgencyNames(), ", "))
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("base_url %q: want http(s)://host[:port][/path]", c.BaseURL)
	}
	switch {
	case c.TokenEnv == "" && c.TokenFile == "":
		bad("token: set token_env or token_file (tokens are never inline)")
	case c.TokenEnv != "" && c.TokenFile != "":
		bad("token: set only one of token_env and token_file")
	}
	if c.PageSize > 1000 {
		bad("page_size %d: at most 1000", c.PageSize)
	}
	if c.Schedule < 0 {
		bad("schedule %s: must not be negative", c.Schedule)
	}
	if c.RateLimit < 0 {
		bad("rate_limit %g: must not be negative", c.RateLimit)
	}
	if c.RetryMax < 0 {
		bad("retry_max %d: must not be negative", c.RetryMax)
	}
	if c.RetryWaitMax < c.RetryWaitMin {
		bad("retry_wait_max %s is below retry_wait_min %s", c.RetryWaitMax, c.RetryWaitMin)
	}
	if c.RestartMax < c.RestartMin {
		bad("restart_max %s is below restart_min %s", c.RestartMax, c.RestartMin)
	}
	if ok {
		for _, t := range c.Types {
			if !slices.Contains(a.Types(), t) {
				bad("types: %q is not a record type of agency %s", t, c.Agency)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("connector %q: %w", c.Name, errors.Join(errs...))
	}
	return nil
}

// Token reads the bearer token from the configured variable or file.
func (c Config) Token() (string, error) {
	var tok string
	switch {
	case c.TokenEnv != "":
		tok = os.Getenv(c.TokenEnv)
		if strings.TrimSpace(tok) == "" {
			return "", fmt.Errorf("token variable %s is empty or unset", c.TokenEnv)
		}
	case c.TokenFile != "":
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return "", fmt.Errorf("reading token file: %w", err)
		}
		tok = string(b)
		if strings.TrimSpace(tok) == "" {
			return "", fmt.Errorf("token file %s is empty", c.TokenFile)
		}
	default:
		return "", errors.New("no token_env or token_file configured")
	}
	return strings.TrimSpace(tok), nil
}
