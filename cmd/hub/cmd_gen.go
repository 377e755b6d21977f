package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/verihub/verihub/connectors/synthetic"
)

// runGen is `hub gen --seed N --enterprises N --persons N --out DIR [--checks]`.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed: the same seed and counts give the same bytes")
	enterprises := fs.Int("enterprises", 1000, "number of enterprises")
	persons := fs.Int("persons", 10000, "number of persons")
	out := fs.String("out", "", "output directory (required)")
	checks := fs.Bool("checks", false, "also write expected_checks.ndjson with every check's outcome")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	cfg := synthetic.Config{Seed: *seed, Enterprises: *enterprises, Persons: *persons, Out: *out, Checks: *checks}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	start := time.Now()
	m, err := synthetic.Generate(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s in %s (seed %d, %d enterprises, %d persons)\n",
		*out, time.Since(start).Round(time.Millisecond), m.Seed, m.Enterprises, m.Persons)
	for _, name := range []string{"si.ndjson", "tax.ndjson", "cert.ndjson", "env.ndjson", "credit.ndjson", "grant.ndjson",
		synthetic.FileBad, synthetic.FileExpected} {
		fmt.Fprintf(stdout, "  %-16s %9d lines\n", name, m.Files[name].Lines)
	}
	return nil
}
