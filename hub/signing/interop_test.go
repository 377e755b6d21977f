package signing

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// verifier is one third-party JOSE library's command line.
type verifier struct {
	name string
	argv func(dir, jwks, token string) []string
}

func interopVerifiers() []verifier {
	src, _ := filepath.Abs("interop")
	return []verifier{
		{"python-pyjwt", func(dir, jwks, tok string) []string {
			return []string{filepath.Join(dir, "py", "bin", "python"), filepath.Join(src, "verify.py"), jwks, tok}
		}},
		{"node-jose", func(_, jwks, tok string) []string {
			return []string{"node", filepath.Join(src, "verify.mjs"), jwks, tok}
		}},
		{"java-nimbus", func(dir, jwks, tok string) []string {
			return []string{"java", "-cp", filepath.Join(dir, "java", "lib", "*"), filepath.Join(src, "Verify.java"), jwks, tok}
		}},
	}
}

// TestInterop checks that Python, Node and Java JOSE libraries accept the hub's
// result tokens — before and after a rotation — and refuse tampered ones, ones signed
// by a key not in the JWKS, and expired ones.
func TestInterop(t *testing.T) {
	dir := os.Getenv("VERIHUB_INTEROP_DIR")
	if dir == "" {
		t.Skip("VERIHUB_INTEROP_DIR is unset: run deploy/dev/interop.sh and set VERIHUB_INTEROP_DIR=${STATE:-$HOME/.cache/verihub-dev}/interop")
	}
	keyDir := filepath.Join(t.TempDir(), "keys")
	if _, err := Generate(keyDir, 0); err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(Config{Dir: keyDir, Issuer: "https://hub.example.gov.cn"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	beforeRotation, err := s.Sign(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(keyDir); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	afterRotation, err := s.Sign(sampleClaims())
	if err != nil {
		t.Fatal(err)
	}
	expiredClaims := sampleClaims()
	expiredClaims.IssuedAt = time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	expiredClaims.ExpiresAt = expiredClaims.IssuedAt.Add(time.Hour)
	expired, err := s.Sign(expiredClaims)
	if err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(afterRotation, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	raised := strings.Replace(string(body), `"amount_fen":123456789`, `"amount_fen":923456789`, 1)
	if raised == string(body) {
		t.Fatal("tamper did not change the payload")
	}
	// Well-formed JSON with a valid encoding: only the signature can catch it.
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(raised)) + "." + parts[2]

	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, "not-in-the-set")
	_ = h.Set(jws.TypeKey, "JWT")
	payload, _ := json.Marshal(sampleClaimsAt(time.Now()))
	unknown, err := jws.Sign(payload, jws.WithKey(jwa.ES256, stranger, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}

	jwksPath := filepath.Join(t.TempDir(), "jwks.json")
	jwks, err := json.Marshal(s.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jwksPath, jwks, 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		token string
		valid bool
	}{
		{"signed before rotation", beforeRotation, true},
		{"signed after rotation", afterRotation, true},
		{"tampered payload", tampered, false},
		{"signed by an unknown key", string(unknown), false},
		{"expired", expired, false},
	}
	for _, v := range interopVerifiers() {
		t.Run(v.name, func(t *testing.T) {
			for _, tc := range cases {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				argv := v.argv(dir, jwksPath, tc.token)
				cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
				cmd.Env = append(os.Environ(), "VERIHUB_INTEROP_DIR="+dir)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				cancel()
				exit := 0
				if err != nil {
					ee, ok := err.(*exec.ExitError)
					if !ok {
						t.Fatalf("%s: running %v: %v", tc.name, argv[:2], err)
					}
					exit = ee.ExitCode()
				}
				switch {
				case tc.valid && exit != 0:
					t.Errorf("%s: exit %d, want 0; stderr: %s", tc.name, exit, stderr.String())
				case !tc.valid && exit != 1:
					t.Errorf("%s: exit %d, want 1; stdout: %s stderr: %s", tc.name, exit, stdout.String(), stderr.String())
				case tc.valid:
					var got map[string]any
					if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
						t.Errorf("%s: output is not JSON: %v: %s", tc.name, err, stdout.String())
					} else if got["program"] != "jrr-2021" || got["amount_fen"] != float64(123456789) || got["sub"] != "uscc:91350100M000100Y43" {
						t.Errorf("%s: payload = %v", tc.name, got)
					}
				}
			}
		})
	}
}

func sampleClaimsAt(now time.Time) any {
	c := sampleClaims()
	c.IssuedAt = now.Truncate(time.Second)
	c.ExpiresAt = c.IssuedAt.Add(time.Hour)
	return c
}
