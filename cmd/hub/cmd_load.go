package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub"
	"github.com/verihub/verihub/hub/pipeline"
)

// runLoad validates and publishes an NDJSON file to the bus (bulk migration):
// hub load [--config FILE] --agency NAME FILE. Against an embedded hub it publishes
// into that hub's broker, which must be running.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file of the hub to load into (none: the embedded defaults)")
	agency := fs.String("agency", "", "agency the records come from ("+fmt.Sprint(contracts.Agencies)+")")
	chunk := fs.Int("chunk", 2000, "records per publish")
	parallel := fs.Int("parallel", 4, "publishes in flight")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 || *agency == "" || *chunk < 1 || *parallel < 1 {
		return fmt.Errorf("%w: hub load [--config FILE] --agency NAME FILE", errUsage)
	}
	known := false
	for _, a := range contracts.Agencies {
		known = known || a == *agency
	}
	if !known {
		return fmt.Errorf("%w: unknown agency %q", errUsage, *agency)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	c, err := hub.NewClient(ctx, cfg, newLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	defer c.Close()

	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	accepted, rejected, lines, err := loadStream(ctx, c.Ingest, *agency, f, *chunk, *parallel)
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "accepted %d rejected %d lines %d in %s (%.0f records/s)\n",
		accepted, rejected, lines, elapsed.Round(time.Millisecond), float64(lines)/elapsed.Seconds())
	return err
}

// loadStream reads NDJSON and submits it in chunks, several in flight. It holds at
// most parallel+1 chunks in memory, whatever the file's size.
func loadStream(ctx context.Context, in *pipeline.Ingest, agency string, r io.Reader, chunk, parallel int) (accepted, rejected, lines int64, err error) {
	type result struct{ acc, rej int }
	results := make(chan result, parallel)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel + 1)
	done := make(chan struct{})
	go func() {
		for res := range results {
			accepted += int64(res.acc)
			rejected += int64(res.rej)
		}
		close(done)
	}()
	br := bufio.NewReaderSize(r, 1<<20)
	batch := make([][]byte, 0, chunk)
	flush := func(b [][]byte) {
		g.Go(func() error {
			acc, rej, err := in.Submit(gctx, agency, b)
			if err != nil {
				return err
			}
			results <- result{acc, len(rej)}
			return nil
		})
	}
	var readErr error
	for gctx.Err() == nil {
		line, err := readLine(br, contracts.MaxRecordBytes+1)
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if len(line) == 0 {
			continue
		}
		lines++
		batch = append(batch, line)
		if len(batch) == chunk {
			flush(batch)
			batch = make([][]byte, 0, chunk)
		}
	}
	if len(batch) > 0 && gctx.Err() == nil {
		flush(batch)
	}
	err = g.Wait()
	close(results)
	<-done
	if err == nil {
		err = readErr
	}
	if err != nil {
		return accepted, rejected, lines, fmt.Errorf("loading %s records: %w", agency, err)
	}
	return accepted, rejected, lines, nil
}

// readLine returns the next line without its newline. A line longer than max is
// cut to max bytes (the rest is skipped): the validator then refuses it as too
// large, and it is dead-lettered like any other refused record.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line) < max {
			line = append(line, frag[:min(len(frag), max-len(line))]...)
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(line) == 0 {
				return nil, io.EOF
			}
			return trimNewline(line), nil
		case nil:
			return trimNewline(line), nil
		default:
			return nil, err
		}
	}
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
