package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/matching"
)

// Consumer is the part of the bus the matcher needs.
type Consumer interface {
	Consume(ctx context.Context, group string, topics []string, handle bus.Handler) error
	DeadLetters(ctx context.Context, dls []bus.DeadLetter) error
}

// Matcher applies the record topics to the profile store. Any number of hub
// processes may run it with the same group: the bus splits the partitions among them.
// A batch is committed only after the store has durably applied it, so a crash
// anywhere means redelivery, which Apply absorbs as duplicates: no accepted record is
// lost and none is applied twice in effect.
type Matcher struct {
	bus     Consumer
	store   matching.Store
	group   string
	topics  []string
	log     *slog.Logger
	records *prometheus.CounterVec
}

// NewMatcher returns a matcher for the given record topics. reg may be nil.
func NewMatcher(b Consumer, s matching.Store, group string, topics []string, log *slog.Logger, reg prometheus.Registerer) *Matcher {
	m := &Matcher{bus: b, store: s, group: group, topics: topics, log: log,
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_matching_records_total", Help: "Records consumed by matching, by outcome.",
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.records)
	}
	return m
}

// Run consumes until ctx ends.
func (m *Matcher) Run(ctx context.Context) error {
	return m.bus.Consume(ctx, m.group, m.topics, m.Handle)
}

// Handle applies one batch of record messages. A message matching cannot decode is
// dead-lettered (with its source position) rather than retried forever.
func (m *Matcher) Handle(ctx context.Context, batch []bus.Message) error {
	changes := make([]matching.Change, 0, len(batch)+len(batch)/8)
	var undecodable []bus.DeadLetter
	for _, msg := range batch {
		subject, rec, err := DecodeMessage(msg)
		if err != nil {
			undecodable = append(undecodable, bus.DeadLetter{Code: "undecodable_message", Message: err.Error(), Key: msg.Key, Value: msg.Value,
				Source: &bus.Position{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset}})
			continue
		}
		changes = append(changes, matching.Route(subject, rec)...)
	}
	if len(undecodable) > 0 {
		if err := m.bus.DeadLetters(ctx, undecodable); err != nil {
			return fmt.Errorf("dead-lettering %d undecodable messages: %w", len(undecodable), err)
		}
		m.records.WithLabelValues("undecodable").Add(float64(len(undecodable)))
	}
	stats, err := m.store.Apply(ctx, changes)
	if err != nil {
		return fmt.Errorf("applying %d changes: %w", len(changes), err)
	}
	m.records.WithLabelValues("applied").Add(float64(stats.Applied))
	m.records.WithLabelValues("duplicate").Add(float64(stats.Duplicate))
	m.records.WithLabelValues("stale").Add(float64(stats.Stale))
	return nil
}

// DecodeMessage reads a record message: key "<subject>|<type>/<id>", value the
// protected envelope.
func DecodeMessage(msg bus.Message) (string, contracts.Envelope, error) {
	subject, _ := bus.SplitKey(msg.Key)
	s := string(subject)
	if !strings.HasPrefix(s, "uscc:") && !strings.HasPrefix(s, "person:") {
		return "", contracts.Envelope{}, errors.New("message key has no subject")
	}
	var rec contracts.Envelope
	if err := json.Unmarshal(msg.Value, &rec); err != nil {
		return "", contracts.Envelope{}, fmt.Errorf("decoding record: %w", err)
	}
	if rec.Type == "" || rec.ID == "" {
		return "", contracts.Envelope{}, errors.New("record without type or id")
	}
	return s, rec, nil
}
