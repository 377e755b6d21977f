package connectors

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/connectors/connectorstest"
	"github.com/verihub/verihub/contracts"
)

func TestManagerRunsAllAgencies(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	sink := connectorstest.NewSink()
	cursors := connectorstest.NewCursors()
	m, err := NewManager(Deps{Sink: sink, Cursors: cursors, Validator: ValidatorFunc(connectorstest.Validate), Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	var hs []*harness
	for i, a := range Agencies() {
		h := newHarness(t, a, 25, uint64(40+i))
		// All harnesses share one sink and cursor store, as in the hub.
		h.sink, h.cursors = sink, cursors
		hs = append(hs, h)
		if err := m.Add(h.config("pull-" + a.Name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Add(hs[0].config("pull-si")); !errors.Is(err, contracts.ErrConflict) {
		t.Errorf("adding a duplicate name: %v, want ErrConflict", err)
	}
	want := map[string]contracts.Envelope{}
	for _, h := range hs {
		for k, v := range h.want {
			want[k] = v
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	waitFor(t, 20*time.Second, "every agency's data", func() bool { return sink.Diff(want) == "" })

	sts := m.Statuses()
	var names []string
	for _, s := range sts {
		names = append(names, s.Name)
	}
	if want := []string{"pull-si", "pull-tax", "pull-cert", "pull-env", "pull-credit"}; !slices.Equal(names, want) {
		t.Errorf("Statuses order %v, want %v", names, want)
	}
	if err := m.Pause("pull-tax"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "pull-tax paused", func() bool {
		s, _ := m.Status("pull-tax")
		return s.State == StatePaused
	})
	if s, _ := m.Status("pull-si"); s.State == StatePaused {
		t.Errorf("pausing pull-tax paused pull-si")
	}
	if err := m.Resume("pull-tax"); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync("pull-tax"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(string) error{m.Pause, m.Resume, m.Sync} {
		if err := f("nope"); !errors.Is(err, contracts.ErrNotFound) {
			t.Errorf("control of an unknown connector: %v, want ErrNotFound", err)
		}
	}
	if _, err := m.Status("nope"); !errors.Is(err, contracts.ErrNotFound) {
		t.Errorf("Status of an unknown connector: %v, want ErrNotFound", err)
	}
	if err := m.Add(hs[0].config("late")); err == nil {
		t.Errorf("Add after Run succeeded")
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for _, n := range []string{"verihub_connector_records_total", "verihub_connector_state", "verihub_connector_fetch_seconds", "verihub_connector_lag_records"} {
		if !got[n] {
			t.Errorf("metric %s not registered", n)
		}
	}
	// The registry passed in is the only one used: registering again must conflict.
	if _, err := NewMetrics(reg); err == nil {
		t.Errorf("registering the metrics twice on one registry succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Name: "si-main", Agency: "si", BaseURL: "https://si.example.gov.cn", TokenEnv: "SI_TOKEN"}
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"good", func(*Config) {}, ""},
		{"bad name", func(c *Config) { c.Name = "SI Main" }, "name"},
		{"unknown agency", func(c *Config) { c.Agency = "grant" }, "agency"},
		{"bad url", func(c *Config) { c.BaseURL = "ftp://x" }, "base_url"},
		{"no token", func(c *Config) { c.TokenEnv = "" }, "token"},
		{"two tokens", func(c *Config) { c.TokenFile = "/run/secrets/si" }, "only one"},
		{"page too big", func(c *Config) { c.PageSize = 5000 }, "page_size"},
		{"foreign type", func(c *Config) { c.Types = []string{"tax.taxpayer"} }, "not a record type"},
		{"own type", func(c *Config) { c.Types = []string{"si.person"} }, ""},
		{"negative rate", func(c *Config) { c.RateLimit = -1 }, "rate_limit"},
		{"inverted retry waits", func(c *Config) { c.RetryWaitMin, c.RetryWaitMax = time.Minute, time.Second }, "retry_wait_max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
name: si-main
agency: si
base_url: https://si.example.gov.cn
token_file: /run/secrets/si-token
poll_interval: 45s
page_size: 200
timeout: 10s
rate_limit: 5
types: [si.employer, si.person]
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.PollInterval != 45*time.Second || c.Timeout != 10*time.Second || c.PageSize != 200 || c.RateLimit != 5 || len(c.Types) != 2 {
		t.Errorf("decoded %+v", c)
	}
	dec = yaml.NewDecoder(strings.NewReader(src + "token: inline-secret\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&Config{}); err == nil {
		t.Errorf("an inline token field was accepted")
	}
}

func TestConfigToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	os.WriteFile(file, []byte("  from-file \n"), 0o600)
	os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)
	t.Setenv("VERIHUB_TEST_TOK", "from-env")
	tests := []struct {
		cfg     Config
		want    string
		wantErr bool
	}{
		{Config{TokenEnv: "VERIHUB_TEST_TOK"}, "from-env", false},
		{Config{TokenEnv: "VERIHUB_TEST_UNSET_TOK"}, "", true},
		{Config{TokenFile: file}, "from-file", false},
		{Config{TokenFile: filepath.Join(dir, "empty")}, "", true},
		{Config{TokenFile: filepath.Join(dir, "missing")}, "", true},
		{Config{}, "", true},
	}
	for _, tt := range tests {
		got, err := tt.cfg.Token()
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Token(%+v) = %q, %v; want %q, error %v", tt.cfg, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestEveryAgencyPackageIsListed: a package directory under connectors/ is either an
// agency listed in all.go or one of the known non-agency packages.
func TestEveryAgencyPackageIsListed(t *testing.T) {
	notAgencies := map[string]bool{"pull": true, "simulator": true, "connectorstest": true, "synthetic": true, "push": true, "testdata": true}
	listed := map[string]bool{}
	for _, a := range Agencies() {
		listed[a.Package] = true
		if _, err := os.Stat(a.Package); err != nil {
			t.Errorf("agency %s lists package %q: %v", a.Name, a.Package, err)
		}
		if !slices.Contains(contracts.Agencies, a.Name) {
			t.Errorf("agency %q is not a contracts agency", a.Name)
		}
		for _, typ := range a.Types() {
			if contracts.AgencyOf(typ) != a.Name || !slices.Contains(contracts.RecordTypes, typ) {
				t.Errorf("agency %s pulls %q, not one of its record types", a.Name, typ)
			}
		}
		if s := a.NewSimulator("t", 1); s.Agency() != a.Name || !slices.Equal(s.Types(), a.Types()) {
			t.Errorf("agency %s simulator serves %s %v", a.Name, s.Agency(), s.Types())
		}
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || notAgencies[e.Name()] || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !listed[e.Name()] {
			t.Errorf("package connectors/%s is not listed in all.go", e.Name())
		}
	}
	// Every pulled record type is covered by exactly one agency.
	seen := map[string]string{}
	for _, a := range Agencies() {
		for _, typ := range a.Types() {
			if o, dup := seen[typ]; dup {
				t.Errorf("%s pulled by %s and %s", typ, o, a.Name)
			}
			seen[typ] = a.Name
		}
	}
	for _, typ := range contracts.RecordTypes {
		if _, ok := seen[typ]; !ok && contracts.AgencyOf(typ) != contracts.AgencyGrant {
			t.Errorf("record type %s is pulled by no agency", typ)
		}
	}
}
