package bus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	produced       *prometheus.CounterVec
	produceErrors  *prometheus.CounterVec
	publishSeconds prometheus.Histogram
	consumed       *prometheus.CounterVec
	handlerErrors  *prometheus.CounterVec
	commitErrors   *prometheus.CounterVec
	deadLetters    *prometheus.CounterVec
	lag            *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		produced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_bus_produced_messages_total",
			Help: "Messages acknowledged by Kafka, by topic.",
		}, []string{"topic"}),
		produceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_bus_produce_errors_total",
			Help: "Messages Publish failed to write, by topic.",
		}, []string{"topic"}),
		publishSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verihub_bus_publish_seconds",
			Help:    "Duration of Publish calls until every message was acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_bus_consumed_messages_total",
			Help: "Messages handled and committed, by consumer group and topic.",
		}, []string{"group", "topic"}),
		handlerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_bus_handler_errors_total",
			Help: "Handler calls that returned an error (the batch is retried), by consumer group.",
		}, []string{"group"}),
		commitErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_bus_commit_errors_total",
			Help: "Offset commits that failed (the batch will be redelivered), by consumer group.",
		}, []string{"group"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_bus_dead_letters_total",
			Help: "Dead letters written, by agency and reason code.",
		}, []string{"agency", "code"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "verihub_bus_consumer_lag",
			Help: "Messages not yet committed by a consumer group: high watermark minus committed offset, as of the last Lag call.",
		}, []string{"group", "topic", "partition"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.produced = register(reg, m.produced, &err)
	m.produceErrors = register(reg, m.produceErrors, &err)
	m.publishSeconds = register(reg, m.publishSeconds, &err)
	m.consumed = register(reg, m.consumed, &err)
	m.handlerErrors = register(reg, m.handlerErrors, &err)
	m.commitErrors = register(reg, m.commitErrors, &err)
	m.deadLetters = register(reg, m.deadLetters, &err)
	m.lag = register(reg, m.lag, &err)
	return m, err
}

// register registers c, or returns the collector already registered under its name
// so that several buses can share one registry.
func register[C prometheus.Collector](reg *prometheus.Registry, c C, errp *error) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		*errp = errors.Join(*errp, err)
	}
	return c
}
