package deploy

import (
	"crypto"
	"crypto/ecdsa"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// TestDockerfile checks the image recipe without a container engine: a static
// CGO-free build of ./cmd/hub, a distroless final stage running as a numeric non-root
// user, and a health check that uses a hub subcommand against a hub route.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	stages := regexp.MustCompile(`(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?`).FindAllStringSubmatch(src, -1)
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, found %d stages", len(stages))
	}
	if !strings.HasPrefix(stages[0][1], "golang:") {
		t.Errorf("build stage from %s, want golang", stages[0][1])
	}
	final := stages[len(stages)-1]
	names := map[string]string{}
	for _, s := range stages {
		names[s[2]] = s[1]
	}
	base := final[1]
	for names[base] != "" { // FROM runtime → the runtime stage's base
		base = names[base]
	}
	if !strings.HasPrefix(base, "gcr.io/distroless/static") || !strings.Contains(base, "nonroot") {
		t.Errorf("final image from %s, want distroless static nonroot", base)
	}
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/hub", "USER 65532:65532", "EXPOSE 8080"} {
		if !strings.Contains(src, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if _, err := os.Stat("../cmd/hub/main.go"); err != nil {
		t.Errorf("the build target ./cmd/hub: %v", err)
	}
	hc := regexp.MustCompile(`(?s)HEALTHCHECK.*?CMD \["/usr/local/bin/hub", "probe", "http://127\.0\.0\.1:8080(/\w+)"\]`).FindStringSubmatch(src)
	if hc == nil {
		t.Fatal("no HEALTHCHECK running hub probe on port 8080")
	}
	if !hubRoutes(t)[hc[1]] || hc[1] != "/healthz" {
		t.Errorf("HEALTHCHECK probes %s, want /healthz", hc[1])
	}
	checkHubCommand(t, "HEALTHCHECK", []string{"probe"})
}

// TestComposeSecretsScript runs compose-secrets.sh and checks its client keys: the
// private JWK carries its client_id, and the public JWK is its public half.
func TestComposeSecretsScript(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "xxd", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found", tool)
		}
	}
	dir := filepath.Join(t.TempDir(), "secrets")
	for range 2 { // the second run keeps what exists
		if out, err := exec.Command("bash", "compose-secrets.sh", dir).CombinedOutput(); err != nil {
			t.Fatalf("compose-secrets.sh: %v\n%s", err, out)
		}
	}
	for _, f := range []string{"pii.key", "access.key", "redis_password"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(strings.TrimSpace(string(b))); n < 32 {
			t.Errorf("%s: %d bytes", f, n)
		}
	}
	for _, c := range []struct{ name, id string }{{"portal", "demo-portal"}, {"admin", "demo-admin"}} {
		privB, err := os.ReadFile(filepath.Join(dir, c.name+".jwk"))
		if err != nil {
			t.Fatal(err)
		}
		priv, err := jwk.ParseKey(privB)
		if err != nil {
			t.Fatalf("%s.jwk: %v", c.name, err)
		}
		id, _ := priv.Get("client_id")
		if id != c.id {
			t.Errorf("%s.jwk: client_id %q, want %q", c.name, id, c.id)
		}
		var raw ecdsa.PrivateKey
		if err := priv.Raw(&raw); err != nil {
			t.Fatalf("%s.jwk: %v", c.name, err)
		}
		// The public point must be d·G: ECDH derives it from d alone.
		fromD, err := raw.ECDH()
		if err != nil {
			t.Fatalf("%s.jwk: %v", c.name, err)
		}
		stated, err := raw.PublicKey.ECDH()
		if err != nil {
			t.Fatalf("%s.jwk: x, y: %v", c.name, err)
		}
		if !fromD.PublicKey().Equal(stated) {
			t.Errorf("%s.jwk: x, y are not the public key of d", c.name)
		}
		pubB, err := os.ReadFile(filepath.Join(dir, c.name+".pub.jwk"))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := jwk.ParseKey(pubB)
		if err != nil {
			t.Fatal(err)
		}
		if isPriv, _ := jwk.IsPrivateKey(pub); isPriv {
			t.Errorf("%s.pub.jwk holds a private key", c.name)
		}
		want, _ := priv.PublicKey()
		tw, _ := want.Thumbprint(crypto.SHA256)
		tp, _ := pub.Thumbprint(crypto.SHA256)
		if string(tw) != string(tp) {
			t.Errorf("%s.pub.jwk is not the public half of %s.jwk", c.name, c.name)
		}
	}
}
