// Package admin serves what administrators and orchestrators look at: liveness and
// readiness, connector and dead-letter administration, and the web console.
package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Check reports whether one dependency really answers. It must honour ctx.
type Check func(ctx context.Context) error

// Health answers /healthz (the process is alive) and /readyz (every dependency really
// answers). Dependency checks run at most once per TTL however often /readyz is
// polled, each bounded by a timeout, so a hung dependency makes the hub unready within
// seconds instead of hanging the probe.
type Health struct {
	ttl     time.Duration
	timeout time.Duration

	mu       sync.Mutex
	checks   map[string]Check
	draining bool
	last     time.Time
	results  map[string]string // name → "ok" or the error text
	ready    bool
}

// NewHealth returns a Health whose results are cached for ttl and whose checks time
// out after timeout.
func NewHealth(ttl, timeout time.Duration) *Health {
	return &Health{ttl: ttl, timeout: timeout, checks: map[string]Check{}}
}

// Add registers a named dependency check.
func (h *Health) Add(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
	h.last = time.Time{}
}

// Drain makes the hub unready from now on (first step of shutdown).
func (h *Health) Drain() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.draining = true
}

// Ready runs the checks (or reuses results younger than the TTL) and reports whether
// every dependency answered, with each one's status.
func (h *Health) Ready(ctx context.Context) (bool, map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return false, map[string]string{"hub": "draining"}
	}
	if !h.last.IsZero() && time.Since(h.last) < h.ttl {
		return h.ready, h.results
	}
	names := make([]string, 0, len(h.checks))
	for n := range h.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make(map[string]string, len(names))
	var wg sync.WaitGroup
	var rmu sync.Mutex
	for _, n := range names {
		wg.Add(1)
		go func(name string, c Check) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, h.timeout)
			defer cancel()
			status := "ok"
			if err := c(cctx); err != nil {
				status = err.Error()
			}
			rmu.Lock()
			results[name] = status
			rmu.Unlock()
		}(n, h.checks[n])
	}
	wg.Wait()
	ready := true
	for _, s := range results {
		if s != "ok" {
			ready = false
		}
	}
	h.last, h.results, h.ready = time.Now(), results, ready
	return ready, results
}

// ServeLive answers /healthz.
func (h *Health) ServeLive(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

// ServeReady answers /readyz: 200 when every dependency answers, else 503; the body
// lists each dependency's status either way.
func (h *Health) ServeReady(w http.ResponseWriter, r *http.Request) {
	ready, deps := h.Ready(r.Context())
	status, code := "ready", http.StatusOK
	if !ready {
		status, code = "not_ready", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "dependencies": deps})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
