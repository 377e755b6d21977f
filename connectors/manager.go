package connectors

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/verihub/verihub/contracts"
)

// Manager runs many connectors and is the admin API's handle on them. Add connectors
// before Run; the other methods are safe from any goroutine at any time.
type Manager struct {
	deps Deps

	mu      sync.Mutex
	order   []*Runner
	byName  map[string]*Runner
	started bool
}

// NewManager returns a manager whose connectors share deps.
func NewManager(deps Deps) (*Manager, error) {
	if err := deps.check(); err != nil {
		return nil, err
	}
	return &Manager{deps: deps, byName: make(map[string]*Runner)}, nil
}

// Add builds a connector from cfg (see NewRunner).
func (m *Manager) Add(cfg Config) error {
	r, err := NewRunner(cfg, m.deps)
	if err != nil {
		return err
	}
	return m.add(r)
}

// AddSource adds a connector over a caller-supplied Source (see NewRunnerWithSource).
func (m *Manager) AddSource(cfg Config, src Source) error {
	r, err := NewRunnerWithSource(cfg, src, m.deps)
	if err != nil {
		return err
	}
	return m.add(r)
}

func (m *Manager) add(r *Runner) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return fmt.Errorf("adding connector %q: the manager is already running", r.Name())
	}
	if _, dup := m.byName[r.Name()]; dup {
		return fmt.Errorf("adding connector %q: %w: name already used", r.Name(), contracts.ErrConflict)
	}
	m.byName[r.Name()] = r
	m.order = append(m.order, r)
	return nil
}

// Run runs every connector until ctx ends, then waits for them to stop and returns
// nil. A connector's failures do not stop the others (each restarts by itself).
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.started {
		m.mu.Unlock()
		return errors.New("running connectors: already running")
	}
	m.started = true
	runners := append([]*Runner(nil), m.order...)
	m.mu.Unlock()
	g, ctx := errgroup.WithContext(ctx)
	for _, r := range runners {
		g.Go(func() error { return r.Run(ctx) })
	}
	return g.Wait()
}

// Statuses returns every connector's status, in the order they were added.
func (m *Manager) Statuses() []Status {
	m.mu.Lock()
	runners := append([]*Runner(nil), m.order...)
	m.mu.Unlock()
	out := make([]Status, len(runners))
	for i, r := range runners {
		out[i] = r.Status()
	}
	return out
}

func (m *Manager) runner(name string) (*Runner, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byName[name]
	if !ok {
		return nil, fmt.Errorf("connector %q: %w", name, contracts.ErrNotFound)
	}
	return r, nil
}

// Status returns one connector's status, or an error matching contracts.ErrNotFound.
func (m *Manager) Status(name string) (Status, error) {
	r, err := m.runner(name)
	if err != nil {
		return Status{}, err
	}
	return r.Status(), nil
}

// Pause pauses a connector by name (see Runner.Pause).
func (m *Manager) Pause(name string) error { return m.control(name, (*Runner).Pause) }

// Resume resumes a connector by name.
func (m *Manager) Resume(name string) error { return m.control(name, (*Runner).Resume) }

// Sync makes a connector poll now.
func (m *Manager) Sync(name string) error { return m.control(name, (*Runner).Sync) }

func (m *Manager) control(name string, f func(*Runner)) error {
	r, err := m.runner(name)
	if err != nil {
		return err
	}
	f(r)
	return nil
}
