// Package audit keeps the hub's audit trail: who asked about whom, when, under which
// program, and what the hub answered — every verification, batch item, screening
// export and dead-letter action. Events go to a Kafka topic (acks=all) keyed by
// subject; a request is answered only after its events are durable, so there are no
// unaudited answers. Subjects are store keys ("uscc:…", "person:<pseudonym>"): the
// trail never holds a raw ID number.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/verihub/verihub/hub/bus"
)

// Actions.
const (
	ActionVerification     = "verification"
	ActionBatchItem        = "batch_item"
	ActionScreeningExport  = "screening_export"
	ActionDeadLetterReplay = "deadletter_replay"
	ActionDeadLetterPurge  = "deadletter_purge"
)

// Event is one audited action.
type Event struct {
	Time      time.Time      `json:"time"`
	Action    string         `json:"action"`
	Client    string         `json:"client"`
	Subject   string         `json:"subject,omitempty"`
	Program   string         `json:"program,omitempty"`
	Params    map[string]any `json:"params,omitempty"`
	Decision  string         `json:"decision,omitempty"`
	AmountFen int64          `json:"amount_fen,omitempty"`
	TokenID   string         `json:"jti,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Item      int            `json:"item,omitempty"`
	Detail    string         `json:"detail,omitempty"`
}

// Log records events. Record returns only once every event is durable; an error
// means the caller must not give its answer.
type Log interface {
	Record(ctx context.Context, events ...Event) error
}

// Bus is what the Kafka-backed trail needs.
type Bus interface {
	Publish(ctx context.Context, msgs []bus.Message) error
	ReadAll(ctx context.Context, topics []string, fn func(batch []bus.Message) error) error
	Config() bus.Config
}

// Trail is the Kafka-backed audit log.
type Trail struct {
	bus Bus
}

var _ Log = (*Trail)(nil)

// New returns the trail on the bus's audit topic.
func New(b Bus) *Trail { return &Trail{bus: b} }

// Record publishes events to the audit topic and returns once they are durable.
// Concurrent calls share producer batches.
func (t *Trail) Record(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	topic := t.bus.Config().AuditTopic()
	msgs := make([]bus.Message, len(events))
	for i, e := range events {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		e.Time = e.Time.UTC()
		v, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding audit event: %w", err)
		}
		msgs[i] = bus.Message{Topic: topic, Key: []byte(e.Subject), Value: v, Time: e.Time}
	}
	if err := t.bus.Publish(ctx, msgs); err != nil {
		return fmt.Errorf("writing %d audit events: %w", len(events), err)
	}
	return nil
}

// Query selects events: by subject and/or client, within [Since, Until).
type Query struct {
	Subject string
	Client  string
	Since   time.Time
	Until   time.Time
	Limit   int // default 100, at most 1000
}

func (q Query) match(e Event) bool {
	return (q.Subject == "" || e.Subject == q.Subject) && (q.Client == "" || e.Client == q.Client) &&
		(q.Since.IsZero() || !e.Time.Before(q.Since)) && (q.Until.IsZero() || e.Time.Before(q.Until))
}

// Search returns the newest events matching q, newest first. It reads the audit
// topic as it stands (no index), so it suits an administrator's search, not a hot
// path.
func (t *Trail) Search(ctx context.Context, q Query) ([]Event, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var found []Event
	err := t.bus.ReadAll(ctx, []string{t.bus.Config().AuditTopic()}, func(batch []bus.Message) error {
		for _, m := range batch {
			if q.Subject != "" && string(m.Key) != q.Subject {
				continue
			}
			var e Event
			if err := json.Unmarshal(m.Value, &e); err != nil {
				continue
			}
			if q.match(e) {
				found = append(found, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("searching the audit trail: %w", err)
	}
	sortNewestFirst(found)
	if len(found) > limit {
		found = found[:limit]
	}
	return found, nil
}

func sortNewestFirst(es []Event) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.After(es[j].Time) })
}
