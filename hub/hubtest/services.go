package hubtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// RedisAddr returns VERIHUB_TEST_REDIS_ADDR or skips the test.
func RedisAddr(t testing.TB) string {
	t.Helper()
	a := os.Getenv("VERIHUB_TEST_REDIS_ADDR")
	if a == "" {
		t.Skip("VERIHUB_TEST_REDIS_ADDR is not set: start a Redis (deploy/dev/redis.sh start) and set it, e.g. 127.0.0.1:16379")
	}
	return a
}

// KafkaBrokers returns VERIHUB_TEST_KAFKA_BROKERS (comma-separated) or skips the test.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	b := os.Getenv("VERIHUB_TEST_KAFKA_BROKERS")
	if b == "" {
		t.Skip("VERIHUB_TEST_KAFKA_BROKERS is not set: start a Kafka (deploy/dev/kafka.sh start) and set it, e.g. 127.0.0.1:19092")
	}
	return strings.Split(b, ",")
}

// Unique returns name followed by a random suffix: a topic prefix, consumer group or
// Redis key prefix no other test run uses.
func Unique(name string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return name + "-" + hex.EncodeToString(b)
}

// CleanupRedis deletes every key starting with prefix when the test ends.
func CleanupRedis(t testing.TB, addr, prefix string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		flush := func() {
			if len(keys) > 0 {
				c.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) == 1000 {
				flush()
			}
		}
		flush()
		if err := iter.Err(); err != nil {
			t.Logf("cleaning Redis keys %s*: %v", prefix, err)
		}
	})
}

// CleanupTopics deletes every topic whose name starts with prefix+"." when the test
// ends.
func CleanupTopics(t testing.TB, brokers []string, prefix string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
		md, err := c.Metadata(ctx, &kafka.MetadataRequest{})
		if err != nil {
			t.Logf("listing topics to delete: %v", err)
			return
		}
		var names []string
		for _, tp := range md.Topics {
			if strings.HasPrefix(tp.Name, prefix+".") {
				names = append(names, tp.Name)
			}
		}
		if len(names) == 0 {
			return
		}
		if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: names}); err != nil {
			t.Logf("deleting topics %v: %v", names, err)
		}
	})
}
