package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/bus/bustest"
	"github.com/verihub/verihub/hub/bus/embedded"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	prefixSeq   atomic.Int64
	topicUnsafe = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)
)

// testConfig is a bus configuration for one test on brokers: a topic prefix of its
// own and short retry timings.
func testConfig(t testing.TB, brokers []string) bus.Config {
	name := topicUnsafe.ReplaceAllString(t.Name(), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return bus.Config{
		Brokers:     brokers,
		TopicPrefix: fmt.Sprintf("t%d-%d-%s", time.Now().UnixNano()%1e9, prefixSeq.Add(1), name),
		Partitions:  6,
		Consumer: bus.ConsumerConfig{
			RetryMin:          10 * time.Millisecond,
			RetryMax:          200 * time.Millisecond,
			HeartbeatInterval: 500 * time.Millisecond,
			SessionTimeout:    6 * time.Second,
			DrainTimeout:      10 * time.Second,
		},
	}
}

func newTestBus(t testing.TB, brokers []string, reg *prometheus.Registry) *bus.Bus {
	t.Helper()
	b, err := bus.New(testConfig(t, brokers), testLogger(t), reg)
	if err != nil {
		t.Fatalf("bus.New: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		deleteTopics(t, b.Config())
	})
	return b
}

// deleteTopics removes a test's topics so a long-lived broker does not accumulate
// them (each one costs the broker at every start). Absent topics are fine.
func deleteTopics(t testing.TB, cfg bus.Config) {
	topics := append(cfg.RecordsTopics(), cfg.DeadLetterTopic(), cfg.AuditTopic())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	c := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second, Transport: tr}
	if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
		t.Logf("deleting test topics: %v", err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// startEmbedded starts an in-memory embedded broker on a free port for one test.
func startEmbedded(t testing.TB) *embedded.Broker {
	t.Helper()
	br, err := embedded.Start(embedded.Config{Addr: "127.0.0.1:0"}, testLogger(t))
	if err != nil {
		t.Fatalf("embedded.Start: %v", err)
	}
	t.Cleanup(func() { br.Close() })
	return br
}

func TestConformanceEmbedded(t *testing.T) {
	br := startEmbedded(t)
	reg := prometheus.NewRegistry()
	bustest.Run(t, func(t *testing.T) *bus.Bus { return newTestBus(t, []string{br.Addr()}, reg) })
}

// envBrokers returns the real Kafka named by VERIHUB_TEST_KAFKA_BROKERS, or nil.
func envBrokers() []string {
	env := os.Getenv("VERIHUB_TEST_KAFKA_BROKERS")
	if env == "" {
		return nil
	}
	return strings.Split(env, ",")
}

// kafkaBrokers returns the real Kafka named by VERIHUB_TEST_KAFKA_BROKERS, or skips.
func kafkaBrokers(t testing.TB) []string {
	brokers := envBrokers()
	if brokers == nil {
		t.Skip("VERIHUB_TEST_KAFKA_BROKERS is not set: skipping real-Kafka tests (deploy/dev/kafka.sh start, then VERIHUB_TEST_KAFKA_BROKERS=127.0.0.1:19092)")
	}
	return brokers
}

func TestConformanceKafka(t *testing.T) {
	brokers := kafkaBrokers(t)
	reg := prometheus.NewRegistry()
	bustest.Run(t, func(t *testing.T) *bus.Bus { return newTestBus(t, brokers, reg) })
}
