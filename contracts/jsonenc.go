package contracts

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The hub encodes a result twice per verification (the signed claims and the
// response), so results are written by the appenders below instead of by
// reflection. They write exactly what encoding/json writes for the same values
// (HTML-safe escaping, sorted map keys, RFC 3339 times), which a differential test
// and a fuzz target hold them to; values of kinds they do not know go through
// encoding/json.

// AppendJSON appends the JSON of v as json.Marshal would write it.
func AppendJSON(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case string:
		return AppendJSONString(b, t), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case []any:
		if t == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendJSON(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		return appendMap(b, t)
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

func appendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	return appendSorted(b, m, AppendJSON)
}

// appendSorted appends a map as a JSON object with its keys in order, as
// encoding/json writes maps.
func appendSorted[V any](b []byte, m map[string]V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = value(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendTime writes a time as time.Time.MarshalJSON does.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		enc, err := json.Marshal(t) // the error encoding/json gives
		return append(b, enc...), err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// AppendChecks appends check results as json.Marshal would write the slice.
func AppendChecks(b []byte, checks []CheckResult) ([]byte, error) {
	if checks == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, c := range checks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = AppendJSONString(b, c.ID)
		b = append(b, `,"result":`...)
		b = AppendJSONString(b, c.Result)
		b = append(b, `,"detail":`...)
		b = AppendJSONString(b, c.Detail)
		if len(c.Evidence) > 0 {
			b = append(b, `,"evidence":[`...)
			for j, e := range c.Evidence {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"type":`...)
				b = AppendJSONString(b, e.Type)
				b = append(b, `,"id":`...)
				b = AppendJSONString(b, e.ID)
				b = append(b, `,"as_of":`...)
				var err error
				if b, err = appendTime(b, e.AsOf); err != nil {
					return b, err
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string the way encoding/json escapes it:
// quotes, backslashes and control characters, <, > and & (HTML-safe), U+2028 and
// U+2029, and invalid UTF-8 as U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
