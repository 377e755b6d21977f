package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/verihub/verihub/contracts"
)

// Dead-letter headers. They are part of the topic's contract: tools and replays
// read them, so a name is never changed.
const (
	HeaderDLCode            = "dl.code"             // reject code (contracts.Code…) or another stable code
	HeaderDLMessage         = "dl.message"          // human-readable reason
	HeaderDLField           = "dl.field"            // JSON path of the offending field, when known
	HeaderDLAgency          = "dl.agency"           // agency the record came from
	HeaderDLSourceTopic     = "dl.source.topic"     // topic the record was read from, when it was
	HeaderDLSourcePartition = "dl.source.partition" // its partition (decimal)
	HeaderDLSourceOffset    = "dl.source.offset"    // its offset (decimal)
	HeaderDLTime            = "dl.time"             // when it was rejected, RFC 3339 with nanoseconds
)

// ErrBadCursor is returned by ListDeadLetters for a cursor it did not issue.
var ErrBadCursor = errors.New("bad dead-letter cursor")

// Position is a message's place in Kafka.
type Position struct {
	Topic     string
	Partition int
	Offset    int64
}

// DeadLetter is a rejected record kept with the reason it was refused, so that an
// operator can see it, fix the cause and replay it.
//
// Message and Value are stored as given: a record holding a resident ID number must
// be protected (contracts.Protector) or masked before it becomes a dead letter.
type DeadLetter struct {
	Code    string
	Message string
	Field   string
	Agency  string
	// Source is where the record was read from when it came from a topic, else nil.
	Source *Position
	// Time is when the record was rejected (Publish time when zero).
	Time time.Time
	// Key and Value are the rejected message or record as received.
	Key, Value []byte
	// At is the dead letter's own place in the dead-letter topic; set when read.
	At Position
}

// DeadLetter publishes a dead letter to the dead-letter topic (acks=all, like
// Publish) and returns once it is durable.
func (b *Bus) DeadLetter(ctx context.Context, dl DeadLetter) error {
	return b.DeadLetters(ctx, []DeadLetter{dl})
}

// DeadLetters publishes several dead letters in one durable write.
func (b *Bus) DeadLetters(ctx context.Context, dls []DeadLetter) error {
	msgs := make([]Message, len(dls))
	now := time.Now()
	for i, dl := range dls {
		if dl.Code == "" {
			return errors.New("writing dead letter: empty reason code")
		}
		if dl.Time.IsZero() {
			dl.Time = now
		}
		dl.Time = dl.Time.UTC()
		h := []Header{
			{HeaderDLCode, []byte(dl.Code)},
			{HeaderDLMessage, []byte(dl.Message)},
			{HeaderDLAgency, []byte(dl.Agency)},
			{HeaderDLTime, []byte(dl.Time.Format(time.RFC3339Nano))},
		}
		if dl.Field != "" {
			h = append(h, Header{HeaderDLField, []byte(dl.Field)})
		}
		if s := dl.Source; s != nil {
			h = append(h,
				Header{HeaderDLSourceTopic, []byte(s.Topic)},
				Header{HeaderDLSourcePartition, []byte(strconv.Itoa(s.Partition))},
				Header{HeaderDLSourceOffset, []byte(strconv.FormatInt(s.Offset, 10))},
			)
		}
		msgs[i] = Message{Topic: b.cfg.DeadLetterTopic(), Key: dl.Key, Value: dl.Value, Headers: h, Time: dl.Time}
	}
	if err := b.Publish(ctx, msgs); err != nil {
		return fmt.Errorf("writing %d dead letters: %w", len(dls), err)
	}
	for _, dl := range dls {
		b.metrics.deadLetters.WithLabelValues(dl.Agency, dl.Code).Inc()
	}
	return nil
}

// DeadLetterFromMessage reads a dead letter back from its message.
func DeadLetterFromMessage(m Message) DeadLetter {
	dl := DeadLetter{
		Code:    string(m.Header(HeaderDLCode)),
		Message: string(m.Header(HeaderDLMessage)),
		Field:   string(m.Header(HeaderDLField)),
		Agency:  string(m.Header(HeaderDLAgency)),
		Key:     m.Key,
		Value:   m.Value,
		Time:    m.Time,
		At:      Position{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset},
	}
	if t, err := time.Parse(time.RFC3339Nano, string(m.Header(HeaderDLTime))); err == nil {
		dl.Time = t
	}
	if topic := m.Header(HeaderDLSourceTopic); topic != nil {
		p, perr := strconv.Atoi(string(m.Header(HeaderDLSourcePartition)))
		o, oerr := strconv.ParseInt(string(m.Header(HeaderDLSourceOffset)), 10, 64)
		if perr == nil && oerr == nil {
			dl.Source = &Position{Topic: string(topic), Partition: p, Offset: o}
		}
	}
	return dl
}

// DeadLetterFilter selects dead letters; zero fields select everything.
type DeadLetterFilter struct {
	Agency string
	Code   string
	Since  time.Time // rejected at or after
	Until  time.Time // rejected before
}

func (f DeadLetterFilter) match(dl DeadLetter) bool {
	return (f.Agency == "" || dl.Agency == f.Agency) &&
		(f.Code == "" || dl.Code == f.Code) &&
		(f.Since.IsZero() || !dl.Time.Before(f.Since)) &&
		(f.Until.IsZero() || dl.Time.Before(f.Until))
}

// DeadLetterPage is one page of ListDeadLetters.
type DeadLetterPage struct {
	Items []DeadLetter
	// Next is the cursor of the following page, "" when there is none.
	Next string
}

