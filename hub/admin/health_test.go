package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadyReflectsDependencies(t *testing.T) {
	var redisDown atomic.Bool
	var calls atomic.Int32
	h := NewHealth(50*time.Millisecond, time.Second)
	h.Add("bus", func(context.Context) error { return nil })
	h.Add("store", func(context.Context) error {
		calls.Add(1)
		if redisDown.Load() {
			return errors.New("dial tcp 127.0.0.1:16379: connection refused")
		}
		return nil
	})

	get := func() (int, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeReady(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		return rec.Code, body
	}

	if code, _ := get(); code != http.StatusOK {
		t.Fatalf("ready with healthy deps: %d", code)
	}
	get() // cached: no second check call
	if n := calls.Load(); n != 1 {
		t.Fatalf("checks ran %d times within the TTL, want 1", n)
	}
	redisDown.Store(true)
	time.Sleep(60 * time.Millisecond)
	code, body := get()
	if code != http.StatusServiceUnavailable {
		t.Fatalf("ready with store down: %d", code)
	}
	deps := body["dependencies"].(map[string]any)
	if deps["bus"] != "ok" || deps["store"] == "ok" {
		t.Fatalf("dependencies %v", deps)
	}
	redisDown.Store(false)
	time.Sleep(60 * time.Millisecond)
	if code, _ := get(); code != http.StatusOK {
		t.Fatalf("not ready again after recovery: %d", code)
	}
	h.Drain()
	if code, _ := get(); code != http.StatusServiceUnavailable {
		t.Fatalf("ready while draining: %d", code)
	}
}

func TestReadyTimesOutHungCheck(t *testing.T) {
	h := NewHealth(time.Second, 50*time.Millisecond)
	h.Add("bus", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	start := time.Now()
	ready, deps := h.Ready(context.Background())
	if ready || deps["bus"] == "ok" {
		t.Fatalf("hung dependency reported ready: %v", deps)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("readiness waited for a hung dependency")
	}
}
