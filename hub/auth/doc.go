// Package auth authenticates the hub's clients — subsidy portals, agencies and
// administrators — and authorises their requests.
//
// Clients are registered in configuration with public keys only (no shared secrets).
// A client proves itself at POST /oauth/token with an RFC 7523 private_key_jwt
// assertion under the RFC 6749 client-credentials grant; every refusal carries an
// RFC 6749 error name and a stable code, and an assertion is accepted once only,
// across every hub process sharing the replay store.
//
// The access token it gets is self-contained and MACed with a secret all hub
// processes share, so checking it on a request costs an HMAC and a map lookup rather
// than a signature verification or a round trip. Revocation is per client ("every
// token issued to this client up to now"), written to the shared state store and
// picked up by every process within Config.RevocationRefresh.
//
// Require wraps handlers: it authenticates the bearer, applies the per-client rate
// limit, enforces role and scope, and puts the caller's Identity in the context.
package auth
