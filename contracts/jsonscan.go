package contracts

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a strict RFC 8259 reader over one record, built for the validator: it
// returns strings as substrings of the input when they hold no escapes, so a typical
// record is read without allocating. Unlike encoding/json it refuses invalid UTF-8
// rather than replacing it, since a contract field that silently changed would be
// worse than a reject.
type scanner struct {
	s   string
	i   int
	err string // first syntax error, with its byte offset
}

// token kinds returned by scalar.
const (
	tokString = 's'
	tokNumber = 'n'
	tokTrue   = 't'
	tokFalse  = 'f'
	tokNull   = 'z'
	tokObject = '{'
	tokArray  = '['
)

func tokName(tok byte) string {
	switch tok {
	case tokString:
		return "a string"
	case tokNumber:
		return "a number"
	case tokTrue, tokFalse:
		return "a boolean"
	case tokNull:
		return "null"
	case tokObject:
		return "an object"
	case tokArray:
		return "an array"
	}
	return "nothing"
}

const maxDepth = 64

func (p *scanner) fail(format string, args ...any) bool {
	if p.err == "" {
		p.err = fmt.Sprintf("invalid JSON at byte %d: ", p.i) + fmt.Sprintf(format, args...)
	}
	return false
}

func (p *scanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (p *scanner) peek() byte {
	p.ws()
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *scanner) consume(c byte) bool {
	if p.peek() != c {
		if p.i >= len(p.s) {
			return p.fail("unexpected end, want %q", c)
		}
		return p.fail("want %q, got %q", c, p.s[p.i])
	}
	p.i++
	return true
}

// str reads a string starting at the opening quote.
func (p *scanner) str() (string, bool) {
	if !p.consume('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			return v, true
		case c == '\\':
			return p.strSlow(start)
		case c < 0x20:
			return "", p.fail("control character in string")
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && n == 1 {
				return "", p.fail("invalid UTF-8")
			}
			p.i += n
		}
	}
	return "", p.fail("unterminated string")
}

// strSlow continues a string that holds escapes, building its value.
func (p *scanner) strSlow(start int) (string, bool) {
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), true
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.fail("unterminated escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					// A valid pair decodes to one rune; a lone surrogate becomes
					// U+FFFD, as encoding/json does.
					r2 := utf8.RuneError
					if len(p.s) >= p.i+6 && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						if x, ok := parseHex4(p.s[p.i+2 : p.i+6]); ok {
							if d := utf16.DecodeRune(r, x); d != utf8.RuneError {
								r2 = d
								p.i += 6
							}
						}
					}
					r = r2
				}
				b.WriteRune(r)
			default:
				p.i--
				return "", p.fail("invalid escape \\%c", e)
			}
		case c < 0x20:
			return "", p.fail("control character in string")
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.i++
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && n == 1 {
				return "", p.fail("invalid UTF-8")
			}
			b.WriteString(p.s[p.i : p.i+n])
			p.i += n
		}
	}
	return "", p.fail("unterminated string")
}

func (p *scanner) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, p.fail("short \\u escape")
	}
	r, ok := parseHex4(p.s[p.i : p.i+4])
	if !ok {
		return 0, p.fail("invalid \\u escape")
	}
	p.i += 4
	return r, true
}

func parseHex4(h string) (rune, bool) {
	var r rune
	for k := 0; k < 4; k++ {
		c := h[k]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a number literal and returns it unchanged.
func (p *scanner) number() (string, bool) {
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		p.digits()
	default:
		return "", p.fail("invalid number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return "", p.fail("invalid number: no digits after the decimal point")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return "", p.fail("invalid number: no digits in the exponent")
		}
	}
	return p.s[start:p.i], true
}

func (p *scanner) digits() int {
	n := 0
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *scanner) literal(word string) bool {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return p.fail("invalid literal")
	}
	p.i += len(word)
	return true
}

// value reads any value. Scalars are returned (strings unescaped, numbers as their
// literal); objects and arrays are checked and skipped, and only their kind returned.
func (p *scanner) value(depth int) (tok byte, v string, ok bool) {
	switch c := p.peek(); c {
	case '"':
		v, ok = p.str()
		return tokString, v, ok
	case '{':
		return tokObject, "", p.skipObject(depth + 1)
	case '[':
		return tokArray, "", p.skipArray(depth + 1)
	case 't':
		return tokTrue, "", p.literal("true")
	case 'f':
		return tokFalse, "", p.literal("false")
	case 'n':
		return tokNull, "", p.literal("null")
	case 0:
		return 0, "", p.fail("unexpected end, want a value")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			v, ok = p.number()
			return tokNumber, v, ok
		}
		return 0, "", p.fail("unexpected %q, want a value", c)
	}
}

func (p *scanner) skipObject(depth int) bool {
	if depth > maxDepth {
		return p.fail("nested too deeply")
	}
	p.i++ // '{'
	if p.peek() == '}' {
		p.i++
		return true
	}
	for {
		if p.peek() != '"' {
			return p.fail("want a field name")
		}
		if _, ok := p.str(); !ok {
			return false
		}
		if !p.consume(':') {
			return false
		}
		if _, _, ok := p.value(depth); !ok {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return p.fail("want ',' or '}'")
		}
	}
}

func (p *scanner) skipArray(depth int) bool {
	if depth > maxDepth {
		return p.fail("nested too deeply")
	}
	p.i++ // '['
	if p.peek() == ']' {
		p.i++
		return true
	}
	for {
		if _, _, ok := p.value(depth); !ok {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return true
		default:
			return p.fail("want ',' or ']'")
		}
	}
}

// member advances to the next member of an object whose '{' was consumed, and
// leaves the scanner on its value; more is false after the closing '}'.
func (p *scanner) member(first bool) (key string, more, ok bool) {
	c := p.peek()
	switch {
	case c == '}':
		p.i++
		return "", false, true
	case first:
	case c == ',':
		p.i++
		c = p.peek()
	default:
		return "", false, p.fail("want ',' or '}'")
	}
	if c != '"' {
		return "", false, p.fail("want a field name")
	}
	if key, ok = p.str(); !ok || !p.consume(':') {
		return "", false, false
	}
	p.ws()
	return key, true, true
}
