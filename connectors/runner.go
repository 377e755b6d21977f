package connectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/contracts"
)

// Deps are what a runner needs from the hub. Sink, Cursors and Validator are required.
type Deps struct {
	Sink      Sink
	Cursors   CursorStore
	Validator Validator
	Metrics   *Metrics     // optional
	Logger    *slog.Logger // optional
}

func (d Deps) check() error {
	if d.Sink == nil || d.Cursors == nil || d.Validator == nil {
		return errors.New("connector dependencies: sink, cursor store and validator are required")
	}
	return nil
}

// Runner runs one connector: it polls its Source, validates, publishes, rejects, stores
// cursors, retries, and restarts itself after a failure. Its control methods (Pause,
// Resume, Sync, Status) are safe to call from any goroutine while Run runs.
type Runner struct {
	cfg     Config
	src     Source
	deps    Deps
	log     *slog.Logger
	types   []string
	wake    chan struct{}
	restart chan struct{}

	mu          sync.Mutex
	st          Status
	paused      bool
	fetchCancel context.CancelFunc
	remaining   map[string]int64
	progressed  bool
}

// CursorKey is the CursorStore key of a connector's cursor for one record type.
func CursorKey(connector, recordType string) string {
	return "connector/" + connector + "/cursor/" + recordType
}

// NewRunner builds a connector for cfg's agency: a retrying pull client (timeout, rate
// limit, backoff from cfg) under the agency package's Source.
func NewRunner(cfg Config, deps Deps) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.check(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	a, _ := LookupAgency(cfg.Agency)
	r := newRunner(cfg, deps)
	client, err := pull.NewClient(pull.ClientConfig{
		BaseURL:       cfg.BaseURL,
		Token:         cfg.Token,
		Timeout:       cfg.Timeout,
		RetryMax:      cfg.RetryMax,
		RetryWaitMin:  cfg.RetryWaitMin,
		RetryWaitMax:  cfg.RetryWaitMax,
		MaxRetryAfter: cfg.MaxRetryAfter,
		RateLimit:     cfg.RateLimit,
		RateBurst:     cfg.RateBurst,
		OnRetry:       r.onRetry,
		Logger:        r.log,
	})
	if err != nil {
		return nil, fmt.Errorf("connector %q: %w", cfg.Name, err)
	}
	r.src = a.NewSource(client)
	return r, nil
}

// NewRunnerWithSource runs cfg with a caller-supplied Source (base_url and token in cfg
// are then only checked, not used). The Source does its own retrying; OnRetry may be
// passed to it so the runner shows the degraded state.
func NewRunnerWithSource(cfg Config, src Source, deps Deps) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.check(); err != nil {
		return nil, err
	}
	r := newRunner(cfg.WithDefaults(), deps)
	r.src = src
	return r, nil
}

func newRunner(cfg Config, deps Deps) *Runner {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("connector", cfg.Name, "agency", cfg.Agency)
	r := &Runner{
		cfg:       cfg,
		deps:      deps,
		log:       log,
		types:     slices.Clone(cfg.Types),
		wake:      make(chan struct{}, 1),
		restart:   make(chan struct{}, 1),
		remaining: make(map[string]int64),
		st: Status{
			Name:   cfg.Name,
			Agency: cfg.Agency,
			State:  StateStopped,
			Cursor: make(map[string]string),
			Lag:    -1,
		},
	}
	return r
}

// Name returns the connector's name.
func (r *Runner) Name() string { return r.cfg.Name }

// OnRetry records that a request is being retried; pass it to a custom Source's client.
func (r *Runner) OnRetry(retry int, reason error) { r.onRetry(retry, reason) }

// Status returns a snapshot.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.st
	s.Cursor = maps.Clone(r.st.Cursor)
	return s
}

// Pause stops polling at once: a fetch in flight is abandoned (its page is neither
// published nor its cursor stored, so nothing is lost) and no new one starts until
// Resume. A failed connector does not restart while paused.
func (r *Runner) Pause() {
	r.mu.Lock()
	r.paused = true
	if r.fetchCancel != nil {
		r.fetchCancel()
	}
	r.mu.Unlock()
	r.signal()
}

// Resume undoes Pause; polling starts again at once.
func (r *Runner) Resume() {
	r.mu.Lock()
	r.paused = false
	r.mu.Unlock()
	r.signal()
}

