package api

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
)

// TestServedTokensVerifyInOtherLanguages takes result tokens as a portal gets them —
// from POST /v1/verifications over HTTP, with the JWKS from /.well-known/jwks.json —
// and has PyJWT, Node's jose and Java's nimbus-jose-jwt verify them; a token with one
// payload byte changed must fail in all three.
func TestServedTokensVerifyInOtherLanguages(t *testing.T) {
	dir := os.Getenv("VERIHUB_INTEROP_DIR")
	if dir == "" {
		t.Skip("VERIHUB_INTEROP_DIR is unset: run deploy/dev/interop.sh and set VERIHUB_INTEROP_DIR=${STATE:-$HOME/.cache/verihub-dev}/interop")
	}
	f := newAPIFixture(t)
	enterprise := f.find(t, "an eligible enterprise", func(e synthetic.Expected) bool {
		return e.Subject.USCC != "" && e.Decision == contracts.DecisionEligible
	})
	person := f.find(t, "a person", func(e synthetic.Expected) bool { return e.Subject.IDNumber != "" })
	var tokens []string
	for _, e := range []synthetic.Expected{enterprise, person} {
		res := f.postJSON(t, clientAll, "/v1/verifications", requestOf(e))
		if res.status != http.StatusOK {
			t.Fatalf("verification: %d %s", res.status, res.body)
		}
		var v VerificationResponse
		if err := json.Unmarshal(res.body, &v); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, v.Token)
	}
	jwks := f.do(t, "", http.MethodGet, "/.well-known/jwks.json", "", nil)
	jwksPath := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksPath, jwks.body, 0o644); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Abs(filepath.Join("..", "signing", "interop"))
	verifiers := map[string]func(tok string) []string{
		"python-pyjwt": func(tok string) []string {
			return []string{filepath.Join(dir, "py", "bin", "python"), filepath.Join(src, "verify.py"), jwksPath, tok}
		},
		"node-jose": func(tok string) []string { return []string{"node", filepath.Join(src, "verify.mjs"), jwksPath, tok} },
		"java-nimbus": func(tok string) []string {
			return []string{"java", "-cp", filepath.Join(dir, "java", "lib", "*"), filepath.Join(src, "Verify.java"), jwksPath, tok}
		},
	}
	tampered := tamper(tokens[0])
	for name, argv := range verifiers {
		t.Run(name, func(t *testing.T) {
			for i, tok := range tokens {
				a := argv(tok)
				out, err := exec.Command(a[0], a[1:]...).CombinedOutput()
				if err != nil {
					t.Fatalf("token %d refused: %v\n%s", i, err, out)
				}
				if !strings.Contains(string(out), `"program"`) {
					t.Errorf("token %d: verifier printed no claims:\n%s", i, out)
				}
			}
			a := argv(tampered)
			if out, err := exec.Command(a[0], a[1:]...).CombinedOutput(); err == nil {
				t.Errorf("tampered token accepted:\n%s", out)
			}
		})
	}
}

// tamper flips one character in the middle of a compact JWS's payload.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}
