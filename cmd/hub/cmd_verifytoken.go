package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/hub/signing"
)

// runVerifyToken verifies a result token offline against the hub's JWKS (a URL or a
// file) and prints its claims as JSON; an invalid token is exit status 1.
func runVerifyToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jwksArg := fs.String("jwks", "", "JWKS URL (e.g. HUB_URL/.well-known/jwks.json) or file")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *jwksArg == "" || fs.NArg() != 1 {
		return fmt.Errorf("%w: hub verify-token --jwks URL_OR_FILE TOKEN", errUsage)
	}
	var set jwk.Set
	var err error
	if strings.HasPrefix(*jwksArg, "http://") || strings.HasPrefix(*jwksArg, "https://") {
		set, err = jwk.Fetch(ctx, *jwksArg, jwk.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	} else {
		set, err = jwk.ReadFile(*jwksArg)
	}
	if err != nil {
		return fmt.Errorf("reading JWKS %q: %w", *jwksArg, err)
	}
	claims, err := signing.Verify(fs.Arg(0), set)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(claims)
}
