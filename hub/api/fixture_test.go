package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/signing"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/rules"
	"github.com/verihub/verihub/matching/storetest"
)

// Clients of the API fixture.
const (
	clientAll    = "portal-all"     // a portal that may verify every program
	clientNarrow = "portal-jrr2019" // a portal that may verify jrr-2019 only
	clientAdmin  = "ops"            // an administrator
)

// dataNow is the clock the generated data was validated against.
var dataNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// recordingAudit is an audit.Log that keeps every event, or refuses every write
// when fail is set (to prove an audit failure fails the request).
type recordingAudit struct {
	mu     sync.Mutex
	events []audit.Event
	fail   error
}

func (a *recordingAudit) Record(_ context.Context, events ...audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.events = append(a.events, events...)
	return nil
}

func (a *recordingAudit) setFail(err error) { a.mu.Lock(); a.fail = err; a.mu.Unlock() }

func (a *recordingAudit) recorded() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Event(nil), a.events...)
}

// fakeConnectors is a ConnectorControl with no connectors.
type fakeConnectors struct{}

func (fakeConnectors) Statuses() []connectors.Status { return []connectors.Status{} }
func (fakeConnectors) Status(name string) (connectors.Status, error) {
	return connectors.Status{}, contracts.ErrNotFound
}
func (fakeConnectors) Pause(string) error  { return contracts.ErrNotFound }
func (fakeConnectors) Resume(string) error { return contracts.ErrNotFound }
func (fakeConnectors) Sync(string) error   { return contracts.ErrNotFound }

// apiFixture is the hub's HTTP API over real parts on a loopback listener: a real
// auth.Authority with ES256 client keys, a real signing.Signer on a temporary key
// set, the real rule packs, and an in-memory store holding profiles built from a
// small synthetic data set the way the pipeline builds them.
type apiFixture struct {
	srv      *httptest.Server
	server   *Server
	audit    *recordingAudit
	store    *storetest.Memory
	prot     *contracts.Protector
	expected []synthetic.Expected
	keys     map[string]jwk.Key
	tokens   map[string]string
	client   *http.Client
	// dependencyDown lets answers be 503 (a test breaks a dependency on purpose).
	dependencyDown bool
}

