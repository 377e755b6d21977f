// Package simulator is a stand-in for an agency's pull API (SPEC §3), for tests, the
// demo and `hub sim`. It serves a fixed, ordered list of envelopes per record type with
// opaque cursors, checks a bearer token, and injects faults on demand: 5xx answers
// (with or without Retry-After), added latency, hangs past the client's timeout,
// truncated bodies, repeated or overlapping pages, and restarts of the listener.
//
// Cursors are base64url("o:<offset>") into a type's list, so they stay valid across
// restarts of the simulator as long as it serves the same data (appending keeps them
// valid too). Everything is safe for concurrent use, including changing faults while
// requests are served.
package simulator

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Limits on the limit query parameter.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Faults says which faults to inject. Rates are probabilities per request in [0, 1];
// the Next* counters inject a fault into exactly the next N requests (bursts), and are
// consumed before the rates are consulted.
type Faults struct {
	// ErrorRate answers with ErrorStatus (default 503).
	ErrorRate   float64
	ErrorStatus int
	// RetryAfter, when > 0, is sent as Retry-After (whole seconds, rounded up) on
	// injected 5xx answers.
	RetryAfter time.Duration
	// Latency is added to every answer.
	Latency time.Duration
	// HangRate makes a request hang for Hang (default 1h), or until the client goes
	// away, before answering.
	HangRate float64
	Hang     time.Duration
	// TruncateRate cuts the body of a successful answer in half.
	TruncateRate float64
	// DuplicateRate serves, instead of the page asked for, the page before it (a
	// repeated page) or one starting half a page early (an overlap); the answer's
	// next cursor is consistent with the records served.
	DuplicateRate float64

	// NextErrors, NextHangs, NextTruncated and NextDuplicates inject into exactly the
	// next N requests.
	NextErrors, NextHangs, NextTruncated, NextDuplicates int
}

// Stats counts what the simulator did.
type Stats struct {
	Requests, Served, Unauthorized, Errors, Hangs, Truncated, Duplicates int
	// Cursors lists the since= values of successful requests, in order (the empty
	// string for a request without one); tests use it to see where a client resumed.
	Cursors []string
}

// Simulator serves one agency's records. The zero value is not usable: use New.
type Simulator struct {
	agency string
	types  []string

	mu     sync.Mutex
	data   map[string][]json.RawMessage
	token  string
	faults Faults
	rng    *rand.Rand
	stats  Stats
}

// New returns a simulator for agency serving the given record types, accepting token.
// seed makes fault injection reproducible.
func New(agency string, types []string, token string, seed uint64) *Simulator {
	s := &Simulator{
		agency: agency,
		types:  slices.Clone(types),
		data:   make(map[string][]json.RawMessage, len(types)),
		token:  token,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	for _, t := range types {
		s.data[t] = nil
	}
	return s
}

// Agency returns the agency name.
func (s *Simulator) Agency() string { return s.agency }

// Types returns the record types served.
func (s *Simulator) Types() []string { return slices.Clone(s.types) }

// Append adds envelopes at the end of their type's list. An envelope of a type the
// simulator does not serve is an error, and nothing is added.
func (s *Simulator) Append(recs ...contracts.Envelope) error {
	raws := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", r.Key(), err)
		}
		raws[i] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if _, ok := s.data[r.Type]; !ok {
			return fmt.Errorf("appending %s to the %s simulator: type not served", r.Type, s.agency)
		}
	}
	for i, r := range recs {
		s.data[r.Type] = append(s.data[r.Type], raws[i])
	}
	return nil
}

// AppendRaw adds raw JSON objects (valid or not as records) to recordType's list.
func (s *Simulator) AppendRaw(recordType string, raws ...json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.data[recordType]; !ok {
		return fmt.Errorf("appending to %s of the %s simulator: type not served", recordType, s.agency)
	}
	for _, r := range raws {
		var c bytes.Buffer
		if err := json.Compact(&c, r); err != nil || c.Len() == 0 || c.Bytes()[0] != '{' {
			return fmt.Errorf("appending to %s: not a JSON object", recordType)
		}
		s.data[recordType] = append(s.data[recordType], c.Bytes())
	}
	return nil
}

// LoadNDJSON appends one envelope per non-blank line of r, grouped by its "type". Lines
// of types this simulator does not serve are skipped and counted; a line that is not a
// JSON object with a string "type" is an error naming its line number.
func (s *Simulator) LoadNDJSON(r io.Reader) (loaded, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4*contracts.MaxRecordBytes)
	byType := make(map[string][]json.RawMessage)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var probe struct {
			Type string `json:"type"`
		}
		if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &probe) != nil || probe.Type == "" {
			return 0, 0, fmt.Errorf("loading line %d: not an envelope with a type", line)
		}
		if !slices.Contains(s.types, probe.Type) {
			skipped++
			continue
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			return 0, 0, fmt.Errorf("loading line %d: %w", line, err)
		}
		byType[probe.Type] = append(byType[probe.Type], c.Bytes())
		loaded++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("loading line %d: %w", line+1, err)
	}
	s.mu.Lock()
	for t, rs := range byType {
		s.data[t] = append(s.data[t], rs...)
	}
	s.mu.Unlock()
	return loaded, skipped, nil
}

// LoadFile loads an NDJSON file (see LoadNDJSON).
func (s *Simulator) LoadFile(path string) (loaded, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", path, err)
	}
	defer f.Close()
	loaded, skipped, err = s.LoadNDJSON(f)
	if err != nil {
		return 0, 0, fmt.Errorf("loading %s: %w", path, err)
	}
	return loaded, skipped, nil
}

