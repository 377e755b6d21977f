package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/hub/api"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/boltstore"
	"github.com/verihub/verihub/matching/redisstore"
	"github.com/verihub/verihub/matching/rules"
	"github.com/verihub/verihub/matching/screening"
)

// runScreen lists the enterprises that qualify for a program (免申即享):
//
//	hub screen --program ID [--year Y] [--region PREFIX] [--format csv|ndjson]
//	           (--url HUB_URL --key JWK_FILE | --config FILE)
//
// With --url it asks a running hub (the export is audited there); with --config it
// reads the store directly (an embedded store only while no hub holds it).
func runScreen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("screen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	program := fs.String("program", "", "program id, e.g. jrr-2021")
	year := fs.Int("year", 0, "policy year (default: the program's)")
	region := fs.String("region", "", "region code prefix, e.g. 3205")
	format := fs.String("format", "csv", "csv or ndjson")
	hubURL := fs.String("url", "", "a running hub's URL")
	keyFile := fs.String("key", "", "client private JWK (with --url)")
	cfgPath := fs.String("config", "", "hub configuration (offline screening)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *program == "" || (*format != "csv" && *format != "ndjson") || (*hubURL == "") == (*cfgPath == "") {
		return fmt.Errorf("%w: hub screen --program ID [--year Y] [--region P] [--format csv|ndjson] (--url URL --key JWK | --config FILE)", errUsage)
	}
	bw := bufio.NewWriter(stdout)
	defer bw.Flush()
	emit, flush := candidateWriter(bw, *format)
	start := time.Now()
	var n int
	var err error
	skipped := func(subject string) {
		fmt.Fprintf(stderr, "hub screen: left out %s: evaluating it exceeds the rule engine's cost limit\n", subject)
	}
	if *hubURL != "" {
		n, err = screenRemote(ctx, *hubURL, *keyFile, *program, *year, *region, emit, skipped)
	} else {
		n, err = screenLocal(ctx, *cfgPath, *program, *year, *region, emit, skipped)
	}
	if err != nil {
		return err
	}
	flush()
	fmt.Fprintf(stderr, "%d candidates in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func candidateWriter(w io.Writer, format string) (func(api.Candidate) error, func()) {
	if format == "ndjson" {
		enc := json.NewEncoder(w)
		return func(c api.Candidate) error { return enc.Encode(c) }, func() {}
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"subject", "region", "decision", "amount_fen", "amount_yuan", "review_required"})
	return func(c api.Candidate) error {
		return cw.Write([]string{c.Subject, c.Region, c.Decision, strconv.FormatInt(c.AmountFen, 10),
			fmt.Sprintf("%d.%02d", c.AmountFen/100, c.AmountFen%100), strconv.FormatBool(c.ReviewRequired)})
	}, cw.Flush
}

func screenLocal(ctx context.Context, cfgPath, program string, year int, region string, emit func(api.Candidate) error,
	skipped func(subject string)) (int, error) {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return 0, err
	}
	var store matching.Store
	if cfg.Store.Kind == "redis" {
		rc := cfg.Store.Redis
		if cfg.Store.RedisPasswordEnv != "" {
			rc.Password = os.Getenv(cfg.Store.RedisPasswordEnv)
		}
		store, err = redisstore.Open(ctx, rc)
	} else {
		c := cfg.Store.Embedded
		c.LockTimeout = 2 * time.Second
		store, err = boltstore.Open(ctx, c)
	}
	if err != nil {
		return 0, fmt.Errorf("opening the store (is a hub running on it? then use --url): %w", err)
	}
	defer store.Close()
	eng, err := rules.Load(cfg.Rules)
	if err != nil {
		return 0, err
	}
	params := map[string]any{}
	if year != 0 {
		params["year"] = year
	}
	n := 0
	filter := screening.Filter{RegionPrefix: region, OnLimit: func(subject string, _ *rules.LimitError) { skipped(subject) }}
	err = screening.Screen(ctx, store, eng, program, params, filter, func(r rules.Result) error {
		n++
		region, _ := r.Facts["region_code"].(string)
		return emit(api.Candidate{Subject: r.Subject, Region: region, Decision: r.Decision, AmountFen: r.AmountFen, ReviewRequired: r.ReviewRequired})
	})
	return n, err
}

func screenRemote(ctx context.Context, hubURL, keyFile, program string, year int, region string, emit func(api.Candidate) error,
	skipped func(subject string)) (int, error) {
	if keyFile == "" {
		return 0, fmt.Errorf("%w: --url needs --key", errUsage)
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return 0, err
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", keyFile, err)
	}
	hubURL = strings.TrimRight(hubURL, "/")
	tr, err := auth.FetchToken(ctx, http.DefaultClient, hubURL+"/oauth/token", key, auth.ClientIDOf(key), "")
	if err != nil {
		return 0, err
	}
	n, cursor := 0, ""
	for {
		q := url.Values{"limit": {"1000"}}
		if year != 0 {
			q.Set("year", strconv.Itoa(year))
		}
		if region != "" {
			q.Set("region", region)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, hubURL+"/v1/programs/"+url.PathEscape(program)+"/candidates?"+q.Encode(), nil)
		if err != nil {
			return n, err
		}
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return n, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("screening: %s: %s", resp.Status, body)
		}
		var page struct {
			Candidates []api.Candidate `json:"candidates"`
			Next       string          `json:"next"`
			Skipped    []string        `json:"skipped"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return n, err
		}
		if cursor == "" { // every page lists the same skipped subjects
			for _, s := range page.Skipped {
				skipped(s)
			}
		}
		for _, c := range page.Candidates {
			if err := emit(c); err != nil {
				return n, err
			}
			n++
		}
		if page.Next == "" {
			return n, nil
		}
		cursor = page.Next
	}
}
