package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/hub/auth"
)

// runToken signs a client assertion with a private JWK, exchanges it at the hub's
// /oauth/token and prints the access token.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "private JWK file (its client_id member names the client)")
	hubURL := fs.String("url", "", "hub base URL, e.g. http://127.0.0.1:8080")
	clientID := fs.String("client", "", "client id (default: the key's client_id member)")
	scope := fs.String("scope", "", "space-separated scopes to ask for (default: all the client may hold)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *keyFile == "" || *hubURL == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: hub token --key JWK_FILE --url HUB_URL [--client ID]", errUsage)
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("reading key: %w", err)
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return fmt.Errorf("reading key %q: %w", *keyFile, err)
	}
	if ok, _ := jwk.IsPrivateKey(key); !ok {
		return fmt.Errorf("key %q is not a private key", *keyFile)
	}
	id := *clientID
	if id == "" {
		id = auth.ClientIDOf(key)
	}
	if id == "" {
		return fmt.Errorf("%w: key %q has no client_id member; pass --client", errUsage, *keyFile)
	}
	tokenURL := strings.TrimRight(*hubURL, "/") + "/oauth/token"
	tr, err := auth.FetchToken(ctx, &http.Client{Timeout: 30 * time.Second}, tokenURL, key, id, *scope)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tr.AccessToken)
	return nil
}
