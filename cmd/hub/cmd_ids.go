package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/verihub/verihub/contracts"
)

const idsUsage = `usage: hub ids check [--kind uscc|id] [--legacy FILE] CODE…
       hub ids check [--kind uscc|id] [--legacy FILE] -   (codes from standard input, one a line)

Checks unified social credit codes (GB 32100) and resident ID numbers (GB 11643) and
prints one line per code: CODE<TAB>uscc|id<TAB>valid|invalid|legacy<TAB>reason.
Without --kind the kind is inferred from the shape, and the reason says what was
assumed. legacy marks a USCC failing only its check character (an early pilot code);
--legacy names the allowlist file (one code a line, # comments) to say whether it is
on it. Exit status: 0 when no code is invalid, 1 when one is, 2 on usage errors.`

// runIDs is "hub ids". It prints what the operator typed and nothing else: no code
// reaches a log.
func runIDs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return idsCommand(ctx, args, os.Stdin, stdout, stderr)
}

func idsCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, idsUsage)
		return fmt.Errorf("%w: want the subcommand check", errUsage)
	}
	fs := flag.NewFlagSet("hub ids check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, idsUsage) }
	kind := fs.String("kind", "", "uscc or id (default: inferred from each code's shape)")
	legacyFile := fs.String("legacy", "", "legacy USCC allowlist file, one code a line")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *kind != "" && *kind != contracts.CodeKindUSCC && *kind != contracts.CodeKindID {
		fs.Usage()
		return fmt.Errorf("%w: --kind must be uscc or id, got %q", errUsage, *kind)
	}
	codes := fs.Args()
	if len(codes) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: no codes given", errUsage)
	}
	var legacy []string
	if *legacyFile != "" {
		var err error
		if legacy, err = readCodeList(*legacyFile); err != nil {
			return err
		}
	}
	if len(codes) == 1 && codes[0] == "-" {
		var err error
		if codes, err = readCodes(stdin); err != nil {
			return fmt.Errorf("reading codes from standard input: %w", err)
		}
	}

	w := bufio.NewWriter(stdout)
	invalid := 0
	for _, code := range codes {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := contracts.CheckCode(*kind, code, legacy...)
		if res.Status == contracts.StatusInvalid {
			invalid++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", res.Code, res.Kind, res.Status, res.Reason)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if invalid > 0 {
		return fmt.Errorf("%d of %d codes invalid", invalid, len(codes))
	}
	return nil
}

func readCodeList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading legacy allowlist: %w", err)
	}
	defer f.Close()
	codes, err := readCodes(f)
	if err != nil {
		return nil, fmt.Errorf("reading legacy allowlist %q: %w", path, err)
	}
	return codes, nil
}

// readCodes reads one code a line, skipping blank lines and # comments.
func readCodes(r io.Reader) ([]string, error) {
	var codes []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			codes = append(codes, line)
		}
	}
	return codes, sc.Err()
}
