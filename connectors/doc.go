// Package connectors pulls agency data into the hub reliably. An agency package
// (socialinsurance, tax, certification, environment, creditlist) supplies a Source for
// its pull API; this package owns everything that makes pulling safe:
//
//   - every record is validated; accepted records go to Sink.Publish and refused ones
//     to Sink.Reject, never dropped;
//   - a page's cursor is stored (CursorStore) only after the page was published and
//     its rejects recorded, so the stored cursor is never ahead of published data and a
//     restart resumes at the last stored cursor (records after it may be read again;
//     the sink's apply is idempotent);
//   - transient faults are retried with exponential backoff and jitter, honouring
//     Retry-After, with a per-request timeout and a per-connector rate limit;
//   - each connector runs a state machine (starting, running, degraded, paused,
//     failed) and restarts itself after a failure, with backoff;
//   - a Manager runs many connectors, reports their Status and applies pause, resume
//     and sync by name; metrics go to a registry the caller passes.
//
// Agency packages are listed explicitly in all.go.
package connectors
