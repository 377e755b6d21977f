package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/verihub/verihub/hub/demo"
)

// runDemo is the main job on one machine: hub demo [--data DIR] [--addr HOST:PORT].
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := demo.Options{Out: stdout}
	fs.StringVar(&o.DataDir, "data", "data", "directory for everything the demo writes")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "API listen address")
	fs.StringVar(&o.BrokerAddr, "broker", "127.0.0.1:29092", "embedded broker address (loopback)")
	fs.IntVar(&o.Enterprises, "enterprises", 1000, "synthetic enterprises (first run only)")
	fs.IntVar(&o.Persons, "persons", 3000, "synthetic persons (first run only)")
	verbose := fs.Bool("v", false, "log at info level (default: warnings only)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return demo.Run(ctx, o)
}
