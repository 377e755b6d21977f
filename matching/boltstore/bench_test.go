package boltstore_test

import (
	"context"
	"testing"

	"github.com/verihub/verihub/matching/boltstore"
	"github.com/verihub/verihub/matching/storetest"
)

// BenchmarkApply applies backfill-shaped batches of 2,000 new record versions (each
// enterprise with ~100 months, persons with a few records and member links) and
// reports records/s. Every batch is one synced transaction.
func BenchmarkApply(b *testing.B) {
	s, err := boltstore.Open(context.Background(), boltstore.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 2000
	var w storetest.Workload
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
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

// BenchmarkProfile reads one enterprise profile (~115 records: employer, taxpayer,
// 100 months, member links) from a store holding 200 enterprises and their persons.
func BenchmarkProfile(b *testing.B) {
	s, err := boltstore.Open(context.Background(), boltstore.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var w storetest.Workload
	ctx := context.Background()
	for range 30 {
		if _, err := s.Apply(ctx, w.Next(2000)); err != nil {
			b.Fatal(err)
		}
	}
	subject := w.Enterprise(100)
	b.ReportAllocs()
	b.ResetTimer()
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
