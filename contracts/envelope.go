package contracts

import (
	"encoding/json"
	"time"
)

// MaxRecordBytes is the largest encoded envelope the hub accepts (SPEC §1).
const MaxRecordBytes = 64 << 10

// Envelope is one version of one agency record. Agencies send it as JSON, one per
// line in NDJSON files, inside push batches, and in pull-API pages.
//
// (Type, ID) names the record; (Revision, AsOf) orders its versions: the greater
// version wins, an equal one is a no-op, a lesser one is ignored. Deleted marks a
// tombstone, which still carries its version so that an older copy arriving late
// cannot bring the record back.
type Envelope struct {
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	Revision int64           `json:"revision"`
	AsOf     time.Time       `json:"as_of"`
	Deleted  bool            `json:"deleted,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// Version orders the versions of one record.
type Version struct {
	Revision int64
	AsOf     time.Time
}

// Version returns the envelope's version.
func (e Envelope) Version() Version { return Version{Revision: e.Revision, AsOf: e.AsOf} }

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer than w:
// revision first, then as_of.
func (v Version) Compare(w Version) int {
	switch {
	case v.Revision < w.Revision:
		return -1
	case v.Revision > w.Revision:
		return 1
	}
	return v.AsOf.Compare(w.AsOf)
}

// Key returns "type/id", the record's identity across the hub.
func (e Envelope) Key() string { return e.Type + "/" + e.ID }
