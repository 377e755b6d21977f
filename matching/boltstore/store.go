package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// FileName is the store's file inside Config.Dir.
const FileName = "verihub.db"

var (
	bucketProfiles = []byte("profiles")
	bucketCounts   = []byte("counts")
	bucketState    = []byte("state")
)

// Config configures the embedded store.
type Config struct {
	// Dir holds the store's file; it is created if absent.
	Dir string `yaml:"dir"`
	// LockTimeout bounds the wait for another process holding the file (default 5s).
	LockTimeout time.Duration `yaml:"lock_timeout"`
	// SweepInterval is how often Run deletes expired state entries (default 1m).
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// ScanChunk is how many profiles Scan reads per read transaction (default 256),
	// so that a long scan does not hold one transaction open for its whole length.
	ScanChunk int `yaml:"scan_chunk"`
}

func (c Config) withDefaults() Config {
	if c.LockTimeout == 0 {
		c.LockTimeout = 5 * time.Second
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = time.Minute
	}
	if c.ScanChunk == 0 {
		c.ScanChunk = 256
	}
	return c
}

// Validate reports what is wrong with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("boltstore: dir is required"))
	}
	if c.LockTimeout < 0 || c.SweepInterval < 0 || c.ScanChunk < 0 {
		errs = append(errs, errors.New("boltstore: lock_timeout, sweep_interval and scan_chunk must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db        *bolt.DB
	cfg       Config
	now       func() time.Time
	closeOnce sync.Once
	closeErr  error
}

var (
	_ matching.Store      = (*Store)(nil)
	_ matching.StateStore = (*Store)(nil)
	_ matching.Pinger     = (*Store)(nil)
)

// Open opens (creating if needed) the store in cfg.Dir. It waits for the file lock at
// most cfg.LockTimeout or until ctx's deadline, whichever is sooner.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating store dir %q: %w", cfg.Dir, err)
	}
	timeout := cfg.LockTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = max(time.Until(d), time.Millisecond)
	}
	path := filepath.Join(cfg.Dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        timeout,
		NoFreelistSync: true, // rebuilt on open; saves writing the freelist on every commit
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("opening store %q: %w: locked by another process", path, contracts.ErrUnavailable)
		}
		return nil, fmt.Errorf("opening store %q: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketProfiles, bucketCounts, bucketState} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing store %q: %w", path, err)
	}
	return &Store{db: db, cfg: cfg, now: time.Now}, nil
}

// Close closes the file. It waits for running transactions to end; calling it again
// returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.db.Close() })
	return s.closeErr
}

// Ping reports whether the store is open and readable.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap("pinging store", s.db.View(func(*bolt.Tx) error { return nil }))
}

// wrap adds context to an error and marks a closed store as unavailable.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%s: %w: store closed", action, contracts.ErrUnavailable)
	}
	return fmt.Errorf("%s: %w", action, err)
}

type encoded struct {
	key    []byte
	value  []byte
	prefix int // length of the subject prefix in key (subject + separator)
	index  int // position in the call, to count outcomes
}

