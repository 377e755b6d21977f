package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/api"
	"github.com/verihub/verihub/hub/auth"
	hubproblem "github.com/verihub/verihub/hub/problem"
)

// fasthttp's clients clean their idle connections in goroutines of their own,
// which end by themselves some seconds after the client's last use.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"))
}

func TestCheckLoopbackURL(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.9.9.9:1/x", true},
		{"https://[::1]:8443", true},
		{"http://localhost:8080", true},
		{"http://LOCALHOST", true},
		{"http://10.0.0.5:8080", false},
		{"http://192.168.1.1", false},
		{"http://0.0.0.0:8080", false},
		{"http://example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://localhost.example.com", false},
		{"ftp://127.0.0.1", false},
		{"http://user:pw@127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://[::ffff:8.8.8.8]", false},
	}
	for _, c := range cases {
		_, err := checkLoopbackURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok %v", c.url, err, c.ok)
		}
	}
}

// TestLoopbackClientRefusesOtherAddresses dials this machine through a
// non-loopback interface address: the connection is refused after dialing.
func TestLoopbackClientRefusesOtherAddresses(t *testing.T) {
	var other net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			other = n.IP
			break
		}
	}
	if other == nil {
		t.Skip("no non-loopback IPv4 interface on this machine")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(other.String(), "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", other, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hc := loopbackClient(5 * time.Second)
	defer hc.CloseIdleConnections()
	_, err = hc.Get("http://" + ln.Addr().String())
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("GET %s: %v, want errNotLoopback", ln.Addr(), err)
	}
	fc := loadClient(1, 5*time.Second)
	defer fc.CloseIdleConnections()
	code, _, err := fc.Get(nil, "http://"+ln.Addr().String())
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("load client GET %s: %d, %v, want errNotLoopback", ln.Addr(), code, err)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 1000; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond},
		{0.999, 999 * time.Millisecond}, {1, 1000 * time.Millisecond}, {0, time.Millisecond},
	} {
		if got := percentile(ds, c.q); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
	l := latenciesOf([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	if l.P50 != 2 || l.Max != 3 {
		t.Errorf("latenciesOf unsorted input: %+v", l)
	}
}

// TestOpenLoopCountsQueueingAsLatency runs a target that serves one request at a time
// in 20 ms at 100 requests/s for 300 ms: a closed loop would report 20 ms; the open
// loop reports the growing wait of requests behind schedule, and the requests it
// could not send before the end as not sent.
func TestOpenLoopCountsQueueingAsLatency(t *testing.T) {
	const service = 20 * time.Millisecond
	var inFlight, most atomic.Int32
	samples, elapsed, unsent := openLoop(context.Background(), 100, 300*time.Millisecond, 1, 10*time.Second, func(ctx context.Context, i int) outcome {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		time.Sleep(service)
		return outcome{items: 1}
	})
	if len(samples)+unsent != 30 {
		t.Fatalf("%d samples + %d unsent, want 30 scheduled", len(samples), unsent)
	}
	if most.Load() != 1 {
		t.Errorf("%d in flight with concurrency 1", most.Load())
	}
	// At most one 20 ms request per 20 ms: about half the schedule fits in 300 ms.
	if unsent < 10 || len(samples) < 4 {
		t.Errorf("%d sent, %d unsent: the schedule ran past its end or sent nothing", len(samples), unsent)
	}
	s := summarise("t", 100, 1, samples, elapsed, unsent)
	if s.Errors["not_sent"] != unsent || s.Scheduled != 30 {
		t.Errorf("summary %+v", s)
	}
	// Request k waits behind k earlier ones: its latency is about (20-10)·k + 20 ms.
	if s.Latency.Max < 3*ms(service) {
		t.Errorf("max latency %.1f ms: queueing behind the schedule is not counted", s.Latency.Max)
	}
}

func TestOpenLoopStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var sent atomic.Int32
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	samples, _, unsent := openLoop(ctx, 100, time.Hour, 4, time.Second, func(ctx context.Context, i int) outcome {
		sent.Add(1)
		return outcome{}
	})
	if n := len(samples); n == 0 || n > 1000 || int32(n) != sent.Load() || unsent != 360000-n {
		t.Fatalf("%d samples for %d sent, %d unsent after a cancel at 100 ms", n, sent.Load(), unsent)
	}
}

// fakeHub answers the routes hubbench calls, the way the hub does.
func fakeHub(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var verifications atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil || r.PostForm.Get("client_assertion") == "" {
			http.Error(w, "no assertion", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(auth.TokenResponse{AccessToken: "tok", TokenType: "Bearer", ExpiresIn: 600})
	})
	problem := func(w http.ResponseWriter, status int, code string) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"status":%d,"code":%q}`, status, code)
	}
	decide := func(req map[string]any) string {
		if req["program"] == "jrr-2019" {
			return "eligible"
		}
		return "ineligible"
	}
	mux.HandleFunc("POST /v1/verifications", func(w http.ResponseWriter, r *http.Request) {
		verifications.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok" {
			problem(w, 401, "missing_token")
			return
		}
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req["program"] == "sus-2017" {
			problem(w, 429, "rate_limited")
			return
		}
		fmt.Fprintf(w, `{"token":"x","decision":%q}`, decide(req))
	})
	mux.HandleFunc("POST /v1/verifications:batch", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Items []map[string]any }
		_ = json.NewDecoder(r.Body).Decode(&req)
		out := []api.BatchItemResult{}
		for _, it := range req.Items {
			if it["program"] == "sus-2017" {
				out = append(out, api.BatchItemResult{Error: &hubproblem.Problem{Status: 400, Code: "invalid_params"}})
			} else {
				out = append(out, api.BatchItemResult{VerificationResponse: &api.VerificationResponse{Token: "x", Decision: decide(it)}})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": out})
	})
	mux.HandleFunc("GET /v1/programs/{id}/candidates", func(w http.ResponseWriter, r *http.Request) {
		// 25 candidates "c00".."c24" after the cursor.
		limit := 10
		_, _ = fmt.Sscan(r.URL.Query().Get("limit"), &limit)
		start := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			_, _ = fmt.Sscanf(c, "c%d", &start)
			start++
		}
		var page []map[string]any
		next := ""
		for i := start; i < 25 && len(page) < limit; i++ {
			page = append(page, map[string]any{"subject": fmt.Sprintf("c%02d", i)})
			if i < 24 && len(page) == limit {
				next = fmt.Sprintf("c%02d", i)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"total": 25, "candidates": page, "next": next})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &verifications
}

func writeFixtures(t *testing.T) (keyPath, targetsPath string) {
	t.Helper()
	dir := t.TempDir()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, "p-1")
	_ = k.Set(auth.ClientIDMember, "portal")
	b, _ := json.Marshal(k)
	keyPath = filepath.Join(dir, "portal.jwk")
	if err := os.WriteFile(keyPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"program":"jrr-2019","subject":{"uscc":"91350100M000100Y43"},"params":{"year":2019},"decision":"eligible","amount_fen":1}`,
		`{"program":"jrr-2020","subject":{"uscc":"91350100M000100Y43"},"params":{"year":2020},"decision":"eligible","amount_fen":1}`,
		`{"program":"sus-2017","subject":{"id_number":"11010519491231002X"},"params":{"certificate_no":"S1","application_date":"2020-01-01"},"decision":"eligible","amount_fen":1}`,
		`{"program":"jrr-2021","subject":{"uscc":"91350100M000100Y43"},"params":{"year":2021},"decision":"ineligible","amount_fen":0}`,
	}
	targetsPath = filepath.Join(dir, "expected.ndjson")
	if err := os.WriteFile(targetsPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return keyPath, targetsPath
}

