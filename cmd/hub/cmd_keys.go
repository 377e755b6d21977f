package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/verihub/verihub/hub/signing"
)

// runKeys manages the result-signing key set: hub keys generate|rotate|list --dir DIR.
func runKeys(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: hub keys generate|rotate|list --dir DIR", errUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("keys "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "key set directory")
	maxLifetime := fs.Duration("max-token-lifetime", signing.DefaultMaxTokenLifetime, "generate: longest lifetime of a signed token (how long a retired key stays published)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *dir == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: hub keys %s --dir DIR", errUsage, verb)
	}
	switch verb {
	case "generate":
		k, err := signing.Generate(*dir, *maxLifetime)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "generated key set in %s; active key %s\n", *dir, k.KID)
	case "rotate":
		k, err := signing.Rotate(*dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rotated: active key %s; the previous key stays published until its tokens expire\n", k.KID)
	case "list":
		keys, err := signing.List(*dir)
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "active"
			if !k.Active() {
				state = "retired " + k.RetiredAt.Format(time.RFC3339) + ", published until " + k.DropsAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\tcreated %s\t%s\n", k.KID, k.CreatedAt.Format(time.RFC3339), state)
		}
	default:
		return fmt.Errorf("%w: unknown keys command %q (generate, rotate, list)", errUsage, verb)
	}
	return nil
}
