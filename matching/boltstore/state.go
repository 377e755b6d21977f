package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/verihub/verihub/contracts"
)

// State values: expiry as Unix nanoseconds (8 bytes, 0 = none), then the value.

func (s *Store) stateValue(value []byte, ttl time.Duration) []byte {
	v := make([]byte, 8+len(value))
	if ttl > 0 {
		binary.BigEndian.PutUint64(v, uint64(s.now().Add(ttl).UnixNano()))
	}
	copy(v[8:], value)
	return v
}

// live returns the value stored under v if it has not expired at now.
func live(v []byte, now time.Time) ([]byte, bool) {
	if len(v) < 8 {
		return nil, false
	}
	if exp := binary.BigEndian.Uint64(v); exp != 0 && now.UnixNano() >= int64(exp) {
		return nil, false
	}
	return v[8:], true
}

// Get implements matching.StateStore.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("getting state %q: %w", key, err)
	}
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v, ok := live(tx.Bucket(bucketState).Get([]byte(key)), s.now())
		if !ok {
			return contracts.ErrNotFound
		}
		out = bytes.Clone(v)
		if out == nil {
			out = []byte{}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("getting state %q", key), err)
	}
	return out, nil
}

// Put implements matching.StateStore; ttl 0 stores without expiry.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("putting state %q: %w", key, err)
	}
	if key == "" {
		return fmt.Errorf("putting state: %w: empty key", contracts.ErrInvalidRecord)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).Put([]byte(key), s.stateValue(value, ttl))
	})
	return wrap(fmt.Sprintf("putting state %q", key), err)
}

// PutIfAbsent implements matching.StateStore: bbolt's single writer makes the check
// and the write one step.
func (s *Store) PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("putting state %q if absent: %w", key, err)
	}
	if key == "" {
		return nil, false, fmt.Errorf("putting state if absent: %w: empty key", contracts.ErrInvalidRecord)
	}
	var stored []byte
	created := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketState)
		if v, ok := live(b.Get([]byte(key)), s.now()); ok {
			stored = append([]byte{}, v...)
			return nil
		}
		created = true
		stored = append([]byte{}, value...)
		return b.Put([]byte(key), s.stateValue(value, ttl))
	})
	if err != nil {
		return nil, false, wrap(fmt.Sprintf("putting state %q if absent", key), err)
	}
	return stored, created, nil
}

// Delete implements matching.StateStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting state %q: %w", key, err)
	}
	if key == "" {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketState).Delete([]byte(key)) })
	return wrap(fmt.Sprintf("deleting state %q", key), err)
}

// Sweep deletes expired state entries and returns how many. Expired entries are
// already invisible; sweeping only reclaims their space.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sweeping state: %w", err)
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		now := s.now()
		b := tx.Bucket(bucketState)
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if _, ok := live(v, now); !ok {
				expired = append(expired, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, wrap("sweeping state", err)
	}
	return n, nil
}

// Run sweeps expired state entries every cfg.SweepInterval until ctx ends, and
// returns nil then. A failed sweep ends Run with its error (the store is closed or
// its file is failing).
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}
