package hubtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// Feed is one agency's NDJSON file.
type Feed struct {
	Agency string
	Path   string
}

// GenFeeds are the agency files `hub gen` writes into dir, grant last.
func GenFeeds(dir string) []Feed {
	var out []Feed
	for _, a := range contracts.Agencies {
		out = append(out, Feed{Agency: a, Path: filepath.Join(dir, a+".ndjson")})
	}
	return out
}

// Gen runs `hub gen` into dir and returns its agency files.
func Gen(ctx context.Context, t testing.TB, dir string, seed uint64, enterprises, persons int) []Feed {
	t.Helper()
	if _, err := Run(ctx, t, "gen", "--seed", strconv.FormatUint(seed, 10), "--enterprises", strconv.Itoa(enterprises),
		"--persons", strconv.Itoa(persons), "--out", dir); err != nil {
		t.Fatal(err)
	}
	return GenFeeds(dir)
}

// Folder computes, independently of any hub process, the profiles a store must hold
// once records are applied: each record goes through the validator, the protector
// (the hub's PII secret), matching.Route and Profile.Apply in memory. A record the
// hub's ingest edge refuses (invalid, or another agency's type) is skipped as the
// edge dead-letters it.
type Folder struct {
	validator *contracts.Validator
	protector *contracts.Protector
	profiles  map[string]*matching.Profile
	// Accepted and Refused count the records folded and skipped.
	Accepted, Refused int
}

// NewFolder returns an empty fold with the hub's PII secret.
func NewFolder(piiSecret []byte) (*Folder, error) {
	p, err := contracts.NewProtector(piiSecret)
	if err != nil {
		return nil, err
	}
	v, err := contracts.NewValidator(contracts.Options{})
	if err != nil {
		return nil, err
	}
	return &Folder{validator: v, protector: p, profiles: map[string]*matching.Profile{}}, nil
}

// Add folds one raw record submitted as agency's.
func (f *Folder) Add(agency string, raw []byte) error {
	val, err := f.validator.Validate(raw)
	if err != nil || contracts.AgencyOf(val.Envelope.Type) != agency {
		f.Refused++
		return nil
	}
	rec, subject, err := f.protector.Protect(val.Envelope)
	if err != nil {
		return fmt.Errorf("protecting a %s record: %w", val.Envelope.Type, err)
	}
	for _, c := range matching.Route(subject, rec) {
		p := f.profiles[c.Subject]
		if p == nil {
			p = matching.NewProfile(c.Subject)
			f.profiles[c.Subject] = p
		}
		p.Apply(c.Record)
	}
	f.Accepted++
	return nil
}

// AddFile folds every line of an NDJSON file.
func (f *Folder) AddFile(feed Feed) error {
	file, err := os.Open(feed.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	return f.AddReader(feed.Agency, file)
}

// AddReader folds every non-empty line of r.
func (f *Folder) AddReader(agency string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), contracts.MaxRecordBytes+2)
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(line) == 0 {
			continue
		}
		if err := f.Add(agency, line); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Len is the number of profiles.
func (f *Folder) Len() int { return len(f.profiles) }

// ApplyTo writes the folded profiles into store, as the matcher would have.
func (f *Folder) ApplyTo(ctx context.Context, store matching.Store) error {
	var changes []matching.Change
	for subject, p := range f.profiles {
		for _, byID := range p.Records {
			for _, rec := range byID {
				changes = append(changes, matching.Change{Subject: subject, Record: rec})
			}
		}
	}
	_, err := store.Apply(ctx, changes)
	return err
}

// Canonical returns the profiles as matching.WriteCanonical writes them: one
// matching.CanonicalJSON line per profile, sorted by subject.
func (f *Folder) Canonical() ([]byte, error) {
	subjects := make([]string, 0, len(f.profiles))
	for s := range f.profiles {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	var buf bytes.Buffer
	for _, s := range subjects {
		line, err := matching.CanonicalJSON(f.profiles[s])
		if err != nil {
			return nil, err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// Expect folds feeds and returns the canonical dump the store must equal.
func Expect(t testing.TB, piiSecret []byte, feeds ...Feed) []byte {
	t.Helper()
	f, err := NewFolder(piiSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, feed := range feeds {
		if err := f.AddFile(feed); err != nil {
			t.Fatalf("folding %s: %v", feed.Path, err)
		}
	}
	b, err := f.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("expectation: %d records folded (%d refused) into %d profiles", f.Accepted, f.Refused, f.Len())
	return b
}

// SameDump fails the test unless got equals want byte for byte; it reports the
// line counts and the first line that differs.
func SameDump(t testing.TB, what string, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			t.Errorf("%s differs from the expectation (%d vs %d lines); first difference at line %d:\nwant %s\ngot  %s",
				what, len(wl)-1, len(gl)-1, i+1, cut(w, 600), cut(g, 600))
			return
		}
	}
}

func cut(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
