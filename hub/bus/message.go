package bus

import (
	"time"

	"github.com/segmentio/kafka-go"
)

// Message is one Kafka message. Publish reads Topic, Key, Value, Headers and (when
// set) Time; messages handed to consumers also carry Partition, Offset and Time.
type Message struct {
	Topic     string
	Key       []byte
	Value     []byte
	Headers   []Header
	Partition int
	Offset    int64
	Time      time.Time
}

// Header is one message header.
type Header struct {
	Key   string
	Value []byte
}

// Header returns the value of the first header named key, or nil.
func (m *Message) Header(key string) []byte {
	for _, h := range m.Headers {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}

func toKafka(m Message) kafka.Message {
	km := kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Time: m.Time}
	if len(m.Headers) > 0 {
		km.Headers = make([]kafka.Header, len(m.Headers))
		for i, h := range m.Headers {
			km.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	return km
}

func fromKafka(km kafka.Message) Message {
	m := Message{
		Topic: km.Topic, Key: km.Key, Value: km.Value,
		Partition: km.Partition, Offset: km.Offset, Time: km.Time,
	}
	if len(km.Headers) > 0 {
		m.Headers = make([]Header, len(km.Headers))
		for i, h := range km.Headers {
			m.Headers[i] = Header{Key: h.Key, Value: h.Value}
		}
	}
	return m
}
