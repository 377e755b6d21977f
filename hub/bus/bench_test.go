package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/bus/embedded"
)

// benchTargets are the brokers benchmarks run against: the embedded broker as the
// hub runs it (on disk, fsync on every write), the embedded broker in memory, and
// the real Kafka when VERIHUB_TEST_KAFKA_BROKERS is set.
func benchTargets(b *testing.B) []struct {
	name    string
	brokers func(b *testing.B) []string
} {
	out := []struct {
		name    string
		brokers func(b *testing.B) []string
	}{
		{"embedded-fsync", func(b *testing.B) []string {
			br, err := embedded.Start(embedded.Config{Addr: "127.0.0.1:0", DataDir: b.TempDir()}, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { br.Close() })
			return []string{br.Addr()}
		}},
		{"embedded-memory", func(b *testing.B) []string { return []string{startEmbedded(b).Addr()} }},
	}
	if env := envBrokers(); env != nil {
		out = append(out, struct {
			name    string
			brokers func(b *testing.B) []string
		}{"kafka", func(*testing.B) []string { return env }})
	}
	return out
}

// benchRecords makes n messages of about 300 bytes (key + value) over 5000 subjects.
func benchRecords(topic string, n int) []bus.Message {
	pad := strings.Repeat("x", 160)
	out := make([]bus.Message, n)
	for i := range out {
		subject := fmt.Sprintf("uscc:9135010%011d", i%5000)
		out[i] = bus.Message{
			Topic: topic,
			Key:   bus.RecordKey(subject, fmt.Sprintf("si.employer_month/%s:%d", subject[5:], i)),
			Value: fmt.Appendf(nil, `{"type":"si.employer_month","id":"%d","revision":1,"as_of":"2019-01-05T00:00:00Z","data":{"p":"%s"}}`, i, pad),
		}
	}
	return out
}

func benchBus(b *testing.B, brokers []string) *bus.Bus {
	bb := newTestBus(b, brokers, nil)
	if err := bb.EnsureTopics(b.Context()); err != nil {
		b.Fatal(err)
	}
	return bb
}

// BenchmarkPublish measures Publish throughput: producers publishing pages of 1000
// records, one producer or four concurrently. An op is one record.
func BenchmarkPublish(b *testing.B) {
	for _, target := range benchTargets(b) {
		for _, producers := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/producers=%d", target.name, producers), func(b *testing.B) {
				bb := benchBus(b, target.brokers(b))
				topic := bb.Config().RecordsTopic(contracts.AgencySocialInsurance)
				msgs := benchRecords(topic, b.N)
				var next atomic.Int64
				const page = 1000
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				errs := make(chan error, producers)
				for range producers {
					wg.Go(func() {
						for {
							start := int(next.Add(page)) - page
							if start >= len(msgs) {
								return
							}
							if err := bb.Publish(b.Context(), msgs[start:min(start+page, len(msgs))]); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkConsume measures Consume throughput: b.N records already published, one
// group member handling them with a no-op handler and committing every batch. An op
// is one record; ns/op includes joining the group, records/s is measured from the
// first batch to the last commit.
func BenchmarkConsume(b *testing.B) {
	for _, target := range benchTargets(b) {
		b.Run(target.name, func(b *testing.B) {
			bb := benchBus(b, target.brokers(b))
			topic := bb.Config().RecordsTopic(contracts.AgencySocialInsurance)
			msgs := benchRecords(topic, b.N)
			for start := 0; start < len(msgs); start += 5000 {
				if err := bb.Publish(b.Context(), msgs[start:min(start+5000, len(msgs))]); err != nil {
					b.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(b.Context())
			defer cancel()
			var handled atomic.Int64
			var first, last time.Time
			b.ReportAllocs()
			b.ResetTimer()
			err := bb.Consume(ctx, "bench", []string{topic}, func(_ context.Context, batch []bus.Message) error {
				if first.IsZero() {
					first = time.Now()
				}
				if handled.Add(int64(len(batch))) >= int64(b.N) {
					last = time.Now()
					cancel()
				}
				return nil
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if last.IsZero() {
				last = time.Now()
			}
			if got := handled.Load(); got < int64(b.N) {
				b.Fatalf("handled %d of %d", got, b.N)
			}
			if d := last.Sub(first); d > 0 {
				b.ReportMetric(float64(b.N)/d.Seconds(), "records/s")
			}
		})
	}
}
