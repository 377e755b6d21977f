package synthetic

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verihub/verihub/contracts"
)

// TestGeneratedDataMeetsTheContracts runs the real contracts validator over a generated
// set: every agency record is accepted, and every record of bad.ndjson is refused with
// the code (and field) bad_expected.ndjson names for it.
func TestGeneratedDataMeetsTheContracts(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(context.Background(), Config{Seed: 11, Enterprises: 300, Persons: 1500, Out: dir}); err != nil {
		t.Fatal(err)
	}
	v, err := contracts.NewValidator(contracts.Options{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, agency := range contracts.Agencies {
		n := 0
		eachLine(t, filepath.Join(dir, AgencyFile(agency)), func(line int, raw []byte) {
			n++
			val, err := v.Validate(raw)
			if err != nil {
				t.Errorf("%s line %d refused: %v", agency, line, err)
				return
			}
			if got := contracts.AgencyOf(val.Envelope.Type); got != agency {
				t.Errorf("%s line %d is a %s record", agency, line, val.Envelope.Type)
			}
		})
		if n == 0 {
			t.Errorf("%s: no records generated", agency)
		}
	}

	var want []BadExpectation
	eachLine(t, filepath.Join(dir, FileBadExpected), func(_ int, raw []byte) {
		var b BadExpectation
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	})
	if len(want) == 0 {
		t.Fatal("no bad records generated")
	}
	codes := map[string]int{}
	eachLine(t, filepath.Join(dir, FileBad), func(line int, raw []byte) {
		exp := want[line-1]
		if exp.Line != line {
			t.Fatalf("bad_expected line %d describes line %d", line, exp.Line)
		}
		_, err := v.Validate(raw)
		re, ok := err.(*contracts.RecordError)
		if !ok {
			t.Errorf("bad line %d (%s, want %s at %s) accepted", line, exp.Agency, exp.Code, exp.Field)
			return
		}
		for _, r := range re.Rejects {
			if r.Code == exp.Code && (exp.Field == "" || r.Field == exp.Field) {
				codes[exp.Code]++
				return
			}
		}
		t.Errorf("bad line %d: want %s at %q, got %v", line, exp.Code, exp.Field, re.Rejects)
	})
	if len(codes) < 8 {
		t.Errorf("bad records exercise only %d codes: %v", len(codes), codes)
	}
}

func eachLine(t *testing.T, path string, fn func(line int, raw []byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), contracts.MaxRecordBytes*2)
	line := 0
	for sc.Scan() {
		line++
		fn(line, sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
