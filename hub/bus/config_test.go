package bus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/hub/bus"
)

func TestConfigDefaults(t *testing.T) {
	c := bus.Config{Brokers: []string{"127.0.0.1:9092"}}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaulted config invalid: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"prefix", c.TopicPrefix, "verihub"},
		{"partitions", c.Partitions, 6},
		{"replication", c.ReplicationFactor, 1},
		{"min isr", c.MinInsyncReplicas, 1},
		{"batch timeout", c.Producer.BatchTimeout, 5 * time.Millisecond},
		{"records topic", c.RecordsTopic("si"), "verihub.records.si.v1"},
		{"dead letters", c.DeadLetterTopic(), "verihub.deadletters.v1"},
		{"audit", c.AuditTopic(), "verihub.audit.v1"},
		{"agencies", len(c.RecordsTopics()), 6},
		{"min isr rf3", bus.Config{ReplicationFactor: 3}.WithDefaults().MinInsyncReplicas, 2},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if c.Producer.BatchTimeout >= time.Second/10 {
		t.Errorf("producer batch timeout %v would make every synchronous Publish slow", c.Producer.BatchTimeout)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func(c *bus.Config) {}
	tests := []struct {
		name   string
		mutate func(*bus.Config)
		want   string // substring of the error; "" means valid
	}{
		{"defaults", ok, ""},
		{"no brokers", func(c *bus.Config) { c.Brokers = nil }, "bus.brokers"},
		{"broker without port", func(c *bus.Config) { c.Brokers = []string{"kafka"} }, "host:port"},
		{"bad prefix", func(c *bus.Config) { c.TopicPrefix = "-x" }, "topic_prefix"},
		{"prefix with slash", func(c *bus.Config) { c.TopicPrefix = "a/b" }, "topic_prefix"},
		{"negative partitions", func(c *bus.Config) { c.Partitions = -1 }, "bus.partitions"},
		{"isr above rf", func(c *bus.Config) { c.MinInsyncReplicas = 2 }, "min_insync_replicas"},
		{"negative dl retention", func(c *bus.Config) { c.DeadLetterRetention = -time.Hour }, "dead_letter_retention"},
		{"tiny batch bytes", func(c *bus.Config) { c.Producer.BatchBytes = 2048 }, "batch_bytes"},
		{"fetch smaller than batch", func(c *bus.Config) { c.Consumer.MaxBytes = 1 << 19 }, "max_bytes"},
		{"heartbeat too slow", func(c *bus.Config) { c.Consumer.HeartbeatInterval = time.Minute }, "heartbeat_interval"},
		{"retry bounds", func(c *bus.Config) { c.Consumer.RetryMin = time.Minute }, "retry_min"},
		{"negative linger", func(c *bus.Config) { c.Consumer.Linger = -1 }, "linger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := bus.Config{Brokers: []string{"127.0.0.1:9092"}}.WithDefaults()
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate accepted it, want error about %s", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate: %v, want mention of %s", err, tc.want)
			}
		})
	}
	if _, err := bus.New(bus.Config{}, nil, nil); err == nil {
		t.Error("New accepted a config without brokers")
	}
}

func TestTopicSpecs(t *testing.T) {
	b, err := bus.New(bus.Config{Brokers: []string{"127.0.0.1:1"}, TopicPrefix: "x", DeadLetterRetention: 0, AuditRetention: 48 * time.Hour}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	specs := map[string]bus.TopicSpec{}
	for _, s := range b.Topics() {
		specs[s.Topic] = s
	}
	if len(specs) != 8 {
		t.Fatalf("%d topics, want 6 agencies + dead letters + audit", len(specs))
	}
	for _, a := range []string{"si", "tax", "cert", "env", "credit", "grant"} {
		s, ok := specs["x.records."+a+".v1"]
		if !ok || s.Configs["cleanup.policy"] != "compact" || s.Partitions != 6 {
			t.Errorf("records topic of %s: %+v", a, s)
		}
	}
	if s := specs["x.deadletters.v1"]; s.Configs["cleanup.policy"] != "delete" || s.Configs["retention.ms"] != "-1" {
		t.Errorf("dead letters: %+v", s)
	}
	if s := specs["x.audit.v1"]; s.Configs["cleanup.policy"] != "delete" || s.Configs["retention.ms"] != "172800000" {
		t.Errorf("audit: %+v", s)
	}
}
