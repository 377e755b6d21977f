package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/verihub/verihub/hub/problem"
)

func TestInstrumentRecoversPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	h := Instrument("POST /boom", 1024, m, slog.New(slog.NewTextHandler(io.Discard, nil)),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret internal state") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("panic text leaked: %s", rec.Body)
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != "internal" || p.RequestID == "" {
		t.Fatalf("problem %+v err %v", p, err)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("POST /boom", "5xx")); got != 1 {
		t.Fatalf("5xx counter %v", got)
	}
}

func TestInstrumentLimitsBody(t *testing.T) {
	var readErr error
	h := Instrument("POST /x", 10, nil, slog.New(slog.NewTextHandler(io.Discard, nil)),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, readErr = io.ReadAll(r.Body)
		}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(strings.Repeat("a", 100)))
	req.Header.Set("X-Request-Id", "abc")
	h.ServeHTTP(rec, req)
	if !IsTooLarge(readErr) {
		t.Fatalf("read error %v, want MaxBytesError", readErr)
	}
	if rec.Header().Get("X-Request-Id") != "abc" {
		t.Fatal("caller's request id not echoed")
	}
}
