package redisstore

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
)

// FuzzCodec: stored versions order as text as Version.Compare orders them, and a
// record decodes to what was encoded.
func FuzzCodec(f *testing.F) {
	f.Add(int64(0), int64(1546646400), uint32(0), int32(0), int64(1), int64(1546646400), uint32(1), int32(28800), false, []byte(`{"a":1}`))
	f.Add(int64(-1), int64(-62135596800), uint32(999999999), int32(-3600), int64(-1<<63), int64(1<<62), uint32(5), int32(0), true, []byte(nil))
	f.Fuzz(func(t *testing.T, rev1, sec1 int64, ns1 uint32, off1 int32, rev2, sec2 int64, ns2 uint32, off2 int32, deleted bool, data []byte) {
		mk := func(rev, sec int64, ns uint32, off int32) contracts.Envelope {
			at := time.Unix(sec, int64(ns%1e9)).In(time.FixedZone("", int(off%86400)))
			if off == 0 {
				at = at.UTC()
			}
			return contracts.Envelope{Type: "t", ID: "i\x00d", Revision: rev, AsOf: at, Deleted: deleted, Data: data}
		}
		a, b := mk(rev1, sec1, ns1, off1), mk(rev2, sec2, ns2, off2)
		ea, eb := encodeRecord(a), encodeRecord(b)
		if got, want := strings.Compare(ea[:versionLen], eb[:versionLen]), a.Version().Compare(b.Version()); got != want {
			t.Fatalf("text order %d, version order %d for %+v vs %+v", got, want, a.Version(), b.Version())
		}
		d, err := decodeRecord(fieldOf(a), ea)
		if err != nil {
			t.Fatal(err)
		}
		if d.Type != a.Type || d.ID != a.ID || d.Revision != a.Revision || !d.AsOf.Equal(a.AsOf) || d.Deleted != a.Deleted {
			t.Fatalf("decoded %+v, encoded %+v", d, a)
		}
		wantData := data
		if deleted || len(data) == 0 {
			wantData = nil
		}
		if !bytes.Equal(d.Data, wantData) {
			t.Fatalf("data %q, want %q", d.Data, wantData)
		}
		decodeRecord(string(data), string(data))
	})
}
