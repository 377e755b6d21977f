package bus_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/verihub/verihub/hub/bus"
)

func TestRecordKey(t *testing.T) {
	tests := []struct {
		subject, record string
		key             string
	}{
		{"uscc:91350100M000100Y43", "si.employer/91350100M000100Y43", "uscc:91350100M000100Y43|si.employer/91350100M000100Y43"},
		{"person:0a1b", "cert.certificate/A|B", "person:0a1b|cert.certificate/A|B"},
		{"uscc:X", "", "uscc:X|"},
	}
	for _, tc := range tests {
		k := bus.RecordKey(tc.subject, tc.record)
		if string(k) != tc.key {
			t.Errorf("RecordKey(%q, %q) = %q, want %q", tc.subject, tc.record, k, tc.key)
		}
		s, r := bus.SplitKey(k)
		if string(s) != tc.subject || string(r) != tc.record {
			t.Errorf("SplitKey(%q) = %q, %q", k, s, r)
		}
	}
	if s, r := bus.SplitKey([]byte("nosep")); string(s) != "nosep" || r != nil {
		t.Errorf("SplitKey without separator = %q, %q", s, r)
	}
}

// The balancer must agree with Kafka's Java default partitioner (murmur2), which
// kafka-go's Murmur2Balancer reproduces, on the subject part of the key.
func TestSubjectBalancerMatchesMurmur2(t *testing.T) {
	ref := kafka.Murmur2Balancer{Consistent: true}
	for _, n := range []int{1, 3, 6, 7, 50} {
		parts := make([]int, n)
		for i := range parts {
			parts[i] = i
		}
		for i := range 2000 {
			subject := fmt.Sprintf("uscc:%018d", i*7919)
			if i%3 == 0 {
				subject = fmt.Sprintf("person:%032x", i*104729)
			}
			want := ref.Balance(kafka.Message{Key: []byte(subject)}, parts...)
			for _, rec := range []string{"", "si.employer/x", "a|b|c"} {
				got := bus.SubjectBalancer{}.Balance(kafka.Message{Key: bus.RecordKey(subject, rec)}, parts...)
				if got != want {
					t.Fatalf("n=%d subject %q record %q: partition %d, murmur2 of subject gives %d", n, subject, rec, got, want)
				}
			}
			if got := bus.SubjectPartition([]byte(subject), n); got != want {
				t.Fatalf("SubjectPartition(%q, %d) = %d, want %d", subject, n, got, want)
			}
		}
	}
	spread := map[int]int{}
	for i := range 6000 {
		spread[bus.SubjectPartition(fmt.Appendf(nil, "uscc:%d", i), 6)]++
	}
	for p := range 6 {
		if spread[p] < 800 || spread[p] > 1200 {
			t.Errorf("partition %d got %d of 6000 subjects: murmur2 should spread evenly", p, spread[p])
		}
	}
}

func FuzzSplitKey(f *testing.F) {
	f.Add("uscc:X", "si.employer/X")
	f.Add("", "")
	f.Add("person:ab", "a|b")
	f.Fuzz(func(t *testing.T, subject, record string) {
		if bytes.IndexByte([]byte(subject), bus.KeySeparator) >= 0 {
			t.Skip()
		}
		s, r := bus.SplitKey(bus.RecordKey(subject, record))
		if string(s) != subject || string(r) != record {
			t.Fatalf("round trip of %q,%q gave %q,%q", subject, record, s, r)
		}
		parts := []int{0, 1, 2, 3, 4, 5}
		p := bus.SubjectBalancer{}.Balance(kafka.Message{Key: bus.RecordKey(subject, record)}, parts...)
		if p != (bus.SubjectBalancer{}).Balance(kafka.Message{Key: []byte(subject)}, parts...) {
			t.Fatal("partition depends on the record part")
		}
	})
}
