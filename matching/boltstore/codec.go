package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// Record values: version (20 bytes: revision and as_of seconds as big-endian uint64
// with the sign bit flipped, then as_of nanoseconds as uint32, so that bytes.Compare
// orders versions as contracts.Version.Compare does), flags (1 byte), as_of zone
// offset in seconds (int32), data.
const (
	versionLen = 20
	headerLen  = versionLen + 1 + 4

	flagDeleted = 1 << 0
	flagUTC     = 1 << 1
)

const sep = 0x00

func recordKey(subject, typ, id string) []byte {
	k := make([]byte, 0, len(subject)+len(typ)+len(id)+2)
	k = append(k, subject...)
	k = append(k, sep)
	k = append(k, typ...)
	k = append(k, sep)
	return append(k, id...)
}

func subjectPrefix(subject string) []byte {
	return append([]byte(subject), sep)
}

// checkChange refuses what the key layout cannot hold.
func checkChange(c matching.Change) error {
	if !validSubject(c.Subject) {
		return fmt.Errorf("subject %q: %w: not uscc:… or person:…", c.Subject, contracts.ErrInvalidRecord)
	}
	if c.Record.Type == "" || bytes.IndexByte([]byte(c.Record.Type), sep) >= 0 {
		return fmt.Errorf("record type %q of %q: %w", c.Record.Type, c.Subject, contracts.ErrInvalidRecord)
	}
	return nil
}

func validSubject(s string) bool {
	var rest string
	switch {
	case len(s) > len("uscc:") && s[:len("uscc:")] == "uscc:":
		rest = s[len("uscc:"):]
	case len(s) > len("person:") && s[:len("person:")] == "person:":
		rest = s[len("person:"):]
	default:
		return false
	}
	return bytes.IndexByte([]byte(rest), sep) < 0
}

func putVersion(b []byte, v contracts.Version) {
	binary.BigEndian.PutUint64(b[0:8], uint64(v.Revision)^1<<63)
	binary.BigEndian.PutUint64(b[8:16], uint64(v.AsOf.Unix())^1<<63)
	binary.BigEndian.PutUint32(b[16:20], uint32(v.AsOf.Nanosecond()))
}

// encodeRecord returns the stored value of a record version. A tombstone keeps no
// data, as Profile.Apply does.
func encodeRecord(r contracts.Envelope) []byte {
	data := r.Data
	if r.Deleted {
		data = nil
	}
	v := make([]byte, headerLen+len(data))
	putVersion(v, r.Version())
	var flags byte
	if r.Deleted {
		flags |= flagDeleted
	}
	_, offset := r.AsOf.Zone()
	if r.AsOf.Location() == time.UTC {
		flags |= flagUTC
	}
	v[versionLen] = flags
	binary.BigEndian.PutUint32(v[versionLen+1:headerLen], uint32(int32(offset)))
	copy(v[headerLen:], data)
	return v
}

// decodeRecord rebuilds a record from its key's type and id and its stored value,
// copying out of the transaction's memory.
func decodeRecord(typ, id string, v []byte) (contracts.Envelope, error) {
	r, body, err := decodeHeader(typ, id, v)
	if err != nil {
		return r, err
	}
	if len(body) > 0 {
		r.Data = bytes.Clone(body)
	}
	return r, nil
}

// decodeHeader rebuilds a record without its data from a stored value; body is the
// data, still in the transaction's memory.
func decodeHeader(typ, id string, v []byte) (r contracts.Envelope, body []byte, err error) {
	if len(v) < headerLen {
		return contracts.Envelope{}, nil, fmt.Errorf("decoding %s/%s: %d bytes, want at least %d", typ, id, len(v), headerLen)
	}
	rev := int64(binary.BigEndian.Uint64(v[0:8]) ^ 1<<63)
	sec := int64(binary.BigEndian.Uint64(v[8:16]) ^ 1<<63)
	nsec := int64(binary.BigEndian.Uint32(v[16:20]))
	flags := v[versionLen]
	offset := int(int32(binary.BigEndian.Uint32(v[versionLen+1 : headerLen])))
	asOf := time.Unix(sec, nsec)
	if flags&flagUTC != 0 {
		asOf = asOf.UTC()
	} else {
		asOf = asOf.In(time.FixedZone("", offset))
	}
	r = contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf, Deleted: flags&flagDeleted != 0}
	return r, v[headerLen:], nil
}

// internType returns the record type named by b, without allocating for the types
// the hub knows.
func internType(b []byte) string {
	for _, t := range contracts.RecordTypes {
		if string(b) == t {
			return t
		}
	}
	if string(b) == matching.TypeMemberLink {
		return matching.TypeMemberLink
	}
	return string(b)
}

// splitKeyBytes returns the type and id of a record key under a known subject
// prefix.
func splitKeyBytes(k []byte, prefixLen int) (typ, id []byte, ok bool) {
	rest := k[prefixLen:]
	i := bytes.IndexByte(rest, sep)
	if i < 0 {
		return nil, nil, false
	}
	return rest[:i], rest[i+1:], true
}

// kindPrefix is the key prefix of every subject of a kind.
func kindPrefix(kind contracts.SubjectKind) ([]byte, error) {
	switch kind {
	case contracts.KindEnterprise:
		return []byte("uscc:"), nil
	case contracts.KindPerson:
		return []byte("person:"), nil
	}
	return nil, fmt.Errorf("subject kind %q: %w", kind, contracts.ErrInvalidRecord)
}

func kindOf(subject string) contracts.SubjectKind {
	return (&matching.Profile{Subject: subject}).Kind()
}
