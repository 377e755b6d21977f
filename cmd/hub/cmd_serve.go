package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/verihub/verihub/hub"
)

// runServe is the production entry point: hub serve [--config FILE].
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML); none: embedded defaults")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	app, err := hub.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	return app.Run(ctx)
}

// loadConfig reads path, or returns the embedded defaults when path is empty.
func loadConfig(path string) (hub.Config, error) {
	if path == "" {
		return hub.ParseConfig(nil)
	}
	return hub.LoadConfig(path)
}

func newLogger(c hub.LogConfig, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runCheckConfig validates configuration files: hub check-config FILE...
func runCheckConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: hub check-config FILE [FILE]", errUsage)
	}
	bad := 0
	for _, p := range fs.Args() {
		if _, err := hub.LoadConfig(p); err != nil {
			fmt.Fprintf(stdout, "%s\tinvalid\t%v\n", p, err)
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s\tok\n", p)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d configurations are invalid", bad, fs.NArg())
	}
	return nil
}
