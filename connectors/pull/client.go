package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/verihub/verihub/contracts"
)

// RecordsPath is the pull API's path below an agency's base URL.
const RecordsPath = "/api/v1/records"

// ClientConfig configures a Client. Zero fields take the defaults shown.
type ClientConfig struct {
	// BaseURL is the agency's API root, e.g. "https://si.example.gov.cn".
	BaseURL string
	// Token returns the bearer token; Connect calls it, so a rotated token file is
	// picked up on the next connect.
	Token func() (string, error)
	// Timeout bounds one HTTP attempt including reading the body (default 30s).
	Timeout time.Duration
	// RetryMax is how many times a request is retried after the first attempt
	// (default 5; negative means none).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff with jitter
	// (defaults 200ms and 30s).
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter caps a server's Retry-After (default 5m), so that a confused
	// agency cannot park the connector for a day.
	MaxRetryAfter time.Duration
	// RateLimit is the most requests per second sent to the agency, retries included
	// (0 = unlimited); RateBurst is the bucket size (default 1).
	RateLimit float64
	RateBurst int
	// MaxPageBytes bounds one response body (default 64 MiB).
	MaxPageBytes int64
	// Transport is the underlying round tripper (default: a clone of
	// http.DefaultTransport owned by the client).
	Transport http.RoundTripper
	// OnRetry, when set, is called when a request will be retried, before the backoff,
	// with the retry number (1, 2, …) and the fault that caused it. It must not block.
	OnRetry func(retry int, reason error)
	// Logger receives debug lines about retries (default: discard).
	Logger *slog.Logger
}

// Client fetches pages from one agency's pull API with retries, backoff, Retry-After,
// a per-request timeout and a rate limit. It is safe for concurrent use.
type Client struct {
	cfg   ClientConfig
	base  *url.URL
	rc    *retryablehttp.Client
	owned *http.Transport // closed by Close when the client made it

	mu    sync.RWMutex
	token string
}

// NewClient checks cfg and returns a client. It does not touch the network.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 5
	} else if cfg.RetryMax < 0 {
		cfg.RetryMax = 0
	}
	if cfg.RetryWaitMin <= 0 {
		cfg.RetryWaitMin = 200 * time.Millisecond
	}
	if cfg.RetryWaitMax <= 0 {
		cfg.RetryWaitMax = 30 * time.Second
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = cfg.RetryWaitMin
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 5 * time.Minute
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 1
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Token == nil {
		return nil, errors.New("pull client: no token source")
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("pull client: base url %q: want http(s)://host[:port][/path]", cfg.BaseURL)
	}
	c := &Client{cfg: cfg, base: base}
	tr := cfg.Transport
	if tr == nil {
		c.owned = http.DefaultTransport.(*http.Transport).Clone()
		tr = c.owned
	}
	if cfg.RateLimit > 0 {
		tr = &limitedTransport{next: tr, lim: rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.RateBurst)}
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: tr, Timeout: cfg.Timeout},
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: giveUp,
	}
	return c, nil
}

// Connect reads the token.
func (c *Client) Connect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tok, err := c.cfg.Token()
	if err != nil {
		return fmt.Errorf("reading token for %s: %w", c.base.Host, err)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return fmt.Errorf("reading token for %s: empty token", c.base.Host)
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	return nil
}

// Close drops idle connections.
func (c *Client) Close() error {
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
	c.rc.HTTPClient.CloseIdleConnections()
	return nil
}

// fetchState carries per-call retry bookkeeping through the request context, so that
// concurrent fetches on one client do not mix their reasons.
type fetchState struct {
	failures int
}

type fetchStateKey struct{}

// Fetch reads one page; see Source for the promises.
func (c *Client) Fetch(ctx context.Context, recordType, cursor string, limit int) (Page, error) {
	c.mu.RLock()
	tok := c.token
	c.mu.RUnlock()
	if tok == "" {
		return Page{}, fmt.Errorf("fetching %s from %s: not connected", recordType, c.base.Host)
	}
	q := url.Values{"type": {recordType}, "limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("since", cursor)
	}
	u := *c.base
	u.Path += RecordsPath
	u.RawQuery = q.Encode()

	st := &fetchState{}
	ctx = context.WithValue(ctx, fetchStateKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Page{}, fmt.Errorf("fetching %s from %s: %w", recordType, c.base.Host, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")

	var page Page
	req.SetResponseHandler(func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return statusError(resp)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxPageBytes+1))
		if err != nil {
			return fmt.Errorf("reading page body: %w", err)
		}
		if int64(len(body)) > c.cfg.MaxPageBytes {
			return &permanentError{err: fmt.Errorf("page body over %d bytes", c.cfg.MaxPageBytes)}
		}
		p, err := DecodePage(body)
		if err != nil {
			return err
		}
		page = p
		return nil
	})
	resp, err := c.rc.Do(req)
	if err != nil {
		return Page{}, fmt.Errorf("fetching %s since %q from %s: %w", recordType, cursor, c.base.Host, err)
	}
	resp.Body.Close()
	if page.Next == "" {
		page.Next = cursor
	}
	return page, nil
}

