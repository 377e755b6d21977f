package contracts

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// rejectCode returns the code of the one reject in an identifier function's error.
func rejectCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var re *RecordError
	if !errors.As(err, &re) || len(re.Rejects) != 1 {
		t.Fatalf("error %v is not a *RecordError with one reject", err)
	}
	if !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("error %v does not match ErrInvalidRecord", err)
	}
	if re.Rejects[0].Message == "" {
		t.Errorf("reject %s has no message", re.Rejects[0].Code)
	}
	return re.Rejects[0].Code
}

func TestValidateUSCC(t *testing.T) {
	legacy := map[string]bool{"91350100M0001TGQXM": true, "91350100M000100Y53": true}
	tests := []struct {
		code     string
		legacy   map[string]bool
		wantErr  string
		wantWarn string
	}{
		{code: "91350100M000100Y43"},
		{code: "91310110666007217T"},
		{code: "914403001922038216"},
		{code: "91350100M0001TGQXM", wantErr: CodeUSCCChecksum},
		{code: "91350100M0001TGQXM", legacy: legacy, wantWarn: CodeLegacyChecksum},
		{code: "91350100M000100Y53", legacy: legacy, wantErr: CodeUSCCOrgCode}, // the allowlist excuses only the USCC check
		{code: "91350100M000100Y44", wantErr: CodeUSCCChecksum},
		{code: "91350100M000100Y53", wantErr: CodeUSCCOrgCode},
		{code: "91350100M000100Y4", wantErr: CodeUSCCLength},
		{code: "91350100M000100Y433", wantErr: CodeUSCCLength},
		{code: "", wantErr: CodeRequired},
		{code: "91350100M000100I43", wantErr: CodeUSCCCharset},
		{code: "91350100m000100Y43", wantErr: CodeUSCCCharset},
		{code: "91350100M000100Ｙ43", wantErr: CodeUSCCCharset}, // full-width: 20 bytes but 18 characters
		{code: "9135010０M000100Y43", wantErr: CodeUSCCCharset},
		{code: "9135010０M000100Y4", wantErr: CodeUSCCLength},
		{code: "91350100M000100 43", wantErr: CodeUSCCCharset},
	}
	for _, tc := range tests {
		warn, err := ValidateUSCC(tc.code, tc.legacy)
		if got := rejectCode(t, err); got != tc.wantErr {
			t.Errorf("ValidateUSCC(%q) error = %v, want code %q", tc.code, err, tc.wantErr)
		}
		gotWarn := ""
		if warn != nil {
			gotWarn = warn.Code
		}
		if gotWarn != tc.wantWarn {
			t.Errorf("ValidateUSCC(%q) warning = %v, want %q", tc.code, warn, tc.wantWarn)
		}
	}
}

// TestUSCCCatchesSingleSubstitutions: the GB 32100 check (mod 31, weights coprime to
// 31) detects every single-character substitution, the typo it exists to catch.
func TestUSCCCatchesSingleSubstitutions(t *testing.T) {
	for _, code := range []string{"91350100M000100Y43", "91310110666007217T", "914403001922038216"} {
		for i := 0; i < 18; i++ {
			for _, c := range usccAlphabet {
				if byte(c) == code[i] {
					continue
				}
				typo := code[:i] + string(c) + code[i+1:]
				if _, err := ValidateUSCC(typo, nil); err == nil {
					t.Errorf("%s (position %d changed) accepted", typo, i+1)
				}
			}
		}
	}
}

func TestUSCCMessagesAreConcrete(t *testing.T) {
	_, err := ValidateUSCC("91350100M000100Y44", nil)
	if err == nil || !strings.Contains(err.Error(), "should be 3, got 4") {
		t.Errorf("message %v does not say what the check character should be", err)
	}
}