// lastJSON decodes the last line of the output.
func lastJSON(t *testing.T, out string) Summary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last line is not the JSON summary: %v\n%s", err, out)
	}
	return s
}

func TestRunModes(t *testing.T) {
	srv, verifications := fakeHub(t)
	key, targets := writeFixtures(t)
	common := []string{"--url", srv.URL, "--key", key, "--targets", targets}
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, s Summary)
	}{
		{"verify", append([]string{"verify", "--rate", "200", "--duration", "200ms", "--concurrency", "8"}, common...), func(t *testing.T, s Summary) {
			// 40 requests over 4 shuffled targets: 10 each.
			if s.Requests != 40 || s.OK != 30 || s.Errors["status 429 rate_limited"] != 10 {
				t.Errorf("requests %d ok %d errors %v", s.Requests, s.OK, s.Errors)
			}
			// jrr-2020 is expected eligible; the fake says ineligible.
			if m := s.Extra["decision_mismatches"]; m != float64(10) {
				t.Errorf("decision mismatches %v, want 10", m)
			}
			if s.Latency.Max <= 0 || s.Latency.P50 > s.Latency.P99 || s.Rate <= 0 {
				t.Errorf("latency %+v rate %v", s.Latency, s.Rate)
			}
		}},
		{"verify one program", append([]string{"verify", "--rate", "100", "--duration", "100ms", "--program", "jrr-2019"}, common...), func(t *testing.T, s Summary) {
			if s.Requests != 10 || s.OK != 10 || s.Extra["decision_mismatches"] != float64(0) {
				t.Errorf("%+v", s)
			}
		}},
		{"batch", append([]string{"batch", "--rate", "50", "--duration", "100ms", "--size", "8"}, common...), func(t *testing.T, s Summary) {
			// 5 batches of 8 items, 2 of every 8 items a sus-2017 problem.
			if s.Requests != 5 || s.OK != 5 || s.Extra["item_problems"] != float64(10) || s.ItemsRate <= 0 {
				t.Errorf("%+v", s)
			}
		}},
		{"screen", append([]string{"screen", "--program", "jrr-2021", "--year", "2021", "--limit", "10"}, common...), func(t *testing.T, s Summary) {
			if s.Requests != 3 || s.Extra["candidates"] != float64(25) || s.Extra["total"] != float64(25) {
				t.Errorf("%+v", s)
			}
		}},
		{"sign", []string{"sign", "--duration", "100ms", "--concurrency", "2"}, func(t *testing.T, s Summary) {
			if s.Requests == 0 || s.Rate <= 0 || len(s.Errors) != 0 {
				t.Errorf("%+v", s)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(context.Background(), c.args, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			if !strings.Contains(out.String(), "p99") {
				t.Errorf("no summary for a person:\n%s", out.String())
			}
			c.check(t, lastJSON(t, out.String()))
		})
	}
	t.Run("refuses a remote target before sending", func(t *testing.T) {
		before := verifications.Load()
		args := []string{"verify", "--url", "http://192.0.2.10:8080", "--key", key, "--targets", targets, "--duration", "100ms"}
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errNotLoopback) {
			t.Errorf("err %v, want errNotLoopback", err)
		}
		if verifications.Load() != before {
			t.Error("requests were sent")
		}
	})
}

