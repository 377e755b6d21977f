package synthetic

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Config says what to generate.
type Config struct {
	Seed        uint64
	Enterprises int
	Persons     int
	Out         string // directory, created if absent; existing files are replaced

	// Checks, when set, also writes expected_checks.ndjson: expected.ndjson's lines
	// with the oracle's outcome and detail for every check, for diagnosing a
	// disagreement with the rule engine.
	Checks bool

	// observe, when set, sees every oracle result (tests).
	observe func(result)
	// onRecord, when set, sees every agency line written (tests).
	onRecord func(file int, line []byte)
}

// Validate reports a configuration that cannot be generated.
func (c Config) Validate() error {
	var errs []error
	if c.Enterprises < 0 || c.Enterprises > 5_000_000 {
		errs = append(errs, fmt.Errorf("enterprises %d: want 0 … 5,000,000", c.Enterprises))
	}
	if c.Persons < 0 || c.Persons > 50_000_000 {
		errs = append(errs, fmt.Errorf("persons %d: want 0 … 50,000,000", c.Persons))
	}
	if c.Out == "" {
		errs = append(errs, errors.New("no output directory"))
	}
	return errors.Join(errs...)
}

// Files written by Generate besides the agency files.
const (
	FileBad         = "bad.ndjson"
	FileBadExpected = "bad_expected.ndjson"
	FileExpected    = "expected.ndjson"
	FileChecks      = "expected_checks.ndjson"
	FileManifest    = "manifest.json"
)

// AgencyFile returns the name of the file holding an agency's records ("si.ndjson").
func AgencyFile(agency string) string { return agency + ".ndjson" }

// Manifest describes a generated directory (manifest.json).
type Manifest struct {
	Seed        uint64               `json:"seed"`
	Enterprises int                  `json:"enterprises"`
	Persons     int                  `json:"persons"`
	Files       map[string]fileStats `json:"files"`
	BadCodes    map[string]int       `json:"bad_codes"`
	// Decisions counts expected.ndjson lines by program and decision.
	Decisions map[string]map[string]int `json:"decisions"`
	// ReviewRequired counts eligible refund lines at or above the review threshold.
	ReviewRequired map[string]int `json:"review_required"`
	// Planted counts subjects by planted scenario ("enterprise/<name>", "person/<name>").
	Planted map[string]int `json:"planted"`
}

// Generate writes the synthetic agency files, bad.ndjson with bad_expected.ndjson,
// expected.ndjson and manifest.json into cfg.Out. The output depends only on cfg's
// seed and counts. It stops early, returning ctx's error, when ctx ends.
func Generate(ctx context.Context, cfg Config) (Manifest, error) {
	if err := cfg.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("generating synthetic data: %w", err)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("creating %s: %w", cfg.Out, err)
	}
	var files []*os.File
	var writers []*bufio.Writer
	create := func(name string) (*bufio.Writer, error) {
		fh, err := os.Create(filepath.Join(cfg.Out, name))
		if err != nil {
			return nil, fmt.Errorf("creating %s: %w", name, err)
		}
		w := bufio.NewWriterSize(fh, 1<<20)
		files = append(files, fh)
		writers = append(writers, w)
		return w, nil
	}
	defer func() {
		for _, fh := range files {
			fh.Close()
		}
	}()
	s := &sink{onRecord: cfg.onRecord, bad: &badWriter{}}
	var err error
	for i, name := range agencyFiles {
		if s.agency[i], err = create(name); err != nil {
			return Manifest{}, err
		}
	}
	if s.bad.records, err = create(FileBad); err != nil {
		return Manifest{}, err
	}
	if s.bad.expected, err = create(FileBadExpected); err != nil {
		return Manifest{}, err
	}
	expW, err := create(FileExpected)
	if err != nil {
		return Manifest{}, err
	}
	var checksW *bufio.Writer
	if cfg.Checks {
		if checksW, err = create(FileChecks); err != nil {
			return Manifest{}, err
		}
	}
	m := Manifest{
		Seed: cfg.Seed, Enterprises: cfg.Enterprises, Persons: cfg.Persons,
		Files: map[string]fileStats{}, Decisions: map[string]map[string]int{},
		ReviewRequired: map[string]int{}, Planted: map[string]int{},
	}
	ex := &expectedWriter{w: expW, checks: checksW, m: &m, observe: cfg.observe}

	employers := employerIndex{}
	for i := 0; i < cfg.Enterprises; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return Manifest{}, fmt.Errorf("generating enterprises: %w", ctx.Err())
		}
		f := newFirm(cfg.Seed, i)
		if f.scenario != "" {
			m.Planted["enterprise/"+f.scenario]++
		}
		r := rand.New(rand.NewPCG(cfg.Seed, 3<<56|uint64(i)))
		b := newBatch(s, r)
		f.emit(b, r)
		envs, err := b.finish()
		if err != nil {
			return Manifest{}, err
		}
		if err := ex.enterprise(f.uscc, envs); err != nil {
			return Manifest{}, err
		}
		employers[f.region.code[:2]] = append(employers[f.region.code[:2]], f.uscc)
	}

	ids := make(map[string]struct{}, cfg.Persons)
	taken := func(id string) bool { _, ok := ids[id]; return ok }
	lastCert := ""
	for i := 0; i < cfg.Persons; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return Manifest{}, fmt.Errorf("generating persons: %w", ctx.Err())
		}
		w := newWorker(cfg.Seed, i, employers, taken, lastCert)
		ids[w.p.IDNumber] = struct{}{}
		if w.scenario != "" {
			m.Planted["person/"+w.scenario]++
		}
		r := rand.New(rand.NewPCG(cfg.Seed, 4<<56|uint64(i)))
		b := newBatch(s, r)
		w.emit(b, r)
		envs, err := b.finish()
		if err != nil {
			return Manifest{}, err
		}
		if err := ex.person(w.p.IDNumber, envs, w.apps); err != nil {
			return Manifest{}, err
		}
		if n := len(w.certs); n > 0 {
			lastCert = w.certs[n-1].c.CertNo
		}
	}
	if s.bad.err != nil {
		return Manifest{}, s.bad.err
	}
	for i, name := range agencyFiles {
		m.Files[name] = s.stats[i]
	}
	m.Files[FileBad] = fileStats{Lines: s.bad.lines}
	m.Files[FileBadExpected] = fileStats{Lines: s.bad.lines}
	m.Files[FileExpected] = fileStats{Lines: ex.lines}
	m.BadCodes = s.bad.codes
	if m.BadCodes == nil {
		m.BadCodes = map[string]int{}
	}
	for i, w := range writers {
		if err := w.Flush(); err != nil {
			return Manifest{}, fmt.Errorf("writing %s: %w", files[i].Name(), err)
		}
	}
	for _, fh := range files {
		if err := fh.Close(); err != nil {
			return Manifest{}, fmt.Errorf("closing %s: %w", fh.Name(), err)
		}
	}
	files = nil
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("encoding manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, FileManifest), append(raw, '\n'), 0o644); err != nil {
		return Manifest{}, fmt.Errorf("writing manifest: %w", err)
	}
	return m, nil
}