// Apply implements matching.Store: one transaction, committed and synced before it
// returns. Changes to the same record apply in call order.
func (s *Store) Apply(ctx context.Context, changes []matching.Change) (matching.ApplyStats, error) {
	var st matching.ApplyStats
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("applying %d changes: %w", len(changes), err)
	}
	if len(changes) == 0 {
		return st, nil
	}
	// Encode and sort outside the transaction: the writer lock is held only for the
	// tree work. Sorting by key makes the writes sequential and groups each subject.
	enc := make([]encoded, len(changes))
	for i, c := range changes {
		if err := checkChange(c); err != nil {
			return st, fmt.Errorf("applying change %d: %w", i, err)
		}
		enc[i] = encoded{
			key:    recordKey(c.Subject, c.Record.Type, c.Record.ID),
			value:  encodeRecord(c.Record),
			prefix: len(c.Subject) + 1,
			index:  i,
		}
	}
	slices.SortStableFunc(enc, func(a, b encoded) int { return bytes.Compare(a.key, b.key) })

	err := s.db.Update(func(tx *bolt.Tx) error {
		st = matching.ApplyStats{}
		if err := ctx.Err(); err != nil {
			return err
		}
		profiles, counts := tx.Bucket(bucketProfiles), tx.Bucket(bucketCounts)
		var added [2]uint64 // new enterprises, new persons
		var subject []byte
		newSubject := false
		for _, e := range enc {
			if p := e.key[:e.prefix]; !bytes.Equal(p, subject) {
				subject = p
				k, _ := profiles.Cursor().Seek(subject)
				newSubject = k == nil || !bytes.HasPrefix(k, subject)
			}
			if cur := profiles.Get(e.key); cur != nil {
				switch bytes.Compare(e.value[:versionLen], cur[:versionLen]) {
				case 0:
					st.Duplicate++
					continue
				case -1:
					st.Stale++
					continue
				}
			}
			if err := profiles.Put(e.key, e.value); err != nil {
				return fmt.Errorf("writing %q: %w", e.key[e.prefix:], err)
			}
			st.Applied++
			if newSubject {
				newSubject = false
				if kindOf(string(subject[:len(subject)-1])) == contracts.KindPerson {
					added[1]++
				} else {
					added[0]++
				}
			}
		}
		for i, kind := range []contracts.SubjectKind{contracts.KindEnterprise, contracts.KindPerson} {
			if added[i] > 0 {
				if err := addCount(counts, kind, added[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return matching.ApplyStats{}, wrap(fmt.Sprintf("applying %d changes", len(changes)), err)
	}
	return st, nil
}

func addCount(b *bolt.Bucket, kind contracts.SubjectKind, n uint64) error {
	var v [8]byte
	if cur := b.Get([]byte(kind)); len(cur) == 8 {
		n += binary.BigEndian.Uint64(cur)
	}
	binary.BigEndian.PutUint64(v[:], n)
	if err := b.Put([]byte(kind), v[:]); err != nil {
		return fmt.Errorf("counting %s subjects: %w", kind, err)
	}
	return nil
}

// readProfile reads the profile whose records start at the cursor's position k, v
// (already on the subject's first record) and leaves the cursor past it.
func readProfile(c *bolt.Cursor, k, v []byte, prefix []byte) (*matching.Profile, []byte, []byte, error) {
	p := matching.NewProfile(string(prefix[:len(prefix)-1]))
	// A first pass sizes the profile: how many records of each type, how many bytes
	// of ids and of data. The second copies ids and data out of the transaction into
	// two arenas allocated once (not two allocations per record) and fills maps
	// allocated at their final size.
	first := bytes.Clone(k)
	perType := map[string]int{}
	idBytes, dataBytes := 0, 0
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		typ, id, ok := splitKeyBytes(k, len(prefix))
		if !ok {
			return nil, nil, nil, fmt.Errorf("reading profile %q: malformed key %q", p.Subject, k)
		}
		perType[internType(typ)]++
		idBytes += len(id)
		if len(v) > headerLen {
			dataBytes += len(v) - headerLen
		}
	}
	end, endV := k, v
	for typ, n := range perType {
		p.Records[typ] = make(map[string]contracts.Envelope, n)
	}
	// The arenas never grow (their capacity is exact), so what is sliced out of them
	// stays put; the id arena's bytes are not written again once an id is taken,
	// which is what a string over them needs.
	ids := make([]byte, 0, idBytes)
	data := make([]byte, 0, dataBytes)
	for k, v = c.Seek(first); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		typ, id, _ := splitKeyBytes(k, len(prefix))
		r, body, err := decodeHeader(internType(typ), "", v)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading profile %q: %w", p.Subject, err)
		}
		from := len(ids)
		ids = append(ids, id...)
		r.ID = unsafe.String(unsafe.SliceData(ids[from:]), len(id))
		if len(body) > 0 {
			from := len(data)
			data = append(data, body...)
			r.Data = data[from:len(data):len(data)]
		}
		p.Records[r.Type][r.ID] = r
	}
	return p, end, endV, nil
}

// Profile implements matching.Store.
func (s *Store) Profile(ctx context.Context, subject string) (*matching.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading profile %q: %w", subject, err)
	}
	var p *matching.Profile
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := subjectPrefix(subject)
		c := tx.Bucket(bucketProfiles).Cursor()
		k, v := c.Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return contracts.ErrNotFound
		}
		var err error
		p, _, _, err = readProfile(c, k, v, prefix)
		return err
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("reading profile %q", subject), err)
	}
	return p, nil
}

// Profiles implements matching.Store: one read transaction for them all.
func (s *Store) Profiles(ctx context.Context, subjects []string) ([]*matching.Profile, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading %d profiles: %w", len(subjects), err)
	}
	out := make([]*matching.Profile, len(subjects))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketProfiles).Cursor()
		seen := make(map[string]*matching.Profile, len(subjects))
		for i, subject := range subjects {
			if p, ok := seen[subject]; ok {
				out[i] = p
				continue
			}
			prefix := subjectPrefix(subject)
			if k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
				p, _, _, err := readProfile(c, k, v, prefix)
				if err != nil {
					return err
				}
				out[i] = p
			}
			seen[subject] = out[i]
		}
		return nil
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("reading %d profiles", len(subjects)), err)
	}
	return out, nil
}

// Scan implements matching.Store. It reads cfg.ScanChunk profiles per read
// transaction and calls fn outside any transaction, so fn may take its time (and
// may itself use the store); profiles written during the scan may or may not be seen.
func (s *Store) Scan(ctx context.Context, kind contracts.SubjectKind, fn func(*matching.Profile) error) error {
	kp, err := kindPrefix(kind)
	if err != nil {
		return fmt.Errorf("scanning: %w", err)
	}
	from := kp
	for from != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scanning %s profiles: %w", kind, err)
		}
		var chunk []*matching.Profile
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketProfiles).Cursor()
			k, v := c.Seek(from)
			from = nil
			for k != nil && bytes.HasPrefix(k, kp) {
				if len(chunk) == s.cfg.ScanChunk {
					from = bytes.Clone(k)
					return nil
				}
				i := bytes.IndexByte(k, sep)
				if i < 0 {
					return fmt.Errorf("malformed key %q", k)
				}
				var p *matching.Profile
				var err error
				p, k, v, err = readProfile(c, k, v, bytes.Clone(k[:i+1]))
				if err != nil {
					return err
				}
				chunk = append(chunk, p)
			}
			return nil
		})
		if err != nil {
			return wrap(fmt.Sprintf("scanning %s profiles", kind), err)
		}
		for _, p := range chunk {
			if err := fn(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Count implements matching.Store; it reads one counter.
func (s *Store) Count(ctx context.Context, kind contracts.SubjectKind) (int64, error) {
	if _, err := kindPrefix(kind); err != nil {
		return 0, fmt.Errorf("counting: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("counting %s profiles: %w", kind, err)
	}
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketCounts).Get([]byte(kind)); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return n, wrap(fmt.Sprintf("counting %s profiles", kind), err)
}
