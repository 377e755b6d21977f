package contracts

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors shared across the hub. Foreign errors are translated into these at
// the boundary (redis.Nil → ErrNotFound, and so on).
var (
	ErrInvalidRecord = errors.New("invalid record")
	ErrNotFound      = errors.New("not found")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrForbidden     = errors.New("forbidden")
	ErrConflict      = errors.New("conflict")
	ErrUnavailable   = errors.New("unavailable")
)

// Reject is one reason a record was refused (or, as a warning, accepted with a note).
// Code is stable and machine-readable; Field is a JSON path such as "data.uscc";
// Message is for the data clerk who must correct the record.
type Reject struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (r Reject) String() string {
	if r.Field == "" {
		return r.Code + ": " + r.Message
	}
	return fmt.Sprintf("%s at %s: %s", r.Code, r.Field, r.Message)
}

// RecordError is the error returned for a refused record. It matches
// ErrInvalidRecord with errors.Is.
type RecordError struct {
	Rejects []Reject
}

func (e *RecordError) Error() string {
	parts := make([]string, len(e.Rejects))
	for i, r := range e.Rejects {
		parts[i] = r.String()
	}
	return "invalid record: " + strings.Join(parts, "; ")
}

// Is reports whether target is ErrInvalidRecord.
func (e *RecordError) Is(target error) bool { return target == ErrInvalidRecord }

// First returns the first reject, the one a single-code interface reports.
func (e *RecordError) First() Reject {
	if len(e.Rejects) == 0 {
		return Reject{Code: CodeInvalid, Message: "invalid record"}
	}
	return e.Rejects[0]
}

// IndexedReject is one refused record of a submission (a pushed batch, a file, a
// replay), by its position in the submission; receipts carry the first reject of
// each refused record.
type IndexedReject struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}
