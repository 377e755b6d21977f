package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/hub"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/signing"
	"github.com/verihub/verihub/matching/boltstore"
)

// rootedPrefixes are the absolute directories the shipped configurations name; a test
// moves them under a temporary directory.
var rootedPrefixes = []string{"/etc/verihub/", "/run/secrets/", "/var/run/verihub/", "/var/lib/verihub"}

// namedConfig is one hub configuration shipped in deploy/.
type namedConfig struct {
	name string
	yaml []byte
}

// shippedConfigs returns every file in config/ and every *.yaml key of the
// Kubernetes ConfigMaps.
func shippedConfigs(t *testing.T) []namedConfig {
	t.Helper()
	files, err := filepath.Glob("config/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configurations in config/: %v", err)
	}
	var out []namedConfig
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, namedConfig{f, b})
	}
	for _, doc := range k8sDocs(t) {
		if doc.Kind != "ConfigMap" {
			continue
		}
		for key, v := range doc.Data {
			if strings.HasSuffix(key, ".yaml") {
				out = append(out, namedConfig{doc.file + ":" + doc.Metadata.Name + "/" + key, []byte(v)})
			}
		}
	}
	return out
}

// materialize rewrites the configuration's absolute paths under root.
func materialize(b []byte, root string) []byte {
	s := string(b)
	for _, p := range rootedPrefixes {
		s = strings.ReplaceAll(s, p, root+p)
	}
	return []byte(s)
}

// provide creates every secret, token, client key and signing key set cfg names,
// and sets the environment variables it names.
func provide(t *testing.T, cfg hub.Config) {
	t.Helper()
	secret := func(path string) {
		writeFile(t, path, fmt.Sprintf("%x\n", randomBytes(t, 32)), 0o600)
	}
	setEnv := func(name string) { t.Setenv(name, fmt.Sprintf("%x", randomBytes(t, 32))) }
	if cfg.PII.SecretFile != "" {
		secret(cfg.PII.SecretFile)
	} else {
		setEnv(cfg.PII.SecretEnv)
	}
	if cfg.Auth.SecretFile != "" {
		secret(cfg.Auth.SecretFile)
	} else {
		setEnv(cfg.Auth.SecretEnv)
	}
	if cfg.Store.RedisPasswordEnv != "" {
		setEnv(cfg.Store.RedisPasswordEnv)
	}
	if cfg.Store.Redis.PasswordFile != "" {
		secret(cfg.Store.Redis.PasswordFile)
	}
	for _, c := range cfg.Connectors {
		if c.TokenFile != "" {
			writeFile(t, c.TokenFile, "demo-"+c.Agency+"\n", 0o600)
		} else {
			t.Setenv(c.TokenEnv, "demo-"+c.Agency)
		}
	}
	for _, cl := range cfg.Auth.Clients {
		for _, f := range cl.KeyFiles {
			writeFile(t, f, publicJWK(t, cl.ID), 0o644)
		}
	}
	if _, err := signing.Generate(cfg.Signing.Dir, 0); err != nil {
		t.Fatalf("generating the signing key set in %s: %v", cfg.Signing.Dir, err)
	}
}

// TestConfigsLoadAndWouldStart runs hub.LoadConfig (what hub check-config and hub
// serve do) on every shipped configuration, then reads what it names the way the hub
// does at start: secrets, tokens, client keys (public only) and the signing key set.
func TestConfigsLoadAndWouldStart(t *testing.T) {
	for _, nc := range shippedConfigs(t) {
		t.Run(nc.name, func(t *testing.T) {
			root := t.TempDir()
			t.Chdir(root) // relative paths (embedded.yaml) land in root too
			path := filepath.Join(root, "hub.yaml")
			writeFile(t, path, string(materialize(nc.yaml, root)), 0o644)
			cfg, err := hub.LoadConfig(path)
			if err != nil {
				t.Fatalf("hub check-config would fail: %v", err)
			}
			provide(t, cfg)

			if _, err := cfg.Auth.Secret(); err != nil {
				t.Errorf("access-token secret: %v", err)
			}
			if n := len(piiSecret(t, cfg.PII)); n < 32 {
				t.Errorf("pii secret: %d bytes", n)
			}
			for _, c := range cfg.Connectors {
				if _, err := c.Token(); err != nil {
					t.Errorf("connector %s token: %v", c.Name, err)
				}
			}
			state, err := boltstore.Open(context.Background(), boltstore.Config{Dir: filepath.Join(root, "state")})
			if err != nil {
				t.Fatal(err)
			}
			defer state.Close()
			if _, err := auth.New(cfg.Auth, auth.Deps{State: state}); err != nil {
				t.Errorf("auth (client registry and keys): %v", err)
			}
			if _, err := signing.NewSigner(cfg.Signing, nil); err != nil {
				t.Errorf("signing: %v", err)
			}
			if !cfg.Bus.IsEmbedded() && cfg.Store.Kind != "redis" {
				t.Errorf("a distributed configuration must use the redis store, has %q", cfg.Store.Kind)
			}
		})
	}
}

