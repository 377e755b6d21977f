package push

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"golang.org/x/sync/errgroup"

	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/contracts"
)

// FeedPath is the hub's push endpoint below its base URL; the agency name follows.
const FeedPath = "/v1/feeds/"

// ReplayHeader is set to "true" on a receipt the hub answered from an earlier push
// of the same batch id.
const ReplayHeader = "Idempotent-Replay"

// Receipt is the hub's answer to a pushed batch (202).
type Receipt struct {
	BatchID  string         `json:"batch_id"`
	Accepted int            `json:"accepted"`
	Rejected []RecordReject `json:"rejected"`
}

// RecordReject is one refused record of a batch: its index in the batch and why.
type RecordReject struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ClientConfig configures a Client. Zero fields take the defaults shown.
type ClientConfig struct {
	// HubURL is the hub's base URL, e.g. "https://hub.example.gov.cn".
	HubURL string
	// Agency is the feed pushed to (si, tax, cert, env, credit, grant).
	Agency string
	// Key is the private key batches are signed with; the hub must have its public
	// half registered for the client the token belongs to.
	Key jwk.Key
	// Token returns the bearer access token. It is called before every attempt, so
	// it should cache and renew ahead of expiry. Required.
	Token func(ctx context.Context) (string, error)
	// BatchSize is the most records per batch (default 1000, the hub's default limit).
	BatchSize int
	// MaxBatchBytes closes a batch early once its records reach this many bytes
	// (default 8 MiB), keeping requests under the hub's body limit.
	MaxBatchBytes int
	// Concurrency is how many batches are in flight at once (default 2).
	Concurrency int
	// Timeout bounds one attempt (default 60s).
	Timeout time.Duration
	// RetryMax is how many times a batch is retried after its first attempt
	// (default 8; negative means none). RetryWaitMin and RetryWaitMax bound the
	// exponential backoff with jitter (defaults 500ms and 30s); a Retry-After on a
	// 429 or 5xx is honoured up to MaxRetryAfter (default 5m).
	RetryMax                   int
	RetryWaitMin, RetryWaitMax time.Duration
	MaxRetryAfter              time.Duration
	// Transport is the underlying round tripper (default: a clone of
	// http.DefaultTransport owned by the client).
	Transport http.RoundTripper
	// Logger receives a line per retry and per batch (default: discard).
	Logger *slog.Logger
}

// Report is the outcome of a push. After an error it covers the batches the hub
// acknowledged before it.
type Report struct {
	// Lines is the number of non-blank lines read.
	Lines int
	// Accepted and Rejected count records; Rejected includes lines refused before
	// sending (not JSON, or over contracts.MaxRecordBytes).
	Accepted, Rejected int
	// Batches is the number of batches the hub acknowledged; Replayed of them it
	// answered from an earlier push of the same batch id.
	Batches, Replayed int
	// Rejects lists every refused record by line, in line order.
	Rejects []LineReject
}

// LineReject is a refused record located in the pushed file.
type LineReject struct {
	Line    int    // 1-based line number in the file
	BatchID string // empty when refused before sending
	Code    string
	Field   string
	Message string
}

// HubError is a refusal of a batch by the hub that retrying will not cure (4xx other
// than 429), with the problem code it gave.
type HubError struct {
	Status  int
	Code    string
	Detail  string
	BatchID string
}

func (e *HubError) Error() string {
	return fmt.Sprintf("hub refused batch %s (%d %s): %s", e.BatchID, e.Status, e.Code, e.Detail)
}

// Client pushes NDJSON files to one agency's feed. It is safe for concurrent use;
// each Push is independent.
type Client struct {
	cfg   ClientConfig
	url   string
	rc    *retryablehttp.Client
	owned *http.Transport
}

// NewClient checks cfg and returns a client. It does not touch the network.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultMaxRecords
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 8 << 20
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 8
	} else if cfg.RetryMax < 0 {
		cfg.RetryMax = 0
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = 500 * time.Millisecond
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = max(30*time.Second, cfg.RetryWaitMin)
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !slices.Contains(contracts.Agencies, cfg.Agency) {
		return nil, fmt.Errorf("push client: agency %q is not one of %s", cfg.Agency, strings.Join(contracts.Agencies, ", "))
	}
	if cfg.Key == nil {
		return nil, errors.New("push client: no signing key")
	}
	if priv, err := jwk.IsPrivateKey(cfg.Key); err != nil || !priv {
		return nil, errors.New("push client: the signing key is not a private key")
	}
	if _, err := algorithmFor(cfg.Key); err != nil {
		return nil, fmt.Errorf("push client: signing key: %w", err)
	}
	if cfg.Token == nil {
		return nil, errors.New("push client: no token source")
	}
	base, err := url.Parse(strings.TrimRight(cfg.HubURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("push client: hub url %q: want http(s)://host[:port][/path]", cfg.HubURL)
	}
	c := &Client{cfg: cfg, url: base.String() + FeedPath + cfg.Agency}
	tr := cfg.Transport
	if tr == nil {
		c.owned = http.DefaultTransport.(*http.Transport).Clone()
		tr = c.owned
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: tr, Timeout: cfg.Timeout},
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: giveUp,
		PrepareRetry: c.prepareRetry,
	}
	return c, nil
}

