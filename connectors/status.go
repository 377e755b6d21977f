package connectors

import "time"

// State is where a connector is in its life cycle.
type State string

// Connector states. A connector starts, runs (degraded while a request is being
// retried), may be paused by an operator, and fails when a fault outlasts its retries or
// cannot be retried; a failed connector restarts by itself after a backoff. Stopped
// means its Run has returned.
const (
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateDegraded State = "degraded"
	StatePaused   State = "paused"
	StateFailed   State = "failed"
	StateStopped  State = "stopped"
)

// Status is a snapshot of one connector, for the admin API and console.
type Status struct {
	Name   string `json:"name"`
	Agency string `json:"agency"`
	State  State  `json:"state"`
	// LastSuccess is when a page was last fetched and fully handled.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError and LastErrorAt keep the latest fault (retried or fatal) even after
	// the connector recovered; the time says whether it is current.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// RecordsRead counts records received (duplicates included); Published and
	// Rejected count what was handed to the sink.
	RecordsRead int64 `json:"records_read"`
	Published   int64 `json:"published"`
	Rejected    int64 `json:"rejected"`
	// Warnings counts records accepted with a warning.
	Warnings int64 `json:"warnings"`
	// PagesRetried counts retried page requests (each retry attempt counts once).
	PagesRetried int64 `json:"pages_retried"`
	// Restarts counts automatic restarts after a failure.
	Restarts int64 `json:"restarts"`
	// NextRestart is when a failed connector will restart.
	NextRestart time.Time `json:"next_restart,omitzero"`
	// Cursor is the stored cursor per record type.
	Cursor map[string]string `json:"cursor"`
	// Lag is how many records the agency says remain after the cursors, or -1 when
	// the agency does not say.
	Lag int64 `json:"lag"`
	// LastLatency is how long the last successful fetch took, retries included.
	LastLatency time.Duration `json:"last_latency_ns"`
}
