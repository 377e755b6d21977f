// Package problem writes HTTP errors as RFC 9457 problem details
// (application/problem+json) with a stable machine-readable code. Every handler in
// the hub reports errors through it, so the mapping from error to status and code
// lives in one place and a 5xx never leaks internal text.
package problem

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/verihub/verihub/contracts"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem document with verihub's extension members.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Code      string       `json:"code"`
	Field     string       `json:"field,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// FieldError is one of several problems in a request (e.g. every reject of a record).
type FieldError struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is an error that knows its HTTP status and code. Handlers return it (or wrap
// it) for every client error.
type Error struct {
	Status int
	Code   string
	Detail string
	Field  string
	Errors []FieldError
	Header http.Header // extra response headers, e.g. Retry-After
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// New returns an *Error.
func New(status int, code, detail string) *Error {
	return &Error{Status: status, Code: code, Detail: detail}
}

// From maps any error to a problem: an *Error as it is, a contracts.RecordError as
// 422 with every reject, the contracts sentinels by their meaning, anything else as an
// opaque 500.
func From(err error) Problem {
	var pe *Error
	if errors.As(err, &pe) {
		return Problem{Status: pe.Status, Code: pe.Code, Detail: pe.Detail, Field: pe.Field, Errors: pe.Errors}
	}
	var re *contracts.RecordError
	if errors.As(err, &re) {
		p := Problem{Status: http.StatusUnprocessableEntity, Code: re.First().Code, Field: re.First().Field, Detail: re.First().Message}
		for _, r := range re.Rejects {
			p.Errors = append(p.Errors, FieldError{Code: r.Code, Field: r.Field, Message: r.Message})
		}
		return p
	}
	switch {
	case errors.Is(err, contracts.ErrNotFound):
		return Problem{Status: http.StatusNotFound, Code: "not_found", Detail: "no such resource"}
	case errors.Is(err, contracts.ErrUnauthorized):
		return Problem{Status: http.StatusUnauthorized, Code: "unauthorized", Detail: "authentication required"}
	case errors.Is(err, contracts.ErrForbidden):
		return Problem{Status: http.StatusForbidden, Code: "forbidden", Detail: "not allowed for this client"}
	case errors.Is(err, contracts.ErrConflict):
		return Problem{Status: http.StatusConflict, Code: "conflict", Detail: "conflicts with the current state"}
	case errors.Is(err, contracts.ErrUnavailable):
		return Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "a dependency is unavailable; retry later"}
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "internal error"}
}

// Write writes err as a problem document. requestID may be empty.
func Write(w http.ResponseWriter, err error, requestID string) {
	p := From(err)
	var pe *Error
	if errors.As(err, &pe) {
		for k, vs := range pe.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	p.RequestID = requestID
	WriteProblem(w, p)
}

// WriteProblem writes a problem document as it is, filling Type and Title.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "https://verihub.example/problems/" + p.Code
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
