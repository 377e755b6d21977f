package synthetic

import (
	"strings"
	"testing"
)

func TestUSCCCheckCharacters(t *testing.T) {
	tests := []struct {
		code      string
		wantValid bool
	}{
		{"91350100M000100Y43", true},
		{"91310110666007217T", true},
		{"914403001922038216", true},
		{"91350100M0001TGQXM", false}, // pilot code failing the USCC check
		{"91350100M000100Y44", false}, // USCC check character changed
		{"91350100M000100Y53", false}, // organization check character changed
		{"91350100M000100Y4", false},  // short
		{"91350100I000100Y43", false}, // I is outside the alphabet
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := validUSCC(tt.code); got != tt.wantValid {
				t.Fatalf("validUSCC(%q) = %v, want %v", tt.code, got, tt.wantValid)
			}
		})
	}
}

func TestUSCCParts(t *testing.T) {
	// The known-valid codes must be rebuilt exactly from their parts.
	for _, code := range []string{"91350100M000100Y43", "91310110666007217T", "914403001922038216"} {
		if got := makeUSCC(code[2:8], code[8:16]); got != code {
			t.Errorf("makeUSCC(%q, %q) = %q, want %q", code[2:8], code[8:16], got, code)
		}
	}
	// The pilot code's organization code is valid: only position 18 is wrong.
	pilot := "91350100M0001TGQXM"
	oc, _ := orgCheckChar(pilot[8:16])
	if oc != pilot[16] {
		t.Errorf("organization check of %s = %c, want %c", pilot, oc, pilot[16])
	}
	if cc, _ := usccCheckChar(pilot[:17]); cc == pilot[17] {
		t.Errorf("USCC check of %s unexpectedly passes", pilot)
	}
}

func TestOrgCheckCharMapping(t *testing.T) {
	// Σ mod 11 of 0 maps to 11 → '0'; a remainder of 1 maps to 10 → 'X'.
	tests := []struct {
		body string
		want byte
	}{
		{"00000000", '0'},
		{"00000005", '1'}, // 5·2 = 10 → 11−10 = 1
		{"00000006", 'X'}, // 6·2 = 12 ≡ 1 → 11−1 = 10 → X
	}
	for _, tt := range tests {
		got, ok := orgCheckChar(tt.body)
		if !ok || got != tt.want {
			t.Errorf("orgCheckChar(%q) = %c, %v; want %c", tt.body, got, ok, tt.want)
		}
	}
	if _, ok := orgCheckChar("0000000a"); ok {
		t.Error("lower-case body accepted")
	}
}

func TestIDCheckCharacters(t *testing.T) {
	tests := []struct {
		id        string
		wantValid bool
	}{
		{"11010519491231002X", true},
		{"440524188001010014", true},
		{"110105194912310021", false},
		{"11010519491231002x", false}, // lower case is a normalisation matter, not ours
		{"44052418800101001", false},
	}
	for _, tt := range tests {
		if got := validIDChecksum(tt.id); got != tt.wantValid {
			t.Errorf("validIDChecksum(%q) = %v, want %v", tt.id, got, tt.wantValid)
		}
	}
	if got := makeIDNumber("110105", "19491231", 2); got != "11010519491231002X" {
		t.Errorf("makeIDNumber = %q", got)
	}
	if got := makeIDNumber("440524", "18800101", 1); got != "440524188001010014" {
		t.Errorf("makeIDNumber = %q", got)
	}
}

func FuzzUSCCCheckChar(f *testing.F) {
	f.Add("91350100M000100Y4")
	f.Add("91310110666007217")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		cc, ok := usccCheckChar(s)
		if !ok {
			return
		}
		if !strings.ContainsRune(usccCharset, rune(cc)) {
			t.Fatalf("check char %q outside the alphabet", cc)
		}
		// Changing any one position to another character changes the check.
		for i := 0; i < len(s); i++ {
			for _, c := range []byte(usccCharset) {
				if c == s[i] {
					continue
				}
				alt := s[:i] + string(c) + s[i+1:]
				if cc2, _ := usccCheckChar(alt); cc2 == cc {
					t.Fatalf("single substitution at %d (%q→%q) keeps check %q", i, s[i], c, cc)
				}
			}
		}
	})
}

func FuzzIDCheckChar(f *testing.F) {
	f.Add("11010519491231002")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		cc, ok := idCheckChar(s)
		if !ok {
			return
		}
		if !validIDChecksum(s + string(cc)) {
			t.Fatalf("%s%c does not validate", s, cc)
		}
	})
}