func TestRunUsage(t *testing.T) {
	key, targets := writeFixtures(t)
	for _, args := range [][]string{
		nil,
		{"stress"},
		{"verify"},
		{"verify", "--url", "http://127.0.0.1:1", "--key", key},
		{"verify", "--url", "http://127.0.0.1:1", "--key", key, "--targets", targets, "--rate", "0"},
		{"batch", "--url", "http://127.0.0.1:1", "--key", key, "--targets", targets, "--size", "1001"},
		{"screen", "--url", "http://127.0.0.1:1", "--key", key},
		{"sign", "--duration", "0s"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errUsage) {
			t.Errorf("run %v: %v, want a usage error", args, err)
		}
	}
}

func TestParseTargetsRefusesOtherFiles(t *testing.T) {
	for _, in := range []string{
		`{"type":"si.employer","id":"x"}`,
		`{"program":"jrr-2019","subject":{}}`,
		`not json`,
		``,
	} {
		if _, err := parseTargets(strings.NewReader(in), "", 1); err == nil {
			t.Errorf("parseTargets(%q) accepted", in)
		}
	}
}

func TestClientKey(t *testing.T) {
	out := filepath.Join(t.TempDir(), "p.jwk")
	if err := run(context.Background(), []string{"client-key", "--client-id", "bench-portal", "--out", out}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	k, id, err := readKey(out)
	if err != nil || id != "bench-portal" {
		t.Fatalf("private key: id %q err %v", id, err)
	}
	assertion, err := auth.SignAssertion(k, id, "http://127.0.0.1:1/oauth/token", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.ParseKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, isPrivate := pub.(jwk.ECDSAPrivateKey); isPrivate {
		t.Fatal("the .pub file holds the private key")
	}
	if _, err := jws.Verify([]byte(assertion), jws.WithKey(jwa.ES256, pub)); err != nil {
		t.Fatalf("the public key does not verify the private key's assertion: %v", err)
	}
}

func TestDecisionOf(t *testing.T) {
	for body, want := range map[string]string{
		`{"token":"a.b.c","decision":"eligible","amount_fen":1}`: "eligible",
		`{"decision" : "ineligible", "token":"x"}`:               "ineligible",
		`{"token":"x","decision":"insufficient_data"}`:           "insufficient_data",
		`{"token":"x","decision":""}`:                            "",
		`{"token":"x","decision":"el\u0069gible"}`:               "eligible",
	} {
		if got, ok := decisionOf([]byte(body)); !ok || got != want {
			t.Errorf("%s: decision %q (%v), want %q", body, got, ok, want)
		}
	}
	for _, body := range []string{`not json`, `{"token":"x"}`, `{"decision":1}`} {
		if got, ok := decisionOf([]byte(body)); ok {
			t.Errorf("%s: decision %q, want none", body, got)
		}
	}
}

// TestBatchOutcome holds the tool's counting of batch results to hub/api's answer
// (whose encoder writes encoding/json's bytes): results and problems come out as a
// full decode finds them, also when texts quote the members it looks for, and an
// answer of another shape is decoded.
func TestBatchOutcome(t *testing.T) {
	ok := func(detail string) api.BatchItemResult {
		return api.BatchItemResult{VerificationResponse: &api.VerificationResponse{
			Token: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", Decision: "ineligible",
			Checks: []contracts.CheckResult{{ID: "no_arrears", Result: "fail", Detail: detail}},
			Facts:  map[string]any{"error": map[string]any{"token": "x"}, "region_code": "320500"}}}
	}
	bad := api.BatchItemResult{Error: &hubproblem.Problem{Type: "about:blank", Status: 400, Code: "invalid_subject", Detail: `{"token":"x"}`}}
	for _, tc := range []struct {
		name              string
		items             []api.BatchItemResult
		results, problems int
	}{
		{"empty", []api.BatchItemResult{}, 0, 0},
		{"one result", []api.BatchItemResult{ok("2018年裁员率 3.1% ≤ 5.5%")}, 1, 0},
		{"one problem", []api.BatchItemResult{bad}, 1, 1},
		{"mixed, texts quoting the members", []api.BatchItemResult{ok(`{"token":"a"},{"error":{`), bad, ok(`,{"error":{"x":1}}`), bad, bad}, 5, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"results": tc.items})
			if err != nil {
				t.Fatal(err)
			}
			n, p, ok := batchOutcome(body)
			if !ok || n != tc.results || p != tc.problems {
				t.Errorf("batchOutcome = %d results, %d problems, %v; want %d, %d\n%s", n, p, ok, tc.results, tc.problems, body)
			}
		})
	}
	// Another shape (keys in another order) is decoded rather than counted.
	if n, p, ok := batchOutcome([]byte(`{"results":[{"decision":"eligible","token":"x"},{"error":{"code":"c"}}]}`)); !ok || n != 2 || p != 1 {
		t.Errorf("other shape: %d, %d, %v", n, p, ok)
	}
	if _, _, ok := batchOutcome([]byte(`{"results":[{"token":"x"`)); ok {
		t.Error("a cut answer counts as decoded")
	}
}
