// Package demo runs the whole hub on one machine with nothing installed: the embedded
// broker and store, simulators of the five agencies' pull APIs serving synthetic data,
// pull connectors that load it through the real pipeline, grant awards pushed as a
// signed feed, and demo clients whose private keys it writes for the operator. It then
// prints a walk-through of verifications that anyone can replay with curl.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/connectors/push"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/bus"
)

// Options configure a demo run.
type Options struct {
	DataDir     string // everything the demo writes (default "data")
	Addr        string // the hub's API address (default 127.0.0.1:8080)
	BrokerAddr  string // the embedded broker (default 127.0.0.1:29092)
	Enterprises int    // synthetic enterprises (default 1000)
	Persons     int    // synthetic persons (default 3000)
	Seed        uint64 // synthetic data seed (default 7)
	Out         io.Writer
	Log         *slog.Logger
	// Ready, when set, is called once the data is loaded and the walk-through printed.
	Ready func(*Demo)
}

// Demo is a running demo.
type Demo struct {
	Opts    Options
	App     *hub.App
	URL     string
	KeyDir  string
	GenDir  string
	sims    []*simulator.Server
	clients map[string]jwk.Key
}

// ClientNames are the demo clients: a portal (verifies every program and pushes
// grants), an administrator, and one agency client per agency.
func ClientNames() []string {
	names := []string{"portal", "admin"}
	for _, a := range contracts.Agencies {
		names = append(names, "agency-"+a)
	}
	return names
}

// Run starts the demo and serves until ctx ends.
func Run(ctx context.Context, o Options) error {
	o = o.withDefaults()
	d := &Demo{Opts: o, URL: "http://" + o.Addr, KeyDir: filepath.Join(o.DataDir, "demo"), GenDir: filepath.Join(o.DataDir, "gen")}
	defer d.stopSimulators()
	if err := d.generate(ctx); err != nil {
		return err
	}
	if err := d.writeClients(); err != nil {
		return err
	}
	cfg, err := d.config()
	if err != nil {
		return err
	}
	if d.App, err = hub.New(ctx, cfg, o.Log); err != nil {
		return err
	}
	d.URL = "http://" + d.App.Addr()
	runErr := make(chan error, 1)
	go func() { runErr <- d.App.Run(ctx) }()

	if err := d.load(ctx); err != nil {
		if ctx.Err() != nil {
			return <-runErr
		}
		return err
	}
	if err := d.walkThrough(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(o.Out, "walk-through failed: %v\n", err)
	}
	if o.Ready != nil {
		o.Ready(d)
	}
	return <-runErr
}

