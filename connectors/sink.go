package connectors

import (
	"context"
	"time"

	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/contracts"
)

// Source reads one agency's records one page at a time; see pull.Source for its
// promises.
type Source = pull.Source

// Page is one answer of an agency's pull API.
type Page = pull.Page

// Sink receives validated records. Publish returns only once every record is durable
// on the bus; publishing the same records again is harmless (apply is idempotent).
// Reject keeps a refused record with its reasons (the dead-letter topic) and returns
// only once that is durable. Both are safe for concurrent use; an error means nothing
// can be assumed durable and the runner will read the page again.
type Sink interface {
	Publish(ctx context.Context, agency string, recs []contracts.Envelope) error
	Reject(ctx context.Context, agency string, raw []byte, rejects []contracts.Reject) error
}

// CursorStore keeps connector cursors durably (the hub passes its state store).
// Get returns an error matching contracts.ErrNotFound when the key is absent; Put is
// durable on return; ttl 0 means no expiry. Safe for concurrent use.
type CursorStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// Validator checks one raw record against its contract. It returns the normalised
// envelope and any warnings (accepted with a note, e.g. legacy_checksum), or an error;
// a refusal is a *contracts.RecordError carrying every reject. It is pure and safe for
// concurrent use.
//
// The contracts validator fits through ValidatorFunc:
//
//	connectors.ValidatorFunc(func(raw []byte) (contracts.Envelope, []contracts.Reject, error) {
//		v, err := cv.Validate(raw)
//		return v.Envelope, v.Warnings, err
//	})
type Validator interface {
	Validate(raw []byte) (contracts.Envelope, []contracts.Reject, error)
}

// ValidatorFunc adapts a function to Validator.
type ValidatorFunc func(raw []byte) (contracts.Envelope, []contracts.Reject, error)

// Validate calls f.
func (f ValidatorFunc) Validate(raw []byte) (contracts.Envelope, []contracts.Reject, error) {
	return f(raw)
}

// CodeForeignType is the reject code for a record whose type belongs to another agency
// than the connector's, or that the connector did not ask for: an agency cannot feed
// another agency's records.
const CodeForeignType = "foreign_type"
