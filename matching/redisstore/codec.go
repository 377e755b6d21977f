package redisstore

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Stored record values: version as 40 hex digits (revision and as_of seconds as
// uint64 with the sign bit flipped, as_of nanoseconds as uint32, all big-endian, so
// the text orders as contracts.Version.Compare does), flags (1 byte), as_of zone
// offset in seconds (int32), data.
const (
	versionLen = 40
	headerLen  = versionLen + 1 + 4

	flagDeleted = 1 << 0
	flagUTC     = 1 << 1
)

func fieldOf(r contracts.Envelope) string { return r.Type + "\x00" + r.ID }

func encodeRecord(r contracts.Envelope) string {
	var raw [20]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(r.Revision)^1<<63)
	binary.BigEndian.PutUint64(raw[8:16], uint64(r.AsOf.Unix())^1<<63)
	binary.BigEndian.PutUint32(raw[16:20], uint32(r.AsOf.Nanosecond()))
	data := r.Data
	if r.Deleted {
		data = nil
	}
	var b strings.Builder
	b.Grow(headerLen + len(data))
	b.WriteString(hex.EncodeToString(raw[:]))
	var flags byte
	if r.Deleted {
		flags |= flagDeleted
	}
	if r.AsOf.Location() == time.UTC {
		flags |= flagUTC
	}
	_, offset := r.AsOf.Zone()
	var tail [5]byte
	tail[0] = flags
	binary.BigEndian.PutUint32(tail[1:], uint32(int32(offset)))
	b.Write(tail[:])
	b.Write(data)
	return b.String()
}

func decodeRecord(field, v string) (contracts.Envelope, error) {
	typ, id, ok := strings.Cut(field, "\x00")
	if !ok {
		return contracts.Envelope{}, fmt.Errorf("malformed field %q", field)
	}
	if len(v) < headerLen {
		return contracts.Envelope{}, fmt.Errorf("decoding %s/%s: %d bytes, want at least %d", typ, id, len(v), headerLen)
	}
	raw, err := hex.DecodeString(v[:versionLen])
	if err != nil {
		return contracts.Envelope{}, fmt.Errorf("decoding %s/%s version: %w", typ, id, err)
	}
	rev := int64(binary.BigEndian.Uint64(raw[0:8]) ^ 1<<63)
	sec := int64(binary.BigEndian.Uint64(raw[8:16]) ^ 1<<63)
	nsec := int64(binary.BigEndian.Uint32(raw[16:20]))
	flags := v[versionLen]
	offset := int(int32(binary.BigEndian.Uint32([]byte(v[versionLen+1 : headerLen]))))
	asOf := time.Unix(sec, nsec)
	if flags&flagUTC != 0 {
		asOf = asOf.UTC()
	} else {
		asOf = asOf.In(time.FixedZone("", offset))
	}
	r := contracts.Envelope{Type: typ, ID: id, Revision: rev, AsOf: asOf, Deleted: flags&flagDeleted != 0}
	if len(v) > headerLen {
		r.Data = []byte(v[headerLen:])
	}
	return r, nil
}

func validSubject(s string) bool {
	rest, ok := strings.CutPrefix(s, "uscc:")
	if !ok {
		rest, ok = strings.CutPrefix(s, "person:")
	}
	return ok && rest != "" && !strings.ContainsAny(rest, "{}")
}

func kindOf(subject string) contracts.SubjectKind {
	if strings.HasPrefix(subject, "person:") {
		return contracts.KindPerson
	}
	return contracts.KindEnterprise
}

func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
