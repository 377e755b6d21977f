package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verihub/verihub/hub/problem"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the request id the middleware assigned (or the caller supplied).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Metrics are the API's Prometheus series.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the API series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_http_requests_total", Help: "HTTP requests by route and status class.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verihub_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Instrument wraps a route's handler: request id, body size limit, panic recovery
// (a panic becomes an opaque 500 and the process stays up), metrics and an access log
// line. route is the registered pattern, never the raw path (which may hold an ID).
func Instrument(route string, maxBody int64, m *Metrics, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		if maxBody > 0 && r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "route", route, "request_id", id, "panic", fmt.Sprint(v))
				if sw.status == 0 {
					problem.Write(sw, errors.New("panic"), id)
				}
			}
			elapsed := time.Since(start)
			code := sw.status
			if code == 0 {
				code = http.StatusOK
			}
			if m != nil {
				m.requests.WithLabelValues(route, strconv.Itoa(code/100)+"xx").Inc()
				m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
			}
			level := slog.LevelDebug
			if code >= 500 {
				level = slog.LevelWarn
			}
			log.Log(r.Context(), level, "http request", "route", route, "status", code,
				"duration_ms", float64(elapsed.Microseconds())/1000, "bytes", sw.bytes, "request_id", id)
		}()
		h.ServeHTTP(sw, r)
	})
}

// IsTooLarge reports whether err came from a body over the size limit.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