// Records returns a copy of recordType's list, in serving order.
func (s *Simulator) Records(recordType string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.data[recordType])
}

// SetFaults replaces the fault configuration; it applies to the next request.
func (s *Simulator) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the current fault configuration (with counters left).
func (s *Simulator) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetToken replaces the accepted token.
func (s *Simulator) SetToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Cursors = slices.Clone(s.stats.Cursors)
	return st
}

// EncodeCursor returns the cursor naming offset in a type's list.
func EncodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

// DecodeCursor returns the offset a cursor names; "" is offset 0.
func DecodeCursor(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil {
		return 0, errors.New("cursor is not base64url")
	}
	n, ok := strings.CutPrefix(string(b), "o:")
	if !ok {
		return 0, errors.New("cursor has no offset")
	}
	off, err := strconv.Atoi(n)
	if err != nil || off < 0 || strconv.Itoa(off) != n {
		return 0, errors.New("cursor offset is not a non-negative integer")
	}
	// base64 decoding skips line breaks; a cursor has exactly one spelling.
	if EncodeCursor(off) != c {
		return 0, errors.New("cursor is not in canonical form")
	}
	return off, nil
}

type fault int

const (
	faultNone fault = iota
	faultError
	faultHang
	faultTruncate
	faultDuplicate
)

// pick consumes a burst counter or draws against the rates. Called with s.mu held.
func (s *Simulator) pick() fault {
	f := &s.faults
	switch {
	case f.NextErrors > 0:
		f.NextErrors--
		return faultError
	case f.NextHangs > 0:
		f.NextHangs--
		return faultHang
	case f.NextTruncated > 0:
		f.NextTruncated--
		return faultTruncate
	case f.NextDuplicates > 0:
		f.NextDuplicates--
		return faultDuplicate
	}
	x := s.rng.Float64()
	for _, c := range []struct {
		rate float64
		f    fault
	}{{f.ErrorRate, faultError}, {f.HangRate, faultHang}, {f.TruncateRate, faultTruncate}, {f.DuplicateRate, faultDuplicate}} {
		if x < c.rate {
			return c.f
		}
		x -= c.rate
	}
	return faultNone
}

// ServeHTTP answers GET /api/v1/records.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/records" {
		problem(w, http.StatusNotFound, "not_found", "no such resource")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		problem(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	s.mu.Lock()
	s.stats.Requests++
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" || tok != s.token {
		s.stats.Unauthorized++
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.agency+`"`)
		problem(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
		return
	}
	fl := s.faults
	fa := s.pick()
	s.mu.Unlock()

	if fl.Latency > 0 && !sleep(r, fl.Latency) {
		return
	}
	switch fa {
	case faultError:
		s.count(func(st *Stats) { st.Errors++ })
		status := fl.ErrorStatus
		if status < 500 || status > 599 {
			status = http.StatusServiceUnavailable
		}
		if fl.RetryAfter > 0 {
			secs := (fl.RetryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
		problem(w, status, "unavailable", "the agency system is busy")
		return
	case faultHang:
		s.count(func(st *Stats) { st.Hangs++ })
		h := fl.Hang
		if h <= 0 {
			h = time.Hour
		}
		if !sleep(r, h) {
			return
		}
	}

	q := r.URL.Query()
	typ := q.Get("type")
	if !slices.Contains(s.types, typ) {
		problem(w, http.StatusBadRequest, "unknown_type", fmt.Sprintf("type must be one of %s", strings.Join(s.types, ", ")))
		return
	}
	limit := DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problem(w, http.StatusBadRequest, "bad_limit", fmt.Sprintf("limit must be an integer from 1 to %d", MaxLimit))
			return
		}
		limit = min(n, MaxLimit)
	}
	off, err := DecodeCursor(q.Get("since"))
	if err != nil {
		problem(w, http.StatusBadRequest, "bad_cursor", err.Error())
		return
	}

	s.mu.Lock()
	recs := s.data[typ]
	if off > len(recs) {
		s.mu.Unlock()
		problem(w, http.StatusBadRequest, "bad_cursor", "cursor is past the end of the data")
		return
	}
	start := off
	if fa == faultDuplicate && off > 0 {
		if s.rng.IntN(2) == 0 {
			start = max(0, off-limit) // the previous page again
		} else {
			start = max(0, off-max(1, limit/2)) // an overlapping page
		}
		s.stats.Duplicates++
	}
	end := min(len(recs), start+limit)
	page := slices.Clone(recs[start:end])
	total := len(recs)
	s.stats.Cursors = append(s.stats.Cursors, q.Get("since"))
	s.mu.Unlock()

	if page == nil {
		page = []json.RawMessage{}
	}
	body, err := json.Marshal(struct {
		Records   []json.RawMessage `json:"records"`
		Next      string            `json:"next"`
		HasMore   bool              `json:"has_more"`
		Remaining int               `json:"remaining"`
	}{page, EncodeCursor(end), end < total, total - end})
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "encoding the page")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if fa == faultTruncate {
		s.count(func(st *Stats) { st.Truncated++ })
		half := body[:len(body)/2]
		if len(body)%2 == 0 {
			// Declared length, short body: the client sees an unexpected EOF.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(http.StatusOK)
		w.Write(half)
		return
	}
	s.count(func(st *Stats) { st.Served++ })
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func (s *Simulator) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// sleep waits d or until the client goes away; it reports whether to go on.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"code":   code,
		"detail": detail,
	})
}
