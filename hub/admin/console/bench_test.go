package console

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkSummary is one console poll of /admin/api/summary: a snapshot of a
// registry with 20 instrumented routes and the summary over an hour of snapshots
// taken every 15s.
func BenchmarkSummary(b *testing.B) {
	reg := prometheus.NewRegistry()
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: durationFamily,
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: requestsFamily}, []string{"route", "code"})
	reg.MustRegister(lat, reqs)
	routes := append([]string{}, VerificationRoutes...)
	for i := len(routes); i < 20; i++ {
		routes = append(routes, fmt.Sprintf("GET /v1/route%d", i))
	}
	s := &sampler{g: reg, every: 15 * time.Second, window: time.Hour}
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range 240 {
		for j, r := range routes {
			lat.WithLabelValues(r).Observe(float64(i%7+j) / 1000)
			reqs.WithLabelValues(r, "2xx").Inc()
		}
		if _, err := s.sample(t0.Add(time.Duration(i) * 15 * time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	now := t0.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		snaps, err := s.sample(now)
		if err != nil {
			b.Fatal(err)
		}
		_ = summary(snaps)
	}
}
