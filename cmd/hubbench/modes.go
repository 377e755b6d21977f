package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/signing"
)

// caller sends authenticated requests to the hub and classifies the answers.
type caller struct {
	fc      *fasthttp.Client
	base    *url.URL
	tok     *auth.TokenSource
	timeout time.Duration // per request, cut shorter by the ctx's deadline
}

// call sends one request and returns the error kind for the table: "status <code>
// <problem code>" for an HTTP refusal, "transport" for a connection failure,
// "timeout" when the client gave up. The body of a 2xx answer goes to use, which
// must not keep it, and use's result is the kind.
func (c *caller) call(ctx context.Context, method, path string, query url.Values, body []byte, use func([]byte) string) string {
	tok, err := c.tok.Token(ctx)
	if err != nil {
		return "token"
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if ctx.Err() != nil {
		return "timeout"
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + path
	u.RawQuery = query.Encode()
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI(u.String())
	req.Header.SetMethod(method)
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if err := c.fc.DoDeadline(req, res, deadline); err != nil {
		var ne interface{ Timeout() bool }
		if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) || (errors.As(err, &ne) && ne.Timeout()) {
			return "timeout"
		}
		return "transport"
	}
	if code := res.StatusCode(); code/100 != 2 {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(res.Body(), &p)
		return strings.TrimSpace(fmt.Sprintf("status %d %s", code, p.Code))
	}
	return use(res.Body())
}

// runVerify sends single verifications at a fixed rate and counts answers whose
// decision differs from the generator's.
func runVerify(ctx context.Context, c *caller, o options, targets []target) Summary {
	var mismatches atomic.Int64
	samples, elapsed, unsent := openLoop(ctx, o.rate, o.duration, o.concurrency, o.drain, func(ctx context.Context, i int) outcome {
		t := targets[i%len(targets)]
		kind := c.call(ctx, http.MethodPost, "/v1/verifications", nil, t.body, func(body []byte) string {
			decision, ok := decisionOf(body)
			if !ok {
				return "undecodable"
			}
			if decision != t.decision {
				mismatches.Add(1)
			}
			return ""
		})
		if kind != "" {
			return outcome{err: kind}
		}
		return outcome{items: 1}
	})
	s := summarise("verify", o.rate, o.concurrency, samples, elapsed, unsent)
	s.Extra = map[string]any{"decision_mismatches": mismatches.Load()}
	return s
}

// decisionOf reads the decision of a verification answer. The load tool shares the
// machine with the hub, so it finds the member instead of decoding the whole answer
// (a few kilobytes, most of it the token); an answer without it is decoded.
func decisionOf(body []byte) (string, bool) {
	const key = `"decision":"`
	if i := bytes.Index(body, []byte(key)); i >= 0 {
		rest := body[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 && bytes.IndexByte(rest[:j], '\\') < 0 {
			return string(rest[:j]), true
		}
	}
	var r struct {
		Decision *string `json:"decision"`
	}
	if json.Unmarshal(body, &r) != nil || r.Decision == nil {
		return "", false
	}
	return *r.Decision, true
}

// runBatch sends batches of size items at a fixed rate of batches per second.
func runBatch(ctx context.Context, c *caller, o options, targets []target) Summary {
	var itemErrors atomic.Int64
	samples, elapsed, unsent := openLoop(ctx, o.rate, o.duration, o.concurrency, o.drain, func(ctx context.Context, i int) outcome {
		req := append(make([]byte, 0, o.size*160), `{"items":[`...)
		for j := range o.size {
			if j > 0 {
				req = append(req, ',')
			}
			req = append(req, targets[(i*o.size+j)%len(targets)].body...)
		}
		req = append(req, "]}"...)
		kind := c.call(ctx, http.MethodPost, "/v1/verifications:batch", nil, req, func(body []byte) string {
			results, problems, ok := batchOutcome(body)
			if !ok || results != o.size {
				return "undecodable"
			}
			itemErrors.Add(int64(problems))
			return ""
		})
		if kind != "" {
			return outcome{err: kind}
		}
		return outcome{items: o.size}
	})
	s := summarise("batch", o.rate, o.concurrency, samples, elapsed, unsent)
	s.Extra = map[string]any{"batch_size": o.size, "item_problems": itemErrors.Load()}
	return s
}

// batchOutcome counts a batch answer's results and the items among them that got a
// problem. An answer is megabytes, mostly tokens, and the load tool shares the
// machine with the hub, so it walks the answer's structure once (strings skipped,
// nesting counted) and reads only the first member name of each result: the hub
// writes a result as an object beginning with "token" or "error" (TestBatchOutcome
// holds this to hub/api's types). An answer of any other shape is decoded.
func batchOutcome(body []byte) (results, problems int, ok bool) {
	body = bytes.TrimSpace(body)
	const head, tail = `{"results":[`, "]}"
	if !bytes.HasPrefix(body, []byte(head)) || !bytes.HasSuffix(body, []byte(tail)) {
		return decodeBatch(body)
	}
	depth := 0 // 0: between the results
	for i := len(head); i < len(body)-len(tail); i++ {
		switch c := body[i]; c {
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth == 0 {
				switch {
				case bytes.HasPrefix(body[i:], []byte(`{"token":`)):
				case bytes.HasPrefix(body[i:], []byte(`{"error":`)):
					problems++
				default:
					return decodeBatch(body)
				}
				results++
			}
			depth++
		case '}', ']':
			if depth--; depth < 0 {
				return decodeBatch(body)
			}
		}
	}
	if depth != 0 {
		return decodeBatch(body)
	}
	return results, problems, true
}

// decodeBatch decodes a batch answer to count its results and problems.
func decodeBatch(body []byte) (results, problems int, ok bool) {
	var r struct {
		Results []struct {
			Error *struct{} `json:"error"`
		} `json:"results"`
	}
	if json.Unmarshal(body, &r) != nil {
		return 0, 0, false
	}
	for _, x := range r.Results {
		if x.Error != nil {
			problems++
		}
	}
	return len(r.Results), problems, true
}

// runScreen pages through a program's candidates until the last page, one page at a
// time, and reports the total time; the first page includes the screening itself
// unless the hub has it cached.
func runScreen(ctx context.Context, c *caller, o options) (Summary, error) {
	q := url.Values{"limit": {fmt.Sprint(o.limit)}}
	if o.year != 0 {
		q.Set("year", fmt.Sprint(o.year))
	}
	if o.region != "" {
		q.Set("region", o.region)
	}
	path := "/v1/programs/" + url.PathEscape(o.program) + "/candidates"
	var lat []time.Duration
	errs := map[string]int{}
	candidates, total := 0, -1
	start := time.Now()
	for {
		t0 := time.Now()
		var page struct {
			Total      int               `json:"total"`
			Next       string            `json:"next"`
			Candidates []json.RawMessage `json:"candidates"`
		}
		var decodeErr error
		kind := c.call(ctx, http.MethodGet, path, q, nil, func(body []byte) string {
			if decodeErr = json.Unmarshal(body, &page); decodeErr != nil {
				return "undecodable"
			}
			return ""
		})
		lat = append(lat, time.Since(t0))
		if decodeErr != nil {
			return Summary{}, fmt.Errorf("screening %s: decoding a page: %w", o.program, decodeErr)
		}
		if kind != "" {
			errs[kind]++
			return Summary{Mode: "screen", Requests: len(lat), Errors: errs, Latency: latenciesOf(lat),
				DurationS: round3(time.Since(start).Seconds())}, fmt.Errorf("screening %s: %s", o.program, kind)
		}
		candidates += len(page.Candidates)
		total = page.Total
		if page.Next == "" || ctx.Err() != nil {
			break
		}
		q.Set("cursor", page.Next)
	}
	elapsed := time.Since(start)
	s := Summary{Mode: "screen", DurationS: round3(elapsed.Seconds()), Requests: len(lat), OK: len(lat), Errors: errs,
		Rate: round3(float64(len(lat)) / elapsed.Seconds()), Latency: latenciesOf(lat)}
	s.Extra = map[string]any{"program": o.program, "candidates": candidates, "total": total,
		"first_page_ms": ms(lat[0]), "candidates_per_s": round3(float64(candidates) / elapsed.Seconds())}
	if candidates != total {
		return s, fmt.Errorf("screening %s: paged %d candidates, the hub reports %d", o.program, candidates, total)
	}
	return s, nil
}

// runSign signs result claims with hub/signing in-process for the run's duration on
// concurrency goroutines: the ceiling the signature puts on verification throughput.
func runSign(ctx context.Context, o options) (Summary, error) {
	dir, err := os.MkdirTemp("", "hubbench-keys-")
	if err != nil {
		return Summary{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := signing.Generate(filepath.Join(dir, "keys"), 0); err != nil {
		return Summary{}, err
	}
	s, err := signing.NewSigner(signing.Config{Dir: filepath.Join(dir, "keys"), Issuer: "https://hub.bench"}, nil)
	if err != nil {
		return Summary{}, err
	}
	claims := contracts.ResultClaims{Audience: "portal", Subject: "uscc:91350100M000100Y43", Program: "jrr-2021",
		Params: map[string]any{"year": 2021}, Decision: contracts.DecisionEligible, AmountFen: 1234500,
		Checks: []contracts.CheckResult{{ID: "in_force", Result: contracts.CheckPass, Detail: "2021 is within the program"}}}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var signErr error
	var wg sync.WaitGroup
	start := time.Now()
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<16)
			for ctx.Err() == nil {
				t0 := time.Now()
				if _, err := s.Sign(claims); err != nil {
					mu.Lock()
					signErr = err
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if signErr != nil {
		return Summary{}, signErr
	}
	sum := Summary{Mode: "sign", DurationS: round3(elapsed.Seconds()), Concurrency: o.concurrency, Requests: len(lat), OK: len(lat),
		Errors: map[string]int{}, Rate: round3(float64(len(lat)) / elapsed.Seconds()), Latency: latenciesOf(lat)}
	sum.Extra = map[string]any{"gomaxprocs": runtime.GOMAXPROCS(0)}
	return sum, nil
}
