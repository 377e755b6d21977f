package contracts

import (
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds the identifier checks of SPEC §1. Each check has an internal form
// that returns a Reject by value and builds a message only on failure, so the
// validator's hot path does not allocate; the exported functions wrap them.

// minBirthYear is the earliest birth year a resident ID number may carry. Resident ID
// numbers were first issued in 1984, and no one then alive was born before 1870 (the
// spec's own example, 440524188001010014, was born in 1880).
const minBirthYear = 1870

// chinaZone is the zone birth dates are reckoned in: a person born today in Beijing is
// not "born in the future" while it is still yesterday in UTC.
var chinaZone = time.FixedZone("CST", 8*3600)

// noReject is the zero Reject: no failure.
var noReject Reject

func failed(r Reject) bool { return r.Code != "" }

// ---- USCC (GB 32100-2015) ----

// usccValue maps a USCC character to its value (0–30); -1 for characters outside the
// charset 0-9 A-H J-N P Q R T U W X Y.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// usccCheckChar computes the GB 32100 check character of the first 17 characters,
// which must all be in the charset.
func usccCheckChar(code string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(usccValue[code[i]]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// orgCheckChar computes the GB 11714 check character of an organization code's
// first 8 characters (digits or upper-case letters).
func orgCheckChar(org string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		c := org[i]
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// checkUSCC checks a USCC. It returns the failure, if any, and whether the only
// failure is the GB 32100 check character (the mark of an early pilot code).
func checkUSCC(code string) (r Reject, checksumOnly bool) {
	if len(code) != 18 {
		n := utf8.RuneCountInString(code)
		if n == 0 {
			return Reject{Code: CodeRequired, Message: "unified social credit code is empty"}, false
		}
		if n == 18 {
			return Reject{Code: CodeUSCCCharset, Message: usccCharsetMessage(code, firstNonASCII(code))}, false
		}
		return Reject{Code: CodeUSCCLength, Message: fmt.Sprintf("unified social credit code must be 18 characters, got %d", n)}, false
	}
	for i := 0; i < 18; i++ {
		c := code[i]
		if usccValue[c] >= 0 {
			continue
		}
		return Reject{Code: CodeUSCCCharset, Message: usccCharsetMessage(code, i)}, false
	}
	// The embedded organization code (positions 9–17): its own check character
	// may be X, which the USCC alphabet also allows.
	if want := orgCheckChar(code[8:16]); code[16] != want {
		return Reject{Code: CodeUSCCOrgCode, Message: fmt.Sprintf(
			"organization code (positions 9–17) check character at position 17 should be %c, got %c: check positions 9–17 for a typo",
			want, code[16])}, false
	}
	if want := usccCheckChar(code); code[17] != want {
		return Reject{Code: CodeUSCCChecksum, Message: fmt.Sprintf(
			"check character (position 18) should be %c, got %c: check positions 1–8 and 18 for a typo",
			want, code[17])}, true
	}
	return noReject, false
}

// firstNonASCII returns the character position (from 0) of the first non-ASCII rune.
func firstNonASCII(s string) int {
	k := 0
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return k
		}
		k++
	}
	return k
}

// usccCharsetMessage describes the bad character at character position i.
func usccCharsetMessage(code string, i int) string {
	if i >= len(code) || code[i] >= utf8.RuneSelf || !isASCII(code) {
		return fmt.Sprintf("position %d: not an ASCII character (full-width characters are not allowed)", i+1)
	}
	c := code[i]
	switch {
	case c >= 'a' && c <= 'z':
		return fmt.Sprintf("position %d: %q is lower case; the code uses upper-case letters", i+1, rune(c))
	case c == 'I' || c == 'O' || c == 'S' || c == 'V' || c == 'Z':
		return fmt.Sprintf("position %d: the letter %c is never used (the code excludes I, O, S, V and Z)", i+1, c)
	default:
		return fmt.Sprintf("position %d: %q is not allowed (the code uses 0-9 and A-Z without I, O, S, V, Z)", i+1, rune(c))
	}
}

// ValidateUSCC checks a unified social credit code (GB 32100-2015): length, charset,
// the embedded GB 11714 organization-code check and the GB 32100 check character.
//
// A code failing only the GB 32100 check is an early pilot code: if legacy holds it,
// it is accepted and warning (code legacy_checksum) says so; otherwise err reports
// uscc_checksum. Every other failure is an err, never affected by legacy. err is a
// *RecordError holding one Reject (with an empty Field) and matches ErrInvalidRecord.
// legacy may be nil.
func ValidateUSCC(code string, legacy map[string]bool) (warning *Reject, err error) {
	r, checksumOnly := checkUSCC(code)
	if !failed(r) {
		return nil, nil
	}
	if checksumOnly && legacy[code] {
		w := legacyWarning("")
		return &w, nil
	}
	return nil, &RecordError{Rejects: []Reject{r}}
}

func legacyWarning(field string) Reject {
	return Reject{Code: CodeLegacyChecksum, Field: field,
		Message: "early pilot code that fails the GB 32100 check character; accepted because it is on the legacy allowlist"}
}

// ---- Resident ID numbers (GB 11643-1999) ----

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// idCheckChar computes the ISO 7064 MOD 11-2 check character of 17 digits.
func idCheckChar(digits string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(digits[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// provinces holds the two-digit province codes of GB/T 2260 that begin a resident
// ID number's address code: the 31 mainland provinces, Taiwan (71), and Hong Kong,
// Macao and Taiwan residence permits (81, 82, 83).
var provinces = func() (t [100]bool) {
	for _, p := range []int{11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
		41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83} {
		t[p] = true
	}
	return t
}()

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// atoi parses a short run of ASCII digits known to be digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(year, month int) int {
	switch month {
	case 1, 3, 5, 7, 8, 10, 12:
		return 31
	case 4, 6, 9, 11:
		return 30
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 0
}

// realDate reports whether eight digits YYYYMMDD name a real calendar date.
func realDate(y, m, d int) bool {
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// normalizeID checks an ID number and returns its 18-character upper-case form. It
// allocates only when the result differs from the input (a lower-case x or a 15-digit
// legacy number).
func normalizeID(id string, now time.Time) (string, Reject) {
	switch len(id) {
	case 18:
	case 15:
		if !isDigits(id) {
			return "", Reject{Code: CodeIDCharset, Message: "a 15-digit legacy ID number has digits only"}
		}
	default:
		n := utf8.RuneCountInString(id)
		if n == 0 {
			return "", Reject{Code: CodeRequired, Message: "ID number is empty"}
		}
		if n == 18 || n == 15 {
			return "", Reject{Code: CodeIDCharset, Message: "ID numbers are ASCII digits (and X): full-width characters are not allowed"}
		}
		return "", Reject{Code: CodeIDLength, Message: fmt.Sprintf("ID number must be 18 characters (or 15 for a legacy number), got %d", n)}
	}
	if len(id) == 18 {
		if !isDigits(id[:17]) {
			return "", Reject{Code: CodeIDCharset, Message: "positions 1–17 of an ID number are digits only"}
		}
		if c := id[17]; !(c >= '0' && c <= '9' || c == 'X' || c == 'x') {
			return "", Reject{Code: CodeIDCharset, Message: "position 18 of an ID number is a digit or X"}
		}
	}
	if !provinces[atoi(id[:2])] {
		return "", Reject{Code: CodeIDAddress, Message: "address code (positions 1–6) does not begin with a province code of GB/T 2260"}
	}
	var y, m, d int
	if len(id) == 15 {
		y, m, d = 1900+atoi(id[6:8]), atoi(id[8:10]), atoi(id[10:12])
	} else {
		y, m, d = atoi(id[6:10]), atoi(id[10:12]), atoi(id[12:14])
	}
	if r := checkBirth(y, m, d, len(id), now); failed(r) {
		return "", r
	}
	if len(id) == 15 {
		b := make([]byte, 18)
		copy(b, id[:6])
		b[6], b[7] = '1', '9'
		copy(b[8:], id[6:])
		b[17] = idCheckChar(string(b[:17]))
		return string(b), noReject
	}
	want := idCheckChar(id)
	got := id[17]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		return "", Reject{Code: CodeIDChecksum, Message: fmt.Sprintf("check character (position 18) should be %c, got %c", want, id[17])}
	}
	if id[17] == 'x' {
		return id[:17] + "X", noReject
	}
	return id, noReject
}

func checkBirth(y, m, d, length int, now time.Time) Reject {
	where := "positions 7–14"
	if length == 15 {
		where = "positions 7–12"
	}
	if !realDate(y, m, d) {
		return Reject{Code: CodeIDBirthDate, Message: "birth date (" + where + ") is not a real calendar date"}
	}
	if y < minBirthYear {
		return Reject{Code: CodeIDBirthDate, Message: fmt.Sprintf("birth date (%s) is before %d", where, minBirthYear)}
	}
	ny, nm, nd := now.In(chinaZone).Date()
	if y > ny || y == ny && (m > int(nm) || m == int(nm) && d > nd) {
		return Reject{Code: CodeIDBirthDate, Message: "birth date (" + where + ") is in the future"}
	}
	return noReject
}

// NormalizeIDNumber checks a resident ID number (GB 11643-1999) and returns its
// canonical 18-character form: a lower-case check character x becomes X, and a
// 15-digit legacy number (birth year 19YY, no check character) is upgraded by
// inserting "19" before the year and computing the check character.
//
// Checks: length and charset; an address code beginning with a real province code;
// a birth date that is a real calendar date, not before 1870 and not after now's date
// in China; the ISO 7064 MOD 11-2 check character. The error is a *RecordError with
// one Reject (empty Field) and never contains the number itself.
func NormalizeIDNumber(id string, now time.Time) (string, error) {
	out, r := normalizeID(id, now)
	if failed(r) {
		return "", &RecordError{Rejects: []Reject{r}}
	}
	return out, nil
}

// ---- Other formats ----

// checkCertNo accepts the two certificate numbering schemes in use:
//   - skill-level certificates (职业技能等级证书, since 2020): "S" followed by 21 digits
//     or upper-case letters, 22 characters in all;
//   - vocational qualification certificates (职业资格证书): 14 to 22 digits.
func checkCertNo(s string) Reject {
	switch {
	case s == "":
		return Reject{Code: CodeRequired, Message: "certificate number is empty"}
	case s[0] == 'S':
		if len(s) != 22 {
			return Reject{Code: CodeCertNo, Message: fmt.Sprintf("a skill-level certificate number is S followed by 21 digits or upper-case letters (22 characters), got %d characters", utf8.RuneCountInString(s))}
		}
		for i := 1; i < len(s); i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return Reject{Code: CodeCertNo, Message: fmt.Sprintf("position %d of a skill-level certificate number must be a digit or upper-case letter", i+1)}
			}
		}
	case isDigits(s):
		if len(s) < 14 || len(s) > 22 {
			return Reject{Code: CodeCertNo, Message: fmt.Sprintf("a vocational qualification certificate number has 14–22 digits, got %d", len(s))}
		}
	default:
		return Reject{Code: CodeCertNo, Message: "certificate number must be S followed by 21 digits or upper-case letters (skill-level certificate) or 14–22 digits (vocational qualification certificate)"}
	}
	return noReject
}

// ValidateCertNo checks a certificate number: "S" followed by 21 digits or upper-case
// letters (a skill-level certificate, 职业技能等级证书), or 14–22 digits (a vocational
// qualification certificate, 职业资格证书). The error is a *RecordError with one Reject.
func ValidateCertNo(certNo string) error { return asError(checkCertNo(certNo)) }

// checkOccupationCode accepts X-XX-XX-XX of the Occupational Classification of the
// PRC (职业分类大典, 2015 and 2022 editions), whose major groups are 1–8.
func checkOccupationCode(s string) Reject {
	if s == "" {
		return Reject{Code: CodeRequired, Message: "occupation code is empty"}
	}
	if len(s) != 10 || s[1] != '-' || s[4] != '-' || s[7] != '-' ||
		!isDigits(s[0:1]) || !isDigits(s[2:4]) || !isDigits(s[5:7]) || !isDigits(s[8:10]) {
		return Reject{Code: CodeOccupationCode, Message: "occupation code must have the shape X-XX-XX-XX (digits), e.g. 6-29-01-06"}
	}
	if s[0] < '1' || s[0] > '8' {
		return Reject{Code: CodeOccupationCode, Message: fmt.Sprintf("occupation major group (first digit) must be 1–8, got %c", s[0])}
	}
	return noReject
}

// ValidateOccupationCode checks an occupation code X-XX-XX-XX with major group 1–8.
// The error is a *RecordError with one Reject.
func ValidateOccupationCode(code string) error { return asError(checkOccupationCode(code)) }

// checkRegionCode accepts a 6-digit GB/T 2260 administrative division code of a
// mainland province, the shape of a social-insurance pooling region (统筹区).
func checkRegionCode(s string) Reject {
	if s == "" {
		return Reject{Code: CodeRequired, Message: "region code is empty"}
	}
	if len(s) != 6 || !isDigits(s) {
		return Reject{Code: CodeRegionCode, Message: fmt.Sprintf("region code must be 6 digits, got %q", truncate(s, 20))}
	}
	if p := atoi(s[:2]); !provinces[p] || p >= 71 {
		return Reject{Code: CodeRegionCode, Message: fmt.Sprintf("region code must begin with a mainland province code of GB/T 2260, got %s", s[:2])}
	}
	return noReject
}

// ValidateRegionCode checks a 6-digit region (pooling area) code beginning with a
// mainland province code. The error is a *RecordError with one Reject.
func ValidateRegionCode(code string) error { return asError(checkRegionCode(code)) }

// checkDate accepts a real calendar date YYYY-MM-DD.
func checkDate(s string) Reject {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !isDigits(s[:4]) || !isDigits(s[5:7]) || !isDigits(s[8:]) {
		return Reject{Code: CodeDate, Message: fmt.Sprintf("date must be YYYY-MM-DD, got %q", truncate(s, 30))}
	}
	if !realDate(atoi(s[:4]), atoi(s[5:7]), atoi(s[8:])) {
		return Reject{Code: CodeDate, Message: fmt.Sprintf("%s is not a real calendar date", s)}
	}
	return noReject
}

// checkMonth accepts a real month YYYY-MM.
func checkMonth(s string) Reject {
	if len(s) != 7 || s[4] != '-' || !isDigits(s[:4]) || !isDigits(s[5:]) {
		return Reject{Code: CodeMonth, Message: fmt.Sprintf("month must be YYYY-MM, got %q", truncate(s, 30))}
	}
	if m := atoi(s[5:]); m < 1 || m > 12 {
		return Reject{Code: CodeMonth, Message: fmt.Sprintf("month must be 01–12, got %s", s[5:])}
	}
	return noReject
}

// checkTimestamp accepts an RFC 3339 date-time from 1900 to 9999 in UTC, so that
// its UTC form always re-encodes as RFC 3339.
func checkTimestamp(s string) (time.Time, Reject) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, Reject{Code: CodeTimestamp, Message: fmt.Sprintf("must be an RFC 3339 time such as 2019-01-05T00:00:00Z, got %q", truncate(s, 40))}
	}
	if y := t.UTC().Year(); y < 1900 || y > 9999 {
		return time.Time{}, Reject{Code: CodeTimestamp, Message: fmt.Sprintf("must be a time from 1900 to 9999, got %q", truncate(s, 40))}
	}
	return t, noReject
}

// checkRecordKey accepts a non-empty key of printable characters without spaces.
func checkRecordKey(s string) Reject {
	if s == "" {
		return Reject{Code: CodeRequired, Message: "must not be empty"}
	}
	for i, c := range s {
		if c > ' ' && c < 0x7f {
			continue
		}
		if c == utf8.RuneError || c == ' ' || !unicode.IsPrint(c) {
			return Reject{Code: CodePattern, Message: fmt.Sprintf("character %d is whitespace or a control character; keys contain neither", utf8.RuneCountInString(s[:i])+1)}
		}
	}
	return noReject
}

// truncate shortens free text quoted in messages.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n {
			break
		}
		k++
	}
	return s[:i] + "…"
}

func asError(r Reject) error {
	if !failed(r) {
		return nil
	}
	return &RecordError{Rejects: []Reject{r}}
}

// year4 formats a year as four digits, the form natural keys use.
func year4(y int64) string {
	s := strconv.FormatInt(y, 10)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}
