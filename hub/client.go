package hub

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/pipeline"
)

// Client is a tool's handle on a running hub's bus: `hub load` publishes through
// its Ingest exactly as the hub's own edge does, and `hub rebuild` reads the topics.
// It starts no broker: against an embedded hub it connects to that hub's broker.
type Client struct {
	Bus       *bus.Bus
	Ingest    *pipeline.Ingest
	Protector *contracts.Protector
}

// NewClient connects to the bus of the hub cfg describes.
func NewClient(ctx context.Context, cfg Config, log *slog.Logger) (*Client, error) {
	secret, err := readSecret(cfg.PII, "pii")
	if err != nil {
		return nil, err
	}
	prot, err := contracts.NewProtector(secret)
	if err != nil {
		return nil, err
	}
	v, err := contracts.NewValidator(contracts.Options{LegacyUSCC: cfg.Validation.LegacyUSCC})
	if err != nil {
		return nil, err
	}
	bc := cfg.Bus.Config
	if cfg.Bus.IsEmbedded() {
		bc.Brokers = []string{cfg.Bus.Embedded.Addr}
		if bc.Partitions == 0 {
			bc.Partitions = cfg.Bus.Embedded.Partitions
		}
	}
	b, err := bus.New(bc.WithDefaults(), log, nil)
	if err != nil {
		return nil, err
	}
	if err := b.Ping(ctx); err != nil {
		b.Close()
		if cfg.Bus.IsEmbedded() {
			return nil, fmt.Errorf("no embedded hub answers at %s (start `hub serve` or `hub demo` with this data directory first): %w", cfg.Bus.Embedded.Addr, err)
		}
		return nil, fmt.Errorf("bus: %w", err)
	}
	return &Client{Bus: b, Ingest: pipeline.NewIngest(v, prot, b, log, nil), Protector: prot}, nil
}

// Close flushes and disconnects.
func (c *Client) Close() error { return c.Bus.Close() }
