// Package pull speaks the agency pull API (SPEC §3):
//
//	GET {base}/api/v1/records?type=T&since=CURSOR&limit=N
//	Authorization: Bearer <token>
//	→ {"records": [envelope…], "next": CURSOR, "has_more": bool}
//
// It defines the Source contract every pull connector implements and Client, the
// retrying HTTP client (go-retryablehttp) that agency sources are built on. Cursors are
// opaque to this package: they are whatever the agency returned as "next".
package pull

import (
	"context"
	"encoding/json"
)

// Page is one answer of the pull API.
type Page struct {
	// Records are the raw envelopes, as the agency sent them; they are not validated.
	Records []json.RawMessage
	// Next is the cursor to ask for the following page. It is never empty when the
	// request succeeded (an agency that sends none is answered with the request's
	// own cursor, so the caller stays where it was).
	Next string
	// HasMore reports that the agency has more records after Next right now.
	HasMore bool
	// Remaining is how many records of this type the agency still holds after Next,
	// or -1 when the agency does not say.
	Remaining int64
}

// Source reads one agency's records, one page at a time.
//
// Promises:
//   - Connect prepares the source (reads credentials, checks the configuration). It
//     may be called again after Close or after a failure; it does not block on the
//     network beyond ctx.
//   - Fetch returns the page of recordType that follows cursor ("" = from the
//     beginning), at most limit records. It does not advance any state: calling it
//     again with the same cursor reads the same records again (or more, if the agency
//     appended). Transient faults (5xx, timeouts, truncated bodies) are retried inside
//     Fetch; an error means the retries ran out, ctx ended, or the fault is permanent
//     (then it matches contracts.ErrUnauthorized, contracts.ErrForbidden or
//     contracts.ErrInvalidRecord for a request the agency refused as malformed).
//   - Types lists the record types the source pulls, in pull order; it never changes.
//   - Close releases idle connections; it is safe to call more than once.
//
// A Source is used by one goroutine at a time.
type Source interface {
	Types() []string
	Connect(ctx context.Context) error
	Fetch(ctx context.Context, recordType, cursor string, limit int) (Page, error)
	Close() error
}