// DecodePage parses a pull API response body. Unknown top-level members are ignored
// (agencies may add paging hints); records must be a JSON array of objects.
func DecodePage(body []byte) (Page, error) {
	var wire struct {
		Records   []json.RawMessage `json:"records"`
		Next      string            `json:"next"`
		HasMore   bool              `json:"has_more"`
		Remaining *int64            `json:"remaining"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&wire); err != nil {
		return Page{}, fmt.Errorf("decoding page: %w", err)
	}
	if dec.More() {
		return Page{}, errors.New("decoding page: trailing data after the page object")
	}
	for i, r := range wire.Records {
		if len(r) == 0 || r[0] != '{' {
			return Page{}, fmt.Errorf("decoding page: record %d is not a JSON object", i)
		}
	}
	if wire.HasMore && wire.Next == "" {
		return Page{}, errors.New("decoding page: has_more without a next cursor")
	}
	p := Page{Records: wire.Records, Next: wire.Next, HasMore: wire.HasMore, Remaining: -1}
	if wire.Remaining != nil && *wire.Remaining >= 0 {
		p.Remaining = *wire.Remaining
	}
	return p, nil
}

// permanentError is a fault that retrying cannot cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err is a fault that retrying the same request cannot
// cure (refused credentials, a request the agency called malformed).
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

func statusError(resp *http.Response) error {
	var detail struct {
		Code  string `json:"code"`
		Title string `json:"title"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_ = json.Unmarshal(b, &detail)
	msg := fmt.Sprintf("agency answered %s", resp.Status)
	if detail.Code != "" {
		msg += " (" + detail.Code + ")"
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return &permanentError{err: fmt.Errorf("%s: %w", msg, contracts.ErrUnauthorized)}
	case http.StatusForbidden:
		return &permanentError{err: fmt.Errorf("%s: %w", msg, contracts.ErrForbidden)}
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
		return &permanentError{err: fmt.Errorf("%s: %w", msg, contracts.ErrInvalidRecord)}
	}
	return &permanentError{err: errors.New(msg)}
}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if IsPermanent(err) {
		return false, err
	}
	fault := err
	if fault == nil {
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return false, nil
		}
		fault = fmt.Errorf("agency answered %s: %w", resp.Status, contracts.ErrUnavailable)
	}
	// Each attempt yields at most one "retry" verdict; the client retries while the
	// failures are within RetryMax, so that is when a retry is announced (before its
	// backoff, so that the degraded state shows during the wait).
	if st, ok := ctx.Value(fetchStateKey{}).(*fetchState); ok {
		st.failures++
		if st.failures <= c.cfg.RetryMax {
			c.cfg.Logger.Debug("retrying pull request", "host", c.base.Host, "retry", st.failures, "reason", fault)
			if c.cfg.OnRetry != nil {
				c.cfg.OnRetry(st.failures, fault)
			}
		}
	}
	return true, fault
}

// backoff is exponential with full jitter in [min, min·2^attempt] capped at max, except
// that a Retry-After on a 429 or 5xx answer is honoured (capped at MaxRetryAfter).
func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, c.cfg.MaxRetryAfter)
		}
	}
	return JitterBackoff(minWait, maxWait, attempt)
}

// JitterBackoff returns a random wait in [minWait, min(maxWait, minWait·2^attempt)].
func JitterBackoff(minWait, maxWait time.Duration, attempt int) time.Duration {
	hi := maxWait
	if attempt < 40 {
		if d := minWait << attempt; d > 0 && d < maxWait {
			hi = d
		}
	}
	if hi <= minWait {
		return minWait
	}
	return minWait + rand.N(hi-minWait+1)
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 1<<31 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// giveUp closes the last response and reports how many attempts were made.
func giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if resp != nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
	}
	if err == nil {
		err = errors.New("no usable answer")
	}
	if IsPermanent(err) {
		return nil, err
	}
	return nil, fmt.Errorf("giving up after %d attempts: %w", attempts, err)
}

// limitedTransport waits for the rate limiter before every attempt.
type limitedTransport struct {
	next http.RoundTripper
	lim  *rate.Limiter
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.lim.Wait(req.Context()); err != nil {
		return nil, err
	}
	return t.next.RoundTrip(req)
}

func (t *limitedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// typed is a Source over a Client restricted to a fixed list of record types.
type typed struct {
	*Client
	types []string
}

// NewSource returns a Source that pulls the given record types through c.
func NewSource(c *Client, types []string) Source {
	return &typed{Client: c, types: append([]string(nil), types...)}
}

func (s *typed) Types() []string { return append([]string(nil), s.types...) }

func (s *typed) Fetch(ctx context.Context, recordType, cursor string, limit int) (Page, error) {
	for _, t := range s.types {
		if t == recordType {
			return s.Client.Fetch(ctx, recordType, cursor, limit)
		}
	}
	return Page{}, &permanentError{err: fmt.Errorf("fetching %s from %s: not a type this source pulls", recordType, s.base.Host)}
}