// Sync polls now: an idle connector stops waiting, a failed one restarts now, a busy one
// polls again as soon as it has caught up.
func (r *Runner) Sync() {
	r.signal()
	select {
	case r.restart <- struct{}{}:
	default:
	}
}

func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) isPaused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

func (r *Runner) setState(s State) {
	r.mu.Lock()
	changed := r.st.State != s
	r.st.State = s
	if s != StateFailed {
		r.st.NextRestart = time.Time{}
	}
	r.mu.Unlock()
	if changed {
		r.deps.Metrics.setState(r.cfg.Name, r.cfg.Agency, s)
		r.log.Debug("connector state", "state", string(s))
	}
}

func (r *Runner) onRetry(_ int, reason error) {
	r.mu.Lock()
	r.st.PagesRetried++
	if reason != nil {
		r.st.LastError = reason.Error()
		r.st.LastErrorAt = time.Now()
	}
	degrade := r.st.State == StateRunning
	r.mu.Unlock()
	r.deps.Metrics.retry(r.cfg.Name, r.cfg.Agency)
	if degrade {
		r.setState(StateDegraded)
	}
}

// Run runs the connector until ctx ends; it then returns nil. Failures do not end Run:
// the connector is marked failed and restarts after a backoff that doubles per
// consecutive failure (RestartMin … RestartMax) and resets once a page goes through.
func (r *Runner) Run(ctx context.Context) error {
	defer r.setState(StateStopped)
	defer r.src.Close()
	failures := 0
	for {
		r.setState(StateStarting)
		err := r.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.mu.Lock()
		if r.progressed {
			failures = 0
		}
		r.progressed = false
		r.mu.Unlock()
		failures++
		wait := r.restartDelay(failures)
		r.mu.Lock()
		r.st.LastError = err.Error()
		r.st.LastErrorAt = time.Now()
		r.st.NextRestart = time.Now().Add(wait)
		r.st.State = StateFailed
		r.mu.Unlock()
		r.deps.Metrics.setState(r.cfg.Name, r.cfg.Agency, StateFailed)
		r.deps.Metrics.failure(r.cfg.Name, r.cfg.Agency)
		r.log.Warn("connector failed; restarting after backoff", "error", err, "restart_in", wait, "failures", failures)
		if !r.waitRestart(ctx, wait) {
			return nil
		}
		r.mu.Lock()
		r.st.Restarts++
		r.mu.Unlock()
	}
}

func (r *Runner) restartDelay(failures int) time.Duration {
	d := r.cfg.RestartMax
	if failures < 40 {
		if x := r.cfg.RestartMin << (failures - 1); x > 0 && x < d {
			d = x
		}
	}
	// Jitter in [d/2, d] so that many connectors failing together do not restart
	// together.
	return d/2 + rand.N(d/2+1)
}

// waitRestart waits out the restart backoff (cut short by Sync), then for Resume if
// paused. It reports false when ctx ended.
func (r *Runner) waitRestart(ctx context.Context, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	// Drain a Sync that arrived before the failure, so it does not skip the backoff.
	select {
	case <-r.restart:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return r.waitWhilePaused(ctx) == nil
		case <-r.restart:
			return r.waitWhilePaused(ctx) == nil
		case <-r.wake:
			if r.isPaused() {
				r.setState(StatePaused)
			}
		}
	}
}

// waitWhilePaused blocks while the connector is paused.
func (r *Runner) waitWhilePaused(ctx context.Context) error {
	for r.isPaused() {
		r.setState(StatePaused)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		}
	}
	return nil
}

// session connects and polls until an error. It never returns nil.
func (r *Runner) session(ctx context.Context) error {
	if err := r.src.Connect(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", r.cfg.Agency, err)
	}
	defer r.src.Close()
	cursors := make(map[string]string, len(r.types))
	for _, t := range r.types {
		b, err := r.deps.Cursors.Get(ctx, CursorKey(r.cfg.Name, t))
		switch {
		case errors.Is(err, contracts.ErrNotFound):
		case err != nil:
			return fmt.Errorf("reading cursor of %s: %w", t, err)
		default:
			cursors[t] = string(b)
		}
	}
	r.mu.Lock()
	r.st.Cursor = maps.Clone(cursors)
	r.mu.Unlock()
	for {
		if err := r.waitWhilePaused(ctx); err != nil {
			return err
		}
		r.setState(StateRunning)
		start := time.Now()
		if err := r.poll(ctx, cursors); err != nil {
			return err
		}
		wait := r.cfg.PollInterval
		if r.cfg.Schedule > 0 {
			wait = time.Until(start.Add(r.cfg.Schedule))
		}
		if err := r.idle(ctx, wait); err != nil {
			return err
		}
	}
}