func (o Options) withDefaults() Options {
	if o.DataDir == "" {
		o.DataDir = "data"
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Enterprises == 0 {
		o.Enterprises = 1000
	}
	if o.Persons == 0 {
		o.Persons = 3000
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// generate writes the synthetic agency data once per data directory.
func (d *Demo) generate(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(d.GenDir, synthetic.FileManifest)); err == nil {
		return nil
	}
	fmt.Fprintf(d.Opts.Out, "generating synthetic agency data (%d enterprises, %d persons) in %s\n", d.Opts.Enterprises, d.Opts.Persons, d.GenDir)
	_, err := synthetic.Generate(ctx, synthetic.Config{Seed: d.Opts.Seed, Enterprises: d.Opts.Enterprises, Persons: d.Opts.Persons,
		Out: d.GenDir, Checks: true})
	return err
}

// writeClients creates each demo client's private JWK once (0600, with its client_id
// member) and keeps the keys for registration.
func (d *Demo) writeClients() error {
	if err := os.MkdirAll(d.KeyDir, 0o700); err != nil {
		return err
	}
	d.clients = map[string]jwk.Key{}
	for _, name := range ClientNames() {
		path := filepath.Join(d.KeyDir, name+".jwk")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			if b, err = newClientKey(name); err != nil {
				return err
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		k, err := jwk.ParseKey(b)
		if err != nil {
			return fmt.Errorf("demo key %s: %w", path, err)
		}
		d.clients[name] = k
		// The public half, for registering the client in a configuration file
		// (deploy/config/embedded.yaml reads these).
		pub, err := k.PublicKey()
		if err != nil {
			return err
		}
		pb, err := json.MarshalIndent(pub, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d.KeyDir, name+".pub.jwk"), pb, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func newClientKey(clientID string) ([]byte, error) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, err
	}
	if err := jwk.AssignKeyID(k); err != nil {
		return nil, err
	}
	for field, v := range map[string]any{jwk.AlgorithmKey: jwa.ES256, jwk.KeyUsageKey: "sig", auth.ClientIDMember: clientID} {
		if err := k.Set(field, v); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(k, "", "  ")
}

// config is an embedded hub with the demo clients registered and one pull connector
// per agency simulator.
func (d *Demo) config() (hub.Config, error) {
	var cfg hub.Config
	cfg.DataDir = filepath.Join(d.Opts.DataDir, "hub")
	cfg.HTTP.Addr = d.Opts.Addr
	cfg.Bus.Embedded.Addr = d.Opts.BrokerAddr
	for _, name := range ClientNames() {
		pub, err := d.clients[name].PublicKey()
		if err != nil {
			return cfg, err
		}
		b, err := json.Marshal(pub)
		if err != nil {
			return cfg, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return cfg, err
		}
		cc := auth.ClientConfig{ID: name, Keys: []map[string]any{m}}
		switch {
		case name == "portal":
			// A provincial portal verifies in bulk: allow it the hub's full rate.
			cc.Role, cc.Programs, cc.PushGrant = auth.RolePortal, []string{"*"}, true
			cc.RateLimit = &auth.RateLimit{PerSecond: 100000, Burst: 20000}
		case name == "admin":
			cc.Role = auth.RoleAdmin
		default:
			cc.Role, cc.Feed = auth.RoleAgency, strings.TrimPrefix(name, "agency-")
		}
		cfg.Auth.Clients = append(cfg.Auth.Clients, cc)
	}
	for _, ag := range connectors.Agencies() {
		token := "demo-" + ag.Name
		sim := ag.NewSimulator(token, d.Opts.Seed)
		if _, _, err := sim.LoadFile(filepath.Join(d.GenDir, synthetic.AgencyFile(ag.Name))); err != nil {
			return cfg, fmt.Errorf("simulator %s: %w", ag.Name, err)
		}
		srv, err := simulator.Listen(sim, "127.0.0.1:0")
		if err != nil {
			return cfg, err
		}
		d.sims = append(d.sims, srv)
		tokenFile := filepath.Join(d.KeyDir, "sim-"+ag.Name+".token")
		if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
			return cfg, err
		}
		cfg.Connectors = append(cfg.Connectors, connectors.Config{Name: ag.Package, Agency: ag.Name,
			BaseURL: "http://" + srv.Addr(), TokenFile: tokenFile, PageSize: 1000, PollInterval: 5 * time.Second})
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

func (d *Demo) stopSimulators() {
	for _, s := range d.sims {
		_ = s.Shutdown(context.Background())
	}
}

// load pushes the grant awards as the portal and waits until every connector has
// caught up with its agency and matching has applied everything.
func (d *Demo) load(ctx context.Context) error {
	out := d.Opts.Out
	fmt.Fprintf(out, "loading agency data through the pipeline: 5 pull connectors and a signed grant feed\n")
	portal := d.clients["portal"]
	tokens := &auth.TokenSource{URL: d.URL + "/oauth/token", Key: portal, ClientID: "portal", Scope: auth.ScopePush(contracts.AgencyGrant)}
	pc, err := push.NewClient(push.ClientConfig{HubURL: d.URL, Agency: contracts.AgencyGrant, Key: portal, Token: tokens.Token})
	if err != nil {
		return err
	}
	defer pc.Close()
	f, err := os.Open(filepath.Join(d.GenDir, synthetic.AgencyFile(contracts.AgencyGrant)))
	if err != nil {
		return err
	}
	rep, err := pc.Push(ctx, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("pushing grant awards: %w", err)
	}
	fmt.Fprintf(out, "  grant feed: %d accepted, %d rejected in %d signed batches\n", rep.Accepted, rep.Rejected, rep.Batches)

	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Time{}
	for {
		caughtUp, published := true, int64(0)
		for _, st := range d.App.Conns.Statuses() {
			published += st.Published
			if st.Lag != 0 || st.LastSuccess.IsZero() {
				caughtUp = false
			}
		}
		lag := int64(-1)
		if lags, err := d.App.Bus.Lag(ctx, d.App.Config.Matching.Group, d.App.Bus.Config().RecordsTopics()); err == nil {
			lag = bus.TotalLag(lags)
		}
		if caughtUp && lag == 0 {
			fmt.Fprintf(out, "  all agency data loaded and matched in %s\n", time.Since(start).Round(100*time.Millisecond))
			return nil
		}
		if time.Since(lastReport) > 3*time.Second {
			fmt.Fprintf(out, "  … %d records published by connectors, %d waiting for matching\n", published, max(lag, 0))
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// example is a verification the walk-through shows, with what the oracle expects.
type example struct {
	title string
	body  map[string]any
	want  synthetic.Expected
}

// walkThrough picks an eligible enterprise, an ineligible one and a worker's skill
// subsidy from the generator's expected decisions, verifies them through the API, and
// prints the commands to do the same by hand.
func (d *Demo) walkThrough(ctx context.Context) error {
	exs, err := d.examples()
	if err != nil {
		return err
	}
	ts := &auth.TokenSource{URL: d.URL + "/oauth/token", Key: d.clients["portal"], ClientID: "portal"}
	token, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	out := d.Opts.Out
	hubCmd := "go run ./cmd/hub"
	fmt.Fprintf(out, "\nverihub demo is running at %s\n", d.URL)
	fmt.Fprintf(out, "  console        %s/admin/  (log in with %s)\n", d.URL, filepath.Join(d.KeyDir, "admin.jwk"))
	fmt.Fprintf(out, "  public keys    %s/.well-known/jwks.json\n", d.URL)
	fmt.Fprintf(out, "  demo clients   %s/{portal,admin,agency-*}.jwk\n\n", d.KeyDir)
	fmt.Fprintf(out, "Get an access token as the demo portal:\n\n  TOKEN=$(%s token --key %s --url %s)\n\n", hubCmd, filepath.Join(d.KeyDir, "portal.jwk"), d.URL)
	for i, ex := range exs {
		body, _ := json.Marshal(ex.body)
		resp, err := verify(ctx, d.URL, token, body)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%d. %s\n\n  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n    -d '%s' \\\n    %s/v1/verifications\n\n",
			i+1, ex.title, body, d.URL)
		fmt.Fprintf(out, "  → decision %s, amount %s (expected %s, %s)\n", resp.Decision, yuan(resp.AmountFen), ex.want.Decision, yuan(ex.want.AmountFen))
		for _, c := range resp.Checks {
			mark := "✓"
			switch c.Result {
			case contracts.CheckFail:
				mark = "✗"
			case contracts.CheckUnknown:
				mark = "?"
			}
			fmt.Fprintf(out, "     %s %-22s %s\n", mark, c.ID, c.Detail)
		}
		fmt.Fprintln(out)
		if i == 0 {
			fmt.Fprintf(out, "  Verify the signed result offline (any JOSE library can; this is ours):\n\n    %s verify-token --jwks %s/.well-known/jwks.json <token>\n\n", hubCmd, d.URL)
		}
	}
	fmt.Fprintf(out, "Screening (免申即享): every enterprise that already qualifies, no application:\n\n  curl -s -H \"Authorization: Bearer $TOKEN\" '%s/v1/programs/jrr-2021/candidates?year=2021&limit=5'\n\n", d.URL)
	fmt.Fprintf(out, "Press Ctrl-C to stop; data stays in %s for the next run.\n", d.Opts.DataDir)
	return nil
}

type verification struct {
	Token     string                  `json:"token"`
	Decision  string                  `json:"decision"`
	AmountFen int64                   `json:"amount_fen"`
	Checks    []contracts.CheckResult `json:"checks"`
}

func verify(ctx context.Context, base, token string, body []byte) (verification, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/verifications", bytes.NewReader(body))
	if err != nil {
		return verification{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return verification{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode != http.StatusOK {
		return verification{}, fmt.Errorf("verification: %s: %s", resp.Status, b)
	}
	var v verification
	return v, json.Unmarshal(b, &v)
}

func (d *Demo) examples() ([]example, error) {
	f, err := os.Open(filepath.Join(d.GenDir, synthetic.FileChecks))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var eligible, ineligible, skill *synthetic.Expected
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() && (eligible == nil || ineligible == nil || skill == nil) {
		var ec synthetic.ExpectedChecks
		if err := json.Unmarshal(sc.Bytes(), &ec); err != nil {
			return nil, err
		}
		e := ec.Expected
		fails, unknowns := 0, 0
		for _, c := range ec.Checks {
			switch c.Outcome {
			case contracts.CheckFail:
				fails++
			case contracts.CheckUnknown:
				unknowns++
			}
		}
		switch {
		case eligible == nil && e.Program == "jrr-2021" && e.Params.Year == 2021 && e.Decision == contracts.DecisionEligible:
			eligible = &e
		case ineligible == nil && e.Program == "jrr-2019" && e.Decision == contracts.DecisionIneligible && fails == 1 && unknowns == 0:
			// An enterprise whose data is complete and fails exactly one check.
			ineligible = &e
		case skill == nil && e.Program == "sus-2019" && e.Decision == contracts.DecisionEligible:
			skill = &e
		}
	}
	if eligible == nil || ineligible == nil || skill == nil {
		return nil, errors.New("the generated data has no example of each kind")
	}
	return []example{
		{"An enterprise that qualifies for the 2021 job-stabilization refund (稳岗返还, 人社部发〔2021〕29号):",
			map[string]any{"program": "jrr-2021", "subject": map[string]string{"uscc": eligible.Subject.USCC}, "params": map[string]any{"year": 2021}}, *eligible},
		{"An enterprise that does not qualify for the 2019 refund, with the check it fails:",
			map[string]any{"program": "jrr-2019", "subject": map[string]string{"uscc": ineligible.Subject.USCC}, "params": map[string]any{"year": 2019}}, *ineligible},
		{"A worker's skill-upgrade subsidy (技能提升补贴) for a certificate:",
			map[string]any{"program": "sus-2019", "subject": map[string]string{"id_number": skill.Subject.IDNumber},
				"params": map[string]any{"certificate_no": skill.Params.CertificateNo, "application_date": skill.Params.ApplicationDate}}, *skill},
	}, nil
}

func yuan(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }
