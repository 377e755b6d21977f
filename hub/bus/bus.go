package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/verihub/verihub/contracts"
)

// Bus is the hub's connection to Kafka. One Bus serves a whole process: Publish,
// any number of concurrent Consume runs, ReadAll, dead letters and lag all share
// its connections. All methods are safe for concurrent use.
type Bus struct {
	cfg       Config
	log       *slog.Logger
	metrics   *metrics
	transport *kafka.Transport
	dialer    *kafka.Dialer
	client    *kafka.Client
	writer    *kafka.Writer

	closeOnce sync.Once
	closeErr  error
}

// New returns a Bus for a configuration (defaults applied, then validated). It does
// not contact the brokers: call EnsureTopics, then Ping for readiness. Metrics are
// registered on reg when it is not nil; several buses may share one registry.
func New(cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Bus, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring bus: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("registering bus metrics: %w", err)
	}
	netDialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	transport := &kafka.Transport{
		Dial:        netDialer.DialContext,
		DialTimeout: cfg.DialTimeout,
		ClientID:    cfg.ClientID,
		IdleTimeout: 60 * time.Second,
		MetadataTTL: 10 * time.Second,
	}
	b := &Bus{
		cfg:       cfg,
		log:       log.With("component", "bus"),
		metrics:   m,
		transport: transport,
		dialer: &kafka.Dialer{
			ClientID:  cfg.ClientID,
			Timeout:   cfg.DialTimeout,
			DualStack: true,
			KeepAlive: 30 * time.Second,
		},
		client: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: transport},
	}
	b.writer = &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Balancer:     SubjectBalancer{},
		MaxAttempts:  cfg.Producer.MaxAttempts,
		BatchSize:    cfg.Producer.BatchSize,
		BatchBytes:   cfg.Producer.BatchBytes,
		BatchTimeout: cfg.Producer.BatchTimeout,
		WriteTimeout: cfg.Producer.WriteTimeout,
		ReadTimeout:  cfg.Producer.WriteTimeout,
		RequiredAcks: kafka.RequireAll,
		Transport:    transport,
		ErrorLogger:  kafka.LoggerFunc(b.logKafkaError),
	}
	return b, nil
}

// Config returns the bus's configuration with defaults applied.
func (b *Bus) Config() Config { return b.cfg }

func (b *Bus) logKafkaError(format string, args ...any) {
	b.log.Warn("kafka client", "detail", fmt.Sprintf(format, args...))
}

// Close flushes pending produce batches, then releases the connections. Consume
// runs must have returned first (cancel their ctx and wait). Close is idempotent.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		if err := b.writer.Close(); err != nil {
			b.closeErr = fmt.Errorf("closing bus producer: %w", err)
		}
		b.transport.CloseIdleConnections()
	})
	return b.closeErr
}

// Ping makes a metadata round trip for the hub's topics and reports an error
// (matching contracts.ErrUnavailable) when a broker does not answer or a topic is
// missing or leaderless. It is the bus's readiness check.
func (b *Bus) Ping(ctx context.Context) error {
	if err := b.reachBroker(ctx); err != nil {
		return fmt.Errorf("pinging kafka: %w: %w", contracts.ErrUnavailable, err)
	}
	topics := b.Topics()
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Topic
	}
	if err := b.checkTopics(ctx, names); err != nil {
		return fmt.Errorf("pinging kafka: %w: %w", contracts.ErrUnavailable, err)
	}
	return nil
}

// reachBroker makes one request on a new connection to a broker. The transport
// answers metadata requests from its cache and keeps the last known layout when a
// refresh fails, so without this a Ping would go on succeeding after every broker
// went away.
func (b *Bus) reachBroker(ctx context.Context) error {
	var lastErr error
	for _, addr := range b.cfg.Brokers {
		conn, err := b.dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			lastErr = err
			continue
		}
		if d, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(d)
		}
		_, err = conn.ApiVersions()
		conn.Close()
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("asking %s for its API versions: %w", addr, err)
	}
	return lastErr
}

// checkTopics reads the transport's metadata (refreshed every MetadataTTL) and says
// which topics are missing or have a partition without a leader.
func (b *Bus) checkTopics(ctx context.Context, topics []string) error {
	meta, err := b.metadata(ctx, topics)
	if err != nil {
		return err
	}
	var errs []error
	found := map[string]bool{}
	for _, t := range meta.Topics {
		found[t.Name] = true
		if t.Error != nil {
			errs = append(errs, fmt.Errorf("topic %s: %w", t.Name, t.Error))
			continue
		}
		if len(t.Partitions) == 0 {
			errs = append(errs, fmt.Errorf("topic %s: no partitions", t.Name))
		}
		for _, p := range t.Partitions {
			if p.Error != nil {
				errs = append(errs, fmt.Errorf("topic %s partition %d: %w", t.Name, p.ID, p.Error))
			} else if p.Leader.Host == "" {
				errs = append(errs, fmt.Errorf("topic %s partition %d: no leader", t.Name, p.ID))
			}
		}
	}
	for _, t := range topics {
		if !found[t] {
			errs = append(errs, fmt.Errorf("topic %s: %w", t, kafka.UnknownTopicOrPartition))
		}
	}
	return errors.Join(errs...)
}

