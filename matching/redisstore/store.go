package redisstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// Config configures the Redis store.
type Config struct {
	// Addrs is one address (standalone), the seed nodes of a Cluster, or the
	// Sentinels when MasterName is set.
	Addrs []string `yaml:"addrs"`
	// MasterName selects Sentinel mode.
	MasterName string `yaml:"master_name"`
	// Cluster forces Cluster mode with a single address (a configuration endpoint).
	Cluster  bool   `yaml:"cluster"`
	Username string `yaml:"username"`
	// PasswordFile holds the password; Password may be set by the caller from an
	// environment variable instead. Never inline in configuration.
	PasswordFile string `yaml:"password_file"`
	Password     string `yaml:"-"`
	DB           int    `yaml:"db"`
	// Prefix starts every key (default "verihub"); several hubs or tests can share a
	// server under different prefixes. No braces.
	Prefix string `yaml:"prefix"`
	// IndexBuckets is the number of per-kind index sets (default 64). It is fixed for
	// a prefix at first use; Open refuses a different value later.
	IndexBuckets int `yaml:"index_buckets"`
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "verihub"
	}
	if c.IndexBuckets == 0 {
		c.IndexBuckets = 64
	}
	return c
}

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if len(c.Addrs) == 0 {
		errs = append(errs, errors.New("redisstore: addrs is required"))
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		errs = append(errs, fmt.Errorf("redisstore: prefix %q contains a brace", c.Prefix))
	}
	if c.IndexBuckets < 0 || c.IndexBuckets > 16384 {
		errs = append(errs, fmt.Errorf("redisstore: index_buckets %d not in 1..16384", c.IndexBuckets))
	}
	if c.Password != "" && c.PasswordFile != "" {
		errs = append(errs, errors.New("redisstore: password and password_file are exclusive"))
	}
	return errors.Join(errs...)
}

// Store is the Redis store. It is safe for concurrent use.
type Store struct {
	client     redis.UniversalClient
	ownsClient bool
	prefix     string
	buckets    int
	closeOnce  sync.Once
	closeErr   error
}

var (
	_ matching.Store      = (*Store)(nil)
	_ matching.StateStore = (*Store)(nil)
	_ matching.Pinger     = (*Store)(nil)
)

// Open connects to Redis as cfg says and checks that it answers. Close closes the
// client.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	password := cfg.Password
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading redis password file: %w", err)
		}
		password = strings.TrimSpace(string(b))
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:         cfg.Addrs,
		MasterName:    cfg.MasterName,
		IsClusterMode: cfg.Cluster,
		Username:      cfg.Username,
		Password:      password,
		DB:            cfg.DB,
	})
	s, err := New(ctx, client, cfg)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.ownsClient = true
	return s, nil
}

// New uses a client the caller made (and closes); of cfg only Prefix and
// IndexBuckets count. It checks that Redis answers and that the prefix's index bucket
// count matches.
func New(ctx context.Context, client redis.UniversalClient, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if strings.ContainsAny(cfg.Prefix, "{}") || cfg.IndexBuckets < 1 || cfg.IndexBuckets > 16384 {
		return nil, fmt.Errorf("redisstore: prefix %q or index_buckets %d invalid", cfg.Prefix, cfg.IndexBuckets)
	}
	s := &Store{client: client, prefix: cfg.Prefix, buckets: cfg.IndexBuckets}
	meta := s.prefix + ":meta"
	if err := client.HSetNX(ctx, meta, "index_buckets", cfg.IndexBuckets).Err(); err != nil {
		return nil, translate("opening redis store", err)
	}
	got, err := client.HGet(ctx, meta, "index_buckets").Int()
	if err != nil {
		return nil, translate("opening redis store", err)
	}
	if got != cfg.IndexBuckets {
		return nil, fmt.Errorf("opening redis store: prefix %q was created with %d index buckets, configured %d", s.prefix, got, cfg.IndexBuckets)
	}
	return s, nil
}

// Close closes the client if Open made it. Calling it again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.ownsClient {
			s.closeErr = s.client.Close()
		}
	})
	return s.closeErr
}

// pipeline returns the pipeline Apply sends its commands in. On one server (standalone
// or Sentinel) it is a MULTI/EXEC block: the server then runs every script of the
// call in one event-loop turn and, with appendfsync always, fsyncs once for the
// call instead of once per socket read. In Cluster, where a block cannot span slots,
// it is a plain pipeline (one round trip per node).
func (s *Store) pipeline() redis.Pipeliner {
	if _, cluster := s.client.(*redis.ClusterClient); cluster {
		return s.client.Pipeline()
	}
	return s.client.TxPipeline()
}

// Ping implements matching.Pinger.
func (s *Store) Ping(ctx context.Context) error {
	return translate("pinging redis", s.client.Ping(ctx).Err())
}

func (s *Store) profileKey(subject string) string { return s.prefix + ":p:{" + subject + "}" }

func (s *Store) indexKey(kind contracts.SubjectKind, bucket int) string {
	return s.prefix + ":ix:" + string(kind) + ":{" + string(kind) + "/" + strconv.Itoa(bucket) + "}"
}

func (s *Store) indexKeyOf(subject string) string {
	return s.indexKey(kindOf(subject), int(fnv1a(subject)%uint32(s.buckets)))
}

func (s *Store) stateKey(key string) string { return s.prefix + ":s:" + key }

