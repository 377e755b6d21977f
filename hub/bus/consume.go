package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Handler handles one batch of messages. A batch holds up to
// Config.Consumer.MaxBatch messages from any of the consumed topics and partitions;
// messages of one partition are in offset order. Returning nil commits the batch;
// returning an error makes Consume call the handler again with the same batch after a
// backoff, so a handler must be idempotent. A handler is never called concurrently
// with itself within one Consume run.
type Handler func(ctx context.Context, batch []Message) error

// Consume joins consumer group `group` on topics and calls handle with batches until
// ctx ends. It fetches (never auto-commits), hands a batch to handle, and commits the
// batch's offsets only after handle returned nil, so every message is handled at
// least once, across handler errors, crashes, restarts and rebalances:
//
//   - a handler error is retried with exponential backoff (Consumer.RetryMin to
//     RetryMax) until it succeeds or ctx ends; nothing is committed meanwhile;
//   - after a rebalance a partition resumes at its last committed offset, so the new
//     owner may see again messages the old owner handled but had not committed;
//   - a consumer that stops without committing (crash, ctx end during retries)
//     leaves its uncommitted messages to be delivered again.
//
// Within a partition, and so within a subject, messages arrive in offset order,
// except that a redelivery after a retry, restart or rebalance brings back messages
// older than some already handled (kafka-go also keeps messages fetched before a
// rebalance queued: segmentio/kafka-go#1398). Handlers must therefore judge order
// by the records' own versions, as the profile store does, not by arrival.
//
// When ctx ends Consume stops fetching, lets the handler call under way (and any
// messages already fetched) finish and commits them, bounded by
// Consumer.DrainTimeout, then leaves the group and returns nil. The ctx given to
// handle ends only when that drain time runs out. Consume returns an error only for
// bad arguments; broker trouble is logged and retried.
func (b *Bus) Consume(ctx context.Context, group string, topics []string, handle Handler) error {
	if group == "" {
		return errors.New("consuming: empty consumer group")
	}
	if len(topics) == 0 {
		return fmt.Errorf("consuming as group %s: no topics", group)
	}
	cc := b.cfg.Consumer
	log := b.log.With("group", group)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:               b.cfg.Brokers,
		GroupID:               group,
		GroupTopics:           topics,
		Dialer:                b.dialer,
		QueueCapacity:         cc.QueueCapacity,
		MinBytes:              1,
		MaxBytes:              cc.MaxBytes,
		MaxWait:               cc.MaxWait,
		HeartbeatInterval:     cc.HeartbeatInterval,
		SessionTimeout:        cc.SessionTimeout,
		RebalanceTimeout:      cc.RebalanceTimeout,
		JoinGroupBackoff:      time.Second,
		CommitInterval:        0, // synchronous commits: CommitMessages returns once committed
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
		ReadBackoffMin:        50 * time.Millisecond,
		ReadBackoffMax:        time.Second,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			// Closing the reader makes its partition readers report i/o
			// errors; those are expected once ctx has ended.
			level := slog.LevelWarn
			if ctx.Err() != nil {
				level = slog.LevelDebug
			}
			log.Log(ctx, level, "kafka consumer", "detail", fmt.Sprintf(format, args...))
		}),
	})
	defer func() {
		if err := r.Close(); err != nil {
			log.Warn("closing kafka consumer", "err", err)
		}
	}()

	work, stopWork := drainContext(ctx, cc.DrainTimeout)
	defer stopWork()

	c := &consumer{bus: b, group: group, reader: r, handle: handle, log: log}
	kbatch := make([]kafka.Message, 0, cc.MaxBatch)
	fetchBackoff := cc.RetryMin
	for {
		kbatch = kbatch[:0]
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// kafka-go keeps rejoining the group by itself; this only reports it.
			log.Warn("fetching from kafka", "topics", topics, "err", err)
			if !sleepCtx(ctx, fetchBackoff) {
				return nil
			}
			fetchBackoff = min(2*fetchBackoff, cc.RetryMax)
			continue
		}
		fetchBackoff = cc.RetryMin
		kbatch = append(kbatch, m)
		if len(kbatch) < cc.MaxBatch {
			linger, cancel := context.WithTimeout(ctx, cc.Linger)
			for len(kbatch) < cc.MaxBatch {
				m, err := r.FetchMessage(linger)
				if err != nil {
					break
				}
				kbatch = append(kbatch, m)
			}
			cancel()
		}
		c.handleAndCommit(ctx, work, kbatch)
		if ctx.Err() != nil {
			return nil
		}
	}
}

type consumer struct {
	bus    *Bus
	group  string
	reader *kafka.Reader
	handle Handler
	log    *slog.Logger
}

// handleAndCommit calls the handler until it succeeds (or ctx ends), then commits.
// ctx is Consume's; work outlives it by the drain time.
func (c *consumer) handleAndCommit(ctx, work context.Context, kbatch []kafka.Message) {
	cc := c.bus.cfg.Consumer
	batch := make([]Message, len(kbatch))
	for i, km := range kbatch {
		batch[i] = fromKafka(km)
	}
	backoff := cc.RetryMin
	for attempt := 1; ; attempt++ {
		err := c.handle(work, batch)
		if err == nil {
			break
		}
		c.bus.metrics.handlerErrors.WithLabelValues(c.group).Inc()
		first := batch[0]
		c.log.Warn("handler failed; the batch will be retried",
			"topic", first.Topic, "partition", first.Partition, "offset", first.Offset,
			"messages", len(batch), "attempt", attempt, "retry_in", backoff, "err", err)
		if ctx.Err() != nil || !sleepCtx(ctx, backoff) {
			// Stopping: nothing is committed, so the batch is delivered again later.
			return
		}
		backoff = min(2*backoff, cc.RetryMax)
	}
	if err := c.reader.CommitMessages(work, kbatch...); err != nil {
		// The next successful commit covers these offsets too; until then a
		// restart or rebalance delivers them again.
		c.bus.metrics.commitErrors.WithLabelValues(c.group).Inc()
		c.log.Warn("committing offsets; the batch may be delivered again", "messages", len(kbatch), "err", err)
		return
	}
	counts := map[string]int{}
	for _, km := range kbatch {
		counts[km.Topic]++
	}
	for topic, n := range counts {
		c.bus.metrics.consumed.WithLabelValues(c.group, topic).Add(float64(n))
	}
}

// drainContext returns a context that is not canceled with parent but only grace
// after parent ends (or when the returned cancel is called).
func drainContext(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	var (
		mu      sync.Mutex
		timer   *time.Timer
		stopped bool
	)
	stop := context.AfterFunc(parent, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			timer = time.AfterFunc(grace, cancel)
		}
	})
	return ctx, func() {
		stop()
		mu.Lock()
		stopped = true
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// sleepCtx waits d or until ctx ends; it reports whether the full wait happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
