// Package connectorstest holds fakes for testing connectors: a Sink that applies SPEC §1
// version ordering per (type, id), an in-memory CursorStore with an invariant hook, a
// stand-in record validator, and a generator of contract-shaped records per agency.
package connectorstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Sink is a fake hub: it keeps, per record key, the winning version (greater
// (revision, as_of) wins, equal is a no-op, lesser is ignored), every version it was
// given, and every rejected raw record. FailPublish makes the next N Publish calls fail.
type Sink struct {
	mu          sync.Mutex
	state       map[string]contracts.Envelope
	seen        map[string]bool
	rejected    map[string][]contracts.Reject
	published   int
	failPublish int
	failed      int
	agencies    map[string]bool
}

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{
		state:    make(map[string]contracts.Envelope),
		seen:     make(map[string]bool),
		rejected: make(map[string][]contracts.Reject),
		agencies: make(map[string]bool),
	}
}

// ErrInjected is returned by injected sink faults.
var ErrInjected = errors.New("injected sink fault")

// VersionKey names one version of one record.
func VersionKey(e contracts.Envelope) string {
	return e.Key() + "@" + strconv.FormatInt(e.Revision, 10) + "@" + e.AsOf.UTC().Format(time.RFC3339Nano)
}

// FailPublish makes the next n Publish calls fail without applying anything.
func (s *Sink) FailPublish(n int) {
	s.mu.Lock()
	s.failPublish = n
	s.mu.Unlock()
}

// FailedPublishes returns how many Publish calls failed by injection.
func (s *Sink) FailedPublishes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// Publish applies recs.
func (s *Sink) Publish(ctx context.Context, agency string, recs []contracts.Envelope) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPublish > 0 {
		s.failPublish--
		s.failed++
		return ErrInjected
	}
	s.agencies[agency] = true
	for _, e := range recs {
		s.published++
		s.seen[VersionKey(e)] = true
		cur, ok := s.state[e.Key()]
		if !ok || e.Version().Compare(cur.Version()) > 0 {
			s.state[e.Key()] = e
		}
	}
	return nil
}

// Reject keeps raw with its rejects.
func (s *Sink) Reject(ctx context.Context, agency string, raw []byte, rejects []contracts.Reject) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rejects) == 0 {
		return errors.New("reject without reasons")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agencies[agency] = true
	s.rejected[string(raw)] = rejects
	return nil
}

// State returns the winning version per key.
func (s *Sink) State() map[string]contracts.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]contracts.Envelope, len(s.state))
	for k, v := range s.state {
		out[k] = v
	}
	return out
}

// Rejected returns the rejected raw records with their reasons.
func (s *Sink) Rejected() map[string][]contracts.Reject {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]contracts.Reject, len(s.rejected))
	for k, v := range s.rejected {
		out[k] = v
	}
	return out
}

// Published returns how many records Publish accepted in total (duplicates included).
func (s *Sink) Published() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.published
}

// Handled reports whether raw has reached the sink: published (this exact version) or
// rejected.
func (s *Sink) Handled(raw []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rejected[string(raw)]; ok {
		return true
	}
	var e contracts.Envelope
	if json.Unmarshal(raw, &e) != nil {
		return false
	}
	return s.seen[VersionKey(e)]
}

// Diff compares the sink's state with want (winning versions per key) and describes the
// first differences, or returns "" when they are equal.
func (s *Sink) Diff(want map[string]contracts.Envelope) string {
	got := s.State()
	var b bytes.Buffer
	n := 0
	note := func(format string, args ...any) {
		if n < 5 {
			fmt.Fprintf(&b, format+"\n", args...)
		}
		n++
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			note("missing %s", k)
		case g.Version().Compare(w.Version()) != 0 || g.Deleted != w.Deleted || !bytes.Equal(g.Data, w.Data):
			note("%s: got revision %d as_of %s, want revision %d as_of %s", k, g.Revision, g.AsOf, w.Revision, w.AsOf)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			note("unexpected %s", k)
		}
	}
	if n > 5 {
		fmt.Fprintf(&b, "… %d differences in all\n", n)
	}
	return b.String()
}

// Winners returns the winning version per key of recs, by SPEC §1 ordering.
func Winners(recs []contracts.Envelope) map[string]contracts.Envelope {
	out := make(map[string]contracts.Envelope)
	for _, e := range recs {
		cur, ok := out[e.Key()]
		if !ok || e.Version().Compare(cur.Version()) > 0 {
			out[e.Key()] = e
		}
	}
	return out
}
