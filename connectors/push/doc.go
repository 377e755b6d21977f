// Package push is the agency side and the hub side of signed push feeds
// (POST /v1/feeds/{agency}, SPEC §3).
//
// A batch is a compact JWS whose payload is {"batch_id", "records": [envelope…]},
// signed with the pushing client's private key. Sign makes one; Verify checks one
// against the caller's registered public keys and returns the batch with its records
// still raw — validating them is the ingest edge's job, not this package's. Every
// refusal is an *Error with a stable code.
//
// Client reads an NDJSON file, cuts it into batches, signs and posts each, retrying
// transport failures, 5xx and 429 with backoff. Retrying is safe because a batch id
// is derived from the file's content: a re-sent batch, or a re-run of the same file,
// carries the same id, and the hub answers a known id with its first receipt.
//
// The package imports nothing from the hub.
package push