// fixtureData is the generated data set, shared by every fixture of the test binary:
// the generator is deterministic, so sharing changes nothing but the time taken.
var fixtureData = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "verihub-apitest-")
	if err != nil {
		return "", err
	}
	_, err = synthetic.Generate(context.Background(), synthetic.Config{Seed: 11, Enterprises: 150, Persons: 200, Out: dir})
	return dir, err
})

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := fixtureData(); err == nil && dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func newAPIFixture(t testing.TB) *apiFixture {
	t.Helper()
	ctx := context.Background()
	dir, err := fixtureData()
	if err != nil {
		t.Fatal(err)
	}
	prot, err := contracts.NewProtector(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.NewMemory()
	loadProfiles(t, dir, prot, store)

	f := &apiFixture{store: store,
		audit: &recordingAudit{}, prot: prot, expected: readExpected(t, dir),
		keys:   map[string]jwk.Key{clientAll: newKey(t, "all-1"), clientNarrow: newKey(t, "narrow-1"), clientAdmin: newKey(t, "ops-1")},
		tokens: map[string]string{},
		client: &http.Client{Timeout: 30 * time.Second},
	}
	f.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + f.srv.Listener.Addr().String()
	limit := &auth.RateLimit{PerSecond: 1e6, Burst: 1e6}
	authority, err := auth.New(auth.Config{
		TokenURL: base + "/oauth/token", SecretEnv: "VERIHUB_TEST_UNUSED",
		Clients: []auth.ClientConfig{
			{ID: clientAll, Role: auth.RolePortal, Programs: []string{"*"}, RateLimit: limit, Keys: []map[string]any{publicJWK(t, f.keys[clientAll])}},
			{ID: clientNarrow, Role: auth.RolePortal, Programs: []string{"jrr-2019"}, RateLimit: limit, Keys: []map[string]any{publicJWK(t, f.keys[clientNarrow])}},
			{ID: clientAdmin, Role: auth.RoleAdmin, RateLimit: limit, Keys: []map[string]any{publicJWK(t, f.keys[clientAdmin])}},
		},
	}, auth.Deps{State: store, Secret: bytes.Repeat([]byte("s"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	keyDir := filepath.Join(t.TempDir(), "keys")
	if _, err := signing.Generate(keyDir, 0); err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewSigner(signing.Config{Dir: keyDir, Issuer: base}, nil)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := rules.Load(rules.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	f.server = &Server{
		Auth: authority, JWKS: signer.JWKSHandler(),
		Verifier: &Verifier{Engine: engine, Profiles: store, Protector: prot, Signer: signer, Audit: f.audit, Now: func() time.Time { return dataNow }},
		Programs: &Programs{Engine: engine, Store: store, Audit: f.audit},
		Feeds:    &Feeds{Keys: authority, Submit: &fakeSubmitter{}, Receipts: store, Log: log},
		Admin:    &Admin{Connectors: fakeConnectors{}, Audit: f.audit, State: store, Protector: prot},
		Live:     ok, Ready: ok,
		Registry: reg, MaxBody: 4 << 20, Log: log, Metrics: NewMetrics(reg),
	}
	f.srv.Config.Handler = f.server.Handler()
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	for id, k := range f.keys {
		tr, err := auth.FetchToken(ctx, f.client, base+"/oauth/token", k, id, "")
		if err != nil {
			t.Fatalf("token for %s: %v", id, err)
		}
		f.tokens[id] = tr.AccessToken
	}
	return f
}

// loadProfiles folds every agency file into store as the pipeline does: validate,
// protect (ID numbers become pseudonyms), route to subjects, apply.
func loadProfiles(t testing.TB, dir string, prot *contracts.Protector, store matching.Store) {
	t.Helper()
	v, err := contracts.NewValidator(contracts.Options{Now: func() time.Time { return dataNow }})
	if err != nil {
		t.Fatal(err)
	}
	for _, agency := range contracts.Agencies {
		fh, err := os.Open(filepath.Join(dir, synthetic.AgencyFile(agency)))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 0, 1<<20), contracts.MaxRecordBytes*2)
		var changes []matching.Change
		for sc.Scan() {
			val, err := v.Validate(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: generated record refused: %v", agency, err)
			}
			rec, subject, err := prot.Protect(val.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			changes = append(changes, matching.Route(subject, rec)...)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Apply(context.Background(), changes); err != nil {
			t.Fatal(err)
		}
	}
}

func readExpected(t testing.TB, dir string) []synthetic.Expected {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, synthetic.FileExpected))
	if err != nil {
		t.Fatal(err)
	}
	var out []synthetic.Expected
	for line := range bytes.SplitSeq(bytes.TrimSpace(raw), []byte{'\n'}) {
		var e synthetic.Expected
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// find returns the first expected line that match accepts.
func (f *apiFixture) find(t testing.TB, what string, match func(synthetic.Expected) bool) synthetic.Expected {
	t.Helper()
	for _, e := range f.expected {
		if match(e) {
			return e
		}
	}
	t.Fatalf("the data set has no %s", what)
	return synthetic.Expected{}
}

// requestOf is the verification request an expected line describes.
func requestOf(e synthetic.Expected) VerificationRequest {
	req := VerificationRequest{Program: e.Program, Subject: SubjectRef{USCC: e.Subject.USCC, IDNumber: e.Subject.IDNumber}}
	if e.Subject.IDNumber != "" {
		req.Params = map[string]any{"certificate_no": e.Params.CertificateNo, "application_date": e.Params.ApplicationDate}
	} else {
		req.Params = map[string]any{"year": e.Params.Year}
	}
	return req
}

// response is one HTTP answer, with the problem decoded when it is one.
type response struct {
	status  int
	header  http.Header
	body    []byte
	problem *struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Field  string `json:"field"`
	}
}

// do sends a request as client ("" for none) and reads the answer. Every answer that
// is not 2xx must be application/problem+json with a code and the same status.
func (f *apiFixture) do(t testing.TB, client, method, path, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if client != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[client])
	}
	res, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: raw}
	if res.StatusCode >= 500 && !(f.dependencyDown && res.StatusCode == http.StatusServiceUnavailable) {
		t.Errorf("%s %s answered %d: %s", method, path, res.StatusCode, raw)
	}
	if res.StatusCode >= 300 {
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("%s %s: %d answered with Content-Type %q, want application/problem+json", method, path, res.StatusCode, ct)
		}
		out.problem = &struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
			Detail string `json:"detail"`
			Field  string `json:"field"`
		}{}
		if err := json.Unmarshal(raw, out.problem); err != nil || out.problem.Code == "" || out.problem.Status != res.StatusCode {
			t.Errorf("%s %s: %d problem without a code or with another status: %s", method, path, res.StatusCode, raw)
		}
	}
	return out
}

func (f *apiFixture) postJSON(t testing.TB, client, path string, v any) response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, client, http.MethodPost, path, "application/json", bytes.NewReader(b))
}

// jwks fetches the published key set the way a portal does.
func (f *apiFixture) jwks(t testing.TB) jwk.Set {
	t.Helper()
	res := f.do(t, "", http.MethodGet, "/.well-known/jwks.json", "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("jwks: %d %s", res.status, res.body)
	}
	set, err := jwk.Parse(res.body)
	if err != nil {
		t.Fatalf("jwks: %v", err)
	}
	return set
}
