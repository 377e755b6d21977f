package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/connectors/simulator"
)

// runSim serves one agency's pull API from a `hub gen` data directory, with optional
// fault injection, until interrupted.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agency := fs.String("agency", "", "agency to simulate: "+strings.Join(connectors.AgencyNames(), ", "))
	data := fs.String("data", "", "directory holding <agency>.ndjson (hub gen output), or the NDJSON file itself")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	token := fs.String("token", "", "bearer token to accept (default demo-<agency>)")
	seed := fs.Uint64("seed", 1, "seed of the fault injection")
	var f simulator.Faults
	fs.Float64Var(&f.ErrorRate, "fail-rate", 0, "fraction of requests answered with a 5xx")
	fs.IntVar(&f.ErrorStatus, "fail-status", 503, "status of injected errors (500-599)")
	fs.DurationVar(&f.RetryAfter, "retry-after", 0, "Retry-After sent with injected errors (0 = none)")
	fs.DurationVar(&f.Latency, "latency", 0, "latency added to every answer")
	fs.Float64Var(&f.HangRate, "hang-rate", 0, "fraction of requests that hang (past any client timeout)")
	fs.DurationVar(&f.Hang, "hang", time.Hour, "how long a hanging request hangs")
	fs.Float64Var(&f.TruncateRate, "truncate-rate", 0, "fraction of answers with a truncated body")
	fs.Float64Var(&f.DuplicateRate, "duplicate-rate", 0, "fraction of answers repeating or overlapping an earlier page")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	a, ok := connectors.LookupAgency(*agency)
	if !ok {
		return fmt.Errorf("%w: --agency must be one of %s", errUsage, strings.Join(connectors.AgencyNames(), ", "))
	}
	if *data == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: hub sim --agency NAME --data DIR [--addr HOST:PORT] [--token T] [fault flags]", errUsage)
	}
	rates := f.ErrorRate + f.HangRate + f.TruncateRate + f.DuplicateRate
	if f.ErrorRate < 0 || f.HangRate < 0 || f.TruncateRate < 0 || f.DuplicateRate < 0 || rates > 1 {
		return fmt.Errorf("%w: fault rates must be ≥ 0 and sum to at most 1 (got %g)", errUsage, rates)
	}
	if *token == "" {
		*token = "demo-" + a.Name
	}
	path := *data
	if !strings.HasSuffix(path, ".ndjson") {
		path = filepath.Join(path, a.Name+".ndjson")
	}
	sim := a.NewSimulator(*token, *seed)
	loaded, skipped, err := sim.LoadFile(path)
	if err != nil {
		return err
	}
	sim.SetFaults(f)
	srv, err := simulator.Listen(sim, *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hub sim: %s agency on %s (%d records of %s; %d of other types skipped)\n",
		a.Name, srv.URL(), loaded, strings.Join(a.Types(), ", "), skipped)
	fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' '%s%s?type=%s&limit=2'\n", *token, srv.URL(), "/api/v1/records", a.Types()[0])
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stopping simulator: %w", err)
	}
	return nil
}