// idle waits before the next poll; Sync, Pause and Resume cut it short.
func (r *Runner) idle(ctx context.Context, wait time.Duration) error {
	if r.isPaused() || wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-r.wake:
	}
	return nil
}

// poll reads every type until the agency has no more, or the connector is paused.
func (r *Runner) poll(ctx context.Context, cursors map[string]string) error {
	for _, t := range r.types {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			if r.isPaused() {
				return nil
			}
			more, err := r.step(ctx, t, cursors)
			if err != nil {
				if ctx.Err() == nil && r.isPaused() {
					return nil
				}
				return err
			}
			if !more {
				break
			}
		}
	}
	return nil
}

// step fetches, handles and commits one page of recordType.
func (r *Runner) step(ctx context.Context, recordType string, cursors map[string]string) (more bool, err error) {
	cursor := cursors[recordType]
	fctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.fetchCancel = cancel
	r.mu.Unlock()
	start := time.Now()
	page, err := r.src.Fetch(fctx, recordType, cursor, r.cfg.PageSize)
	latency := time.Since(start)
	r.mu.Lock()
	r.fetchCancel = nil
	r.mu.Unlock()
	cancel()
	if err != nil {
		return false, err
	}

	accepted := make([]contracts.Envelope, 0, len(page.Records))
	type refused struct {
		raw     []byte
		rejects []contracts.Reject
	}
	var rejected []refused
	warnings := 0
	for _, raw := range page.Records {
		env, warns, err := r.deps.Validator.Validate(raw)
		if err != nil {
			var re *contracts.RecordError
			rejects := []contracts.Reject{{Code: contracts.CodeInvalid, Message: err.Error()}}
			if errors.As(err, &re) && len(re.Rejects) > 0 {
				rejects = re.Rejects
			}
			rejected = append(rejected, refused{raw, rejects})
			continue
		}
		if env.Type != recordType {
			rejected = append(rejected, refused{raw, []contracts.Reject{{
				Code:    CodeForeignType,
				Field:   "type",
				Message: fmt.Sprintf("record of type %s in the %s feed of agency %s", env.Type, recordType, r.cfg.Agency),
			}}})
			continue
		}
		if len(warns) > 0 {
			warnings++
		}
		accepted = append(accepted, env)
	}
	if len(accepted) > 0 {
		if err := r.deps.Sink.Publish(ctx, r.cfg.Agency, accepted); err != nil {
			return false, fmt.Errorf("publishing %d %s records: %w", len(accepted), recordType, err)
		}
	}
	for _, x := range rejected {
		if err := r.deps.Sink.Reject(ctx, r.cfg.Agency, x.raw, x.rejects); err != nil {
			return false, fmt.Errorf("recording a rejected %s record: %w", recordType, err)
		}
	}
	if page.Next != cursor {
		if err := r.deps.Cursors.Put(ctx, CursorKey(r.cfg.Name, recordType), []byte(page.Next), 0); err != nil {
			return false, fmt.Errorf("storing cursor of %s: %w", recordType, err)
		}
		cursors[recordType] = page.Next
	}

	r.mu.Lock()
	r.progressed = true
	r.st.LastSuccess = time.Now()
	r.st.LastLatency = latency
	r.st.RecordsRead += int64(len(page.Records))
	r.st.Published += int64(len(accepted))
	r.st.Rejected += int64(len(rejected))
	r.st.Warnings += int64(warnings)
	r.st.Cursor[recordType] = cursors[recordType]
	r.remaining[recordType] = page.Remaining
	lag := int64(0)
	for _, t := range r.types {
		n, ok := r.remaining[t]
		if !ok || n < 0 {
			lag = -1
			break
		}
		lag += n
	}
	r.st.Lag = lag
	recover := r.st.State == StateDegraded
	r.mu.Unlock()
	if recover {
		r.setState(StateRunning)
	}
	m := r.deps.Metrics
	m.addRecords(r.cfg.Name, r.cfg.Agency, "read", len(page.Records))
	m.addRecords(r.cfg.Name, r.cfg.Agency, "published", len(accepted))
	m.addRecords(r.cfg.Name, r.cfg.Agency, "rejected", len(rejected))
	m.observe(r.cfg.Name, r.cfg.Agency, latency.Seconds(), lag)
	return page.HasMore, nil
}
