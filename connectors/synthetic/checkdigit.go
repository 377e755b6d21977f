package synthetic

import "strings"

// usccCharset is the GB 32100-2015 alphabet: digits and capitals without I, O, S, V, Z.
// A character's value is its index.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^(i-1) mod 31 for positions 1–17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are the GB 11714 weights of the eight body characters of an
// organization code.
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// idWeights are the ISO 7064 MOD 11-2 weights of GB 11643-1999.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the ID number's check character.
const idCheckChars = "10X98765432"

// usccCheckChar returns the GB 32100 check character of the first 17 characters of a
// USCC, or false when they are not 17 characters of the USCC alphabet.
func usccCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccCharset, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccCharset[(31-sum%31)%31], true
}

// orgCheckChar returns the GB 11714 check character of an 8-character organization
// code body (digits and capitals, A=10 … Z=35), or false for a malformed body.
func orgCheckChar(body string) (byte, bool) {
	if len(body) != 8 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0, false
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', true
	case 11:
		return '0', true
	default:
		return byte('0' + c), true
	}
}

// idCheckChar returns the MOD 11-2 check character of the first 17 digits of a
// resident ID number, or false when they are not 17 digits.
func idCheckChar(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], true
}

// makeUSCC assembles a USCC of an enterprise (registration authority 9, type 1) from
// its 6-digit region code and an 8-character organization-code body drawn from the
// USCC alphabet. It panics on malformed input: callers pass generated values.
func makeUSCC(region, orgBody string) string {
	oc, ok := orgCheckChar(orgBody)
	if !ok || len(region) != 6 {
		panic("synthetic: malformed USCC parts " + region + " " + orgBody)
	}
	first := "91" + region + orgBody + string(oc)
	cc, ok := usccCheckChar(first)
	if !ok {
		panic("synthetic: USCC parts outside the alphabet: " + first)
	}
	return first + string(cc)
}

// makeIDNumber assembles a resident ID number from its address code, birth date
// (YYYYMMDD) and 3-digit sequence. It panics on malformed input.
func makeIDNumber(address, birth string, seq int) string {
	first := address + birth + string([]byte{byte('0' + seq/100%10), byte('0' + seq/10%10), byte('0' + seq%10)})
	cc, ok := idCheckChar(first)
	if !ok {
		panic("synthetic: malformed ID number parts " + first)
	}
	return first + string(cc)
}

// validUSCC reports whether code passes both the GB 32100 and the embedded GB 11714
// checks.
func validUSCC(code string) bool {
	if len(code) != 18 {
		return false
	}
	cc, ok := usccCheckChar(code[:17])
	if !ok || cc != code[17] {
		return false
	}
	oc, ok := orgCheckChar(code[8:16])
	return ok && oc == code[16]
}

// validIDChecksum reports whether an 18-character ID number has the right check
// character (upper-case X only).
func validIDChecksum(id string) bool {
	if len(id) != 18 {
		return false
	}
	cc, ok := idCheckChar(id[:17])
	return ok && cc == id[17]
}
