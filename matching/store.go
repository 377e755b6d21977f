package matching

import (
	"context"
	"encoding/json"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Store holds subject profiles. Implementations: the embedded store (one machine) and
// redisstore (Redis standalone, Sentinel or Cluster). Both pass storetest.Run.
//
// Promises:
//   - Apply is atomic per subject: all of a subject's changes in the call are applied
//     together or not at all, and concurrent Apply calls from any number of processes
//     never interleave within a subject (the version check and the write are one step).
//   - Apply is idempotent: applying the same changes again, in any order, leaves the
//     same profiles (Profile.Apply's ordering decides).
//   - Apply returns only once the changes are durable; a nil error means every change
//     was applied, counted as duplicate, or counted as stale.
//   - Reads see every Apply that has returned.
//
// All methods are safe for concurrent use.
type Store interface {
	// Apply applies changes and returns how many were applied, duplicate and stale.
	Apply(ctx context.Context, changes []Change) (ApplyStats, error)
	// Profile returns one subject's profile, or an error matching contracts.ErrNotFound.
	Profile(ctx context.Context, subject string) (*Profile, error)
	// Profiles reads several subjects' profiles at once (one transaction, one round
	// trip): out[i] is subjects[i]'s profile, nil for a subject the store does not
	// know. Repeated subjects get the same *Profile; callers must not modify them.
	Profiles(ctx context.Context, subjects []string) ([]*Profile, error)
	// Scan calls fn for every profile of a kind, in no particular order, until fn
	// returns an error (which Scan returns) or the profiles run out.
	Scan(ctx context.Context, kind contracts.SubjectKind, fn func(*Profile) error) error
	// Count returns the number of profiles of a kind.
	Count(ctx context.Context, kind contracts.SubjectKind) (int64, error)
	// Close releases the store. It does not block on in-flight calls beyond their ctx.
	Close() error
}

// ApplyStats counts the outcomes of one Apply.
type ApplyStats struct {
	Applied, Duplicate, Stale int
}

// Add sums stats.
func (s *ApplyStats) Add(o ApplyStats) {
	s.Applied += o.Applied
	s.Duplicate += o.Duplicate
	s.Stale += o.Stale
}

// StateStore is the small durable key-value state every hub process shares beside the
// profiles: connector cursors, push-batch receipts, assertion jti replay marks,
// session revocations. The embedded store and Redis each implement it.
//
// All methods are safe for concurrent use and durable on return.
type StateStore interface {
	// Get returns the value, or an error matching contracts.ErrNotFound (also after expiry).
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores a value; ttl 0 means no expiry.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PutIfAbsent stores value only if key is absent (or expired). It returns the value
	// now stored and whether this call created it; exactly one of any number of
	// concurrent callers, across processes, gets created == true.
	PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (stored []byte, created bool, err error)
	// Delete removes a key; absent keys are not an error.
	Delete(ctx context.Context, key string) error
}

// Pinger is implemented by stores that can say whether their backend answers; /readyz
// uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}

func employerOf(rec contracts.Envelope) string {
	var p struct {
		EmployerUSCC string `json:"employer_uscc"`
	}
	if json.Unmarshal(rec.Data, &p) != nil {
		return ""
	}
	return p.EmployerUSCC
}
