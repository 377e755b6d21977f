package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunGen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		args      []string
		wantUsage bool
	}{
		{"writes", []string{"--seed", "3", "--enterprises", "20", "--persons", "50", "--out", dir}, false},
		{"no out", []string{"--seed", "3"}, true},
		{"negative count", []string{"--enterprises", "-1", "--out", dir}, true},
		{"stray argument", []string{"--out", dir, "extra"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runGen(context.Background(), tt.args, &out, &errOut)
			if tt.wantUsage {
				if !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "expected.ndjson") {
				t.Errorf("output: %s", out.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
				t.Error(err)
			}
		})
	}
}
