package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"golang.org/x/sync/errgroup"
)

// readAllParallelism is how many partitions ReadAll fetches at once.
const readAllParallelism = 4

// ReadAll reads every message of topics, from the first offset still in the log up
// to the high watermark each partition had when ReadAll started, with no consumer
// group and no commits: what `hub rebuild` replays. Messages published after the
// start are not read, so ReadAll ends even while producers keep writing.
//
// fn receives batches; it is never called concurrently, and each batch holds
// messages of one partition in offset order (partitions are read in parallel, so
// batches of different partitions interleave). An error from fn stops ReadAll,
// which returns it.
func (b *Bus) ReadAll(ctx context.Context, topics []string, fn func(batch []Message) error) error {
	bounds, err := b.offsets(ctx, topics)
	if err != nil {
		return fmt.Errorf("reading all of %v: %w", topics, err)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readAllParallelism)
	for _, pb := range bounds {
		if pb.first >= pb.high {
			continue
		}
		g.Go(func() error {
			return b.readPartition(gctx, pb.topic, pb.partition, pb.first, pb.high, func(batch []Message) error {
				mu.Lock()
				defer mu.Unlock()
				return fn(batch)
			})
		})
	}
	return g.Wait()
}

// partitionBounds is one partition's log start offset and high watermark.
type partitionBounds struct {
	topic       string
	partition   int
	first, high int64
}

// offsets returns the bounds of every partition of topics, ordered by topic and
// partition. A missing topic is an error.
func (b *Bus) offsets(ctx context.Context, topics []string) ([]partitionBounds, error) {
	parts, err := b.partitions(ctx, topics)
	if err != nil {
		return nil, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for topic, ids := range parts {
		for _, p := range ids {
			req.Topics[topic] = append(req.Topics[topic], kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
		}
	}
	resp, err := b.client.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("listing offsets: %w", err)
	}
	var out []partitionBounds
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return nil, fmt.Errorf("listing offsets of %s/%d: %w", topic, p.Partition, p.Error)
			}
			out = append(out, partitionBounds{topic: topic, partition: p.Partition, first: p.FirstOffset, high: p.LastOffset})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].topic != out[j].topic {
			return out[i].topic < out[j].topic
		}
		return out[i].partition < out[j].partition
	})
	return out, nil
}

// errStopRead ends readPartition early without an error.
var errStopRead = errors.New("stop reading")

// readPartition calls fn with the messages of one partition at offsets [from,
// until), in order, one batch per fetch. fn returning errStopRead ends the read
// with a nil error.
func (b *Bus) readPartition(ctx context.Context, topic string, partition int, from, until int64, fn func([]Message) error) error {
	offset := from
	stalls := 0
	for offset < until {
		resp, err := b.client.Fetch(ctx, &kafka.FetchRequest{
			Topic: topic, Partition: partition, Offset: offset,
			MinBytes: 1, MaxBytes: int64(b.cfg.Consumer.MaxBytes), MaxWait: b.cfg.Consumer.MaxWait,
		})
		if err != nil {
			return fmt.Errorf("fetching %s/%d at offset %d: %w", topic, partition, offset, err)
		}
		if resp.Error != nil {
			closeRecords(resp.Records)
			if errors.Is(resp.Error, kafka.OffsetOutOfRange) && resp.LogStartOffset > offset {
				// Retention removed the start of the log meanwhile.
				offset = resp.LogStartOffset
				continue
			}
			return fmt.Errorf("fetching %s/%d at offset %d: %w", topic, partition, offset, resp.Error)
		}
		batch, next, err := decodeRecords(resp.Records, topic, partition, offset, until)
		closeRecords(resp.Records)
		if err != nil {
			return fmt.Errorf("decoding %s/%d at offset %d: %w", topic, partition, offset, err)
		}
		if next == offset {
			// Nothing at or after offset came back although the partition
			// holds more: a transient empty answer, or a gap the broker keeps
			// answering around. Give up after a few tries rather than spin.
			if resp.HighWatermark <= offset {
				return nil
			}
			if stalls++; stalls > 20 {
				return fmt.Errorf("fetching %s/%d: no progress at offset %d below high watermark %d", topic, partition, offset, resp.HighWatermark)
			}
			if !sleepCtx(ctx, 10*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		stalls = 0
		offset = next
		if len(batch) == 0 {
			continue
		}
		if err := fn(batch); err != nil {
			if errors.Is(err, errStopRead) {
				return nil
			}
			return err
		}
	}
	return nil
}

// decodeRecords returns the records at offsets [from, until) and the offset after
// the last record seen.
func decodeRecords(rr kafka.RecordReader, topic string, partition int, from, until int64) ([]Message, int64, error) {
	var out []Message
	next := from
	for {
		rec, err := rr.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out, next, nil
		}
		if err != nil {
			return nil, from, err
		}
		if rec.Offset < from {
			continue
		}
		if rec.Offset >= until {
			return out, until, nil
		}
		key, err := protocol.ReadAll(rec.Key)
		if err != nil {
			return nil, from, err
		}
		value, err := protocol.ReadAll(rec.Value)
		if err != nil {
			return nil, from, err
		}
		m := Message{Topic: topic, Partition: partition, Offset: rec.Offset, Time: rec.Time, Key: key, Value: value}
		if len(rec.Headers) > 0 {
			m.Headers = make([]Header, len(rec.Headers))
			for i, h := range rec.Headers {
				// Header values may point into the fetch buffer, which is
				// reused once the record set is closed.
				m.Headers[i] = Header{Key: h.Key, Value: append([]byte(nil), h.Value...)}
			}
		}
		out = append(out, m)
		next = rec.Offset + 1
	}
}

// closeRecords releases a fetch's record buffers when the reader holds any.
func closeRecords(rr kafka.RecordReader) {
	if c, ok := rr.(io.Closer); ok {
		c.Close()
	}
}
