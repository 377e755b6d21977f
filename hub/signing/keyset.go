package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/contracts"
)

// DefaultMaxTokenLifetime bounds the lifetime of every token a key set signs, and so
// how long a retired key stays published.
const DefaultMaxTokenLifetime = 24 * time.Hour

// MinMaxTokenLifetime is the shortest maximum lifetime a key set accepts: verifiers
// cache the JWKS for JWKSMaxAge, and a key must outlive that many times over.
const MinMaxTokenLifetime = 10 * JWKSMaxAge

const (
	manifestName = "keyset.json"
	lockName     = ".lock"
	privSuffix   = ".private.jwk"
)

// KeyInfo describes one key of a key set.
type KeyInfo struct {
	KID       string    `json:"kid"`
	CreatedAt time.Time `json:"created_at"`
	// RetiredAt is when a rotation replaced the key; zero for the active key.
	RetiredAt time.Time `json:"retired_at,omitzero"`
	// DropsAt is when the key leaves the published set: RetiredAt plus the key set's
	// maximum token lifetime. Zero for the active key.
	DropsAt time.Time `json:"drops_at,omitzero"`
}

// Active reports whether the key is the one that signs.
func (k KeyInfo) Active() bool { return k.RetiredAt.IsZero() }

// manifest is keyset.json.
type manifest struct {
	Version          int           `json:"version"`
	MaxTokenLifetime time.Duration `json:"max_token_lifetime_ns"`
	Keys             []manifestKey `json:"keys"`
}

type manifestKey struct {
	KeyInfo
	Public json.RawMessage `json:"public"`
}

// Generate creates a key set in dir (created with mode 0700 if absent) with one
// active key. It refuses a directory that already holds a key set (ErrConflict).
// maxLifetime 0 means DefaultMaxTokenLifetime.
func Generate(dir string, maxLifetime time.Duration) (KeyInfo, error) {
	return generateAt(dir, maxLifetime, time.Now())
}

// Rotate adds a new active key to the key set in dir. The previous active key is
// retired: its private key file is deleted (it never signs again) and its public key
// stays published until every token it signed has expired. Keys past that point are
// pruned. Concurrent rotations of one directory are serialised by a file lock.
func Rotate(dir string) (KeyInfo, error) {
	return rotateAt(dir, time.Now())
}

// List returns the keys of the key set in dir that are still published, the active
// key first, then retired keys newest first.
func List(dir string) ([]KeyInfo, error) {
	return listAt(dir, time.Now())
}

func listAt(dir string, now time.Time) ([]KeyInfo, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	return published(m, now), nil
}

func generateAt(dir string, maxLifetime time.Duration, now time.Time) (KeyInfo, error) {
	if maxLifetime == 0 {
		maxLifetime = DefaultMaxTokenLifetime
	}
	if maxLifetime < MinMaxTokenLifetime {
		return KeyInfo{}, fmt.Errorf("generating key set in %q: max token lifetime %s is below %s", dir, maxLifetime, MinMaxTokenLifetime)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return KeyInfo{}, fmt.Errorf("generating key set in %q: %w", dir, err)
	}
	unlock, err := lock(dir)
	if err != nil {
		return KeyInfo{}, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(dir, manifestName)); err == nil {
		return KeyInfo{}, fmt.Errorf("generating key set in %q: %w: a key set is already there (use rotate)", dir, contracts.ErrConflict)
	}
	k, err := newKey(dir, now)
	if err != nil {
		return KeyInfo{}, err
	}
	m := manifest{Version: 1, MaxTokenLifetime: maxLifetime, Keys: []manifestKey{k}}
	if err := writeManifest(dir, m); err != nil {
		return KeyInfo{}, err
	}
	return k.KeyInfo, nil
}

func rotateAt(dir string, now time.Time) (KeyInfo, error) {
	if _, err := readManifest(dir); err != nil {
		return KeyInfo{}, err
	}
	unlock, err := lock(dir)
	if err != nil {
		return KeyInfo{}, err
	}
	defer unlock()
	m, err := readManifest(dir)
	if err != nil {
		return KeyInfo{}, err
	}
	k, err := newKey(dir, now)
	if err != nil {
		return KeyInfo{}, err
	}
	var retiredFiles []string
	keys := []manifestKey{k}
	for _, old := range m.Keys {
		if old.Active() {
			old.RetiredAt = now
			old.DropsAt = now.Add(m.MaxTokenLifetime)
			retiredFiles = append(retiredFiles, privPath(dir, old.KID))
		}
		if now.Before(old.DropsAt) {
			keys = append(keys, old)
		} else {
			retiredFiles = append(retiredFiles, privPath(dir, old.KID))
		}
	}
	m.Keys = keys
	if err := writeManifest(dir, m); err != nil {
		_ = os.Remove(privPath(dir, k.KID))
		return KeyInfo{}, err
	}
	// The manifest no longer names these keys as signing keys; their private halves
	// are of no further use and only a liability.
	for _, f := range retiredFiles {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return k.KeyInfo, fmt.Errorf("removing retired private key %q: %w", f, err)
		}
	}
	return k.KeyInfo, nil
}

// published returns the keys still in the JWKS at now, active first.
func published(m manifest, now time.Time) []KeyInfo {
	var out []KeyInfo
	for _, k := range m.Keys {
		if k.Active() || now.Before(k.DropsAt) {
			out = append(out, k.KeyInfo)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Active() != out[j].Active() {
			return out[i].Active()
		}
		return out[i].RetiredAt.After(out[j].RetiredAt)
	})
	return out
}

