package console

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/matching/storetest"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/verihub/verihub/hub/auth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const tokenURL = "https://hub.example.gov.cn/oauth/token"

func key(t testing.TB) (jwk.Key, map[string]any) {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := jwk.FromRaw(raw)
	pub, _ := priv.PublicKey()
	b, _ := json.Marshal(pub)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return priv, m
}

type fixture struct {
	console       *Console
	auth          *auth.Authority
	admin, portal jwk.Key
	reg           *prometheus.Registry
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry()}
	var adminPub, portalPub map[string]any
	f.admin, adminPub = key(t)
	f.portal, portalPub = key(t)
	a, err := auth.New(auth.Config{TokenURL: tokenURL, SecretEnv: "VERIHUB_TEST_UNUSED", Clients: []auth.ClientConfig{
		{ID: "ops-admin", Role: auth.RoleAdmin, Keys: []map[string]any{adminPub}},
		{ID: "portal", Role: auth.RolePortal, Programs: []string{"*"}, Keys: []map[string]any{portalPub}},
	}}, auth.Deps{State: storetest.NewMemory(), Secret: bytes.Repeat([]byte("s"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	f.auth = a
	if f.console, err = New(Options{Auth: a, Registry: f.reg, TokenURL: tokenURL, SecureCookies: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) assertion(t testing.TB, k jwk.Key, client string) string {
	t.Helper()
	s, err := auth.SignAssertion(k, client, tokenURL, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
	code   string
}

func (f *fixture) do(t testing.TB, method, path, body string, hdr map[string]string, cookies ...*http.Cookie) response {
	t.Helper()
	req := httptest.NewRequest(method, "https://hub.example.gov.cn"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.console.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	var p struct{ Code string }
	if json.Unmarshal(r.body, &p) == nil {
		r.code = p.Code
	}
	return r
}

func sessionCookie(r response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	return nil
}

func TestLoginFlow(t *testing.T) {
	f := newFixture(t)
	body := func(a string) string { b, _ := json.Marshal(loginRequest{Assertion: a}); return string(b) }

	for _, tc := range []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"portal key", body(f.assertion(t, f.portal, "portal")), nil, 403, auth.CodeNotAdmin},
		{"admin key, wrong client id", body(f.assertion(t, f.admin, "portal")), nil, 401, auth.CodeBadSignature},
		{"empty assertion", body(""), nil, 401, auth.CodeMissingAssertion},
		{"not JSON", "assertion=x", nil, 400, "malformed_request"},
		{"unknown member", `{"assertion":"x","client":"y"}`, nil, 400, "malformed_request"},
		{"form body", "client_assertion=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"another site", body(f.assertion(t, f.admin, "ops-admin")), map[string]string{"Origin": "https://evil.example"}, 403, "cross_origin"},
		{"cross-site fetch", body(f.assertion(t, f.admin, "ops-admin")), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross_origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, "POST", "/admin/login", tc.body, tc.hdr)
			if r.status != tc.status || r.code != tc.code {
				t.Errorf("got %d %q, want %d %q: %s", r.status, r.code, tc.status, tc.code, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if sessionCookie(r) != nil {
				t.Error("a refused login set a session cookie")
			}
		})
	}

	r := f.do(t, "POST", "/admin/login", body(f.assertion(t, f.admin, "ops-admin")),
		map[string]string{"Origin": "https://hub.example.gov.cn", "Sec-Fetch-Site": "same-origin"})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	c := sessionCookie(r)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("session cookie %+v", c)
	}
	var info SessionInfo
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatal(err)
	}
	if !info.Authenticated || info.Client != "ops-admin" || info.CSRF != f.auth.CSRFToken(c.Value) || info.TokenURL != tokenURL {
		t.Errorf("login answer %+v", info)
	}
	if strings.Contains(string(r.body), c.Value) {
		t.Error("the login answer holds the access token; it belongs in the HttpOnly cookie only")
	}

	// The session endpoint recognises the cookie, and only a valid admin one.
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
		want   bool
	}{
		{"no cookie", nil, false},
		{"session", c, true},
		{"tampered", &http.Cookie{Name: auth.SessionCookie, Value: c.Value + "x"}, false},
	} {
		var cs []*http.Cookie
		if tc.cookie != nil {
			cs = append(cs, tc.cookie)
		}
		r := f.do(t, "GET", "/admin/session", "", nil, cs...)
		var got SessionInfo
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
		if got.Authenticated != tc.want || got.TokenURL != tokenURL || (tc.want && got.CSRF != info.CSRF) || (!tc.want && got.CSRF != "") {
			t.Errorf("%s: session %+v", tc.name, got)
		}
	}

	// The summary is behind the session; logout clears the cookie.
	if r := f.do(t, "GET", "/admin/api/summary", "", nil); r.status != 401 || r.code != auth.CodeMissingToken {
		t.Errorf("summary without a session: %d %q", r.status, r.code)
	}
	if r := f.do(t, "GET", "/admin/api/summary", "", nil, c); r.status != 200 {
		t.Errorf("summary with the session: %d %s", r.status, r.body)
	}
	r = f.do(t, "POST", "/admin/logout", "", nil, c)
	if cl := sessionCookie(r); r.status != 204 || cl == nil || cl.MaxAge >= 0 || cl.Value != "" {
		t.Errorf("logout: %d, cookie %+v", r.status, cl)
	}
	// The old cookie is refused after logout: the session ended on the server, not
	// only in the browser.
	if r := f.do(t, "GET", "/admin/api/summary", "", nil, c); r.status != 401 || r.code != auth.CodeTokenRevoked {
		t.Errorf("summary with the cookie of the ended session: %d %q", r.status, r.code)
	}
	var after SessionInfo
	if r := f.do(t, "GET", "/admin/session", "", nil, c); json.Unmarshal(r.body, &after) != nil || after.Authenticated {
		t.Errorf("session endpoint after logout: %d %s", r.status, r.body)
	}
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/admin/", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /admin/: %d %s", r.status, r.header.Get("Content-Type"))
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}

	// Every asset the page names is served, with a sensible type.
	refs := regexp.MustCompile(`(?:src|href)="(/admin/static/[^"]+)"`).FindAllStringSubmatch(string(r.body), -1)
	if len(refs) < 3 {
		t.Fatalf("index.html names %d assets", len(refs))
	}
	imports := regexp.MustCompile(`from '\./([a-z]+\.js)'`)
	seen := map[string]bool{}
	queue := []string{}
	for _, m := range refs {
		queue = append(queue, m[1])
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		a := f.do(t, "GET", p, "", nil)
		if a.status != 200 {
			t.Errorf("GET %s: %d", p, a.status)
			continue
		}
		ct := a.header.Get("Content-Type")
		switch {
		case strings.HasSuffix(p, ".js") && !strings.Contains(ct, "javascript"),
			strings.HasSuffix(p, ".css") && !strings.HasPrefix(ct, "text/css"),
			strings.HasSuffix(p, ".svg") && !strings.HasPrefix(ct, "image/svg+xml"):
			t.Errorf("%s served as %q", p, ct)
		}
		for _, m := range imports.FindAllStringSubmatch(string(a.body), -1) {
			queue = append(queue, "/admin/static/js/"+m[1])
		}
	}
	if !seen["/admin/static/js/deadletters.js"] || !seen["/admin/static/js/login.js"] {
		t.Errorf("the module graph from app.js misses pages: %v", seen)
	}

	if r := f.do(t, "GET", "/admin/nothing-here", "", nil); r.status != 404 || r.code != "not_found" {
		t.Errorf("unknown console path: %d %q", r.status, r.code)
	}
	if r := f.do(t, "GET", "/admin/static/../console.go", "", nil); r.status == 200 {
		t.Error("a path outside static/ was served")
	}
}

// TestNoExternalResources keeps the console self-contained: no CDN, no remote fonts,
// no inline script or style that the CSP would refuse.
func TestNoExternalResources(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	err := fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")
		if m := external.FindString(s); m != "" {
			t.Errorf("%s refers to an external resource: %q", p, m)
		}
		if strings.HasSuffix(p, ".html") {
			if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(s) || strings.Contains(s, "<style") || strings.Contains(s, " style=") {
				t.Errorf("%s has inline script or style", p)
			}
		}
		if strings.HasSuffix(p, ".js") && strings.Contains(s, ".innerHTML =") {
			t.Errorf("%s assigns innerHTML", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQuantile(t *testing.T) {
	bounds := []float64{.01, .05, .1, .5, 1}
	for _, tc := range []struct {
		name    string
		buckets []uint64 // cumulative
		count   uint64
		q, want float64
	}{
		{"empty", []uint64{0, 0, 0, 0, 0}, 0, .99, math.NaN()},
		{"all in first bucket, median", []uint64{10, 10, 10, 10, 10}, 10, .5, .005},
		{"uniform over two buckets, p50 at the boundary", []uint64{0, 50, 100, 100, 100}, 100, .5, .05},
		{"p99 interpolated in the third bucket", []uint64{0, 50, 100, 100, 100}, 100, .99, .05 + .05*(99-50)/50.0},
		{"rank in +Inf gives the top bound", []uint64{0, 0, 0, 0, 90}, 100, .99, 1},
		{"p99 of one slow request in a hundred", []uint64{99, 99, 99, 99, 100}, 100, .99, .01},
		{"p100", []uint64{99, 99, 99, 99, 100}, 100, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := histogram{count: tc.count, bounds: bounds, buckets: tc.buckets}
			got := h.quantile(tc.q)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-9) {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestSummaryOverWindow(t *testing.T) {
	reg := prometheus.NewRegistry()
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: durationFamily, Buckets: []float64{.001, .01, .1, 1}}, []string{"route"})
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: requestsFamily}, []string{"route", "code"})
	reg.MustRegister(lat, reqs)
	observe := func(route string, n int, sec float64, class string) {
		for range n {
			lat.WithLabelValues(route).Observe(sec)
			reqs.WithLabelValues(route, class).Inc()
		}
	}
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s := &sampler{g: reg, every: time.Minute, window: time.Hour}

	observe(VerificationRoutes[0], 500, .0005, "2xx") // before the window: must not count
	if _, err := s.sample(t0); err != nil {
		t.Fatal(err)
	}
	observe(VerificationRoutes[0], 5, .0005, "2xx")
	if _, err := s.sample(t0.Add(30 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	// In the last hour: 5 + 99 fast, 1 slow single verification, 20 batch calls, 4
	// refused, 1 failed; admin traffic that is no verification.
	observe(VerificationRoutes[0], 99, .0005, "2xx")
	observe(VerificationRoutes[0], 1, .5, "2xx")
	observe(VerificationRoutes[1], 20, .05, "2xx")
	observe(VerificationRoutes[0], 4, .0005, "4xx")
	observe(VerificationRoutes[1], 1, .05, "5xx")
	observe("GET /v1/admin/connectors", 1000, .0005, "2xx")

	snaps, err := s.sample(t0.Add(60 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sum := summary(snaps)
	v := sum.Verification
	if sum.WindowSeconds != 3600 || v.Requests != 130 || v.Errors4xx != 4 || v.Errors5xx != 1 || v.AllTimeCount != 630 {
		t.Fatalf("window %v, verification %+v", sum.WindowSeconds, v)
	}
	if math.Abs(v.PerMinute-130.0/60) > .01 {
		t.Errorf("per minute %v", v.PerMinute)
	}
	// 130 requests: 109 under 1ms, 21 in (10ms, 100ms], p99 rank 128.7 falls there.
	if v.P99MS == nil || *v.P99MS <= 10 || *v.P99MS > 100 || v.P50MS == nil || *v.P50MS > 1 {
		t.Errorf("p50 %v p99 %v", deref(v.P50MS), deref(v.P99MS))
	}
	if len(sum.Series) != 2 || math.Abs(sum.Series[0].PerMinute-5.0/30) > .01 || math.Abs(sum.Series[1].PerMinute-125.0/30) > .01 {
		t.Errorf("series %+v", sum.Series)
	}
	var admin *RouteSummary
	for i := range sum.Routes {
		if sum.Routes[i].Route == "GET /v1/admin/connectors" {
			admin = &sum.Routes[i]
		}
	}
	if admin == nil || admin.Requests != 1000 {
		t.Errorf("routes %+v", sum.Routes)
	}

	// Ten minutes on, the first snapshot has left the window: the 30-minute one is
	// the baseline, so the 5 requests between them drop out.
	snaps, _ = s.sample(t0.Add(70 * time.Minute))
	if sum := summary(snaps); sum.WindowSeconds != 2400 || sum.Verification.Requests != 125 {
		t.Errorf("after the window moved: window %v, requests %d", sum.WindowSeconds, sum.Verification.Requests)
	}
	// Snapshots closer together than every are not kept.
	if _, err := s.sample(t0.Add(70*time.Minute + time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.snaps); n != 3 {
		t.Errorf("%d snapshots kept, want 3", n)
	}
	// Unasked for two hours: the youngest snapshot there is becomes the baseline and
	// the window says how long it really is.
	snaps, _ = s.sample(t0.Add(190 * time.Minute))
	if sum := summary(snaps); sum.WindowSeconds != 120*60 || sum.Verification.Requests != 0 {
		t.Errorf("after a gap: window %v, requests %d", sum.WindowSeconds, sum.Verification.Requests)
	}
}

func TestSummaryCounterReset(t *testing.T) {
	cur := histogram{count: 3, sum: .3, bounds: []float64{.1, 1}, buckets: []uint64{1, 3}}
	base := histogram{count: 10, sum: 2, bounds: []float64{.1, 1}, buckets: []uint64{5, 10}}
	if d := cur.sub(base); d.count != 3 || d.buckets[1] != 3 {
		t.Errorf("after a reset the delta is %+v, want the current histogram", d)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func FuzzLoginBody(f *testing.F) {
	fx := newFixture(f)
	f.Add(`{"assertion":"` + fx.assertion(f, fx.admin, "ops-admin") + `"}`)
	f.Add(`{"assertion":"` + fx.assertion(f, fx.portal, "portal") + `"}`)
	f.Add(`{"assertion": 1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		r := fx.do(t, "POST", "/admin/login", body, map[string]string{"Content-Type": "application/json"})
		c := sessionCookie(r)
		switch {
		case r.status >= 500:
			t.Fatalf("%d for %q: %s", r.status, body, r.body)
		case r.status == 200 && c == nil:
			t.Fatalf("login accepted without a session cookie")
		case r.status != 200 && c != nil:
			t.Fatalf("refused login (%d) set a cookie", r.status)
		case r.status == 200:
			if id, err := fx.auth.Check(context.Background(), c.Value); err != nil || id.Role != auth.RoleAdmin {
				t.Fatalf("session for a non-admin: %+v %v", id, err)
			}
		}
	})
}
