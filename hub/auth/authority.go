package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/time/rate"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// State is the shared state auth keeps beside the profiles: assertion jti marks and
// revocations. matching.StateStore satisfies it. It must be shared by every hub
// process (Redis, or the embedded store for one process), or a replayed assertion
// sent to another process would be accepted.
type State interface {
	// Get returns the value, or an error matching contracts.ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores a value with a ttl.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PutIfAbsent stores value only if key is absent or expired; exactly one of any
	// number of concurrent callers, across processes, gets created == true.
	PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (stored []byte, created bool, err error)
}

var _ State = matching.StateStore(nil)

// Deps are what an Authority needs beside its configuration.
type Deps struct {
	// State is the shared replay and revocation store. Required.
	State State
	// Secret is the access-token MAC secret; nil reads it with Config.Secret.
	Secret []byte
	// HTTPClient fetches agencies' JWKS URLs (default: 10s timeout).
	HTTPClient *http.Client
	// Logger (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authority holds the client registry and issues and checks access tokens. It is
// safe for concurrent use. Run keeps its caches fresh.
type Authority struct {
	cfg     Config
	clients map[string]*client
	state   State
	macKey  []byte
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time

	revoked atomic.Pointer[map[string]int64] // client → revoked-before (Unix ms)
	revMu   sync.Mutex                       // serialises writers of revoked

	limiters sync.Map // client id → *rate.Limiter
	ended    sync.Map // token id of an ended console session → its expiry (Unix ms)

	cache   atomic.Pointer[jwk.Cache] // for clients with a JWKS URL, set by Run
	started chan struct{}             // closed once Run has set cache
}

// client is one registered client.
type client struct {
	ClientConfig
	allowed []string
	keys    jwk.Set // static keys; nil when the client has a JWKS URL only
	limit   RateLimit

	refreshMu   sync.Mutex
	lastRefresh time.Time
}

// New builds an Authority: it validates the configuration, reads the secret and the
// clients' key files. It starts nothing; call Run.
func New(cfg Config, d Deps) (*Authority, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if d.State == nil {
		return nil, errors.New("auth: a shared State is required")
	}
	secret := d.Secret
	if secret == nil {
		var err error
		if secret, err = cfg.Secret(); err != nil {
			return nil, err
		}
	}
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("auth: secret is %d bytes, need at least %d", len(secret), MinSecretBytes)
	}
	a := &Authority{
		cfg: cfg, clients: map[string]*client{}, state: d.State, macKey: macKey(secret),
		hc: d.HTTPClient, log: d.Logger, now: d.Now, started: make(chan struct{}),
	}
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 10 * time.Second}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	for _, cc := range cfg.Clients {
		c := &client{ClientConfig: cc, allowed: cc.scopes(), limit: cfg.RateLimit}
		if cc.RateLimit != nil {
			c.limit = *cc.RateLimit
		}
		if len(cc.Keys)+len(cc.KeyFiles) > 0 {
			set, err := cc.staticKeys()
			if err != nil {
				return nil, fmt.Errorf("auth: client %s: %w", cc.ID, err)
			}
			c.keys = set
		}
		a.clients[cc.ID] = c
	}
	empty := map[string]int64{}
	a.revoked.Store(&empty)
	return a, nil
}

// Run fetches and caches agencies' JWKS URLs and refreshes revocations written by
// other hub processes every Config.RevocationRefresh, until ctx ends. It returns nil
// when ctx ends; refresh failures are logged and retried.
func (a *Authority) Run(ctx context.Context) error {
	cache := jwk.NewCache(ctx)
	for _, c := range a.clients {
		if c.JWKSURL == "" {
			continue
		}
		if err := cache.Register(c.JWKSURL, jwk.WithHTTPClient(a.hc),
			jwk.WithMinRefreshInterval(time.Minute), jwk.WithRefreshInterval(15*time.Minute)); err != nil {
			return fmt.Errorf("registering JWKS URL of client %s: %w", c.ID, err)
		}
	}
	a.cache.Store(cache)
	close(a.started)
	a.refreshRevocations(ctx)
	t := time.NewTicker(a.cfg.RevocationRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			a.refreshRevocations(ctx)
		}
	}
}

func revocationKey(clientID string) string { return "auth:revoked-before:" + clientID }

