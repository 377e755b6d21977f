package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/signing"
)

func runHub(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestKeysAndVerifyToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if code, _, stderr := runHub("keys", "generate", "--dir", dir); code != 0 {
		t.Fatalf("generate: %d %s", code, stderr)
	}
	if code, _, _ := runHub("keys", "generate", "--dir", dir); code != 1 {
		t.Errorf("second generate: exit %d, want 1", code)
	}
	s, err := signing.NewSigner(signing.Config{Dir: dir, Issuer: "https://hub.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(contracts.ResultClaims{Audience: "p", Subject: "uscc:91350100M000100Y43", Program: "jrr-2021", Decision: contracts.DecisionEligible, AmountFen: 42})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runHub("keys", "rotate", "--dir", dir); code != 0 || !strings.Contains(out, "active key") {
		t.Fatalf("rotate: %d %s %s", code, out, stderr)
	}
	code, out, _ := runHub("keys", "list", "--dir", dir)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "retired") {
		t.Errorf("list: %d %q", code, out)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	b, _ := json.Marshal(s.PublicKeys())
	if err := os.WriteFile(jwksFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.JWKSHandler())
	defer srv.Close()
	for _, jwks := range []string{jwksFile, srv.URL} {
		code, out, stderr := runHub("verify-token", "--jwks", jwks, tok)
		if code != 0 {
			t.Fatalf("verify-token %s: %d %s", jwks, code, stderr)
		}
		var claims map[string]any
		if err := json.Unmarshal([]byte(out), &claims); err != nil || claims["amount_fen"] != float64(42) {
			t.Errorf("printed %s (%v)", out, err)
		}
	}
	if code, _, _ := runHub("verify-token", "--jwks", jwksFile, tok[:len(tok)-3]+"AAA"); code != 1 {
		t.Errorf("tampered token: exit %d, want 1", code)
	}
	if code, _, _ := runHub("verify-token", tok); code != 2 {
		t.Errorf("no --jwks: exit %d, want 2", code)
	}
}

func TestToken(t *testing.T) {
	f := newAuthFixture(t, auth.ClientConfig{ID: "portal-demo", Role: auth.RolePortal, Programs: []string{"*"}})
	f.Srv.Config.Handler = f.Auth.TokenHandler()
	srv, a, keyFile := f.Srv, f.Auth, f.KeyFile
	code, out, stderr := runHub("token", "--key", keyFile, "--url", srv.URL+"/")
	if code != 0 {
		t.Fatalf("token: %d %s", code, stderr)
	}
	id, err := a.Check(context.Background(), strings.TrimSpace(out))
	if err != nil || id.ClientID != "portal-demo" {
		t.Errorf("printed token checks as %+v, %v", id, err)
	}
	if code, _, stderr := runHub("token", "--key", keyFile, "--url", srv.URL, "--client", "someone-else"); code != 1 || !strings.Contains(stderr, "unknown_client") {
		t.Errorf("--client someone-else: %d %s", code, stderr)
	}
}