// metadata asks for the topics' metadata. kafka-go's transport answers from its
// cache, refreshed every MetadataTTL.
func (b *Bus) metadata(ctx context.Context, topics []string) (*kafka.MetadataResponse, error) {
	var lastErr error
	for _, addr := range b.cfg.Brokers {
		meta, err := b.client.Metadata(ctx, &kafka.MetadataRequest{Addr: kafka.TCP(addr), Topics: topics})
		if err == nil {
			return meta, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("fetching metadata: %w", lastErr)
}

// partitions returns the partition ids of each topic; a missing topic is an error.
func (b *Bus) partitions(ctx context.Context, topics []string) (map[string][]int, error) {
	meta, err := b.metadata(ctx, topics)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]int, len(topics))
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("describing topic %s: %w", t.Name, t.Error)
		}
		ids := make([]int, len(t.Partitions))
		for i, p := range t.Partitions {
			ids[i] = p.ID
		}
		out[t.Name] = ids
	}
	for _, t := range topics {
		if _, ok := out[t]; !ok {
			return nil, fmt.Errorf("describing topic %s: %w", t, kafka.UnknownTopicOrPartition)
		}
	}
	return out, nil
}

// TopicSpec is one topic the hub needs, as EnsureTopics creates it.
type TopicSpec struct {
	Topic      string
	Partitions int
	Configs    map[string]string
}

// Topics returns the hub's topics: every agency's records topic (compacted), the
// dead-letter topic and the audit topic (both delete policy with retention).
func (b *Bus) Topics() []TopicSpec {
	c := b.cfg
	minISR := strconv.Itoa(c.MinInsyncReplicas)
	var out []TopicSpec
	for _, t := range c.RecordsTopics() {
		out = append(out, TopicSpec{Topic: t, Partitions: c.Partitions, Configs: map[string]string{
			"cleanup.policy":      "compact",
			"min.insync.replicas": minISR,
			// Tombstones must outlive a consumer that is down for a while, or it
			// would never see the delete (Kafka's default is one day).
			"delete.retention.ms": strconv.FormatInt((7 * 24 * time.Hour).Milliseconds(), 10),
		}})
	}
	out = append(out,
		TopicSpec{Topic: c.DeadLetterTopic(), Partitions: c.DeadLetterPartitions, Configs: map[string]string{
			"cleanup.policy":      "delete",
			"retention.ms":        retentionMs(c.DeadLetterRetention),
			"retention.bytes":     "-1",
			"min.insync.replicas": minISR,
		}},
		TopicSpec{Topic: c.AuditTopic(), Partitions: c.AuditPartitions, Configs: map[string]string{
			"cleanup.policy":      "delete",
			"retention.ms":        retentionMs(c.AuditRetention),
			"retention.bytes":     "-1",
			"min.insync.replicas": minISR,
		}},
	)
	return out
}

func retentionMs(d time.Duration) string {
	if d <= 0 {
		return "-1"
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// EnsureTopics creates every topic the hub needs that does not exist yet, with its
// partitions and configuration, and waits until all of them have leaders. It is
// idempotent: existing topics are left as they are (their partition count and
// configuration are not changed; TopicConfig shows what they are).
func (b *Bus) EnsureTopics(ctx context.Context) error {
	specs := b.Topics()
	req := &kafka.CreateTopicsRequest{}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Topic
		tc := kafka.TopicConfig{Topic: s.Topic, NumPartitions: s.Partitions, ReplicationFactor: b.cfg.ReplicationFactor}
		for k, v := range s.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	resp, err := b.client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	var errs []error
	for topic, terr := range resp.Errors {
		if terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("creating topic %s: %w", topic, terr))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Metadata reaches every broker shortly after creation, and a leader may be
	// named before it serves its partition; writers and readers started before
	// then see unknown topics or "not leader" errors. Ready means every partition
	// answers ListOffsets.
	delay := 50 * time.Millisecond
	for {
		err := b.checkTopics(ctx, names)
		if err == nil {
			if _, err = b.offsets(ctx, names); err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topics to have leaders: %w (last: %w)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// TopicConfig returns the configuration of a topic as the broker reports it,
// defaults included.
func (b *Bus) TopicConfig(ctx context.Context, topic string) (map[string]string, error) {
	resp, err := b.client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
		Resources: []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}},
	})
	if err != nil {
		return nil, fmt.Errorf("describing config of topic %s: %w", topic, err)
	}
	out := map[string]string{}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("describing config of topic %s: %w", topic, r.Error)
		}
		for _, e := range r.ConfigEntries {
			out[e.ConfigName] = e.ConfigValue
		}
	}
	return out, nil
}
