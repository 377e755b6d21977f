package hubtest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func employer(revision int, name string) string {
	return fmt.Sprintf(`{"type":"si.employer","id":"91220202E503940118","revision":%d,"as_of":"2025-02-17T01:54:37Z",`+
		`"data":{"uscc":"91220202E503940118","name":%q,"region_code":"220202","status":"active",`+
		`"enrolled_on":"2011-10-27","size":"medium","industry_code":"C3971"}}`, revision, name)
}

func TestFolderOrderAndAgency(t *testing.T) {
	secret := bytes.Repeat([]byte("s"), 32)
	newer, older := employer(2, "新名称有限公司"), employer(1, "旧名称有限公司")
	tests := []struct {
		name    string
		agency  string
		lines   []string
		want    string // substring of the dump, "" for an empty dump
		refused int
	}{
		{"newer wins in order", "si", []string{older, newer}, "新名称", 0},
		{"newer wins out of order", "si", []string{newer, older}, "新名称", 0},
		{"duplicate is one record", "si", []string{newer, newer}, "新名称", 0},
		{"another agency's type is refused", "tax", []string{newer}, "", 1},
		{"invalid is refused", "si", []string{`{"type":"si.employer"}`}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFolder(secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.AddReader(tt.agency, strings.NewReader(strings.Join(tt.lines, "\n"))); err != nil {
				t.Fatal(err)
			}
			got, err := f.Canonical()
			if err != nil {
				t.Fatal(err)
			}
			if f.Refused != tt.refused {
				t.Errorf("refused %d, want %d", f.Refused, tt.refused)
			}
			switch {
			case tt.want == "" && len(got) != 0:
				t.Errorf("dump %s, want empty", got)
			case tt.want != "" && (!bytes.Contains(got, []byte(tt.want)) || bytes.Count(got, []byte("\n")) != 1):
				t.Errorf("dump %s, want one profile with %s", got, tt.want)
			}
		})
	}
}

// recorder is a testing.TB that keeps Errorf calls.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestSameDump(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		fails     bool
	}{
		{"equal", "a\nb\n", "a\nb\n", false},
		{"line differs", "a\nb\n", "a\nc\n", true},
		{"line missing", "a\nb\n", "a\n", true},
		{"extra line", "a\n", "a\nb\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			SameDump(r, "dump", []byte(tt.want), []byte(tt.got))
			if (len(r.errs) > 0) != tt.fails {
				t.Errorf("errors %q, want failure %v", r.errs, tt.fails)
			}
		})
	}
}