// Close drops idle connections.
func (c *Client) Close() {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
	c.rc.HTTPClient.CloseIdleConnections()
}

// job is one batch on its way, with the file line of each record.
type job struct {
	index int
	batch Batch
	lines []int
}

// Push reads NDJSON from r (one envelope per line; blank lines skipped), cuts it into
// batches and pushes them, Concurrency at a time. It stops at the first batch it
// cannot deliver — after retries, or refused as a whole by the hub — and returns the
// error with the report so far; re-running the same file is safe and re-sends the
// same batch ids, which the hub answers from its receipts.
//
// Batch ids are derived from the content: the i-th batch's id is a SHA-256 over
// every record sent up to and including that batch, then "-i". The same file with the
// same BatchSize yields the same ids; a file with lines appended keeps the ids of its
// earlier batches; a change anywhere gives that batch and the later ones new ids.
func (c *Client) Push(ctx context.Context, r io.Reader) (Report, error) {
	var (
		mu  sync.Mutex
		rep Report
	)
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan job, c.cfg.Concurrency)
	g.Go(func() error {
		defer close(jobs)
		lines, local, err := c.cut(gctx, r, jobs)
		mu.Lock()
		rep.Lines += lines
		rep.Rejected += len(local)
		rep.Rejects = append(rep.Rejects, local...)
		mu.Unlock()
		return err
	})
	for range c.cfg.Concurrency {
		g.Go(func() error {
			for j := range jobs {
				rc, replay, err := c.send(gctx, j)
				if err != nil {
					return err
				}
				mu.Lock()
				rep.Batches++
				if replay {
					rep.Replayed++
				}
				rep.Accepted += rc.Accepted
				rep.Rejected += len(rc.Rejected)
				for _, rj := range rc.Rejected {
					line := 0
					if rj.Index >= 0 && rj.Index < len(j.lines) {
						line = j.lines[rj.Index]
					}
					rep.Rejects = append(rep.Rejects, LineReject{Line: line, BatchID: j.batch.BatchID, Code: rj.Code, Field: rj.Field, Message: rj.Message})
				}
				mu.Unlock()
			}
			return nil
		})
	}
	err := g.Wait()
	slices.SortStableFunc(rep.Rejects, func(a, b LineReject) int { return a.Line - b.Line })
	return rep, err
}

// cut reads lines into batches and sends them on jobs. It returns the number of
// non-blank lines and the lines refused locally.
func (c *Client) cut(ctx context.Context, r io.Reader, jobs chan<- job) (int, []LineReject, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	chain := sha256.New()
	var (
		n, lineNo, index, size int
		local                  []LineReject
		cur                    job
	)
	flush := func() error {
		if len(cur.batch.Records) == 0 {
			return nil
		}
		cur.index = index
		cur.batch.BatchID = hex.EncodeToString(chain.Sum(nil)[:16]) + "-" + strconv.Itoa(index)
		select {
		case jobs <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		index++
		cur, size = job{}, 0
		return nil
	}
	var lenBuf [8]byte
	for {
		line, tooLong, err := readLine(br, contracts.MaxRecordBytes)
		if err != nil && err != io.EOF {
			return n, local, fmt.Errorf("reading line %d: %w", lineNo+1, err)
		}
		if err == io.EOF && line == nil && !tooLong {
			break
		}
		lineNo++
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		line = bytes.TrimSpace(line)
		switch {
		case tooLong:
			n++
			local = append(local, LineReject{Line: lineNo, Code: contracts.CodeTooLarge,
				Message: fmt.Sprintf("the record is larger than %d bytes; not sent", contracts.MaxRecordBytes)})
		case len(line) == 0:
		case !json.Valid(line):
			n++
			local = append(local, LineReject{Line: lineNo, Code: contracts.CodeMalformedJSON, Message: "the line is not valid JSON; not sent"})
		default:
			n++
			if len(cur.batch.Records) > 0 && size+len(line) > c.cfg.MaxBatchBytes {
				if err := flush(); err != nil {
					return n, local, err
				}
			}
			rec := line
			binary.BigEndian.PutUint64(lenBuf[:], uint64(len(rec)))
			chain.Write(lenBuf[:])
			chain.Write(rec)
			cur.batch.Records = append(cur.batch.Records, rec)
			cur.lines = append(cur.lines, lineNo)
			size += len(rec)
			if len(cur.batch.Records) == c.cfg.BatchSize {
				if err := flush(); err != nil {
					return n, local, err
				}
			}
		}
		if err == io.EOF {
			break
		}
	}
	return n, local, flush()
}

// readLine returns the next line without its newline. A line longer than limit is
// skipped to its end and reported with tooLong (and a nil line). At the end of input
// it returns io.EOF, with the last line when that has no newline.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+2 { // room for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			line = bytes.TrimRight(line, "\r\n")
			if tooLong {
				line = nil
			}
			return line, tooLong, nil
		default:
			if tooLong {
				line = nil
			}
			return line, tooLong, err
		}
	}
}

