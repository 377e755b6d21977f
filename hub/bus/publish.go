package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Publish writes messages and returns only once every one of them is acknowledged by
// all in-sync replicas (acks=all). Each message names its topic; messages for one
// partition are written in slice order, and a records-topic message's partition
// follows its key's subject (SubjectBalancer).
//
// Publish is safe for concurrent use; concurrent calls share batches, so many small
// concurrent calls cost little more than one large one. A non-nil error means some,
// all or none of the messages may have been written (a partial failure lists how
// many): the caller retries the whole call, which consumers tolerate because they are
// idempotent. Publish never retries beyond Config.Producer.MaxAttempts on its own.
func (b *Bus) Publish(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	kms := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		if m.Topic == "" {
			return fmt.Errorf("publishing message %d of %d: no topic", i, len(msgs))
		}
		kms[i] = toKafka(m)
	}
	start := time.Now()
	err := b.writer.WriteMessages(ctx, kms...)
	b.metrics.publishSeconds.Observe(time.Since(start).Seconds())
	if err == nil {
		b.countProduced(msgs, nil)
		return nil
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		b.countProduced(msgs, werrs)
		var first error
		for _, e := range werrs {
			if e != nil {
				first = e
				break
			}
		}
		return fmt.Errorf("publishing %d messages: %d failed: %w", len(msgs), werrs.Count(), first)
	}
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("publishing %d messages: a message to %s is larger than producer.batch_bytes %d: %w",
			len(msgs), tooLarge.Message.Topic, b.cfg.Producer.BatchBytes, kafka.MessageSizeTooLarge)
	}
	b.countProduced(msgs, errSlice(len(msgs), err))
	return fmt.Errorf("publishing %d messages: %w", len(msgs), err)
}

func errSlice(n int, err error) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// countProduced adds acknowledged and failed messages to the per-topic counters;
// errs is nil when every message succeeded.
func (b *Bus) countProduced(msgs []Message, errs []error) {
	ok := map[string]int{}
	failed := map[string]int{}
	for i, m := range msgs {
		if errs != nil && i < len(errs) && errs[i] != nil {
			failed[m.Topic]++
		} else {
			ok[m.Topic]++
		}
	}
	for t, n := range ok {
		b.metrics.produced.WithLabelValues(t).Add(float64(n))
	}
	for t, n := range failed {
		b.metrics.produceErrors.WithLabelValues(t).Add(float64(n))
	}
}
