package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/contracts"
)

func TestClientKeys(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t)
	run(t, a)
	ctx := context.Background()
	cases := []struct {
		client string
		kids   []string // expected kids; "" for a key registered without one
		err    error
	}{
		{"portal-two", []string{"k1", "k2"}, nil},
		{"portal-sz", []string{""}, nil},
		{"agency-tax", []string{"tax-2026"}, nil},
		{"nobody", nil, contracts.ErrNotFound},
	}
	for _, c := range cases {
		set, err := a.ClientKeys(ctx, c.client)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.client, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if set.Len() != len(c.kids) {
			t.Errorf("%s: %d keys, want %d", c.client, set.Len(), len(c.kids))
			continue
		}
		for i, kid := range c.kids {
			k, _ := set.Key(i)
			if k.KeyID() != kid {
				t.Errorf("%s: key %d kid %q, want %q", c.client, i, k.KeyID(), kid)
			}
			if priv, _ := jwk.IsPrivateKey(k); priv {
				t.Errorf("%s: a private key", c.client)
			}
		}
	}

	// The agency rotates: ClientKeys keeps the cached copy, RefreshClientKeys
	// fetches the new one.
	next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := privateKey(t, next, "tax-2027").PublicKey()
	served := jwk.NewSet()
	_ = served.AddKey(pub)
	f.mu.Lock()
	f.served = served
	f.mu.Unlock()
	if set, _ := a.ClientKeys(ctx, "agency-tax"); set == nil || !hasKID(set, "tax-2026") {
		t.Errorf("cached copy lost")
	}
	set, err := a.RefreshClientKeys(ctx, "agency-tax")
	if err != nil || !hasKID(set, "tax-2027") {
		t.Errorf("after refresh: %v, has tax-2027 %v", err, set != nil && hasKID(set, "tax-2027"))
	}
}

func hasKID(set jwk.Set, kid string) bool {
	_, ok := set.LookupKeyID(kid)
	return ok
}