func TestNormalizeIDNumber(t *testing.T) {
	now := testNow
	tests := []struct {
		id      string
		now     time.Time
		want    string
		wantErr string
	}{
		{id: "11010519491231002X", want: "11010519491231002X"},
		{id: "11010519491231002x", want: "11010519491231002X"},
		{id: "440524188001010014", want: "440524188001010014"},
		{id: "110105491231002", want: "11010519491231002X"},
		{id: withIDCheck("81000019900101123"), want: withIDCheck("81000019900101123")}, // Hong Kong residence permit
		{id: "110105194912310021", wantErr: CodeIDChecksum},
		{id: "11010519491231002Y", wantErr: CodeIDCharset},
		{id: "1101051949123100AX", wantErr: CodeIDCharset},
		{id: "11010549123100A", wantErr: CodeIDCharset},
		{id: "1101051949123100", wantErr: CodeIDLength},
		{id: "1101051949123１002X", wantErr: CodeIDCharset},
		{id: "", wantErr: CodeRequired},
		{id: withIDCheck("00010519491231002"), wantErr: CodeIDAddress},
		{id: withIDCheck("99010519491231002"), wantErr: CodeIDAddress},
		{id: withIDCheck("11010519490229002"), wantErr: CodeIDBirthDate}, // 1949 is not a leap year
		{id: withIDCheck("11010520000229002"), want: withIDCheck("11010520000229002")},
		{id: withIDCheck("11010518691231002"), wantErr: CodeIDBirthDate},
		{id: withIDCheck("11010518700101002"), want: withIDCheck("11010518700101002")},
		{id: withIDCheck("11010520240602002"), wantErr: CodeIDBirthDate}, // tomorrow
		{id: withIDCheck("11010520240601002"), want: withIDCheck("11010520240601002")},
		// 2024-05-31 17:00 UTC is already 1 June in China: born "today" there.
		{id: withIDCheck("11010520240601002"), now: time.Date(2024, 5, 31, 17, 0, 0, 0, time.UTC), want: withIDCheck("11010520240601002")},
		{id: withIDCheck("11010520240601002"), now: time.Date(2024, 5, 31, 15, 0, 0, 0, time.UTC), wantErr: CodeIDBirthDate},
		{id: "110105491331002", wantErr: CodeIDBirthDate},
	}
	for _, tc := range tests {
		n := now
		if !tc.now.IsZero() {
			n = tc.now
		}
		got, err := NormalizeIDNumber(tc.id, n)
		if code := rejectCode(t, err); code != tc.wantErr || got != tc.want {
			t.Errorf("NormalizeIDNumber(%s) = %q, %v; want %q, code %q", MaskID(tc.id), got, err, tc.want, tc.wantErr)
		}
		if err != nil && len(tc.id) >= 14 && strings.Contains(err.Error(), tc.id[6:14]) {
			t.Errorf("error for %s reveals the birth date: %v", MaskID(tc.id), err)
		}
	}
}

// TestIDCatchesSingleSubstitutions: MOD 11-2 detects every single-digit substitution.
func TestIDCatchesSingleSubstitutions(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "440524188001010014"} {
		for i := 0; i < 18; i++ {
			for _, c := range "0123456789X" {
				if byte(c) == id[i] || c == 'X' && i < 17 {
					continue
				}
				typo := id[:i] + string(c) + id[i+1:]
				if _, err := NormalizeIDNumber(typo, testNow); err == nil {
					t.Errorf("%s (position %d changed) accepted", MaskID(typo), i+1)
				}
			}
		}
	}
}

func TestValidateCertNo(t *testing.T) {
	tests := []struct {
		no   string
		want string
	}{
		{"S350100202300001234567", ""},
		{"S0000ABCDEFGHIJKLMNOPQ", ""},
		{"20191100000012", ""},
		{"2019110000001234567890", ""},
		{"", CodeRequired},
		{"S35010020230000123456", CodeCertNo},   // 21 characters
		{"S3501002023000012345678", CodeCertNo}, // 23
		{"S35010020230000123456a", CodeCertNo},
		{"s350100202300001234567", CodeCertNo},
		{"2019110000001", CodeCertNo},           // 13 digits
		{"20191100000012345678901", CodeCertNo}, // 23 digits
		{"2019-1100-0000-12", CodeCertNo},
	}
	for _, tc := range tests {
		if got := rejectCode(t, ValidateCertNo(tc.no)); got != tc.want {
			t.Errorf("ValidateCertNo(%q) = %q, want %q", tc.no, got, tc.want)
		}
	}
}

