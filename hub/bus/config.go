package bus

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Config configures a Bus. The zero value of every field means its default (see
// WithDefaults); Validate reports what is still wrong after defaults are applied.
//
// TLS and SASL are not configurable yet: the bus speaks plaintext, which suits the
// embedded broker and a Kafka reachable only on a private network.
type Config struct {
	// Brokers are the bootstrap addresses ("host:port"). Required.
	Brokers []string `yaml:"brokers"`
	// ClientID names this process to the brokers (default "verihub").
	ClientID string `yaml:"client_id"`
	// TopicPrefix starts every topic name (default "verihub").
	TopicPrefix string `yaml:"topic_prefix"`
	// Partitions of each records topic (default 6). Records are partitioned by
	// subject, so this caps how many hub processes share the matching work.
	Partitions int `yaml:"partitions"`
	// DeadLetterPartitions of the dead-letter topic (default 1: one total order,
	// which keeps listing and replay simple; dead letters are few).
	DeadLetterPartitions int `yaml:"dead_letter_partitions"`
	// AuditPartitions of the audit topic (default 3; 1 with the embedded broker,
	// where every partition's batch is one more fsync on the same disk).
	AuditPartitions int `yaml:"audit_partitions"`
	// ReplicationFactor of created topics (default 1; use 3 on a real cluster).
	ReplicationFactor int `yaml:"replication_factor"`
	// MinInsyncReplicas of created topics (default 2 when ReplicationFactor ≥ 3,
	// else 1). With acks=all a write then survives the loss of one broker.
	MinInsyncReplicas int `yaml:"min_insync_replicas"`
	// DeadLetterRetention keeps dead letters this long; 0 keeps them until purged
	// (SPEC §5: a rejected record stays until replayed or purged).
	DeadLetterRetention time.Duration `yaml:"dead_letter_retention"`
	// AuditRetention keeps audit events this long (default 400 days); a negative
	// value keeps them forever.
	AuditRetention time.Duration `yaml:"audit_retention"`
	// DialTimeout bounds connecting to a broker (default 10s).
	DialTimeout time.Duration `yaml:"dial_timeout"`

	Producer ProducerConfig `yaml:"producer"`
	Consumer ConsumerConfig `yaml:"consumer"`
}

// ProducerConfig tunes Publish. kafka-go waits up to BatchTimeout for a partition's
// batch to fill before sending it; its 1 s default would make every synchronous
// Publish of a small batch take a second, so the default here is a few milliseconds
// with large batches.
type ProducerConfig struct {
	// BatchSize is the most messages in one partition batch (default 2000).
	BatchSize int `yaml:"batch_size"`
	// BatchBytes is the most bytes in one partition batch (default 1 MiB, Kafka's
	// default message.max.bytes; a larger single message is refused).
	BatchBytes int64 `yaml:"batch_bytes"`
	// BatchTimeout is how long a partly filled batch waits (default 5ms).
	BatchTimeout time.Duration `yaml:"batch_timeout"`
	// WriteTimeout bounds one produce round trip (default 30s).
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MaxAttempts is how many times a batch is tried before Publish fails
	// (default 10).
	MaxAttempts int `yaml:"max_attempts"`
}

// ConsumerConfig tunes Consume.
type ConsumerConfig struct {
	// MaxBatch is the most messages given to one handler call (default 2000).
	MaxBatch int `yaml:"max_batch"`
	// Linger is how long a started batch waits for more messages (default 10ms).
	Linger time.Duration `yaml:"linger"`
	// MaxBytes is the most bytes one fetch of one partition returns (default
	// 4 MiB; at least producer.batch_bytes so any produced batch fits).
	MaxBytes int `yaml:"max_bytes"`
	// MaxWait is how long the broker may hold a fetch for data (default 250ms).
	MaxWait time.Duration `yaml:"max_wait"`
	// QueueCapacity is how many fetched messages are buffered ahead of the
	// handler (default 10000).
	QueueCapacity int `yaml:"queue_capacity"`
	// HeartbeatInterval, SessionTimeout and RebalanceTimeout are the group
	// membership timings (defaults 1s, 10s, 30s). A consumer that dies without
	// leaving keeps its partitions until SessionTimeout passes.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	SessionTimeout    time.Duration `yaml:"session_timeout"`
	RebalanceTimeout  time.Duration `yaml:"rebalance_timeout"`
	// RetryMin and RetryMax bound the backoff between handler retries
	// (defaults 100ms, 10s).
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// DrainTimeout bounds finishing in-flight work (the handler call under way
	// and its commit) after Consume's ctx ends (default 30s).
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

// Defaults used by WithDefaults.
const (
	DefaultTopicPrefix    = "verihub"
	DefaultPartitions     = 6
	DefaultAuditRetention = 400 * 24 * time.Hour
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.ClientID == "" {
		c.ClientID = "verihub"
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	def(&c.Partitions, DefaultPartitions)
	def(&c.DeadLetterPartitions, 1)
	def(&c.AuditPartitions, 3)
	def(&c.ReplicationFactor, 1)
	if c.MinInsyncReplicas == 0 {
		c.MinInsyncReplicas = 1
		if c.ReplicationFactor >= 3 {
			c.MinInsyncReplicas = 2
		}
	}
	defDur(&c.AuditRetention, DefaultAuditRetention)
	defDur(&c.DialTimeout, 10*time.Second)

	p := &c.Producer
	def(&p.BatchSize, 2000)
	if p.BatchBytes == 0 {
		p.BatchBytes = 1 << 20
	}
	defDur(&p.BatchTimeout, 5*time.Millisecond)
	defDur(&p.WriteTimeout, 30*time.Second)
	def(&p.MaxAttempts, 10)

	k := &c.Consumer
	def(&k.MaxBatch, 2000)
	defDur(&k.Linger, 10*time.Millisecond)
	def(&k.MaxBytes, 4<<20)
	defDur(&k.MaxWait, 250*time.Millisecond)
	def(&k.QueueCapacity, 10000)
	defDur(&k.HeartbeatInterval, time.Second)
	defDur(&k.SessionTimeout, 10*time.Second)
	defDur(&k.RebalanceTimeout, 30*time.Second)
	defDur(&k.RetryMin, 100*time.Millisecond)
	defDur(&k.RetryMax, 10*time.Second)
	defDur(&k.DrainTimeout, 30*time.Second)
	return c
}

var topicPrefixRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,100}$`)

// Validate reports every problem with a defaulted configuration.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Brokers) == 0 {
		bad("bus.brokers: at least one broker address is required")
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			bad("bus.brokers: %q is not host:port: %w", b, err)
		}
	}
	if !topicPrefixRE.MatchString(c.TopicPrefix) {
		bad("bus.topic_prefix: %q must be 1-101 characters of [a-zA-Z0-9._-] not starting with . _ or -", c.TopicPrefix)
	}
	positive := func(name string, v int) {
		if v <= 0 {
			bad("bus.%s: %d must be positive", name, v)
		}
	}
	positive("partitions", c.Partitions)
	positive("dead_letter_partitions", c.DeadLetterPartitions)
	positive("audit_partitions", c.AuditPartitions)
	positive("replication_factor", c.ReplicationFactor)
	positive("min_insync_replicas", c.MinInsyncReplicas)
	if c.MinInsyncReplicas > c.ReplicationFactor {
		bad("bus.min_insync_replicas: %d exceeds replication_factor %d", c.MinInsyncReplicas, c.ReplicationFactor)
	}
	if c.DeadLetterRetention < 0 {
		bad("bus.dead_letter_retention: %v must not be negative (0 keeps dead letters until purged)", c.DeadLetterRetention)
	}
	positive("producer.batch_size", c.Producer.BatchSize)
	positive("producer.max_attempts", c.Producer.MaxAttempts)
	if c.Producer.BatchBytes < 1024 {
		bad("bus.producer.batch_bytes: %d is below 1024", c.Producer.BatchBytes)
	}
	if c.Producer.BatchBytes < contracts.MaxRecordBytes+4096 {
		bad("bus.producer.batch_bytes: %d cannot hold a record of %d bytes", c.Producer.BatchBytes, contracts.MaxRecordBytes)
	}
	positive("consumer.max_batch", c.Consumer.MaxBatch)
	positive("consumer.max_bytes", c.Consumer.MaxBytes)
	positive("consumer.queue_capacity", c.Consumer.QueueCapacity)
	if int64(c.Consumer.MaxBytes) < c.Producer.BatchBytes {
		bad("bus.consumer.max_bytes: %d is below producer.batch_bytes %d", c.Consumer.MaxBytes, c.Producer.BatchBytes)
	}
	durations := []struct {
		name string
		v    time.Duration
	}{
		{"dial_timeout", c.DialTimeout},
		{"producer.batch_timeout", c.Producer.BatchTimeout},
		{"producer.write_timeout", c.Producer.WriteTimeout},
		{"consumer.linger", c.Consumer.Linger},
		{"consumer.max_wait", c.Consumer.MaxWait},
		{"consumer.heartbeat_interval", c.Consumer.HeartbeatInterval},
		{"consumer.session_timeout", c.Consumer.SessionTimeout},
		{"consumer.rebalance_timeout", c.Consumer.RebalanceTimeout},
		{"consumer.retry_min", c.Consumer.RetryMin},
		{"consumer.retry_max", c.Consumer.RetryMax},
		{"consumer.drain_timeout", c.Consumer.DrainTimeout},
	}
	for _, d := range durations {
		if d.v <= 0 {
			bad("bus.%s: %v must be positive", d.name, d.v)
		}
	}
	if c.Consumer.HeartbeatInterval >= c.Consumer.SessionTimeout {
		bad("bus.consumer.heartbeat_interval %v must be shorter than session_timeout %v", c.Consumer.HeartbeatInterval, c.Consumer.SessionTimeout)
	}
	if c.Consumer.RetryMin > c.Consumer.RetryMax {
		bad("bus.consumer.retry_min %v exceeds retry_max %v", c.Consumer.RetryMin, c.Consumer.RetryMax)
	}
	return errors.Join(errs...)
}

// RecordsTopic returns the records topic of an agency ("verihub.records.si.v1").
func (c Config) RecordsTopic(agency string) string {
	return c.prefix() + ".records." + agency + ".v1"
}

// DeadLetterTopic returns the dead-letter topic ("verihub.deadletters.v1").
func (c Config) DeadLetterTopic() string { return c.prefix() + ".deadletters.v1" }

// AuditTopic returns the audit topic ("verihub.audit.v1").
func (c Config) AuditTopic() string { return c.prefix() + ".audit.v1" }

// RecordsTopics returns the records topic of every agency, in contracts.Agencies order.
func (c Config) RecordsTopics() []string {
	out := make([]string, len(contracts.Agencies))
	for i, a := range contracts.Agencies {
		out[i] = c.RecordsTopic(a)
	}
	return out
}

func (c Config) prefix() string {
	if c.TopicPrefix == "" {
		return DefaultTopicPrefix
	}
	return c.TopicPrefix
}
