package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// PartitionLag is how far one consumer group is behind on one partition.
type PartitionLag struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	// Committed is the group's committed offset (the next offset it will read),
	// or -1 when it has committed nothing on this partition.
	Committed int64 `json:"committed"`
	// HighWatermark is the offset the next published message will get.
	HighWatermark int64 `json:"high_watermark"`
	// Lag is HighWatermark minus Committed; without a commit, the messages still
	// in the log (HighWatermark minus the log start offset), since the group
	// starts from the beginning.
	Lag int64 `json:"lag"`
}

// Lag returns the group's lag on every partition of topics, ordered by topic and
// partition, from the brokers' committed offsets (OffsetFetch) and high watermarks
// (ListOffsets); it works whether or not the group's members are running. It also
// sets the verihub_bus_consumer_lag gauge.
func (b *Bus) Lag(ctx context.Context, group string, topics []string) ([]PartitionLag, error) {
	if group == "" {
		return nil, errors.New("computing lag: empty consumer group")
	}
	bounds, err := b.offsets(ctx, topics)
	if err != nil {
		return nil, fmt.Errorf("computing lag of group %s: %w", group, err)
	}
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for _, pb := range bounds {
		req.Topics[pb.topic] = append(req.Topics[pb.topic], pb.partition)
	}
	resp, err := b.client.OffsetFetch(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("fetching committed offsets of group %s: %w", group, err)
	}
	switch {
	case errors.Is(resp.Error, kafka.GroupIdNotFound):
		// Kafka answers an unknown group with no offsets; kfake with this
		// error. Both mean nothing was committed.
		resp.Topics = nil
	case resp.Error != nil:
		return nil, fmt.Errorf("fetching committed offsets of group %s: %w", group, resp.Error)
	}
	type tp struct {
		topic     string
		partition int
	}
	committed := map[tp]int64{}
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("fetching committed offset of group %s on %s/%d: %w", group, topic, p.Partition, p.Error)
			}
			committed[tp{topic, p.Partition}] = p.CommittedOffset
		}
	}
	out := make([]PartitionLag, len(bounds))
	for i, pb := range bounds {
		c, ok := committed[tp{pb.topic, pb.partition}]
		if !ok || c < 0 {
			c = -1
		}
		l := PartitionLag{Topic: pb.topic, Partition: pb.partition, Committed: c, HighWatermark: pb.high}
		if c < 0 {
			l.Lag = pb.high - pb.first
		} else {
			l.Lag = max(0, pb.high-max(c, pb.first))
		}
		out[i] = l
		b.metrics.lag.WithLabelValues(group, pb.topic, strconv.Itoa(pb.partition)).Set(float64(l.Lag))
	}
	return out, nil
}

// TotalLag sums the lag of partitions.
func TotalLag(lags []PartitionLag) int64 {
	var n int64
	for _, l := range lags {
		n += l.Lag
	}
	return n
}

// WatchLag calls Lag every interval until ctx ends, keeping the lag gauge current
// for dashboards and alerts; errors are logged, not returned. It returns nil when ctx
// ends.
func (b *Bus) WatchLag(ctx context.Context, group string, topics []string, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("watching lag of group %s: interval %v must be positive", group, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := b.Lag(ctx, group, topics); err != nil && ctx.Err() == nil {
			b.log.Warn("computing consumer lag", "group", group, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
