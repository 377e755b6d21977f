package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

func (s *Store) decodeProfile(subject string, fields map[string]string) (*matching.Profile, error) {
	p := matching.NewProfile(subject)
	for f, v := range fields {
		r, err := decodeRecord(f, v)
		if err != nil {
			return nil, fmt.Errorf("reading profile %q: %w", subject, err)
		}
		byID := p.Records[r.Type]
		if byID == nil {
			byID = map[string]contracts.Envelope{}
			p.Records[r.Type] = byID
		}
		byID[r.ID] = r
	}
	return p, nil
}

// Profile implements matching.Store with one HGETALL.
func (s *Store) Profile(ctx context.Context, subject string) (*matching.Profile, error) {
	fields, err := s.client.HGetAll(ctx, s.profileKey(subject)).Result()
	if err != nil {
		return nil, translate(fmt.Sprintf("reading profile %q", subject), err)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("reading profile %q: %w", subject, contracts.ErrNotFound)
	}
	return s.decodeProfile(subject, fields)
}

// Profiles implements matching.Store: one pipelined round trip of HGETALLs (a
// pipeline per hash slot on a cluster, as go-redis sends them).
func (s *Store) Profiles(ctx context.Context, subjects []string) ([]*matching.Profile, error) {
	out := make([]*matching.Profile, len(subjects))
	first := make(map[string]int, len(subjects)) // subject → index of its first occurrence
	cmds := make([]*redis.MapStringStringCmd, len(subjects))
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, subject := range subjects {
			if _, ok := first[subject]; ok {
				continue
			}
			first[subject] = i
			cmds[i] = pipe.HGetAll(ctx, s.profileKey(subject))
		}
		return nil
	})
	if err != nil {
		return nil, translate(fmt.Sprintf("reading %d profiles", len(subjects)), err)
	}
	for i, subject := range subjects {
		j := first[subject]
		if j != i {
			out[i] = out[j]
			continue
		}
		fields := cmds[i].Val()
		if len(fields) == 0 {
			continue
		}
		p, err := s.decodeProfile(subject, fields)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func kindOK(kind contracts.SubjectKind) error {
	if kind != contracts.KindEnterprise && kind != contracts.KindPerson {
		return fmt.Errorf("subject kind %q: %w", kind, contracts.ErrInvalidRecord)
	}
	return nil
}

// scanPage is how many index members Scan asks for, and reads profiles of, per round
// trip.
const scanPage = 256

// Scan implements matching.Store: it walks the kind's index sets with SSCAN and reads
// each page of subjects with pipelined HGETALLs. fn runs between round trips, never
// while a reply is pending; a subject SSCAN returns twice is passed to fn once.
func (s *Store) Scan(ctx context.Context, kind contracts.SubjectKind, fn func(*matching.Profile) error) error {
	if err := kindOK(kind); err != nil {
		return fmt.Errorf("scanning: %w", err)
	}
	action := fmt.Sprintf("scanning %s profiles", kind)
	for bucket := range s.buckets {
		key := s.indexKey(kind, bucket)
		seen := map[string]struct{}{}
		var cursor uint64
		for {
			members, next, err := s.client.SScan(ctx, key, cursor, "", scanPage).Result()
			if err != nil {
				return translate(action, err)
			}
			cursor = next
			var fresh []string
			for _, m := range members {
				if _, dup := seen[m]; !dup {
					seen[m] = struct{}{}
					fresh = append(fresh, m)
				}
			}
			if len(fresh) > 0 {
				pipe := s.client.Pipeline()
				cmds := make([]*redis.MapStringStringCmd, len(fresh))
				for i, subject := range fresh {
					cmds[i] = pipe.HGetAll(ctx, s.profileKey(subject))
				}
				if _, err := pipe.Exec(ctx); err != nil {
					return translate(action, err)
				}
				for i, subject := range fresh {
					fields := cmds[i].Val()
					if len(fields) == 0 {
						continue // indexed by an Apply that failed before writing
					}
					p, err := s.decodeProfile(subject, fields)
					if err != nil {
						return err
					}
					if err := fn(p); err != nil {
						return err
					}
				}
			}
			if cursor == 0 {
				break
			}
		}
	}
	return nil
}

// Count implements matching.Store: the sum of the kind's index set sizes, one
// pipelined SCARD per bucket.
func (s *Store) Count(ctx context.Context, kind contracts.SubjectKind) (int64, error) {
	if err := kindOK(kind); err != nil {
		return 0, fmt.Errorf("counting: %w", err)
	}
	pipe := s.client.Pipeline()
	cmds := make([]*redis.IntCmd, s.buckets)
	for b := range s.buckets {
		cmds[b] = pipe.SCard(ctx, s.indexKey(kind, b))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, translate(fmt.Sprintf("counting %s profiles", kind), err)
	}
	var n int64
	for _, c := range cmds {
		n += c.Val()
	}
	return n, nil
}

// Get implements matching.StateStore.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.Get(ctx, s.stateKey(key)).Bytes()
	if err != nil {
		return nil, translate(fmt.Sprintf("getting state %q", key), err)
	}
	return v, nil
}

// expiry rounds a ttl up to Redis's millisecond resolution; 0 means none.
func expiry(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return max(ttl.Round(time.Millisecond), time.Millisecond)
}

// Put implements matching.StateStore (SET with PX; without ttl, any earlier expiry
// is cleared).
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("putting state %q: %w", key, err)
	}
	return translate(fmt.Sprintf("putting state %q", key), s.client.Set(ctx, s.stateKey(key), value, expiry(ttl)).Err())
}

// PutIfAbsent implements matching.StateStore with SET NX, then GET of the value that
// won; if that value expires or is deleted between the two, it tries again.
func (s *Store) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, bool, error) {
	action := fmt.Sprintf("putting state %q if absent", key)
	k := s.stateKey(key)
	for range 5 {
		created, err := s.client.SetNX(ctx, k, value, expiry(ttl)).Result()
		if err != nil {
			return nil, false, translate(action, err)
		}
		if created {
			return append([]byte{}, value...), true, nil
		}
		stored, err := s.client.Get(ctx, k).Bytes()
		if err == nil {
			return stored, false, nil
		}
		if err != redis.Nil {
			return nil, false, translate(action, err)
		}
	}
	return nil, false, fmt.Errorf("%s: %w: the key keeps expiring between SET NX and GET", action, contracts.ErrConflict)
}

// Delete implements matching.StateStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	return translate(fmt.Sprintf("deleting state %q", key), s.client.Del(ctx, s.stateKey(key)).Err())
}