// TestConfigsRejectMistakes shows the load above is strict: each mutation of a
// shipped configuration must fail.
func TestConfigsRejectMistakes(t *testing.T) {
	base, err := os.ReadFile("config/distributed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
	}{
		{"unknown key", "data_dir:", "data_dirr:"},
		{"embedded store on Kafka", "kind: redis", "kind: embedded"},
		{"min ISR above replication", "min_insync_replicas: 2", "min_insync_replicas: 4"},
		{"unknown rule parameter", "sme_percent: 60", "sme_pct: 60"},
		{"unknown agency", "agency: tax", "agency: customs"},
		{"inline-free token missing", "token_env: VERIHUB_TAX_TOKEN", "page_size: 10"},
		{"profiles served beyond loopback", "  addr: 0.0.0.0:8080", "  addr: 0.0.0.0:8080\n  debug_addr: 0.0.0.0:6060"},
		{"profiles on a host name", "  addr: 0.0.0.0:8080", "  addr: 0.0.0.0:8080\n  debug_addr: localhost:6060"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(base), tt.old) {
				t.Fatalf("distributed.yaml no longer contains %q", tt.old)
			}
			_, err := hub.ParseConfig([]byte(strings.Replace(string(base), tt.old, tt.new, 1)))
			if err == nil {
				t.Fatal("loaded without error")
			}
		})
	}
	if _, err := hub.ParseConfig([]byte(strings.Replace(string(base), "  addr: 0.0.0.0:8080", "  addr: 0.0.0.0:8080\n  debug_addr: 127.0.0.1:6060", 1))); err != nil {
		t.Errorf("a loopback debug_addr: %v", err)
	}
}

// TestConfigPairsDifferOnlyInConnectors: the process that pulls and the ones that do
// not must otherwise be configured alike (same group, topics, secrets, clients).
func TestConfigPairsDifferOnlyInConnectors(t *testing.T) {
	all := map[string][]byte{}
	for _, nc := range shippedConfigs(t) {
		all[nc.name] = nc.yaml
	}
	pairs := [][2]string{
		{"config/compose-hub.yaml", "config/compose-hub-connectors.yaml"},
		{"k8s/configmap.yaml:verihub-config/hub.yaml", "k8s/configmap.yaml:verihub-config/connectors.yaml"},
	}
	for _, p := range pairs {
		a, b := all[p[0]], all[p[1]]
		if a == nil || b == nil {
			t.Fatalf("missing %s or %s", p[0], p[1])
		}
		ca, err := hub.ParseConfig(a)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := hub.ParseConfig(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(ca.Connectors) != 0 {
			t.Errorf("%s has connectors; only %s may pull", p[0], p[1])
		}
		if len(cb.Connectors) != 5 {
			t.Errorf("%s has %d connectors, want one per pull agency (5)", p[1], len(cb.Connectors))
		}
		ca.Connectors, cb.Connectors = nil, nil
		if !reflect.DeepEqual(ca, cb) {
			t.Errorf("%s and %s differ beyond connectors", p[0], p[1])
		}
	}
}

// TestEmbeddedConfigServes starts a hub from embedded.yaml (on free ports) and asks
// the routes the probes and Prometheus use.
func TestEmbeddedConfigServes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole embedded hub")
	}
	b, err := os.ReadFile("config/embedded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	t.Chdir(root)
	s := strings.NewReplacer("addr: 127.0.0.1:8080", "addr: 127.0.0.1:0", "addr: 127.0.0.1:29092", "addr: 127.0.0.1:0").Replace(string(b))
	cfg, err := hub.ParseConfig([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cfg.Auth.Clients {
		for _, f := range cl.KeyFiles {
			writeFile(t, f, publicJWK(t, cl.ID), 0o644)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app, err := hub.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("starting from embedded.yaml: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("stopping: %v", err)
		}
	}()
	base := "http://" + app.Addr()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		var code int
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if code, _ = get(p); code == http.StatusOK {
				break
			}
		}
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, name := range []string{"verihub_store_profiles", "verihub_http_requests_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func piiSecret(t *testing.T, ref hub.SecretRef) []byte {
	t.Helper()
	if ref.SecretEnv != "" {
		return []byte(os.Getenv(ref.SecretEnv))
	}
	b, err := os.ReadFile(ref.SecretFile)
	if err != nil {
		t.Fatalf("pii secret: %v", err)
	}
	return []byte(strings.TrimSpace(string(b)))
}

// publicJWK returns a fresh P-256 public key as a JWK.
func publicJWK(t *testing.T, kid string) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.FromRaw(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, "ES256")
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// yamlFile decodes a YAML file into v.
func yamlFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
