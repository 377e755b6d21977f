package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/hub/auth"
)

// runClientKey writes a new ES256 client key pair for a bench hub's configuration:
// the private JWK (with client_id, as hubbench --key reads it) to --out and the
// public JWK to --out.pub (for the client's key_files).
func runClientKey(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hubbench client-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("client-id", "", "client id")
	out := fs.String("out", "", "private JWK file to write (the public key goes to FILE.pub)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *id == "" || *out == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: hubbench client-key --client-id ID --out FILE", errUsage)
	}
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	priv, err := jwk.FromRaw(raw)
	if err != nil {
		return err
	}
	for k, v := range map[string]any{jwk.KeyIDKey: *id + "-1", jwk.AlgorithmKey: "ES256", auth.ClientIDMember: *id} {
		if err := priv.Set(k, v); err != nil {
			return err
		}
	}
	pub, err := priv.PublicKey()
	if err != nil {
		return err
	}
	for path, k := range map[string]jwk.Key{*out: priv, *out + ".pub": pub} {
		b, err := json.Marshal(k)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
