package connectors

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the connectors' Prometheus series. A nil *Metrics records nothing.
type Metrics struct {
	records  *prometheus.CounterVec
	retries  *prometheus.CounterVec
	failures *prometheus.CounterVec
	state    *prometheus.GaugeVec
	lag      *prometheus.GaugeVec
	fetch    *prometheus.HistogramVec
}

// NewMetrics registers the series on reg (never the default registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	labels := []string{"connector", "agency"}
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_connector_records_total",
			Help: "Records handled by pull connectors, by outcome (read, published, rejected).",
		}, append(labels, "outcome")),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_connector_retries_total",
			Help: "Retried pull requests.",
		}, labels),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_connector_failures_total",
			Help: "Connector failures (each followed by an automatic restart).",
		}, labels),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "verihub_connector_state",
			Help: "1 for the connector's current state, 0 for the others.",
		}, append(labels, "state")),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "verihub_connector_lag_records",
			Help: "Records the agency reports remaining after the stored cursors (-1 when unknown).",
		}, labels),
		fetch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "verihub_connector_fetch_seconds",
			Help:    "Time to fetch one page, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, labels),
	}
	for _, c := range []prometheus.Collector{m.records, m.retries, m.failures, m.state, m.lag, m.fetch} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering connector metrics: %w", err)
		}
	}
	return m, nil
}

var allStates = []State{StateStarting, StateRunning, StateDegraded, StatePaused, StateFailed, StateStopped}

func (m *Metrics) setState(name, agency string, s State) {
	if m == nil {
		return
	}
	for _, x := range allStates {
		v := 0.0
		if x == s {
			v = 1
		}
		m.state.WithLabelValues(name, agency, string(x)).Set(v)
	}
}

func (m *Metrics) addRecords(name, agency, outcome string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.records.WithLabelValues(name, agency, outcome).Add(float64(n))
}

func (m *Metrics) retry(name, agency string) {
	if m != nil {
		m.retries.WithLabelValues(name, agency).Inc()
	}
}

func (m *Metrics) failure(name, agency string) {
	if m != nil {
		m.failures.WithLabelValues(name, agency).Inc()
	}
}

func (m *Metrics) observe(name, agency string, seconds float64, lag int64) {
	if m == nil {
		return
	}
	m.fetch.WithLabelValues(name, agency).Observe(seconds)
	m.lag.WithLabelValues(name, agency).Set(float64(lag))
}
