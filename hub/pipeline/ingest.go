// Package pipeline moves records from the edge to the profiles. Ingest is the single
// edge every record passes, whatever brought it (hub load, a pull connector, a pushed
// batch, a dead-letter replay): it validates, protects (seals ID numbers, keys persons
// by pseudonym) and publishes to the agency's topic, dead-lettering what it refuses.
// Matcher consumes the topics and applies each record to its subject's profile.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
)

// CodeWrongAgency refuses a record whose type belongs to another agency than the one
// submitting it: an agency may send only its own record types.
const CodeWrongAgency = "wrong_agency"

// Bus is the part of the bus ingest needs.
type Bus interface {
	Publish(ctx context.Context, msgs []bus.Message) error
	DeadLetters(ctx context.Context, dls []bus.DeadLetter) error
	Config() bus.Config
}

// Ingest validates, protects and publishes. It is safe for concurrent use.
type Ingest struct {
	validator *contracts.Validator
	protector *contracts.Protector
	bus       Bus
	log       *slog.Logger
	records   *prometheus.CounterVec
}

var _ connectors.Sink = (*Ingest)(nil)

// NewIngest returns the ingest edge. reg may be nil.
func NewIngest(v *contracts.Validator, p *contracts.Protector, b Bus, log *slog.Logger, reg prometheus.Registerer) *Ingest {
	in := &Ingest{validator: v, protector: p, bus: b, log: log,
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verihub_ingest_records_total", Help: "Records submitted to the hub, by agency and outcome.",
		}, []string{"agency", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(in.records)
	}
	return in
}

// Submit validates raw records of one agency, publishes the accepted ones and
// dead-letters the refused ones, and returns only once both are durable on the bus.
// On error nothing can be assumed published or dead-lettered; submitting again is
// safe because applying a record twice is a no-op.
func (in *Ingest) Submit(ctx context.Context, agency string, raws [][]byte) (accepted int, rejected []contracts.IndexedReject, err error) {
	rejected = []contracts.IndexedReject{}
	msgs := make([]bus.Message, 0, len(raws))
	var refused []int
	var rejects [][]contracts.Reject
	for i, raw := range raws {
		msg, rj := in.prepare(agency, raw)
		if len(rj) > 0 {
			refused, rejects = append(refused, i), append(rejects, rj)
			rejected = append(rejected, contracts.IndexedReject{Index: i, Code: rj[0].Code, Field: rj[0].Field, Message: rj[0].Message})
			continue
		}
		msgs = append(msgs, msg)
	}
	if err := in.bus.Publish(ctx, msgs); err != nil {
		return 0, nil, fmt.Errorf("publishing %d %s records: %w", len(msgs), agency, err)
	}
	if len(refused) > 0 {
		dls := make([]bus.DeadLetter, len(refused))
		for k, i := range refused {
			dl, err := in.deadLetter(agency, raws[i], rejects[k])
			if err != nil {
				return 0, nil, err
			}
			dls[k] = dl
		}
		if err := in.bus.DeadLetters(ctx, dls); err != nil {
			return 0, nil, fmt.Errorf("dead-lettering %d %s records: %w", len(dls), agency, err)
		}
		in.records.WithLabelValues(agency, "rejected").Add(float64(len(dls)))
	}
	in.records.WithLabelValues(agency, "accepted").Add(float64(len(msgs)))
	return len(msgs), rejected, nil
}

// prepare turns one raw record into its bus message, or says why it is refused.
func (in *Ingest) prepare(agency string, raw []byte) (bus.Message, []contracts.Reject) {
	val, err := in.validator.Validate(raw)
	if err != nil {
		var re *contracts.RecordError
		if errors.As(err, &re) {
			return bus.Message{}, re.Rejects
		}
		return bus.Message{}, []contracts.Reject{{Code: contracts.CodeInvalid, Message: err.Error()}}
	}
	if got := contracts.AgencyOf(val.Envelope.Type); got != agency {
		return bus.Message{}, []contracts.Reject{{Code: CodeWrongAgency, Field: "type",
			Message: fmt.Sprintf("%s records come from agency %q, not %q", val.Envelope.Type, got, agency)}}
	}
	msg, err := in.message(agency, val.Envelope)
	if err != nil {
		return bus.Message{}, []contracts.Reject{{Code: contracts.CodeInvalid, Message: err.Error()}}
	}
	return msg, nil
}

// message protects a validated envelope and encodes it for its agency's topic.
func (in *Ingest) message(agency string, e contracts.Envelope) (bus.Message, error) {
	rec, subject, err := in.protector.Protect(e)
	if err != nil {
		return bus.Message{}, fmt.Errorf("protecting %s: %w", e.Type, err)
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return bus.Message{}, fmt.Errorf("encoding %s: %w", e.Type, err)
	}
	return bus.Message{Topic: in.bus.Config().RecordsTopic(agency), Key: bus.RecordKey(subject, rec.Key()), Value: value}, nil
}

// Publish implements connectors.Sink for records a connector already validated.
func (in *Ingest) Publish(ctx context.Context, agency string, recs []contracts.Envelope) error {
	msgs := make([]bus.Message, len(recs))
	for i, e := range recs {
		m, err := in.message(agency, e)
		if err != nil {
			return err
		}
		msgs[i] = m
	}
	if err := in.bus.Publish(ctx, msgs); err != nil {
		return fmt.Errorf("publishing %d %s records: %w", len(msgs), agency, err)
	}
	in.records.WithLabelValues(agency, "accepted").Add(float64(len(msgs)))
	return nil
}

// Reject implements connectors.Sink: the refused record is kept as a dead letter,
// sealed (it may hold an ID number anywhere), with its first reason in the headers.
func (in *Ingest) Reject(ctx context.Context, agency string, raw []byte, rejects []contracts.Reject) error {
	dl, err := in.deadLetter(agency, raw, rejects)
	if err != nil {
		return err
	}
	if err := in.bus.DeadLetters(ctx, []bus.DeadLetter{dl}); err != nil {
		return fmt.Errorf("dead-lettering a %s record: %w", agency, err)
	}
	in.records.WithLabelValues(agency, "rejected").Inc()
	return nil
}

func (in *Ingest) deadLetter(agency string, raw []byte, rejects []contracts.Reject) (bus.DeadLetter, error) {
	sealed, err := in.protector.SealBytes(raw)
	if err != nil {
		return bus.DeadLetter{}, err
	}
	first := contracts.Reject{Code: contracts.CodeInvalid, Message: "refused"}
	if len(rejects) > 0 {
		first = rejects[0]
	}
	return bus.DeadLetter{Code: first.Code, Message: first.Message, Field: first.Field, Agency: agency, Value: sealed}, nil
}

// Validator adapts the contracts validator to the connectors' interface.
func (in *Ingest) Validator() connectors.Validator {
	return connectors.ValidatorFunc(func(raw []byte) (contracts.Envelope, []contracts.Reject, error) {
		v, err := in.validator.Validate(raw)
		return v.Envelope, v.Warnings, err
	})
}

// OpenDeadLetter returns the original bytes of a dead letter's record.
func (in *Ingest) OpenDeadLetter(dl bus.DeadLetter) ([]byte, error) {
	return in.protector.OpenBytes(dl.Value)
}
