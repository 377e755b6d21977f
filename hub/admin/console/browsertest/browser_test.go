package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/connectors/socialinsurance"
	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub"
	"github.com/verihub/verihub/hub/auth"
)

const chromiumPath = "/usr/bin/chromium"

// world is a running hub with an admin key file, a portal key, a connector against
// a simulator and some data, dead letters included.
type world struct {
	app       *hub.App
	base      string // http://127.0.0.1:port
	adminKey  string // path of the admin's private JWK
	adminID   string
	portal    jwk.Key
	rawID     string // an ID number inside a dead letter, never to be displayed
	usccAsked string // an enterprise the portal verified
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func ecKey(t *testing.T, clientID string) (jwk.Key, map[string]any) {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.FromRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = jwk.AssignKeyID(priv)
	_ = priv.Set(auth.ClientIDMember, clientID)
	pub, err := priv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(pub)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, auth.ClientIDMember)
	return priv, m
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func startWorld(t *testing.T, ctx context.Context) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{adminID: "admin-console-test"}

	gen := filepath.Join(dir, "gen")
	if _, err := synthetic.Generate(ctx, synthetic.Config{Seed: 11, Enterprises: 12, Persons: 12, Out: gen}); err != nil {
		t.Fatal(err)
	}

	// The agency simulator the connector pulls from: si records trickle in while the
	// test runs, so the overview's records/min sparkline moves.
	sim := socialinsurance.NewSimulator("sim-token", 1)
	simSrv, err := simulator.Listen(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = simSrv.Stop() })
	siLines := readLines(t, filepath.Join(gen, synthetic.AgencyFile(contracts.AgencySocialInsurance)))
	feedDone := make(chan struct{})
	var feedWG sync.WaitGroup
	feedWG.Add(1)
	go func() {
		defer feedWG.Done()
		for i := 0; i < len(siLines); i += 10 {
			end := min(i+10, len(siLines))
			if _, _, err := sim.LoadNDJSON(bytes.NewReader(bytes.Join(siLines[i:end], []byte("\n")))); err != nil {
				t.Errorf("feeding the simulator: %v", err)
				return
			}
			select {
			case <-feedDone:
				return
			case <-time.After(400 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { close(feedDone); feedWG.Wait() })
	tokenFile := filepath.Join(dir, "si.token")
	if err := os.WriteFile(tokenFile, []byte("sim-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	admin, adminPub := ecKey(t, w.adminID)
	w.adminKey = filepath.Join(dir, "admin.jwk")
	b, _ := json.Marshal(admin)
	if err := os.WriteFile(w.adminKey, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var portalPub map[string]any
	w.portal, portalPub = ecKey(t, "portal-console-test")

	addr := freeAddr(t)
	cfg := hub.Config{
		DataDir: filepath.Join(dir, "data"),
		HTTP:    hub.HTTPConfig{Addr: addr, ShutdownTimeout: 5 * time.Second},
		Auth: auth.Config{Clients: []auth.ClientConfig{
			{ID: w.adminID, Role: auth.RoleAdmin, Keys: []map[string]any{adminPub}},
			{ID: "portal-console-test", Role: auth.RolePortal, Programs: []string{"*"}, Keys: []map[string]any{portalPub}},
		}},
		Connectors: []connectors.Config{{Name: "si-sim", Agency: contracts.AgencySocialInsurance, BaseURL: simSrv.URL(), TokenFile: tokenFile,
			PollInterval: time.Second, PageSize: 25}},
	}
	cfg.Bus.Embedded.Addr = "127.0.0.1:0"
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// The hub's warnings while it stops (consumers losing the broker) are noise here.
	logLevel := slog.LevelError
	if testing.Verbose() {
		logLevel = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: logLevel}))
	app, err := hub.New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	w.app = app
	w.base = "http://" + app.Addr()
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("hub Run: %v", err)
		}
	})

	// Agency data through the ingest edge: the tax file, the generator's bad lines,
	// and a person record whose only fault is its status, so its dead letter holds an
	// ID number the console must show masked.
	if _, _, err := app.Ingest.Submit(ctx, contracts.AgencyTax, readLines(t, filepath.Join(gen, synthetic.AgencyFile(contracts.AgencyTax)))); err != nil {
		t.Fatal(err)
	}
	for _, line := range readLines(t, filepath.Join(gen, synthetic.FileBad)) {
		var e struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(line, &e)
		agency, _, _ := strings.Cut(e.Type, ".")
		if !slices.Contains(contracts.Agencies, agency) {
			agency = contracts.AgencySocialInsurance
		}
		if _, _, err := app.Ingest.Submit(ctx, agency, [][]byte{line}); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range siLines {
		var e contracts.Envelope
		if err := json.Unmarshal(line, &e); err != nil || e.Type != contracts.TypePerson {
			continue
		}
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		w.rawID = data["id_number"].(string)
		data["status"] = "on_sabbatical"
		e.Data, _ = json.Marshal(data)
		bad, _ := json.Marshal(e)
		_, rejected, err := app.Ingest.Submit(ctx, contracts.AgencySocialInsurance, [][]byte{bad})
		if err != nil || len(rejected) != 1 {
			t.Fatalf("submitting a bad person record: %v, %v", rejected, err)
		}
		break
	}
	if w.rawID == "" {
		t.Fatal("the generated si file has no person record")
	}

	// A portal verification, so the audit trail has a subject to find.
	for _, line := range siLines {
		var e contracts.Envelope
		if json.Unmarshal(line, &e) == nil && e.Type == contracts.TypeEmployer {
			w.usccAsked = e.ID
			break
		}
	}
	tr, err := auth.FetchToken(ctx, http.DefaultClient, cfg.Auth.TokenURL, w.portal, "portal-console-test", "")
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"program":"jrr-2021","subject":{"uscc":%q},"params":{"year":2022}}`, w.usccAsked)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.base+"/v1/verifications", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("verification: %d %s", res.StatusCode, rb)
	}
	return w
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("VERIHUB_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "verihub-console-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1440, 960),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	return bctx, func() { cancelBrowser(); cancelAlloc() }
}

// TestConsoleInChromium walks an administrator through the console.
func TestConsoleInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser tests need Debian's chromium at %s (run deploy/dev/chromium.sh): %v", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("starts a hub and a browser; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := startWorld(t, ctx)
	art := artifactsDir(t)
	t.Logf("screenshots in %s", art)

	bctx, closeBrowser := browser(t)
	defer closeBrowser()
	// The first Run starts the browser for bctx's lifetime; steps then get their own
	// deadlines.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1440, 1000), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(art, name+".png"), buf, 0o644)
		})
	}
	fail := func(step string, err error) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		html, _ := chromedp.Run(sctx, chromedp.OuterHTML(chromedp.CSS("body")))
		_ = chromedp.Do(sctx, shot("failed-"+strings.ReplaceAll(step, " ", "-")))
		t.Fatalf("%s: %v\npage body: %.4000s", step, err, html)
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			fail(step, err)
		}
	}
	get := func(step string, a chromedp.Action[string]) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(sctx, a)
		if err != nil {
			fail(step, err)
		}
		return v
	}
	text := func(sel string) string {
		t.Helper()
		return get("reading "+sel, chromedp.Text(chromedp.CSS(sel)))
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(200*time.Millisecond))
	}

	// Log in with the key file.
	do("log in",
		chromedp.Navigate(w.base+"/admin/"),
		chromedp.WaitVisible(chromedp.ID("login-key")),
		chromedp.SetUploadFiles(chromedp.ID("login-key"), []string{w.adminKey}),
		poll(`document.querySelector('#login-key-info').textContent.includes('ES256')`),
		shot("01-login"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#connectors-table tr[data-connector="si-sim"]`)),
	)
	if who := text("#who"); who != w.adminID {
		t.Errorf("signed in as %q, want %q", who, w.adminID)
	}
	if cookies := get("document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(cookies, auth.SessionCookie) {
		t.Errorf("the session cookie is readable by script: %q", cookies)
	}

	// The overview fills in over a few polls: the connector publishes, the sparkline
	// draws, the profile counts and the traffic summary appear.
	do("overview fills in",
		chromedp.WaitVisible(chromedp.CSS(`#connectors-table tr[data-connector="si-sim"] svg.spark path.line`)),
		poll(`(() => { const r = document.querySelector('#connectors-table tr[data-connector="si-sim"]');
			return r && Number(r.children[5].textContent.replace(/,/g, '')) > 0; })()`),
		chromedp.Sleep(4*time.Second),
		shot("02-overview"),
	)
	row := text(`#connectors-table tr[data-connector="si-sim"]`)
	if !strings.Contains(row, "si-sim") || !strings.Contains(row, "running") {
		t.Errorf("connector row reads %q", row)
	}

	// Pause and resume the connector from its detail page.
	do("pause the connector",
		chromedp.Click(chromedp.CSS(`#connectors-table tr[data-connector="si-sim"] a`)),
		chromedp.WaitVisible(chromedp.ID("btn-pause")),
		chromedp.Click(chromedp.ID("btn-pause")),
		chromedp.WaitVisible(chromedp.CSS("#connector-name .badge.paused")),
		shot("03-connector-paused"),
	)
	if st, err := w.app.Conns.Status("si-sim"); err != nil || st.State != connectors.StatePaused {
		t.Errorf("after clicking pause the hub says %v, %v", st.State, err)
	}
	do("resume the connector",
		chromedp.WaitVisible(chromedp.ID("btn-resume")),
		chromedp.Click(chromedp.ID("btn-resume")),
		chromedp.WaitVisible(chromedp.ID("btn-pause")),
		chromedp.WaitNotPresent(chromedp.CSS("#connector-name .badge.paused")),
		shot("04-connector-resumed"),
	)
	if st, err := w.app.Conns.Status("si-sim"); err != nil || st.State == connectors.StatePaused {
		t.Errorf("after clicking resume the hub says %v, %v", st.State, err)
	}

	// Dead letters: find the person record by its code, inspect it, replay it.
	do("open dead letters",
		chromedp.Navigate(w.base+"/admin/#/deadletters"),
		chromedp.WaitVisible(chromedp.CSS(`#dl-table tr[data-id]`)),
	)
	codes := get("list codes", chromedp.Evaluate[string](`[...document.querySelectorAll('#dl-table tr[data-id]')].map(r => r.dataset.code).join(' ')`))
	if n := len(strings.Fields(codes)); n < 4 {
		t.Errorf("dead letters listed: %q, want the generator's bad lines and the person record", codes)
	}
	do("filter and inspect the person dead letter",
		chromedp.SetValue(chromedp.ID("dl-code"), contracts.CodeEnum),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("dl-code").dispatchEvent(new Event("change"))`),
		poll(`[...document.querySelectorAll('#dl-table tr[data-id]')].every(r => r.dataset.code === 'enum')`),
		chromedp.Click(chromedp.CSS(`#dl-table tr[data-agency="si"][data-field="data.status"]`)),
		chromedp.WaitVisible(chromedp.ID("dl-record")),
		shot("05-deadletter-inspect"),
	)
	record := text("#dl-record")
	if strings.Contains(record, w.rawID) || !strings.Contains(record, contracts.MaskID(w.rawID)) {
		t.Errorf("the inspected record does not show the ID number masked:\n%s", record)
	}
	if page := get("page HTML", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(page, w.rawID) {
		t.Error("the dead-letter page holds the raw ID number")
	}
	do("replay it",
		chromedp.Click(chromedp.ID("dl-replay")),
		chromedp.WaitVisible(chromedp.ID("modal-ok")),
		shot("06-deadletter-confirm"),
		chromedp.Click(chromedp.ID("modal-ok")),
		poll(`[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.startsWith('replay:'))`),
	)
	if toast := text("#toasts .toast:last-child"); !strings.Contains(toast, "replay:") || !strings.Contains(toast, "rejected_again") {
		t.Errorf("replay toast reads %q, want the record rejected again (its status is still invalid)", toast)
	}

	// Audit: the replay is on record under the admin; the portal's verification
	// under the enterprise; an ID-number search shows the number masked only.
	do("audit by client",
		chromedp.Navigate(w.base+"/admin/#/audit"),
		chromedp.WaitVisible(chromedp.ID("audit-client")),
		chromedp.SendKeys(chromedp.ID("audit-client"), w.adminID),
		chromedp.Click(chromedp.ID("audit-search")),
		chromedp.WaitVisible(chromedp.CSS(`#audit-table tbody tr td .pill`)),
	)
	if got := text("#audit-table tbody"); !strings.Contains(got, "deadletter") || !strings.Contains(got, w.adminID) {
		t.Errorf("audit by client shows %q", got)
	}
	do("audit by subject",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("audit-client").value = ""`),
		chromedp.SendKeys(chromedp.ID("audit-subject"), w.usccAsked),
		chromedp.Click(chromedp.ID("audit-search")),
		poll(`document.querySelector('#audit-table tbody').textContent.includes('jrr-2021')`),
		shot("07-audit"),
	)
	do("audit by ID number",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("audit-subject").value = ""; document.getElementById("audit-subject").dispatchEvent(new Event("input"))`),
		chromedp.SendKeys(chromedp.ID("audit-subject"), w.rawID),
		chromedp.Click(chromedp.ID("audit-search")),
		poll(`document.querySelector('#audit-summary').textContent.includes('pseudonymised')`),
	)
	page := get("page HTML", chromedp.OuterHTML(chromedp.CSS("html")))
	typed := get("subject field", chromedp.Value(chromedp.ID("audit-subject")))
	if strings.Contains(page, w.rawID) || typed != contracts.MaskID(w.rawID) {
		t.Errorf("after an ID-number search the field holds %q; the page holds the raw number: %v", typed, strings.Contains(page, w.rawID))
	}

	do("programs",
		chromedp.Navigate(w.base+"/admin/#/programs"),
		chromedp.WaitVisible(chromedp.CSS(`.program-card[data-program="jrr-2021"]`)),
		shot("08-programs"),
	)

	// Logging out ends the session: the admin API refuses the browser again.
	do("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login-key")),
	)
	sctx, cancelStatus := context.WithTimeout(bctx, 20*time.Second)
	defer cancelStatus()
	status, err := chromedp.Run(sctx, chromedp.Evaluate[int](`fetch('/v1/admin/connectors').then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusUnauthorized {
		t.Errorf("after logout the admin API answers %d (%v), want 401", status, err)
	}
}
