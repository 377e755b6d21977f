package pull

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2019, 1, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Sat, 05 Jan 2019 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 05 Jan 2019 11:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestJitterBackoff(t *testing.T) {
	tests := []struct {
		min, max time.Duration
		attempt  int
		hi       time.Duration
	}{
		{100 * time.Millisecond, 10 * time.Second, 0, 100 * time.Millisecond},
		{100 * time.Millisecond, 10 * time.Second, 1, 200 * time.Millisecond},
		{100 * time.Millisecond, 10 * time.Second, 3, 800 * time.Millisecond},
		{100 * time.Millisecond, 10 * time.Second, 20, 10 * time.Second},
		{100 * time.Millisecond, 10 * time.Second, 100, 10 * time.Second},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := JitterBackoff(tt.min, tt.max, tt.attempt)
			if d < tt.min || d > tt.hi {
				t.Fatalf("JitterBackoff(%s, %s, %d) = %s, want within [%s, %s]", tt.min, tt.max, tt.attempt, d, tt.min, tt.hi)
			}
			seen[d] = true
		}
		if tt.hi > tt.min && len(seen) < 10 {
			t.Errorf("JitterBackoff(%d): only %d distinct waits in 200, want jitter", tt.attempt, len(seen))
		}
	}
}

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Page
		wantErr bool
	}{
		{"page", `{"records":[{"type":"a"},{"type":"b"}],"next":"c2","has_more":true}`, Page{Next: "c2", HasMore: true, Remaining: -1}, false},
		{"end with remaining", `{"records":[],"next":"c9","has_more":false,"remaining":0}`, Page{Next: "c9", Remaining: 0}, false},
		{"extra members ignored", `{"records":[],"next":"c","has_more":false,"total":7}`, Page{Next: "c", Remaining: -1}, false},
		{"truncated", `{"records":[{"type":"a"},{"ty`, Page{}, true},
		{"not an object record", `{"records":[1],"next":"c","has_more":false}`, Page{}, true},
		{"has_more without next", `{"records":[],"has_more":true}`, Page{}, true},
		{"trailing data", `{"records":[],"next":"c"} {}`, Page{}, true},
		{"empty", ``, Page{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePage([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodePage error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Next != tt.want.Next || got.HasMore != tt.want.HasMore || got.Remaining != tt.want.Remaining {
				t.Errorf("DecodePage = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"records":[{"type":"a"}],"next":"c2","has_more":true,"remaining":3}`))
	f.Add([]byte(`{"records":[],"next":"","has_more":false}`))
	f.Add([]byte(`{"records":[{"type":"a"}],"ne`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			return
		}
		if p.HasMore && p.Next == "" {
			t.Errorf("accepted has_more without next")
		}
		for _, r := range p.Records {
			if len(r) == 0 || r[0] != '{' {
				t.Errorf("accepted a non-object record %q", r)
			}
		}
		if p.Remaining < -1 {
			t.Errorf("Remaining %d", p.Remaining)
		}
	})
}

// agency answers each request with the next of its scripted handlers.
func agency(t *testing.T, script ...http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request without the bearer token")
		}
		if r.URL.Path != RecordsPath || r.URL.Query().Get("type") != "si.employer" || r.URL.Query().Get("limit") != "10" {
			t.Errorf("request %s", r.URL)
		}
		script[min(i, len(script)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func ok(w http.ResponseWriter, _ *http.Request) {
	w.Write([]byte(`{"records":[{"type":"si.employer","id":"x"}],"next":"n1","has_more":false}`))
}

func status(code int, retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(code)
		w.Write([]byte(`{"code":"busy","title":"x"}`))
	}
}

func truncated(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "80")
	w.Write([]byte(`{"records":[{"type":"si.em`))
}

func TestClientRetriesAndRefuses(t *testing.T) {
	tests := []struct {
		name     string
		script   []http.HandlerFunc
		calls    int
		retries  int
		wantErr  error // nil = success
		minTaken time.Duration
	}{
		{"ok", []http.HandlerFunc{ok}, 1, 0, nil, 0},
		{"503 then ok", []http.HandlerFunc{status(503, ""), status(500, ""), ok}, 3, 2, nil, 0},
		{"429 honours Retry-After", []http.HandlerFunc{status(429, "1"), ok}, 2, 1, nil, time.Second},
		{"truncated body retried", []http.HandlerFunc{truncated, ok}, 2, 1, nil, 0},
		{"401 is permanent", []http.HandlerFunc{status(401, "")}, 1, 0, contracts.ErrUnauthorized, 0},
		{"403 is permanent", []http.HandlerFunc{status(403, "")}, 1, 0, contracts.ErrForbidden, 0},
		{"400 is permanent", []http.HandlerFunc{status(400, "")}, 1, 0, contracts.ErrInvalidRecord, 0},
		{"retries run out", []http.HandlerFunc{status(502, "")}, 4, 3, contracts.ErrUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := agency(t, tt.script...)
			var retries atomic.Int32
			c, err := NewClient(ClientConfig{
				BaseURL: srv.URL, Token: func() (string, error) { return "tok", nil },
				RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
				OnRetry: func(int, error) { retries.Add(1) },
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			src := NewSource(c, []string{"si.employer"})
			if err := src.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			p, err := src.Fetch(context.Background(), "si.employer", "", 10)
			taken := time.Since(start)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Fetch = %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Fetch error = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && (p.Next != "n1" || len(p.Records) != 1):
				t.Errorf("page = %+v", p)
			}
			if int(calls.Load()) != tt.calls {
				t.Errorf("%d requests, want %d", calls.Load(), tt.calls)
			}
			if int(retries.Load()) != tt.retries {
				t.Errorf("OnRetry called %d times, want %d", retries.Load(), tt.retries)
			}
			if taken < tt.minTaken {
				t.Errorf("took %s, want ≥ %s", taken, tt.minTaken)
			}
		})
	}
}

func TestClientTimeoutAndRateLimit(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done() // hang until the client gives up
			return
		}
		ok(w, r)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{
		BaseURL: srv.URL, Token: func() (string, error) { return "tok", nil },
		Timeout: 100 * time.Millisecond, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond,
		RateLimit: 10, RateBurst: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Connect(context.Background())
	start := time.Now()
	for range 3 {
		if _, err := c.Fetch(context.Background(), "si.employer", "", 10); err != nil {
			t.Fatal(err)
		}
	}
	// 4 requests at 10/s with a burst of 1 take ≥ 300ms, whatever the timeout.
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("took %s, want ≥ 300ms (rate limit)", took)
	}
	if n.Load() < 4 {
		t.Errorf("%d requests, want ≥ 4", n.Load())
	}
}

func TestClientConfig(t *testing.T) {
	tok := func() (string, error) { return "t", nil }
	for _, base := range []string{"", "ftp://x", "http://", "://"} {
		if _, err := NewClient(ClientConfig{BaseURL: base, Token: tok}); err == nil {
			t.Errorf("base %q accepted", base)
		}
	}
	if _, err := NewClient(ClientConfig{BaseURL: "http://x"}); err == nil {
		t.Errorf("client without a token source accepted")
	}
	c, _ := NewClient(ClientConfig{BaseURL: "http://x", Token: func() (string, error) { return " ", nil }})
	if err := c.Connect(context.Background()); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Connect with a blank token = %v", err)
	}
	if _, err := c.Fetch(context.Background(), "si.employer", "", 1); err == nil {
		t.Errorf("Fetch before Connect succeeded")
	}
}