// Limits of ListDeadLetters.
const (
	DefaultDeadLetterLimit = 100
	MaxDeadLetterLimit     = 1000
)

// ListDeadLetters returns up to limit dead letters matching f (limit ≤ 0 means
// DefaultDeadLetterLimit; larger than MaxDeadLetterLimit is capped), ordered by
// partition then offset: with the default single partition, oldest first. cursor is
// "" for the first page, then the Next of the previous page; a cursor this method did
// not issue is an error matching ErrBadCursor. A page ends at the dead letters
// present when the call started.
//
// It reads the dead-letter topic (skipping ahead to Since by timestamp when it can),
// so its cost grows with the number of dead letters scanned.
func (b *Bus) ListDeadLetters(ctx context.Context, f DeadLetterFilter, cursor string, limit int) (DeadLetterPage, error) {
	if limit <= 0 {
		limit = DefaultDeadLetterLimit
	}
	limit = min(limit, MaxDeadLetterLimit)
	startPart, startOff := 0, int64(-1)
	if cursor != "" {
		p, o, ok := parseCursor(cursor)
		if !ok {
			return DeadLetterPage{}, fmt.Errorf("listing dead letters: %w: %q", ErrBadCursor, cursor)
		}
		startPart, startOff = p, o
	}
	topic := b.cfg.DeadLetterTopic()
	bounds, err := b.offsets(ctx, []string{topic})
	if err != nil {
		return DeadLetterPage{}, fmt.Errorf("listing dead letters: %w", err)
	}
	if !f.Since.IsZero() {
		if err := b.skipToTime(ctx, topic, bounds, f.Since); err != nil {
			return DeadLetterPage{}, fmt.Errorf("listing dead letters: %w", err)
		}
	}
	var page DeadLetterPage
	for _, pb := range bounds {
		if pb.partition < startPart {
			continue
		}
		from := pb.first
		if pb.partition == startPart && startOff > from {
			from = startOff
		}
		err := b.readPartition(ctx, topic, pb.partition, from, pb.high, func(batch []Message) error {
			for _, m := range batch {
				dl := DeadLetterFromMessage(m)
				if !f.match(dl) {
					continue
				}
				page.Items = append(page.Items, dl)
				if len(page.Items) == limit {
					page.Next = formatCursor(m.Partition, m.Offset+1)
					return errStopRead
				}
			}
			return nil
		})
		if err != nil {
			return DeadLetterPage{}, fmt.Errorf("listing dead letters: %w", err)
		}
		if page.Next != "" {
			break
		}
	}
	return page, nil
}

// skipToTime raises each partition's first offset to the first message stamped at or
// after t (the dead-letter time is the message timestamp).
func (b *Bus) skipToTime(ctx context.Context, topic string, bounds []partitionBounds, t time.Time) error {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, pb := range bounds {
		req.Topics[topic] = append(req.Topics[topic], kafka.TimeOffsetOf(pb.partition, t))
	}
	resp, err := b.client.ListOffsets(ctx, req)
	if err != nil {
		return fmt.Errorf("finding offsets at %v: %w", t, err)
	}
	at := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("finding offset of %s/%d at %v: %w", topic, p.Partition, t, p.Error)
		}
		off := int64(-1)
		for o := range p.Offsets {
			off = max(off, o)
		}
		at[p.Partition] = off
	}
	for i := range bounds {
		off, ok := at[bounds[i].partition]
		switch {
		case !ok:
		case off < 0: // nothing that recent
			bounds[i].first = bounds[i].high
		case off > bounds[i].first:
			bounds[i].first = min(off, bounds[i].high)
		}
	}
	return nil
}

// ReadDeadLetter returns the dead letter at a partition and offset of the
// dead-letter topic (as in DeadLetter.At), or an error matching
// contracts.ErrNotFound when there is none (never written, or past retention).
func (b *Bus) ReadDeadLetter(ctx context.Context, partition int, offset int64) (DeadLetter, error) {
	topic := b.cfg.DeadLetterTopic()
	var found *Message
	bounds, err := b.offsets(ctx, []string{topic})
	if err != nil {
		return DeadLetter{}, fmt.Errorf("reading dead letter %d/%d: %w", partition, offset, err)
	}
	for _, pb := range bounds {
		if pb.partition != partition || offset < pb.first || offset >= pb.high {
			continue
		}
		err := b.readPartition(ctx, topic, partition, offset, offset+1, func(batch []Message) error {
			if len(batch) > 0 && batch[0].Offset == offset {
				found = &batch[0]
			}
			return errStopRead
		})
		if err != nil {
			return DeadLetter{}, fmt.Errorf("reading dead letter %d/%d: %w", partition, offset, err)
		}
	}
	if found == nil {
		return DeadLetter{}, fmt.Errorf("reading dead letter %d/%d: %w", partition, offset, contracts.ErrNotFound)
	}
	return DeadLetterFromMessage(*found), nil
}

func formatCursor(partition int, offset int64) string {
	return "p" + strconv.Itoa(partition) + "o" + strconv.FormatInt(offset, 10)
}

func parseCursor(s string) (int, int64, bool) {
	rest, ok := strings.CutPrefix(s, "p")
	if !ok {
		return 0, 0, false
	}
	ps, os, ok := strings.Cut(rest, "o")
	if !ok {
		return 0, 0, false
	}
	p, err := strconv.Atoi(ps)
	if err != nil || p < 0 || strconv.Itoa(p) != ps {
		return 0, 0, false
	}
	o, err := strconv.ParseInt(os, 10, 64)
	if err != nil || o < 0 || strconv.FormatInt(o, 10) != os {
		return 0, 0, false
	}
	return p, o, true
}