// RevokeClient revokes every access token issued to a client up to now, in this
// process at once and in every other within Config.RevocationRefresh. The client can
// get new tokens; to shut it out, remove it from the registry as well.
func (a *Authority) RevokeClient(ctx context.Context, clientID string) error {
	if _, ok := a.clients[clientID]; !ok {
		return fmt.Errorf("revoking tokens of client %q: %w", clientID, contracts.ErrNotFound)
	}
	return a.revokeBefore(ctx, clientID, a.now().UnixMilli())
}

// RevokeToken revokes an access token — and with it every earlier token of the same
// client, which the client replaces by asking for a new one.
func (a *Authority) RevokeToken(ctx context.Context, token string) error {
	c, err := a.check(token, time.UnixMilli(0))
	if errors.Is(err, errTokenInvalid) {
		return fmt.Errorf("revoking token: %w", contracts.ErrUnauthorized)
	}
	return a.revokeBefore(ctx, c.Client, c.IssuedAt)
}

func (a *Authority) revokeBefore(ctx context.Context, clientID string, ms int64) error {
	// After the longest token lifetime every token this mark could refuse has
	// expired anyway, so the mark expires too and the state stays small.
	ttl := a.cfg.AccessTokenTTL + a.cfg.ClockSkew + time.Minute
	if cur, ok := a.revokedBefore(clientID); ok && cur >= ms {
		return nil
	}
	if err := a.state.Put(ctx, revocationKey(clientID), []byte(strconv.FormatInt(ms, 10)), ttl); err != nil {
		return fmt.Errorf("revoking tokens of client %q: %w", clientID, err)
	}
	a.setRevoked(map[string]int64{clientID: ms})
	a.log.Info("access tokens revoked", "client", clientID, "issued_up_to", time.UnixMilli(ms).UTC())
	return nil
}

// setRevoked merges marks into the revocation map, keeping the later mark.
func (a *Authority) setRevoked(marks map[string]int64) {
	a.revMu.Lock()
	defer a.revMu.Unlock()
	cur := *a.revoked.Load()
	next := make(map[string]int64, len(cur)+len(marks))
	for k, v := range cur {
		next[k] = v
	}
	changed := false
	for k, v := range marks {
		if v > next[k] {
			next[k] = v
			changed = true
		}
	}
	if changed {
		a.revoked.Store(&next)
	}
}

func (a *Authority) revokedBefore(clientID string) (int64, bool) {
	v, ok := (*a.revoked.Load())[clientID]
	return v, ok
}

func (a *Authority) refreshRevocations(ctx context.Context) {
	a.forgetEndedSessions(a.now())
	marks := map[string]int64{}
	for id := range a.clients {
		b, err := a.state.Get(ctx, revocationKey(id))
		if errors.Is(err, contracts.ErrNotFound) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("reading revocations", "client", id, "err", err)
			}
			return
		}
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			a.log.Warn("reading revocations: malformed mark", "client", id)
			continue
		}
		marks[id] = ms
	}
	a.setRevoked(marks)
}

// limiter returns the client's rate limiter.
func (a *Authority) limiter(c *client) *rate.Limiter {
	if l, ok := a.limiters.Load(c.ID); ok {
		return l.(*rate.Limiter)
	}
	l, _ := a.limiters.LoadOrStore(c.ID, rate.NewLimiter(rate.Limit(c.limit.PerSecond), c.limit.Burst))
	return l.(*rate.Limiter)
}

// clientKeys returns the keys a client's assertions may be signed with. refresh asks
// for a fresh copy of a JWKS URL (rate-limited to once a minute per client).
func (a *Authority) clientKeys(ctx context.Context, c *client, refresh bool) (jwk.Set, error) {
	if c.JWKSURL == "" {
		return c.keys, nil
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case <-a.started:
	case <-wait.Done():
		return nil, fmt.Errorf("keys of client %s: %w: key cache not running", c.ID, contracts.ErrUnavailable)
	}
	cache := a.cache.Load()
	if refresh {
		c.refreshMu.Lock()
		due := a.now().Sub(c.lastRefresh) >= time.Minute
		if due {
			c.lastRefresh = a.now()
		}
		c.refreshMu.Unlock()
		if due {
			if set, err := cache.Refresh(wait, c.JWKSURL); err == nil {
				return set, nil
			}
		}
	}
	set, err := cache.Get(wait, c.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("keys of client %s: %w: %v", c.ID, contracts.ErrUnavailable, err)
	}
	return set, nil
}
