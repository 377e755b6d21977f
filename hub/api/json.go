package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/verihub/verihub/hub/problem"
)

// decodeJSON strictly decodes a JSON request body into v: the right media type, one
// document, no unknown fields, within the size limit.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &problem.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Detail: "send application/json"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if IsTooLarge(err) {
			return &problem.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large", Detail: "request body too large"}
		}
		return &problem.Error{Status: http.StatusBadRequest, Code: "malformed_request", Detail: "request body is not valid JSON for this endpoint: " + jsonReason(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &problem.Error{Status: http.StatusBadRequest, Code: "malformed_request", Detail: "request body holds more than one JSON document"}
	}
	return nil
}

// jsonReason keeps the decoder's explanation but never echoes input values.
func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error"
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	}
	return "cannot decode"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeEncoded writes a body already encoded as JSON (ending in a newline, as
// writeJSON's are).
func writeEncoded(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