// unavailableReplies are server replies that mean "not now" rather than "wrong".
var unavailableReplies = []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY"}

// translate maps go-redis errors onto the contract's sentinels.
func translate(action string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("%s: %w", action, contracts.ErrNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", action, err)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		for _, p := range unavailableReplies {
			if strings.HasPrefix(rerr.Error(), p) {
				return fmt.Errorf("%s: %w: %w", action, contracts.ErrUnavailable, err)
			}
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	return fmt.Errorf("%s: %w: %w", action, contracts.ErrUnavailable, err)
}

// applyScript checks and writes one subject's changes in call order. KEYS[1] is the
// subject's hash; ARGV holds field, value pairs. The newest value of each field is
// kept in a table while the changes are checked, then written with HSET. Versions (the first 40 hex digits
// of a value) are compared as four 10-digit numbers, exact in Lua's doubles and
// independent of the server's locale. It returns one letter per change: a(pplied),
// d(uplicate), s(tale).
var applyScript = redis.NewScript(`
local function cmp(a, b)
  for i = 1, 40, 10 do
    local x = tonumber(string.sub(a, i, i + 9), 16)
    local y = tonumber(string.sub(b, i, i + 9), 16)
    if x ~= y then
      if x < y then return -1 end
      return 1
    end
  end
  return 0
end
local key = KEYS[1]
local new, order, out = {}, {}, {}
for i = 1, #ARGV, 2 do
  local f, v = ARGV[i], ARGV[i + 1]
  local cur = new[f]
  if not cur then cur = redis.call('HGET', key, f) end
  local o = 'a'
  if cur then
    local c = cmp(v, cur)
    if c == 0 then o = 'd' elseif c < 0 then o = 's' end
  end
  if o == 'a' then
    if not new[f] then order[#order + 1] = f end
    new[f] = v
  end
  out[#out + 1] = o
end
-- One HSET per 500 fields: fewer calls, and within Lua's stack limit for unpack.
for i = 1, #order, 500 do
  local args = {}
  for j = i, math.min(i + 499, #order) do
    args[#args + 1] = order[j]
    args[#args + 1] = new[order[j]]
  end
  redis.call('HSET', key, unpack(args))
end
return table.concat(out)
`)

type subjectBatch struct {
	subject string
	args    []any // field, value pairs
	cmd     *redis.Cmd
}

// Apply implements matching.Store.
func (s *Store) Apply(ctx context.Context, changes []matching.Change) (matching.ApplyStats, error) {
	var st matching.ApplyStats
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("applying %d changes: %w", len(changes), err)
	}
	if len(changes) == 0 {
		return st, nil
	}
	var batches []*subjectBatch
	bySubject := map[string]*subjectBatch{}
	for i, c := range changes {
		if !validSubject(c.Subject) {
			return st, fmt.Errorf("applying change %d: subject %q: %w: not uscc:… or person:…", i, c.Subject, contracts.ErrInvalidRecord)
		}
		if c.Record.Type == "" || strings.IndexByte(c.Record.Type, 0) >= 0 {
			return st, fmt.Errorf("applying change %d: record type %q: %w", i, c.Record.Type, contracts.ErrInvalidRecord)
		}
		b := bySubject[c.Subject]
		if b == nil {
			b = &subjectBatch{subject: c.Subject}
			bySubject[c.Subject] = b
			batches = append(batches, b)
		}
		b.args = append(b.args, fieldOf(c.Record), encodeRecord(c.Record))
	}
	action := fmt.Sprintf("applying %d changes to %d subjects", len(changes), len(batches))
	pending := batches
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == 2 {
			return matching.ApplyStats{}, fmt.Errorf("%s: %w: script cache keeps losing the apply script", action, contracts.ErrUnavailable)
		}
		pipe := s.pipeline()
		for _, b := range pending {
			keys := []string{s.profileKey(b.subject)}
			if attempt == 0 {
				b.cmd = applyScript.EvalSha(ctx, pipe, keys, b.args...)
			} else {
				b.cmd = applyScript.Eval(ctx, pipe, keys, b.args...)
			}
			pipe.SAdd(ctx, s.indexKeyOf(b.subject), b.subject)
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil {
			if len(cmds) == 0 {
				return matching.ApplyStats{}, translate(action, err)
			}
			for _, cmd := range cmds {
				if e := cmd.Err(); e != nil && !redis.HasErrorPrefix(e, "NOSCRIPT") {
					return matching.ApplyStats{}, translate(action, e)
				}
			}
		}
		var retry []*subjectBatch
		for _, b := range pending {
			if e := b.cmd.Err(); e != nil {
				retry = append(retry, b) // NOSCRIPT: the script did not run
			}
		}
		pending = retry
	}
	for _, b := range batches {
		out, err := b.cmd.Text()
		if err != nil {
			return matching.ApplyStats{}, translate(action, err)
		}
		if len(out) != len(b.args)/2 {
			return matching.ApplyStats{}, fmt.Errorf("%s: script returned %d outcomes for %d changes of %q", action, len(out), len(b.args)/2, b.subject)
		}
		for i := 0; i < len(out); i++ {
			switch out[i] {
			case 'a':
				st.Applied++
			case 'd':
				st.Duplicate++
			case 's':
				st.Stale++
			}
		}
	}
	return st, nil
}
