package storetest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// Memory is a Store and StateStore held in memory, for tests of code that reads
// profiles (rule packs, screening, the API). It keeps every promise of the contracts
// except durability: its data lives as long as the value (and its Reopen handles).
// It passes Run.
type Memory struct {
	d      *memData
	closed atomic.Bool
}

type memData struct {
	mu          sync.RWMutex
	profiles    map[string]*matching.Profile
	state       map[string]memEntry
	now         func() time.Time
	unavailable atomic.Bool
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
}

var (
	_ matching.Store      = (*Memory)(nil)
	_ matching.StateStore = (*Memory)(nil)
	_ matching.Pinger     = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return NewMemoryAt(time.Now) }

// NewMemoryAt returns an empty in-memory store whose state entries expire by the
// given clock, for tests that move time.
func NewMemoryAt(now func() time.Time) *Memory {
	return &Memory{d: &memData{profiles: map[string]*matching.Profile{}, state: map[string]memEntry{}, now: now}}
}

// StateKeys returns the keys of the live (unexpired) state entries, sorted, for tests
// that check what a call left behind.
func (m *Memory) StateKeys() []string {
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	keys := make([]string, 0, len(m.d.state))
	for k := range m.d.state {
		if _, ok := m.live(k, m.d.now()); ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// SetUnavailable makes every call fail with contracts.ErrUnavailable (true) or work
// again (false), as a backend outage would.
func (m *Memory) SetUnavailable(down bool) { m.d.unavailable.Store(down) }

// Reopen returns a new handle over the same data, as reopening a durable store
// would; m may be closed.
func (m *Memory) Reopen() *Memory { return &Memory{d: m.d} }

func (m *Memory) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.closed.Load() {
		return fmt.Errorf("memory store: %w: closed", contracts.ErrUnavailable)
	}
	if m.d.unavailable.Load() {
		return fmt.Errorf("memory store: %w: down", contracts.ErrUnavailable)
	}
	return nil
}

// Apply implements matching.Store.
func (m *Memory) Apply(ctx context.Context, changes []matching.Change) (matching.ApplyStats, error) {
	m.d.mu.Lock()
	defer m.d.mu.Unlock()
	var st matching.ApplyStats
	if err := m.check(ctx); err != nil {
		return st, fmt.Errorf("applying %d changes: %w", len(changes), err)
	}
	for _, c := range changes {
		p := m.d.profiles[c.Subject]
		if p == nil {
			p = matching.NewProfile(c.Subject)
			m.d.profiles[c.Subject] = p
		}
		rec := c.Record
		rec.Data = bytes.Clone(rec.Data)
		switch p.Apply(rec) {
		case matching.Applied:
			st.Applied++
		case matching.Duplicate:
			st.Duplicate++
		case matching.Stale:
			st.Stale++
		}
	}
	return st, nil
}

func cloneProfile(p *matching.Profile) *matching.Profile {
	out := matching.NewProfile(p.Subject)
	for typ, byID := range p.Records {
		out.Records[typ] = maps.Clone(byID)
	}
	return out
}

// Profile implements matching.Store.
func (m *Memory) Profile(ctx context.Context, subject string) (*matching.Profile, error) {
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, fmt.Errorf("reading profile %q: %w", subject, err)
	}
	p := m.d.profiles[subject]
	if p == nil {
		return nil, fmt.Errorf("reading profile %q: %w", subject, contracts.ErrNotFound)
	}
	return cloneProfile(p), nil
}

// Profiles implements matching.Store.
func (m *Memory) Profiles(ctx context.Context, subjects []string) ([]*matching.Profile, error) {
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, fmt.Errorf("reading %d profiles: %w", len(subjects), err)
	}
	out := make([]*matching.Profile, len(subjects))
	seen := map[string]*matching.Profile{}
	for i, s := range subjects {
		if p, ok := seen[s]; ok {
			out[i] = p
			continue
		}
		if p := m.d.profiles[s]; p != nil {
			out[i] = cloneProfile(p)
		}
		seen[s] = out[i]
	}
	return out, nil
}

// Scan implements matching.Store. fn runs without the store's lock held, on copies.
func (m *Memory) Scan(ctx context.Context, kind contracts.SubjectKind, fn func(*matching.Profile) error) error {
	m.d.mu.RLock()
	if err := m.check(ctx); err != nil {
		m.d.mu.RUnlock()
		return fmt.Errorf("scanning %s profiles: %w", kind, err)
	}
	var list []*matching.Profile
	for _, p := range m.d.profiles {
		if p.Kind() == kind {
			list = append(list, cloneProfile(p))
		}
	}
	m.d.mu.RUnlock()
	for _, p := range list {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scanning %s profiles: %w", kind, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// Count implements matching.Store.
func (m *Memory) Count(ctx context.Context, kind contracts.SubjectKind) (int64, error) {
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return 0, fmt.Errorf("counting %s profiles: %w", kind, err)
	}
	var n int64
	for _, p := range m.d.profiles {
		if p.Kind() == kind {
			n++
		}
	}
	return n, nil
}

// Close implements matching.Store; it may be called more than once.
func (m *Memory) Close() error {
	m.closed.Store(true)
	return nil
}

// Ping implements matching.Pinger.
func (m *Memory) Ping(ctx context.Context) error {
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	return m.check(ctx)
}

func (m *Memory) live(key string, now time.Time) (memEntry, bool) {
	e, ok := m.d.state[key]
	if !ok || (!e.expires.IsZero() && !now.Before(e.expires)) {
		return memEntry{}, false
	}
	return e, true
}

// Get implements matching.StateStore.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	if err := m.check(ctx); err != nil {
		return nil, fmt.Errorf("getting state %q: %w", key, err)
	}
	e, ok := m.live(key, m.d.now())
	if !ok {
		return nil, fmt.Errorf("getting state %q: %w", key, contracts.ErrNotFound)
	}
	return bytes.Clone(e.value), nil
}

func (m *Memory) entry(value []byte, ttl time.Duration) memEntry {
	e := memEntry{value: bytes.Clone(value)}
	if ttl > 0 {
		e.expires = m.d.now().Add(ttl)
	}
	return e
}

// Put implements matching.StateStore.
func (m *Memory) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	m.d.mu.Lock()
	defer m.d.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return fmt.Errorf("putting state %q: %w", key, err)
	}
	m.d.state[key] = m.entry(value, ttl)
	return nil
}

// PutIfAbsent implements matching.StateStore.
func (m *Memory) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, bool, error) {
	m.d.mu.Lock()
	defer m.d.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return nil, false, fmt.Errorf("putting state %q if absent: %w", key, err)
	}
	if e, ok := m.live(key, m.d.now()); ok {
		return bytes.Clone(e.value), false, nil
	}
	m.d.state[key] = m.entry(value, ttl)
	return bytes.Clone(value), true, nil
}

// Delete implements matching.StateStore.
func (m *Memory) Delete(ctx context.Context, key string) error {
	m.d.mu.Lock()
	defer m.d.mu.Unlock()
	if err := m.check(ctx); err != nil {
		return fmt.Errorf("deleting state %q: %w", key, err)
	}
	delete(m.d.state, key)
	return nil
}
