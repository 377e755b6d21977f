package connectorstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Cursors is an in-memory CursorStore. When Check is set it is called on every Put
// before the value is stored; a non-nil result is kept in Violations (and the Put still
// succeeds, so that a test sees every violation rather than a stalled connector).
// FailPut makes the next N Puts fail.
type Cursors struct {
	Check func(key string, value []byte) error

	mu         sync.Mutex
	m          map[string][]byte
	violations []string
	puts       int
	failPut    int
}

// NewCursors returns an empty store.
func NewCursors() *Cursors { return &Cursors{m: make(map[string][]byte)} }

// Get returns the stored value or contracts.ErrNotFound.
func (c *Cursors) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok {
		return nil, fmt.Errorf("cursor %q: %w", key, contracts.ErrNotFound)
	}
	return slices.Clone(v), nil
}

// Put stores value.
func (c *Cursors) Put(ctx context.Context, key string, value []byte, _ time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.failPut > 0 {
		c.failPut--
		c.mu.Unlock()
		return ErrInjected
	}
	check := c.Check
	c.mu.Unlock()
	var verr error
	if check != nil {
		verr = check(key, value)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if verr != nil {
		c.violations = append(c.violations, verr.Error())
	}
	c.m[key] = slices.Clone(value)
	c.puts++
	return nil
}

// FailPut makes the next n Puts fail.
func (c *Cursors) FailPut(n int) {
	c.mu.Lock()
	c.failPut = n
	c.mu.Unlock()
}

// Violations returns what Check reported.
func (c *Cursors) Violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.violations)
}

// Puts returns how many Puts succeeded.
func (c *Cursors) Puts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts
}
