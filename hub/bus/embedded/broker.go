// Package embedded runs an in-process, single-node Kafka-protocol broker
// (github.com/twmb/franz-go/pkg/kfake) so that the hub's kafka-go code runs
// unchanged on one machine with nothing installed.
//
// With a data directory the broker keeps topics, messages, committed offsets and
// group state on disk and, unless NoSync is set, fsyncs every write before
// acknowledging it, so acknowledged messages and commits survive a restart of the
// process (and a crash of it). It is one node with no replication and no
// authentication: it listens on loopback only and is for demos, development, tests
// and single-machine installations, never a substitute for a Kafka cluster.
package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultAddr is where the embedded broker listens unless configured otherwise.
const DefaultAddr = "127.0.0.1:29092"

// Config configures the embedded broker.
type Config struct {
	// Addr is the loopback host:port to listen on (default DefaultAddr; port 0
	// picks a free one, see Broker.Addr).
	Addr string `yaml:"addr"`
	// DataDir holds the broker's state. Empty keeps everything in memory (tests
	// only: nothing survives Close).
	DataDir string `yaml:"data_dir"`
	// NoSync skips the fsync of every write: much faster, but a machine crash can
	// lose writes that were acknowledged.
	NoSync bool `yaml:"no_sync"`
	// Partitions is the partition count of topics created without one (default 6).
	Partitions int `yaml:"partitions"`
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	unlock  func()
	once    sync.Once
}

// Start starts the broker and returns once it accepts connections. It refuses a
// non-loopback address, and a data directory another process is using.
func Start(cfg Config, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 6
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka address %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return nil, fmt.Errorf("embedded kafka address %q: must be a loopback address (the embedded broker has no authentication)", cfg.Addr)
	}
	if cfg.Partitions < 1 {
		return nil, fmt.Errorf("embedded kafka partitions: %d must be positive", cfg.Partitions)
	}

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID("verihub-embedded"),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.WithLogger(slogLogger{log.With("component", "embedded-kafka")}),
		// kfake listens where ListenFn says; this keeps it on the configured address.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, cfg.Addr) }),
	}
	unlock := func() {}
	if cfg.DataDir != "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("embedded kafka data dir %q: %w", cfg.DataDir, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating embedded kafka data dir %q: %w", dir, err)
		}
		unlock, err = lockDir(dir)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kfake.DataDir(dir))
		if !cfg.NoSync {
			opts = append(opts, kfake.SyncWrites())
		}
		cfg.DataDir = dir
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("starting embedded kafka on %s: %w", cfg.Addr, err)
	}
	addrs := cluster.ListenAddrs()
	if len(addrs) != 1 {
		cluster.Close()
		unlock()
		return nil, fmt.Errorf("starting embedded kafka: %d listeners, want 1", len(addrs))
	}
	b := &Broker{cluster: cluster, addr: addrs[0], unlock: unlock}
	durability := "fsync on every write"
	switch {
	case cfg.DataDir == "":
		durability = "in memory: nothing survives a restart"
	case cfg.NoSync:
		durability = "no fsync: a machine crash can lose acknowledged writes"
	}
	log.Warn("running EMBEDDED single-node Kafka-protocol broker (kfake): no replication, no authentication; use a Kafka cluster in production",
		"addr", b.addr, "data_dir", cfg.DataDir, "durability", durability)
	return b, nil
}

// Addr returns the address the broker listens on ("127.0.0.1:29092").
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker, writing its state to the data directory first. It is
// idempotent.
func (b *Broker) Close() error {
	b.once.Do(func() {
		b.cluster.Close()
		b.unlock()
	})
	return nil
}

// Compact runs log compaction on every compacted topic now (the broker also runs
// it periodically).
func (b *Broker) Compact() { b.cluster.Compact() }

// slogLogger forwards kfake's log lines to slog. kfake's info level logs every
// request, so it goes to Debug.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelNone:
	case kfake.LogLevelError:
		l.log.Error(fmt.Sprintf(format, args...))
	case kfake.LogLevelWarn:
		l.log.Warn(fmt.Sprintf(format, args...))
	default:
		l.log.Debug(fmt.Sprintf(format, args...))
	}
}

// errLocked says another process holds the data directory.
var errLocked = errors.New("in use by another process")
