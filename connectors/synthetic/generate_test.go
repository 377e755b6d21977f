package synthetic

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
)

func generate(t *testing.T, cfg Config) (string, Manifest) {
	t.Helper()
	if cfg.Out == "" {
		cfg.Out = t.TempDir()
	}
	m, err := Generate(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return cfg.Out, m
}

// hashes returns the SHA-256 of every file in dir.
func hashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := Config{Seed: 42, Enterprises: 90, Persons: 400}
	a, _ := generate(t, cfg)
	b, _ := generate(t, cfg)
	other := cfg
	other.Seed = 43
	c, _ := generate(t, other)
	ha, hb, hc := hashes(t, a), hashes(t, b), hashes(t, c)
	wantFiles := append(slices.Clone(agencyFiles[:]), FileBad, FileBadExpected, FileExpected, FileManifest)
	for _, name := range wantFiles {
		if ha[name] == "" {
			t.Errorf("%s not written", name)
			continue
		}
		if ha[name] != hb[name] {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
		if name != FileManifest && ha[name] == hc[name] {
			t.Errorf("%s identical for seeds 42 and 43", name)
		}
	}
	if len(ha) != len(wantFiles) {
		t.Errorf("files written: %v, want %v", ha, wantFiles)
	}
}

// dataTypes maps each record type to a new value of its data struct.
var dataTypes = map[string]func() any{
	contracts.TypeEmployer:      func() any { return new(contracts.Employer) },
	contracts.TypeEmployerMonth: func() any { return new(contracts.EmployerMonth) },
	contracts.TypePerson:        func() any { return new(contracts.Person) },
	contracts.TypeTaxpayer:      func() any { return new(contracts.Taxpayer) },
	contracts.TypeCertificate:   func() any { return new(contracts.Certificate) },
	contracts.TypePenalty:       func() any { return new(contracts.Penalty) },
	contracts.TypeRating:        func() any { return new(contracts.Rating) },
	contracts.TypeListing:       func() any { return new(contracts.Listing) },
	contracts.TypeAward:         func() any { return new(contracts.Award) },
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// naturalKey returns the id a record's data says it must have.
func naturalKey(typ string, v any) string {
	switch d := v.(type) {
	case *contracts.Employer:
		return d.USCC
	case *contracts.EmployerMonth:
		return d.USCC + ":" + d.Month
	case *contracts.Person:
		return d.IDNumber
	case *contracts.Taxpayer:
		return d.USCC
	case *contracts.Certificate:
		return d.CertNo
	case *contracts.Penalty:
		return d.DecisionNo
	case *contracts.Rating:
		return fmt.Sprintf("%s:%d", d.USCC, d.Year)
	case *contracts.Listing:
		return d.ListingID
	case *contracts.Award:
		return d.GrantID
	}
	panic(typ)
}

func TestEveryLineIsAStrictEnvelope(t *testing.T) {
	dir, m := generate(t, Config{Seed: 9, Enterprises: 200, Persons: 1500})
	for i, name := range agencyFiles {
		fh, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		lines := 0
		for sc.Scan() {
			lines++
			line := sc.Bytes()
			where := fmt.Sprintf("%s:%d", name, lines)
			var e contracts.Envelope
			if err := strictDecode(line, &e); err != nil {
				t.Fatalf("%s: envelope: %v", where, err)
			}
			if len(line) > contracts.MaxRecordBytes {
				t.Errorf("%s: %d bytes", where, len(line))
			}
			if fileOf(e.Type) != i {
				t.Errorf("%s: type %s in the wrong file", where, e.Type)
			}
			if e.AsOf.Location() != time.UTC || e.AsOf.Nanosecond() != 0 {
				t.Errorf("%s: as_of %v not whole seconds UTC", where, e.AsOf)
			}
			again, err := json.Marshal(e)
			if err != nil || !bytes.Equal(again, line) {
				t.Errorf("%s: re-encodes differently:\n%s\n%s", where, line, again)
			}
			v := dataTypes[e.Type]()
			if err := strictDecode(e.Data, v); err != nil {
				t.Fatalf("%s: data: %v", where, err)
			}
			// The data has exactly the struct's fields: it re-encodes to the same bytes.
			if again, _ := json.Marshal(v); !bytes.Equal(again, e.Data) {
				t.Errorf("%s: data fields differ from %s's:\n%s\n%s", where, e.Type, e.Data, again)
			}
			if k := naturalKey(e.Type, v); k != e.ID {
				t.Errorf("%s: id %q, natural key %q", where, e.ID, k)
			}
			checkIdentifiers(t, where, v)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
		if lines != m.Files[name].Lines {
			t.Errorf("%s: %d lines, manifest says %d", name, lines, m.Files[name].Lines)
		}
		if lines == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

// checkIdentifiers checks every USCC and ID number in a record's data.
func checkIdentifiers(t *testing.T, where string, v any) {
	t.Helper()
	var usccs, ids []string
	switch d := v.(type) {
	case *contracts.Employer:
		usccs = []string{d.USCC}
		if !strings.HasPrefix(d.USCC, "91"+d.RegionCode) {
			t.Errorf("%s: USCC %s outside region %s", where, d.USCC, d.RegionCode)
		}
	case *contracts.EmployerMonth:
		usccs = []string{d.USCC}
	case *contracts.Person:
		ids = []string{d.IDNumber}
		if d.EmployerUSCC != "" {
			usccs = []string{d.EmployerUSCC}
		}
	case *contracts.Taxpayer:
		usccs = []string{d.USCC}
	case *contracts.Certificate:
		ids = []string{d.IDNumber}
	case *contracts.Penalty:
		usccs = []string{d.USCC}
	case *contracts.Rating:
		usccs = []string{d.USCC}
	case *contracts.Listing:
		usccs, ids = nonEmptyOf(d.SubjectUSCC), nonEmptyOf(d.SubjectIDNumber)
	case *contracts.Award:
		usccs, ids = nonEmptyOf(d.SubjectUSCC), nonEmptyOf(d.SubjectIDNumber)
	}
	for _, u := range usccs {
		if !validUSCC(u) {
			t.Errorf("%s: invalid USCC %s", where, u)
		}
	}
	for _, id := range ids {
		birth, err := time.Parse("20060102", id[6:14])
		if !validIDChecksum(id) || err != nil || birth.Year() < 1960 || birth.Year() > 2004 {
			t.Errorf("%s: bad ID number %s", where, contracts.MaskID(id))
		}
	}
}

func nonEmptyOf(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func TestBadRecordsCarryTheirDefect(t *testing.T) {
	dir, m := generate(t, Config{Seed: 5, Enterprises: 150, Persons: 3000})
	bad, err := os.ReadFile(filepath.Join(dir, FileBad))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := os.ReadFile(filepath.Join(dir, FileBadExpected))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(bad), "\n"), "\n")
	exps := strings.Split(strings.TrimSuffix(string(exp), "\n"), "\n")
	if len(lines) != len(exps) || len(lines) != m.Files[FileBad].Lines {
		t.Fatalf("%d bad lines, %d expectations, manifest %d", len(lines), len(exps), m.Files[FileBad].Lines)
	}
	seen := map[string]int{}
	for i, raw := range exps {
		var x BadExpectation
		if err := strictDecode([]byte(raw), &x); err != nil {
			t.Fatalf("expectation %d: %v", i+1, err)
		}
		if x.Line != i+1 || !slices.Contains(contracts.Agencies, x.Agency) {
			t.Fatalf("expectation %d: %+v", i+1, x)
		}
		seen[x.Code]++
		if err := checkDefect([]byte(lines[i]), x); err != nil {
			t.Errorf("bad.ndjson:%d (%s at %s): %v\n%s", i+1, x.Code, x.Field, err, lines[i])
		}
	}
	for _, code := range defects {
		if seen[code] == 0 {
			t.Errorf("no bad record with code %s", code)
		}
	}
}

// checkDefect confirms that a bad line has its planted defect, and no other that the
// data structs can see.
func checkDefect(line []byte, x BadExpectation) error {
	if x.Code == contracts.CodeMalformedJSON {
		if json.Valid(line) {
			return fmt.Errorf("line is valid JSON")
		}
		return nil
	}
	var env struct {
		Type     string          `json:"type"`
		ID       string          `json:"id"`
		Revision int64           `json:"revision"`
		AsOf     string          `json:"as_of"`
		Data     json.RawMessage `json:"data"`
	}
	if err := strictDecode(line, &env); err != nil {
		return err
	}
	if contracts.AgencyOf(env.Type) != x.Agency {
		return fmt.Errorf("type %s for agency %s", env.Type, x.Agency)
	}
	_, tsErr := time.Parse(time.RFC3339, env.AsOf)
	switch x.Code {
	case contracts.CodeUnknownType:
		if slices.Contains(contracts.RecordTypes, env.Type) {
			return fmt.Errorf("type %s is known", env.Type)
		}
		return nil
	case contracts.CodeTimestamp:
		if tsErr == nil {
			return fmt.Errorf("as_of %s parses", env.AsOf)
		}
		return nil
	}
	if tsErr != nil {
		return tsErr
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(env.Data, &fields); err != nil {
		return err
	}
	name := strings.TrimPrefix(x.Field, "data.")
	var s string
	_ = json.Unmarshal(fields[name], &s)
	v := dataTypes[env.Type]()
	err := strictDecode(env.Data, v)
	if x.Code == contracts.CodeUnknownField {
		if err == nil || !strings.Contains(err.Error(), "unknown field") {
			return fmt.Errorf("strict decode: %v", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("strict decode: %v", err)
	}
	if k := naturalKey(env.Type, v); (k != env.ID) != (x.Code == contracts.CodeIDMismatch) {
		return fmt.Errorf("id %q, natural key %q", env.ID, k)
	}
	switch x.Code {
	case contracts.CodeIDMismatch:
		return nil
	case contracts.CodeRequired:
		if _, ok := fields[name]; ok {
			return fmt.Errorf("field present")
		}
	case contracts.CodeEnum:
		if !slices.Contains(badEnumValues, s) {
			return fmt.Errorf("value %q", s)
		}
	case contracts.CodeDate:
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			return fmt.Errorf("date %q parses", s)
		}
	case contracts.CodeMonth:
		if _, err := time.Parse("2006-01", s); err == nil {
			return fmt.Errorf("month %q parses", s)
		}
	case contracts.CodeNegativeMoney, contracts.CodeNegative:
		var n int64
		if json.Unmarshal(fields[name], &n) != nil || n >= 0 {
			return fmt.Errorf("value %s", fields[name])
		}
	case contracts.CodeUSCCChecksum:
		oc, _ := orgCheckChar(s[8:16])
		if validUSCC(s) || oc != s[16] {
			return fmt.Errorf("USCC %s: want only the GB 32100 check broken", s)
		}
	case contracts.CodeIDChecksum:
		if validIDChecksum(s) {
			return fmt.Errorf("checksum valid")
		}
	case contracts.CodeIDBirthDate:
		if _, err := time.Parse("20060102", s[6:14]); err == nil || !validIDChecksum(s) {
			return fmt.Errorf("want a valid checksum over an impossible birth date")
		}
	default:
		return fmt.Errorf("unexpected code")
	}
	return nil
}

// BenchmarkGenerate measures generation per enterprise with ten persons each.
func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(context.Background(), Config{Seed: 7, Enterprises: 100, Persons: 1000, Out: dir}); err != nil {
			b.Fatal(err)
		}
	}
}
