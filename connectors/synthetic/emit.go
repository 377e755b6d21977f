package synthetic

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/verihub/verihub/contracts"
)

// Agency files, in contracts.Agencies order.
const (
	fileSI = iota
	fileTax
	fileCert
	fileEnv
	fileCredit
	fileGrant
	numAgencyFiles
)

// agencyFiles are the names of the agency files.
var agencyFiles = [numAgencyFiles]string{"si.ndjson", "tax.ndjson", "cert.ndjson", "env.ndjson", "credit.ndjson", "grant.ndjson"}

// fileOf returns the agency file of a record type.
func fileOf(recordType string) int {
	for i, a := range contracts.Agencies {
		if contracts.AgencyOf(recordType) == a {
			return i
		}
	}
	panic("synthetic: no agency for " + recordType)
}

// Version noise rates: how often one record appears in more than one version.
const (
	rateCorrection = 0.02  // an older wrong version and its correction (revision + 1)
	rateSameRevOld = 0.005 // the same revision with an older as_of and wrong data
	rateDuplicate  = 0.015 // an exact duplicate line
	rateBad        = 0.05  // a mutated copy goes to bad.ndjson (si.employer_month: rateBadMonth)
	rateBadMonth   = 0.01
)

// fileStats counts what went into one file.
type fileStats struct {
	Lines int            `json:"lines"`
	Types map[string]int `json:"types,omitempty"`
}

// sink holds the open output files.
type sink struct {
	agency   [numAgencyFiles]*bufio.Writer
	stats    [numAgencyFiles]fileStats
	bad      *badWriter
	buf      []byte
	onRecord func(file int, line []byte) // tests: sees every agency line
}

func (s *sink) writeEnvelope(file int, e contracts.Envelope) error {
	s.buf = appendEnvelope(s.buf[:0], e)
	if _, err := s.agency[file].Write(s.buf); err != nil {
		return fmt.Errorf("writing %s: %w", agencyFiles[file], err)
	}
	st := &s.stats[file]
	st.Lines++
	if st.Types == nil {
		st.Types = map[string]int{}
	}
	st.Types[e.Type]++
	if s.onRecord != nil {
		s.onRecord(file, s.buf)
	}
	return nil
}

// appendEnvelope encodes an envelope as one NDJSON line, byte for byte what
// encoding/json makes of a contracts.Envelope, without the reflection.
func appendEnvelope(dst []byte, e contracts.Envelope) []byte {
	dst = append(dst, `{"type":`...)
	dst = appendJSONString(dst, e.Type)
	dst = append(dst, `,"id":`...)
	dst = appendJSONString(dst, e.ID)
	dst = append(dst, `,"revision":`...)
	dst = strconv.AppendInt(dst, e.Revision, 10)
	dst = append(dst, `,"as_of":"`...)
	dst = e.AsOf.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if e.Deleted {
		dst = append(dst, `,"deleted":true`...)
	}
	if len(e.Data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	return append(dst, '}', '\n')
}

// appendJSONString appends s as a JSON string the way encoding/json does (HTML-safe).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// batch collects the records of one subject. Records go to the files as they are put;
// some versions (duplicates, stale copies) are held back to the end of the subject so
// that they land after the versions they repeat. envs keeps every version written, for
// the oracle.
type batch struct {
	s        *sink
	r        *rand.Rand
	envs     []contracts.Envelope
	deferred []contracts.Envelope
	err      error
}

func newBatch(s *sink, r *rand.Rand) *batch {
	return &batch{s: s, r: r, envs: make([]contracts.Envelope, 0, 128)}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("synthetic: encoding generated data: " + err.Error())
	}
	return b
}

func (b *batch) write(e contracts.Envelope) {
	if b.err != nil {
		return
	}
	b.envs = append(b.envs, e)
	b.err = b.s.writeEnvelope(fileOf(e.Type), e)
}

// put writes one record whose winning version must carry data. alt, when not nil, is
// an earlier, wrong version of the same record: put may write it as well, with a
// lesser version, before or after the winning one, to exercise SPEC §1's ordering.
// put may also write an exact duplicate, and copy the record, mutated, to bad.ndjson.
func (b *batch) put(typ, id string, rev int64, asOf time.Time, data, alt any) {
	e := contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf, Data: mustJSON(data)}
	u := b.r.Float64()
	switch {
	case alt != nil && u < rateCorrection:
		old := contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf.Add(-time.Duration(1+b.r.IntN(60)) * 24 * time.Hour), Data: mustJSON(alt)}
		e.Revision = rev + 1
		if b.r.IntN(5) < 2 {
			b.write(e) // the correction comes first in the file
			b.write(old)
		} else {
			b.write(old)
			b.write(e)
		}
	case alt != nil && u < rateCorrection+rateSameRevOld:
		b.write(e)
		b.deferred = append(b.deferred, contracts.Envelope{Type: typ, ID: id, Revision: rev,
			AsOf: asOf.Add(-time.Duration(1+b.r.IntN(30)) * time.Hour), Data: mustJSON(alt)})
	case u < rateCorrection+rateSameRevOld+rateDuplicate:
		b.write(e)
		b.deferred = append(b.deferred, e)
	default:
		b.write(e)
	}
	rate := rateBad
	if typ == contracts.TypeEmployerMonth {
		rate = rateBadMonth
	}
	if b.s.bad != nil && b.r.Float64() < rate {
		b.s.bad.add(b.r, e)
	}
}

// putVersions writes the given versions of one record in order, as they are (an
// update history such as a listing later removed).
func (b *batch) putVersions(vs ...contracts.Envelope) {
	for _, v := range vs {
		b.write(v)
	}
}

// version builds one envelope.
func version(typ, id string, rev int64, asOf time.Time, data any, deleted bool) contracts.Envelope {
	return contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf, Deleted: deleted, Data: mustJSON(data)}
}

// history writes a record's versions, the newest sometimes first: versions must be
// given oldest first.
func (b *batch) history(vs ...contracts.Envelope) {
	if len(vs) > 1 && b.r.IntN(3) == 0 {
		for i := len(vs) - 1; i >= 0; i-- {
			b.write(vs[i])
		}
		return
	}
	b.putVersions(vs...)
}

// tombstoned writes a live version and the tombstone that deletes it (a higher
// revision, carrying the same data), in either order.
func (b *batch) tombstoned(typ, id string, rev int64, asOf time.Time, data any) {
	b.history(version(typ, id, rev, asOf, data, false), version(typ, id, rev+1, asOf.Add(72*time.Hour), data, true))
}

// finish writes the held-back versions and returns every version written.
func (b *batch) finish() ([]contracts.Envelope, error) {
	for _, e := range b.deferred {
		b.write(e)
	}
	b.deferred = b.deferred[:0]
	return b.envs, b.err
}
