// Package signing keeps the hub's result-signing keys and signs and verifies
// verification results.
//
// Keys live in a directory: one EC P-256 private key per file (mode 0600) and a
// manifest naming the active key and the retired ones. Results are compact JWS,
// ES256, with the key's RFC 7638 thumbprint as kid, so any standard JOSE library can
// verify them with the key set published at /.well-known/jwks.json.
//
// Rotation never breaks an issued token: a retired key stays in the published set
// until every token it signed has expired (its retirement time plus the key set's
// maximum token lifetime), and a Signer refuses a lifetime longer than that maximum.
package signing
