package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/verihub/verihub/hub"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/pipeline"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/boltstore"
	"github.com/verihub/verihub/matching/redisstore"
)

// openTarget opens the store a rebuild writes or a dump reads: an embedded store
// directory, or the configured Redis under another key prefix.
func openTarget(ctx context.Context, cfg hub.Config, dir, redisPrefix string) (matching.Store, error) {
	switch {
	case dir != "" && redisPrefix != "":
		return nil, fmt.Errorf("%w: give --store/--into or --redis-prefix, not both", errUsage)
	case dir != "":
		return boltstore.Open(ctx, boltstore.Config{Dir: dir, LockTimeout: 2 * time.Second})
	case redisPrefix != "":
		rc := cfg.Store.Redis
		if cfg.Store.RedisPasswordEnv != "" {
			rc.Password = os.Getenv(cfg.Store.RedisPasswordEnv)
		}
		rc.Prefix = redisPrefix
		return redisstore.Open(ctx, rc)
	}
	return nil, fmt.Errorf("%w: name the store (--store/--into DIR or --redis-prefix P)", errUsage)
}

// runRebuild replays the record topics from the beginning into an empty store:
// hub rebuild [--config F] (--into DIR | --redis-prefix P) [--dump FILE].
// The live store is never touched: the operator compares, then switches.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (none: embedded defaults)")
	into := fs.String("into", "", "directory of a new embedded store to rebuild into")
	prefix := fs.String("redis-prefix", "", "rebuild into the configured Redis under this key prefix")
	dump := fs.String("dump", "", "write the rebuilt profiles' canonical dump to this file")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	if *into != "" {
		if entries, err := os.ReadDir(*into); err == nil && len(entries) > 0 {
			return fmt.Errorf("%w: --into %s is not empty", errUsage, *into)
		}
	}
	c, err := hub.NewClient(ctx, cfg, newLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	defer c.Close()
	target, err := openTarget(ctx, cfg, *into, *prefix)
	if err != nil {
		return err
	}
	defer target.Close()
	if n, err := target.Count(ctx, "enterprise"); err == nil && n > 0 {
		return fmt.Errorf("%w: the target store already holds %d enterprise profiles", errUsage, n)
	}
	start := time.Now()
	records, err := Rebuild(ctx, c.Bus, target)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "rebuilt %d records in %s (%.0f records/s)\n", records, elapsed.Round(time.Millisecond), float64(records)/elapsed.Seconds())
	if *dump != "" {
		return writeDump(ctx, target, *dump)
	}
	return nil
}

// Rebuild applies every record of the record topics to target and returns how many
// records it read.
func Rebuild(ctx context.Context, b *bus.Bus, target matching.Store) (int64, error) {
	var n int64
	err := b.ReadAll(ctx, b.Config().RecordsTopics(), func(batch []bus.Message) error {
		changes := make([]matching.Change, 0, len(batch)+len(batch)/8)
		for _, m := range batch {
			subject, rec, err := pipeline.DecodeMessage(m)
			if err != nil {
				// The live matcher dead-lettered it; a rebuild skips it the same way.
				continue
			}
			changes = append(changes, matching.Route(subject, rec)...)
		}
		n += int64(len(batch))
		_, err := target.Apply(ctx, changes)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("rebuilding: %w", err)
	}
	return n, nil
}

// runDump writes a store's canonical dump: hub dump [--config F] (--store DIR |
// --redis-prefix P) [--out FILE]. Two stores holding the same profiles dump to the
// same bytes.
func runDump(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (none: embedded defaults)")
	dir := fs.String("store", "", "embedded store directory (not in use by a running hub)")
	prefix := fs.String("redis-prefix", "", "the configured Redis under this key prefix")
	out := fs.String("out", "-", "output file (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	s, err := openTarget(ctx, cfg, *dir, *prefix)
	if err != nil {
		return err
	}
	defer s.Close()
	if *out == "-" {
		w := bufio.NewWriterSize(stdout, 1<<20)
		if err := matching.WriteCanonical(ctx, s, w); err != nil {
			return err
		}
		return w.Flush()
	}
	return writeDump(ctx, s, *out)
}

func writeDump(ctx context.Context, s matching.Store, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := matching.WriteCanonical(ctx, s, w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
