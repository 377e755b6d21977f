package problem

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verihub/verihub/contracts"
)

func TestFrom(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"typed", New(400, "invalid_params", "year must be 2019"), 400, "invalid_params"},
		{"wrapped typed", fmt.Errorf("verifying: %w", New(404, "unknown_program", "no such program")), 404, "unknown_program"},
		{"record", &contracts.RecordError{Rejects: []contracts.Reject{{Code: "uscc_checksum", Field: "data.uscc", Message: "x"}}}, 422, "uscc_checksum"},
		{"not found", fmt.Errorf("profile: %w", contracts.ErrNotFound), 404, "not_found"},
		{"unavailable", fmt.Errorf("redis: %w", contracts.ErrUnavailable), 503, "unavailable"},
		{"opaque", fmt.Errorf("dial tcp 10.0.0.1:6379: secret internals"), 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := From(tt.err)
			if p.Status != tt.status || p.Code != tt.code {
				t.Fatalf("From(%v) = %d %s, want %d %s", tt.err, p.Status, p.Code, tt.status, tt.code)
			}
		})
	}
}

func TestWriteHidesInternals(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, fmt.Errorf("dial tcp 10.0.0.1:6379: connection refused"), "req-1")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Fatalf("content type %q", ct)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Detail != "internal error" || p.RequestID != "req-1" {
		t.Fatalf("problem leaks or lacks fields: %+v", p)
	}
}