// newKey creates a P-256 key, writes its private JWK with mode 0600 and returns its
// manifest entry.
func newKey(dir string, now time.Time) (manifestKey, error) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return manifestKey{}, fmt.Errorf("generating P-256 key: %w", err)
	}
	priv, err := jwk.FromRaw(raw)
	if err != nil {
		return manifestKey{}, fmt.Errorf("encoding P-256 key: %w", err)
	}
	if err := jwk.AssignKeyID(priv); err != nil {
		return manifestKey{}, fmt.Errorf("computing key thumbprint: %w", err)
	}
	for name, v := range map[string]any{jwk.AlgorithmKey: jwa.ES256, jwk.KeyUsageKey: jwk.ForSignature} {
		if err := priv.Set(name, v); err != nil {
			return manifestKey{}, fmt.Errorf("setting %s of key: %w", name, err)
		}
	}
	pub, err := priv.PublicKey()
	if err != nil {
		return manifestKey{}, fmt.Errorf("deriving public key: %w", err)
	}
	privJSON, err := json.Marshal(priv)
	if err != nil {
		return manifestKey{}, fmt.Errorf("encoding private key: %w", err)
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return manifestKey{}, fmt.Errorf("encoding public key: %w", err)
	}
	kid := priv.KeyID()
	if err := writeFileAtomic(privPath(dir, kid), privJSON, 0o600); err != nil {
		return manifestKey{}, err
	}
	return manifestKey{KeyInfo: KeyInfo{KID: kid, CreatedAt: now.UTC()}, Public: pubJSON}, nil
}

func privPath(dir, kid string) string { return filepath.Join(dir, kid+privSuffix) }

func readManifest(dir string) (manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return manifest{}, fmt.Errorf("reading key set in %q: %w (run hub keys generate)", dir, contracts.ErrNotFound)
		}
		return manifest{}, fmt.Errorf("reading key set in %q: %w", dir, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return manifest{}, fmt.Errorf("reading key set manifest in %q: %w", dir, err)
	}
	if m.Version != 1 {
		return manifest{}, fmt.Errorf("reading key set in %q: unsupported version %d", dir, m.Version)
	}
	active := 0
	for _, k := range m.Keys {
		if k.Active() {
			active++
		}
	}
	if active != 1 {
		return manifest{}, fmt.Errorf("reading key set in %q: %d active keys, want exactly 1", dir, active)
	}
	if m.MaxTokenLifetime < MinMaxTokenLifetime {
		return manifest{}, fmt.Errorf("reading key set in %q: max token lifetime %s is below %s", dir, m.MaxTokenLifetime, MinMaxTokenLifetime)
	}
	return m, nil
}

func writeManifest(dir string, m manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding key set manifest: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, manifestName), append(b, '\n'), 0o644)
}

// writeFileAtomic writes a file so that readers see the old or the new content, never
// a part, and the content is on disk before the rename.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// lock takes an exclusive advisory lock on the key directory.
func lock(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking key set in %q: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking key set in %q: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// loadedKeys is what a Signer needs from a key set at one moment.
type loadedKeys struct {
	kid       string
	priv      *ecdsa.PrivateKey
	header    string // base64url of the protected header {"alg":"ES256","kid":…,"typ":"JWT"}
	public    jwk.Set
	jwks      []byte
	etag      string
	maxTTL    time.Duration
	published []KeyInfo
}

// load reads the key set: the active private key and the keys published at now.
func load(dir string, now time.Time) (*loadedKeys, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	lk := &loadedKeys{public: jwk.NewSet(), maxTTL: m.MaxTokenLifetime, published: published(m, now)}
	byKID := map[string]manifestKey{}
	for _, k := range m.Keys {
		byKID[k.KID] = k
	}
	for _, info := range lk.published {
		pub, err := jwk.ParseKey(byKID[info.KID].Public)
		if err != nil {
			return nil, fmt.Errorf("reading public key %s in %q: %w", info.KID, dir, err)
		}
		if err := lk.public.AddKey(pub); err != nil {
			return nil, fmt.Errorf("adding public key %s: %w", info.KID, err)
		}
		if !info.Active() {
			continue
		}
		lk.kid = info.KID
		lk.priv, err = readPrivate(dir, info.KID, pub)
		if err != nil {
			return nil, err
		}
		hdr, err := json.Marshal(struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			Typ string `json:"typ"`
		}{"ES256", info.KID, "JWT"})
		if err != nil {
			return nil, fmt.Errorf("encoding the protected header: %w", err)
		}
		lk.header = base64.RawURLEncoding.EncodeToString(hdr)
	}
	lk.jwks, err = json.Marshal(lk.public)
	if err != nil {
		return nil, fmt.Errorf("encoding JWKS: %w", err)
	}
	lk.etag = etagOf(lk.jwks)
	return lk, nil
}

func readPrivate(dir, kid string, pub jwk.Key) (*ecdsa.PrivateKey, error) {
	path := privPath(dir, kid)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading active private key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("reading active private key %q: mode %v lets others read it (want 0600)", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading active private key: %w", err)
	}
	k, err := jwk.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("reading active private key %q: %w", path, err)
	}
	var raw ecdsa.PrivateKey
	if err := k.Raw(&raw); err != nil || raw.Curve != elliptic.P256() {
		return nil, fmt.Errorf("reading active private key %q: not an EC P-256 private key", path)
	}
	kp, err := k.PublicKey()
	if err != nil || !jwk.Equal(kp, pub) {
		return nil, fmt.Errorf("reading active private key %q: does not match the published key %s", path, kid)
	}
	return &raw, nil
}
