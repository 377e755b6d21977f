package redisstore_test

import (
	"context"
	"testing"

	"github.com/verihub/verihub/matching/redisstore"
	"github.com/verihub/verihub/matching/storetest"
)

func benchStore(b *testing.B) *redisstore.Store {
	addr := redisAddr(b)
	prefix := uniquePrefix(b)
	s, err := redisstore.Open(context.Background(), redisstore.Config{Addrs: []string{addr}, Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.Close()
		dropPrefix(b, addr, prefix)
	})
	return s
}

// BenchmarkApply applies backfill-shaped batches of 2,000 new record versions (each
// enterprise with ~100 months, persons with a few records and member links) and
// reports records/s. Each batch is one pipelined round trip.
func BenchmarkApply(b *testing.B) {
	s := benchStore(b)
	const batch = 2000
	var w storetest.Workload
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		changes := w.Next(batch)
		b.StartTimer()
		if _, err := s.Apply(ctx, changes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkProfile reads one enterprise profile (~115 records) with HGETALL.
func BenchmarkProfile(b *testing.B) {
	s := benchStore(b)
	var w storetest.Workload
	ctx := context.Background()
	for range 30 {
		if _, err := s.Apply(ctx, w.Next(2000)); err != nil {
			b.Fatal(err)
		}
	}
	subject := w.Enterprise(100)
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Profile(ctx, subject)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Records) < 3 {
			b.Fatalf("profile has %d record types", len(p.Records))
		}
	}
}