func TestValidateOccupationCode(t *testing.T) {
	tests := []struct {
		code string
		want string
	}{
		{"6-29-01-06", ""},
		{"1-01-00-01", ""},
		{"8-00-00-00", ""},
		{"", CodeRequired},
		{"0-29-01-06", CodeOccupationCode},
		{"9-29-01-06", CodeOccupationCode},
		{"6-29-01-6", CodeOccupationCode},
		{"6-29-01-060", CodeOccupationCode},
		{"6290106", CodeOccupationCode},
		{"6-29-0A-06", CodeOccupationCode},
		{"6.29.01.06", CodeOccupationCode},
	}
	for _, tc := range tests {
		if got := rejectCode(t, ValidateOccupationCode(tc.code)); got != tc.want {
			t.Errorf("ValidateOccupationCode(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestValidateRegionCode(t *testing.T) {
	tests := []struct {
		code string
		want string
	}{
		{"350100", ""},
		{"110000", ""},
		{"659001", ""},
		{"", CodeRequired},
		{"35010", CodeRegionCode},
		{"3501000", CodeRegionCode},
		{"35010A", CodeRegionCode},
		{"990100", CodeRegionCode},
		{"100100", CodeRegionCode},
		{"810000", CodeRegionCode}, // Hong Kong has no mainland pooling region
	}
	for _, tc := range tests {
		if got := rejectCode(t, ValidateRegionCode(tc.code)); got != tc.want {
			t.Errorf("ValidateRegionCode(%q) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestCheckCode(t *testing.T) {
	legacy := map[string]bool{"91350100M0001TGQXM": true}
	tests := []struct {
		kind, code  string
		wantKind    string
		wantStatus  string
		wantAssumed bool
		reasonHas   string
	}{
		{"", "91350100M000100Y43", CodeKindUSCC, StatusValid, false, ""},
		{"", "11010519491231002X", CodeKindID, StatusValid, true, "assumed an ID number"},
		{"", "110105194912310021", CodeKindID, StatusInvalid, true, "should be X, got 1"},
		{"", "914403001922038216", CodeKindUSCC, StatusValid, true, "assumed a USCC"},
		{"", "91350100M0001TGQXM", CodeKindUSCC, StatusLegacy, false, "on the legacy allowlist"},
		{"", "91350100M0002TGQXM", CodeKindUSCC, StatusInvalid, false, "organization code"},
		{"", "110105491231002", CodeKindID, StatusValid, false, "11010519491231002X"},
		{"", "11010519491231002x", CodeKindID, StatusValid, true, "upper-case X"},
		{"", "abc", CodeKindUSCC, StatusInvalid, true, "18 characters"},
		{"", "12345", CodeKindID, StatusInvalid, true, "assumed an ID number"},
		{"", "", CodeKindUSCC, StatusInvalid, true, "empty"},
		{CodeKindUSCC, "11010519491231002X", CodeKindUSCC, StatusInvalid, false, ""},
		{CodeKindID, "914403001922038216", CodeKindID, StatusInvalid, false, ""},
		{CodeKindUSCC, "91350200M0001TGQXM", CodeKindUSCC, StatusLegacy, false, "add it to the legacy allowlist"},
		{"passport", "E12345678", "passport", StatusInvalid, false, "unknown kind"},
	}
	for _, tc := range tests {
		got := checkCode(tc.kind, tc.code, legacy, testNow)
		if got.Code != tc.code || got.Kind != tc.wantKind || got.Status != tc.wantStatus || got.Assumed != tc.wantAssumed ||
			!strings.Contains(got.Reason, tc.reasonHas) {
			t.Errorf("checkCode(%q, %q) = %+v; want kind %s status %s assumed %v reason containing %q",
				tc.kind, tc.code, got, tc.wantKind, tc.wantStatus, tc.wantAssumed, tc.reasonHas)
		}
		if got.Status == StatusInvalid && got.Reason == "" {
			t.Errorf("checkCode(%q, %q): invalid without a reason", tc.kind, tc.code)
		}
	}
}

// TestCheckCodeFallsBackToTheOtherKind: an 18-digit USCC whose positions 7–14 look
// like a date is not reported invalid just because it was first read as an ID number.
func TestCheckCodeFallsBackToTheOtherKind(t *testing.T) {
	// Find an all-digit valid USCC whose positions 7–14 form a plausible date.
	base := "91350119800101"
	for tail := 0; tail < 1000; tail++ {
		d := base + string(rune('0'+tail/100)) + string(rune('0'+tail/10%10)) + string(rune('0'+tail%10))
		org := d[8:16]
		code := d[:16] + string(orgCheckChar(org))
		code += string(usccCheckChar(code + "0"))
		if !isDigits(code) {
			continue
		}
		if _, err := NormalizeIDNumber(code, testNow); err == nil {
			continue
		}
		got := checkCode("", code, nil, testNow)
		if got.Kind != CodeKindUSCC || got.Status != StatusValid || !got.Assumed || !strings.Contains(got.Reason, "valid USCC") {
			t.Fatalf("checkCode(%s) = %+v, want a valid USCC taken after the ID reading failed", code, got)
		}
		return
	}
	t.Fatal("no all-digit USCC with a date in positions 7–14 found")
}

// CheckCode, the exported form, agrees with the internal one.
func TestCheckCodeExported(t *testing.T) {
	got := CheckCode("", "91350100M0001TGQXM", "91350100M0001TGQXM")
	if got.Status != StatusLegacy || !strings.Contains(got.Reason, "on the legacy allowlist") {
		t.Errorf("CheckCode = %+v", got)
	}
}
