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

func TestIDsCheck(t *testing.T) {
	legacyFile := filepath.Join(t.TempDir(), "legacy.txt")
	if err := os.WriteFile(legacyFile, []byte("# Fujian pilot codes\n91350100M0001TGQXM  # 2015\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    []string // expected lines, reason checked by prefix
		wantErr error    // nil, errUsage, or errAny
	}{
		{
			name: "spec example",
			args: []string{"check", "91350100M000100Y43", "11010519491231002X", "110105194912310021"},
			want: []string{
				"91350100M000100Y43\tuscc\tvalid\t",
				"11010519491231002X\tid\tvalid\tassumed an ID number",
				"110105194912310021\tid\tinvalid\tassumed an ID number: positions 7–14 read as a birth date; check character (position 18) should be X, got 1",
			},
			wantErr: errAny,
		},
		{
			name: "all valid",
			args: []string{"check", "91310110666007217T", "914403001922038216", "440524188001010014", "110105491231002"},
			want: []string{
				"91310110666007217T\tuscc\tvalid\t",
				"914403001922038216\tuscc\tvalid\tassumed a USCC",
				"440524188001010014\tid\tvalid\tassumed an ID number",
				"110105491231002\tid\tvalid\t15-digit legacy number; its 18-character form is 11010519491231002X",
			},
		},
		{
			name: "legacy is not invalid",
			args: []string{"check", "91350100M0001TGQXM"},
			want: []string{"91350100M0001TGQXM\tuscc\tlegacy\tfails only the GB 32100 check"},
		},
		{
			name: "legacy allowlisted",
			args: []string{"check", "--legacy", legacyFile, "91350100M0001TGQXM"},
			want: []string{"91350100M0001TGQXM\tuscc\tlegacy\tearly pilot code"},
		},
		{
			name:    "kind forced",
			args:    []string{"check", "--kind", "id", "914403001922038216"},
			want:    []string{"914403001922038216\tid\tinvalid\t"},
			wantErr: errAny,
		},
		{
			name:  "codes from stdin",
			args:  []string{"check", "-"},
			stdin: "91350100M000100Y43\n# comment\n\n11010519491231002X\n",
			want:  []string{"91350100M000100Y43\tuscc\tvalid\t", "11010519491231002X\tid\tvalid\t"},
		},
		{name: "no subcommand", args: nil, wantErr: errUsage},
		{name: "unknown subcommand", args: []string{"verify", "x"}, wantErr: errUsage},
		{name: "no codes", args: []string{"check"}, wantErr: errUsage},
		{name: "bad kind", args: []string{"check", "--kind", "passport", "x"}, wantErr: errUsage},
		{name: "bad flag", args: []string{"check", "--nope", "x"}, wantErr: errUsage},
		{name: "missing legacy file", args: []string{"check", "--legacy", filepath.Join(t.TempDir(), "none"), "x"}, wantErr: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := idsCommand(context.Background(), tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.wantErr == errUsage && !errors.Is(err, errUsage):
				t.Fatalf("error %v, want a usage error", err)
			case tc.wantErr == errAny && (err == nil || errors.Is(err, errUsage)):
				t.Fatalf("error %v, want a non-usage error", err)
			}
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(tc.want) == 0 {
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				return
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("stdout has %d lines, want %d:\n%s", len(lines), len(tc.want), stdout.String())
			}
			for i, want := range tc.want {
				if !strings.HasPrefix(lines[i], want) || strings.Count(lines[i], "\t") != 3 {
					t.Errorf("line %d = %q, want prefix %q and four tab-separated columns", i, lines[i], want)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

// TestIDsExitStatus checks the exit codes the operator sees through main's run.
func TestIDsExitStatus(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"ids", "check", "91350100M000100Y43"}, 0},
		{[]string{"ids", "check", "91350100M000100Y43", "110105194912310021"}, 1},
		{[]string{"ids", "check"}, 2},
		{[]string{"ids", "check", "--kind", "x", "91350100M000100Y43"}, 2},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), tc.args, &stdout, &stderr); got != tc.want {
			t.Errorf("hub %s: exit %d, want %d (stderr %q)", strings.Join(tc.args, " "), got, tc.want, stderr.String())
		}
	}
}
