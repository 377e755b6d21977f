// Command hubbench is an open-loop load tool for a hub on this machine. It sends
// requests at a fixed arrival rate and measures each one from its scheduled time, so
// a slow hub shows as latency instead of silently lowering the rate (no coordinated
// omission). It refuses targets other than loopback.
//
//	hubbench verify --url http://127.0.0.1:8080 --key DATA/demo/portal.jwk --targets DATA/gen/expected.ndjson --rate 5000 --duration 60s
//	hubbench batch  ... --size 100 --rate 20
//	hubbench screen ... --program jrr-2021 --year 2021 --limit 1000
//	hubbench sign --duration 10s
//	hubbench client-key --client-id bench-portal --out portal.jwk
//
// It prints a summary for a person and, as its last line, the same as one JSON
// object for scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/verihub/verihub/hub/auth"
)

var errUsage = errors.New("usage")

// The load tool shares the machine with the hub and its latencies count against
// the hub, so it should not pause for itself: at Go's default GC percent its own
// collections (a small heap, collected several times a second) put tens of
// milliseconds on the p99 it reported. A GOGC or GOMEMLIMIT in the environment
// takes precedence.
const (
	defaultGCPercent   = 1000
	defaultMemoryLimit = 2 << 30
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "hubbench: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// options are the flags of every mode.
type options struct {
	url, key, targets, tokenURL string
	rate                        float64
	duration, timeout, drain    time.Duration
	concurrency, size, limit    int
	program, region             string
	year                        int
	seed                        uint64
	quiet                       bool
}

const usageText = `usage: hubbench verify|batch|screen|sign [flags]

  verify  POST /v1/verifications at --rate for --duration (--concurrency caps in-flight)
  batch   POST /v1/verifications:batch of --size items at --rate batches/s
  screen  GET /v1/programs/{--program}/candidates pages until the last one
  sign    ES256 signatures in-process with hub/signing for --duration
  client-key --client-id ID --out FILE
          write an ES256 client key pair (FILE private with client_id, FILE.pub public)

Only loopback URLs are accepted.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, usageText)
		return fmt.Errorf("%w: no mode", errUsage)
	}
	mode := args[0]
	if mode == "client-key" {
		return runClientKey(args[1:], stderr)
	}
	switch mode {
	case "verify", "batch", "screen", "sign":
	default:
		fmt.Fprintln(stderr, usageText)
		return fmt.Errorf("%w: unknown mode %q", errUsage, mode)
	}
	var o options
	fs := flag.NewFlagSet("hubbench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "", "hub base URL (loopback only), e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.key, "key", "", "portal private JWK with a client_id member (hub demo writes DATA/demo/portal.jwk)")
	fs.StringVar(&o.tokenURL, "token-url", "", "token endpoint as the hub's auth.token_url names it (default URL/oauth/token)")
	fs.StringVar(&o.targets, "targets", "", "expected.ndjson from hub gen, to draw requests from")
	fs.StringVar(&o.program, "program", "", "verify/batch: only this program's targets; screen: the program to screen")
	fs.Float64Var(&o.rate, "rate", 100, "arrivals per second (verify: requests, batch: batches)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send (sign: how long to sign)")
	fs.IntVar(&o.concurrency, "concurrency", 256, "most requests in flight (sign: signing goroutines; 0 = GOMAXPROCS)")
	fs.IntVar(&o.size, "size", 100, "batch: items per batch (1 to 1000)")
	fs.IntVar(&o.year, "year", 0, "screen: the year param")
	fs.StringVar(&o.region, "region", "", "screen: region code prefix")
	fs.IntVar(&o.limit, "limit", 1000, "screen: candidates per page (1 to 1000)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.DurationVar(&o.drain, "drain", 30*time.Second, "how long to wait for in-flight requests after the last is sent")
	fs.Uint64Var(&o.seed, "seed", 1, "shuffle seed for the targets")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the JSON line")
	cpuProfile := fs.String("cpuprofile", "", "write the load tool's own CPU profile to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	if o.concurrency == 0 {
		o.concurrency = runtime.GOMAXPROCS(0)
	}
	if err := o.validate(mode); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if mode == "sign" {
		s, err := runSign(ctx, o)
		if err != nil {
			return err
		}
		return s.print(stdout, o.quiet)
	}

	base, err := checkLoopbackURL(o.url)
	if err != nil {
		return err
	}
	if o.tokenURL == "" {
		o.tokenURL = base.JoinPath("oauth", "token").String()
	}
	if _, err := checkLoopbackURL(o.tokenURL); err != nil {
		return err
	}
	key, clientID, err := readKey(o.key)
	if err != nil {
		return err
	}
	hc := loopbackClient(o.timeout)
	defer hc.CloseIdleConnections()
	fc := loadClient(o.concurrency, o.timeout)
	defer fc.CloseIdleConnections()
	c := &caller{fc: fc, base: base, timeout: o.timeout, tok: &auth.TokenSource{HTTP: hc, URL: o.tokenURL, Key: key, ClientID: clientID}}
	// A first token before the clock starts: the token endpoint is not under test.
	if _, err := c.tok.Token(ctx); err != nil {
		return fmt.Errorf("getting an access token for %s: %w", clientID, err)
	}

	var s Summary
	switch mode {
	case "verify", "batch":
		program := o.program
		targets, err := readTargets(o.targets, program, o.seed)
		if err != nil {
			return err
		}
		if mode == "verify" {
			s = runVerify(ctx, c, o, targets)
		} else {
			s = runBatch(ctx, c, o, targets)
		}
	case "screen":
		var err error
		if s, err = runScreen(ctx, c, o); err != nil {
			if s.Mode != "" {
				_ = s.print(stdout, o.quiet)
			}
			return err
		}
	}
	return s.print(stdout, o.quiet)
}

func (o options) validate(mode string) error {
	switch {
	case o.duration <= 0:
		return errors.New("--duration must be positive")
	case o.concurrency < 1:
		return errors.New("--concurrency must be at least 1")
	}
	if mode == "sign" {
		return nil
	}
	switch {
	case o.url == "":
		return errors.New("--url is required")
	case o.key == "":
		return errors.New("--key is required")
	case o.timeout <= 0 || o.drain < 0:
		return errors.New("--timeout must be positive and --drain not negative")
	}
	switch mode {
	case "verify", "batch":
		if o.targets == "" {
			return errors.New("--targets is required")
		}
		if o.rate <= 0 || o.rate > 1e6 {
			return errors.New("--rate must be in (0, 1e6]")
		}
		if o.rate*o.duration.Seconds() < 1 {
			return errors.New("--rate × --duration schedules no request")
		}
		if mode == "batch" && (o.size < 1 || o.size > 1000) {
			return errors.New("--size must be 1 to 1000")
		}
	case "screen":
		if o.program == "" {
			return errors.New("--program is required")
		}
		if o.limit < 1 || o.limit > 1000 {
			return errors.New("--limit must be 1 to 1000")
		}
	}
	return nil
}
