package bus

import (
	"bytes"

	"github.com/segmentio/kafka-go"
)

// KeySeparator ends the subject part of a message key.
const KeySeparator = '|'

// RecordKey returns the message key of one record addressed to one subject:
// "<subject>|<type>/<id>", e.g. "uscc:91350100M000100Y43|si.employer_month/91350100M000100Y43:2018-12".
// The whole key identifies the record (compaction keeps its latest version); the
// subject part alone chooses the partition (SubjectBalancer). subject must not
// contain '|' (subject keys "uscc:…" and "person:<pseudonym>" never do); recordKey
// may.
func RecordKey(subject, recordKey string) []byte {
	k := make([]byte, 0, len(subject)+1+len(recordKey))
	k = append(k, subject...)
	k = append(k, KeySeparator)
	return append(k, recordKey...)
}

// SplitKey splits a message key at its first '|' into the subject and the record
// key. A key with no '|' is all subject.
func SplitKey(key []byte) (subject, record []byte) {
	if i := bytes.IndexByte(key, KeySeparator); i >= 0 {
		return key[:i], key[i+1:]
	}
	return key, nil
}

// SubjectBalancer chooses a message's partition from the subject part of its key
// (everything before the first '|'), so every record of one subject goes to one
// partition and stays ordered. The hash is murmur2, as in Kafka's Java default
// partitioner, so a Java or librdkafka producer that keys by subject alone agrees
// with it. Messages without a key all go to the first partition.
type SubjectBalancer struct{}

var _ kafka.Balancer = SubjectBalancer{}

// Balance implements kafka.Balancer.
func (SubjectBalancer) Balance(msg kafka.Message, partitions ...int) int {
	subject, _ := SplitKey(msg.Key)
	return partitions[SubjectPartition(subject, len(partitions))]
}

// SubjectPartition returns the index, in [0, n), of the partition a subject maps to.
func SubjectPartition(subject []byte, n int) int {
	return int((murmur2(subject) & 0x7fffffff) % uint32(n))
}

// murmur2 is Kafka's Java murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
func murmur2(data []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(data)
	h := seed ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
