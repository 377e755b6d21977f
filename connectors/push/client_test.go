package push

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeHub is a feed endpoint: it verifies batches with the agency's public key,
// rejects records whose id starts with "bad", keeps receipts by batch id, and
// injects faults on request.
type fakeHub struct {
	t     *testing.T
	keys  jwk.Set
	token string

	mu       sync.Mutex
	receipts map[string]Receipt
	ids      []string // batch ids in arrival order (successful or not)
	records  int      // records submitted (not replayed)
	faults   []int    // statuses to answer the next requests with; -1 drops the connection
	requests atomic.Int32
}

func newFakeHub(t *testing.T, key jwk.Key) (*fakeHub, *httptest.Server) {
	h := &fakeHub{t: t, keys: publicSet(t, key), token: "tok-1", receipts: map[string]Receipt{}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	h.mu.Lock()
	var fault int
	if len(h.faults) > 0 {
		fault, h.faults = h.faults[0], h.faults[1:]
	}
	h.mu.Unlock()
	switch {
	case fault == -1:
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	case fault == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(fault)
		return
	case fault != 0:
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(fault)
		fmt.Fprintf(w, `{"status":%d,"code":"fault_%d","detail":"injected"}`, fault, fault)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/feeds/si" || r.Header.Get("Content-Type") != MediaType {
		http.Error(w, "bad request line", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+h.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"invalid_token","detail":"who are you"}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	b, err := Verify(body, h.keys, 1000)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"code":%q}`, CodeOf(err))
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, b.BatchID)
	rc, seen := h.receipts[b.BatchID]
	if seen {
		w.Header().Set(ReplayHeader, "true")
	} else {
		rc = Receipt{BatchID: b.BatchID, Rejected: []RecordReject{}}
		for i, raw := range b.Records {
			var env struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(raw, &env)
			if strings.HasPrefix(env.ID, "bad") {
				rc.Rejected = append(rc.Rejected, RecordReject{Index: i, Code: "uscc_checksum", Field: "data.uscc", Message: "check character"})
			} else {
				rc.Accepted++
			}
		}
		h.receipts[b.BatchID] = rc
		h.records += len(b.Records)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(rc)
}

func (h *fakeHub) inject(statuses ...int) {
	h.mu.Lock()
	h.faults = append(h.faults, statuses...)
	h.mu.Unlock()
}

func (h *fakeHub) takeIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := h.ids
	h.ids = nil
	return ids
}

// ndjson returns n records, one per line; ids in bad are prefixed "bad".
func ndjson(n int, bad map[int]bool) string {
	var b strings.Builder
	for i := range n {
		id := fmt.Sprintf("r%d", i)
		if bad[i] {
			id = "bad" + id
		}
		fmt.Fprintf(&b, `{"type":"si.employer","id":%q,"revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}}`+"\n", id)
	}
	return b.String()
}

func newTestClient(t *testing.T, hub *fakeHub, url string, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{
		HubURL: url, Agency: "si", Key: privateKeys(t)["p256"],
		Token:        func(context.Context) (string, error) { return hub.token, nil },
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestPushFile(t *testing.T) {
	hub, srv := newFakeHub(t, privateKeys(t)["p256"])
	c := newTestClient(t, hub, srv.URL, func(cfg *ClientConfig) { cfg.BatchSize = 1000; cfg.Concurrency = 3 })

	// 2,500 records with two bad ones, plus a blank line, a line that is not JSON and
	// an oversized record inserted near the start.
	lines := strings.Split(strings.TrimSuffix(ndjson(2500, map[int]bool{7: true, 2100: true}), "\n"), "\n")
	huge := `{"type":"si.employer","id":"huge","data":{"x":"` + strings.Repeat("x", contracts.MaxRecordBytes) + `"}}`
	file := "\xef\xbb\xbf" + strings.Join(lines[:3], "\n") + "\n\n{not json\n" + huge + "\r\n" + strings.Join(lines[3:], "\r\n")

	rep, err := c.Push(context.Background(), strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Lines: 2502, Accepted: 2498, Rejected: 4, Batches: 3}
	if rep.Lines != want.Lines || rep.Accepted != want.Accepted || rep.Rejected != want.Rejected || rep.Batches != want.Batches || rep.Replayed != 0 {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	// Records 0–2 are on lines 1–3, then a blank line, the not-JSON line and the huge
	// one; record i ≥ 3 is on line i+4.
	wantRejects := []struct {
		line int
		code string
	}{{5, contracts.CodeMalformedJSON}, {6, contracts.CodeTooLarge}, {11, "uscc_checksum"}, {2104, "uscc_checksum"}}
	if len(rep.Rejects) != len(wantRejects) {
		t.Fatalf("rejects %+v", rep.Rejects)
	}
	for i, w := range wantRejects {
		if got := rep.Rejects[i]; got.Line != w.line || got.Code != w.code {
			t.Errorf("reject %d: line %d code %s, want line %d code %s", i, got.Line, got.Code, w.line, w.code)
		}
	}
	first := hub.takeIDs()
	if len(first) != 3 || hub.records != 2500 {
		t.Fatalf("hub got batches %v and %d records", first, hub.records)
	}

	// The same file again: the same ids, every one answered from its receipt.
	rep2, err := c.Push(context.Background(), strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Replayed != 3 || rep2.Accepted != rep.Accepted || rep2.Rejected != rep.Rejected || hub.records != 2500 {
		t.Errorf("re-run: %+v; hub records %d", rep2, hub.records)
	}
	if again := hub.takeIDs(); !sameSet(again, first) {
		t.Errorf("re-run ids %v, first run %v", again, first)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestBatchIDs(t *testing.T) {
	hub, srv := newFakeHub(t, privateKeys(t)["p256"])
	ids := func(file string, size int) []string {
		c := newTestClient(t, hub, srv.URL, func(cfg *ClientConfig) { cfg.BatchSize = size; cfg.Concurrency = 1 })
		if _, err := c.Push(context.Background(), strings.NewReader(file)); err != nil {
			t.Fatal(err)
		}
		return hub.takeIDs()
	}
	base := ndjson(30, nil)
	first := ids(base, 10)
	for _, id := range first {
		if !ValidBatchID(id) {
			t.Errorf("batch id %q is not valid", id)
		}
	}
	changed := strings.Replace(base, `"r15"`, `"r15x"`, 1)
	cases := []struct {
		name     string
		ids      []string
		same     []bool // per batch of first: is the id the same?
		wantMore int
	}{
		{"same file", ids(base, 10), []bool{true, true, true}, 0},
		{"same records other whitespace around lines", ids(strings.ReplaceAll(base, "\n", " \r\n\n"), 10), []bool{true, true, true}, 0},
		{"lines appended", ids(base+ndjson(1, nil), 10), []bool{true, true, true}, 1},
		{"a record in batch 1 changed", ids(changed, 10), []bool{true, false, false}, 0},
		{"other batch size", ids(base, 15), []bool{false, false}, 0},
	}
	for _, c := range cases {
		if len(c.ids) != len(c.same)+c.wantMore {
			t.Errorf("%s: %d batches %v", c.name, len(c.ids), c.ids)
			continue
		}
		for i, same := range c.same {
			if (c.ids[i] == first[i]) != same {
				t.Errorf("%s: batch %d id %s vs %s, want same=%v", c.name, i, c.ids[i], first[i], same)
			}
		}
	}
}

func TestPushRetries(t *testing.T) {
	cases := []struct {
		name   string
		faults []int
	}{
		{"503 twice", []int{503, 503}},
		{"429 with Retry-After", []int{429}},
		{"connection dropped", []int{-1}},
		{"502 then dropped then 500", []int{502, -1, 500}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hub, srv := newFakeHub(t, privateKeys(t)["p256"])
			var tokenCalls atomic.Int32
			cl := newTestClient(t, hub, srv.URL, func(cfg *ClientConfig) {
				cfg.Concurrency = 1
				cfg.Token = func(context.Context) (string, error) { tokenCalls.Add(1); return hub.token, nil }
			})
			hub.inject(c.faults...)
			rep, err := cl.Push(context.Background(), strings.NewReader(ndjson(5, map[int]bool{2: true})))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Accepted != 4 || rep.Rejected != 1 || rep.Batches != 1 || rep.Rejects[0].Line != 3 {
				t.Errorf("report %+v", rep)
			}
			if got, want := hub.requests.Load(), int32(len(c.faults)+1); got != want {
				t.Errorf("%d requests, want %d", got, want)
			}
			if got, want := tokenCalls.Load(), int32(len(c.faults)+1); got != want {
				t.Errorf("token asked %d times, want once per attempt (%d)", got, want)
			}
		})
	}
}

func TestPushFailures(t *testing.T) {
	cases := []struct {
		name     string
		faults   []int
		token    string
		code     string // HubError code, or "" for a transport failure
		attempts int32
	}{
		{"refused token", nil, "wrong", "invalid_token", 1},
		{"bad request is not retried", []int{400}, "", "fault_400", 1},
		{"forbidden is not retried", []int{403}, "", "fault_403", 1},
		{"retries exhausted", []int{503, 503, 503, 503}, "", "", 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hub, srv := newFakeHub(t, privateKeys(t)["p256"])
			cl := newTestClient(t, hub, srv.URL, func(cfg *ClientConfig) {
				cfg.RetryMax = 3
				if c.token != "" {
					cfg.Token = func(context.Context) (string, error) { return c.token, nil }
				}
			})
			hub.inject(c.faults...)
			rep, err := cl.Push(context.Background(), strings.NewReader(ndjson(3, nil)))
			if err == nil {
				t.Fatalf("pushed: %+v", rep)
			}
			var he *HubError
			switch {
			case c.code != "" && (!errors.As(err, &he) || he.Code != c.code):
				t.Errorf("error %v, want hub code %s", err, c.code)
			case c.code == "" && (errors.As(err, &he) || !errors.Is(err, contracts.ErrUnavailable)):
				t.Errorf("error %v, want a transport failure", err)
			}
			if rep.Batches != 0 || rep.Accepted != 0 {
				t.Errorf("report %+v after a failure", rep)
			}
			if got := hub.requests.Load(); got != c.attempts {
				t.Errorf("%d attempts, want %d", got, c.attempts)
			}
		})
	}
}

func TestPushStopsAtFirstUndeliverableBatch(t *testing.T) {
	hub, srv := newFakeHub(t, privateKeys(t)["p256"])
	cl := newTestClient(t, hub, srv.URL, func(cfg *ClientConfig) { cfg.BatchSize = 2; cfg.Concurrency = 1; cfg.RetryMax = -1 })
	hub.inject(0, 503) // the first batch goes through, the second fails
	rep, err := cl.Push(context.Background(), strings.NewReader(ndjson(20, nil)))
	if !errors.Is(err, contracts.ErrUnavailable) {
		t.Fatalf("error %v", err)
	}
	if rep.Batches != 1 || rep.Accepted != 2 {
		t.Errorf("report %+v", rep)
	}
	if n := hub.requests.Load(); n != 2 {
		t.Errorf("%d requests after the failure, want 2", n)
	}
}

func TestPushCanceled(t *testing.T) {
	hub, srv := newFakeHub(t, privateKeys(t)["p256"])
	cl := newTestClient(t, hub, srv.URL, func(cfg *ClientConfig) {
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Hour, time.Hour
	})
	hub.inject(503)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := cl.Push(ctx, strings.NewReader(ndjson(3, nil))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
}

func TestNewClientRefuses(t *testing.T) {
	keys := privateKeys(t)
	pub, _ := keys["p256"].PublicKey()
	tok := func(context.Context) (string, error) { return "t", nil }
	cases := []struct {
		name string
		cfg  ClientConfig
	}{
		{"unknown agency", ClientConfig{HubURL: "http://h", Agency: "police", Key: keys["p256"], Token: tok}},
		{"no key", ClientConfig{HubURL: "http://h", Agency: "si", Token: tok}},
		{"public key", ClientConfig{HubURL: "http://h", Agency: "si", Key: pub, Token: tok}},
		{"P-521 key", ClientConfig{HubURL: "http://h", Agency: "si", Key: keys["p521"], Token: tok}},
		{"no token", ClientConfig{HubURL: "http://h", Agency: "si", Key: keys["p256"]}},
		{"relative url", ClientConfig{HubURL: "/hub", Agency: "si", Key: keys["p256"], Token: tok}},
	}
	for _, c := range cases {
		if _, err := NewClient(c.cfg); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("y", 40)
	cases := []struct {
		in   string
		want []string // "!" marks a too-long line
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"a\r\nb", []string{"a", "b"}},
		{"a\n\nb\n", []string{"a", "", "b"}},
		{long + "\nz\n" + long, []string{"!", "z", "!"}},
		{strings.Repeat("x", 32) + "\r\n", []string{strings.Repeat("x", 32)}},
	}
	for _, c := range cases {
		br := newSmallReader(c.in)
		var got []string
		for {
			line, tooLong, err := readLine(br, 32)
			if err == io.EOF && line == nil && !tooLong {
				break
			}
			if tooLong {
				got = append(got, "!")
			} else {
				got = append(got, string(line))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

// newSmallReader has a 16-byte buffer, so long lines arrive in several chunks.
func newSmallReader(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 16) }
