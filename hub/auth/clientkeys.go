package auth

import (
	"context"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/contracts"
)

// ClientKeys returns the public keys registered for a client — its configured keys,
// or the cached copy of its JWKS URL — so that what it signs besides its assertions
// (pushed batches) is verified with the same keys. The set must not be modified. An
// unregistered client is contracts.ErrNotFound; a JWKS URL that cannot be fetched (or
// Run not started within 5s) is contracts.ErrUnavailable.
func (a *Authority) ClientKeys(ctx context.Context, clientID string) (jwk.Set, error) {
	return a.publicKeys(ctx, clientID, false)
}

// RefreshClientKeys is ClientKeys after asking for a fresh copy of a JWKS URL (at most
// once a minute per client; more often it returns the cached copy), for a kid the
// cached copy does not have because the client rotated its keys since.
func (a *Authority) RefreshClientKeys(ctx context.Context, clientID string) (jwk.Set, error) {
	return a.publicKeys(ctx, clientID, true)
}

func (a *Authority) publicKeys(ctx context.Context, clientID string, refresh bool) (jwk.Set, error) {
	c, ok := a.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("keys of client %q: %w", trunc(clientID), contracts.ErrNotFound)
	}
	return a.clientKeys(ctx, c, refresh)
}
