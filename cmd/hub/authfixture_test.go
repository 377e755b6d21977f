package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/matching/storetest"
)

// authFixture is one registered client: its private JWK written to KeyFile (with
// its client_id member, as `hub demo` writes them), an Authority that knows its
// public key, and a started server whose handler the test sets.
type authFixture struct {
	Srv     *httptest.Server
	Auth    *auth.Authority
	State   *storetest.Memory
	KeyFile string
}

func newAuthFixture(t *testing.T, client auth.ClientConfig) *authFixture {
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
	_ = priv.Set(auth.ClientIDMember, client.ID)
	pub, _ := priv.PublicKey()
	pubJSON, _ := json.Marshal(pub)
	var pubMap map[string]any
	_ = json.Unmarshal(pubJSON, &pubMap)
	delete(pubMap, auth.ClientIDMember)
	client.Keys = []map[string]any{pubMap}

	f := &authFixture{Srv: httptest.NewUnstartedServer(nil), State: storetest.NewMemory()}
	f.Srv.Start()
	t.Cleanup(f.Srv.Close)
	f.Auth, err = auth.New(auth.Config{TokenURL: f.Srv.URL + "/oauth/token", SecretEnv: "UNUSED", Clients: []auth.ClientConfig{client}},
		auth.Deps{State: f.State, Secret: bytes.Repeat([]byte("k"), 32)})
	if err != nil {
		t.Fatal(err)
	}
	f.KeyFile = filepath.Join(t.TempDir(), client.ID+".jwk")
	b, _ := json.Marshal(priv)
	if err := os.WriteFile(f.KeyFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
