package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/connectors/push"
	"github.com/verihub/verihub/hub/auth"
)

// maxRejectLines is how many rejects hub push prints.
const maxRejectLines = 20

// runPush pushes an NDJSON file to the hub's feed of one agency as signed batches.
func runPush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agency := fs.String("agency", "", "feed to push to: si, tax, cert, env, credit or grant")
	keyFile := fs.String("key", "", "private JWK file of the pushing client (its client_id member names the client)")
	hubURL := fs.String("url", "", "hub base URL, e.g. http://127.0.0.1:8080")
	batch := fs.Int("batch", push.DefaultMaxRecords, "records per batch")
	clientID := fs.String("client", "", "client id (default: the key's client_id member)")
	concurrency := fs.Int("concurrency", 2, "batches in flight at once")
	retries := fs.Int("retries", 8, "retries per batch after a transport failure, 5xx or 429")
	verbose := fs.Bool("v", false, "log each retry and batch to stderr")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	const synopsis = "hub push --agency NAME --key JWK_FILE --url HUB_URL [--batch 1000] [--client ID] [--concurrency 2] FILE.ndjson|-"
	if *agency == "" || *keyFile == "" || *hubURL == "" || fs.NArg() != 1 {
		return fmt.Errorf("%w: %s", errUsage, synopsis)
	}
	if *batch < 1 || *batch > push.DefaultMaxRecords || *concurrency < 1 || *concurrency > 32 || *retries < 0 {
		return fmt.Errorf("%w: --batch must be 1..%d, --concurrency 1..32, --retries ≥ 0", errUsage, push.DefaultMaxRecords)
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("reading key: %w", err)
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return fmt.Errorf("reading key %q: %w", *keyFile, err)
	}
	id := *clientID
	if id == "" {
		id = auth.ClientIDOf(key)
	}
	if id == "" {
		return fmt.Errorf("%w: key %q has no client_id member; pass --client", errUsage, *keyFile)
	}
	var in io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("opening %w", err)
		}
		defer f.Close()
		in = f
	}

	base := strings.TrimRight(*hubURL, "/")
	hc := &http.Client{Timeout: 30 * time.Second}
	tokens := &auth.TokenSource{HTTP: hc, URL: base + "/oauth/token", Key: key, ClientID: id, Scope: auth.ScopePush(*agency)}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	retryMax := *retries
	if retryMax == 0 {
		retryMax = -1
	}
	c, err := push.NewClient(push.ClientConfig{
		HubURL: base, Agency: *agency, Key: key, Token: tokens.Token,
		BatchSize: *batch, Concurrency: *concurrency, RetryMax: retryMax, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer c.Close()
	// A refused token fails here, before any file is read.
	if _, err := tokens.Token(ctx); err != nil {
		return err
	}
	rep, err := c.Push(ctx, in)
	printReport(stdout, rep)
	if rep.Replayed > 0 {
		fmt.Fprintf(stderr, "%d of the batches were pushed before: the hub answered them from their receipts\n", rep.Replayed)
	}
	return err
}

func printReport(w io.Writer, rep push.Report) {
	fmt.Fprintf(w, "accepted %d rejected %d batches %d\n", rep.Accepted, rep.Rejected, rep.Batches)
	for i, r := range rep.Rejects {
		if i == maxRejectLines {
			fmt.Fprintf(w, "… and %d more\n", len(rep.Rejects)-maxRejectLines)
			break
		}
		field := r.Field
		if field == "" {
			field = "-"
		}
		fmt.Fprintf(w, "line %d %s %s %s\n", r.Line, r.Code, field, r.Message)
	}
}