// send signs and posts one batch with retries. It returns the receipt and whether
// the hub answered it from an earlier push.
func (c *Client) send(ctx context.Context, j job) (Receipt, bool, error) {
	body, err := Sign(c.cfg.Key, j.batch)
	if err != nil {
		return Receipt{}, false, err
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.url, body)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("pushing batch %s: %w", j.batch.BatchID, err)
	}
	req.Header.Set("Content-Type", MediaType)
	req.Header.Set("Accept", "application/json")
	if err := c.authorize(req.Request); err != nil {
		return Receipt{}, false, fmt.Errorf("pushing batch %s: %w", j.batch.BatchID, err)
	}
	var (
		rc     Receipt
		replay bool
	)
	req.SetResponseHandler(func(res *http.Response) error {
		if res.StatusCode != http.StatusAccepted && res.StatusCode != http.StatusOK {
			return hubError(res, j.batch.BatchID)
		}
		b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("reading receipt: %w", err)
		}
		if err := json.Unmarshal(b, &rc); err != nil {
			return &permanentError{fmt.Errorf("reading receipt: %w", err)}
		}
		if rc.BatchID != j.batch.BatchID {
			return &permanentError{fmt.Errorf("the receipt names batch %q", trunc(rc.BatchID))}
		}
		if rc.Accepted < 0 || rc.Accepted+len(rc.Rejected) != len(j.batch.Records) {
			return &permanentError{fmt.Errorf("the receipt counts %d accepted and %d rejected of %d records", rc.Accepted, len(rc.Rejected), len(j.batch.Records))}
		}
		replay = strings.EqualFold(res.Header.Get(ReplayHeader), "true")
		return nil
	})
	res, err := c.rc.Do(req)
	if err != nil {
		return Receipt{}, false, fmt.Errorf("pushing batch %s (%d records): %w", j.batch.BatchID, len(j.batch.Records), err)
	}
	res.Body.Close()
	c.cfg.Logger.Debug("batch pushed", "agency", c.cfg.Agency, "batch_id", j.batch.BatchID,
		"accepted", rc.Accepted, "rejected", len(rc.Rejected), "replay", replay)
	return rc, replay, nil
}

func (c *Client) authorize(req *http.Request) error {
	tok, err := c.cfg.Token(req.Context())
	if err != nil {
		return fmt.Errorf("getting an access token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// prepareRetry renews the bearer before a retry, in case the wait outlived it.
func (c *Client) prepareRetry(req *http.Request) error { return c.authorize(req) }

func hubError(res *http.Response, batchID string) error {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 16<<10))
	res.Body.Close()
	_ = json.Unmarshal(b, &p)
	if p.Code == "" {
		p.Code = "http_" + strconv.Itoa(res.StatusCode)
	}
	return &permanentError{&HubError{Status: res.StatusCode, Code: p.Code, Detail: p.Detail, BatchID: batchID}}
}

// permanentError is a fault retrying cannot cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func (c *Client) checkRetry(ctx context.Context, res *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return false, perm.err
	}
	fault := err
	if fault == nil {
		if res.StatusCode != http.StatusTooManyRequests && res.StatusCode < 500 {
			return false, nil
		}
		fault = fmt.Errorf("hub answered %s: %w", res.Status, contracts.ErrUnavailable)
	}
	c.cfg.Logger.Info("retrying push", "agency", c.cfg.Agency, "reason", fault)
	return true, fault
}

func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, res *http.Response) time.Duration {
	if res != nil && (res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500) {
		if d, ok := pull.ParseRetryAfter(res.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, c.cfg.MaxRetryAfter)
		}
	}
	return pull.JitterBackoff(minWait, maxWait, attempt)
}

// giveUp closes the last response and says how many attempts were made.
func giveUp(res *http.Response, err error, attempts int) (*http.Response, error) {
	if res != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		res.Body.Close()
	}
	if err == nil {
		err = errors.New("no usable answer")
	}
	var he *HubError
	if errors.As(err, &he) {
		return nil, err
	}
	return nil, fmt.Errorf("giving up after %d attempts: %w", attempts, err)
}
