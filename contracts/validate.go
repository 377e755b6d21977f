package contracts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Options configures a Validator.
type Options struct {
	// LegacyUSCC lists early pilot codes (SPEC §1) that fail only the GB 32100 check
	// character and are nevertheless accepted, each with a legacy_checksum warning.
	LegacyUSCC []string
	// Now is the clock birth dates in ID numbers are checked against (not in the
	// future). Nil means time.Now.
	Now func() time.Time
}

// Validated is an accepted record: its envelope in normal form, and the warnings
// (such as legacy_checksum) it was accepted with.
type Validated struct {
	Envelope Envelope
	Warnings []Reject
}

// Validator checks records against the contracts of schemas/*.json. It compiles them
// once; Validate is then safe for concurrent use and allocates little.
type Validator struct {
	set    *schemaSet
	legacy map[string]bool
	now    func() time.Time
}

// NewValidator compiles the embedded schemas. It fails if a schema uses something the
// validator does not implement, or if a legacy allowlist entry is not shaped like a
// USCC whose only fault is the GB 32100 check character (such an entry would be
// either pointless or a typo).
func NewValidator(opts Options) (*Validator, error) {
	set, err := compileSchemas()
	if err != nil {
		return nil, err
	}
	v := &Validator{set: set, legacy: make(map[string]bool, len(opts.LegacyUSCC)), now: opts.Now}
	if v.now == nil {
		v.now = time.Now
	}
	for _, code := range opts.LegacyUSCC {
		r, checksumOnly := checkUSCC(code)
		if failed(r) && !checksumOnly {
			return nil, fmt.Errorf("legacy USCC allowlist entry %q: %s: %s", code, r.Code, r.Message)
		}
		v.legacy[code] = true
	}
	return v, nil
}

// naturalKeys names the data fields whose values, joined by ":", make a record's id.
var naturalKeys = map[string][]string{
	TypeEmployer:      {"uscc"},
	TypeEmployerMonth: {"uscc", "month"},
	TypePerson:        {"id_number"},
	TypeTaxpayer:      {"uscc"},
	TypeCertificate:   {"cert_no"},
	TypePenalty:       {"decision_no"},
	TypeRating:        {"uscc", "year"},
	TypeListing:       {"listing_id"},
	TypeAward:         {"grant_id"},
}

// Envelope field slots.
const (
	envType = iota
	envID
	envRevision
	envAsOf
	envDeleted
	envData
	envFields
)

func envelopeSlot(key string) int {
	switch key {
	case "type":
		return envType
	case "id":
		return envID
	case "revision":
		return envRevision
	case "as_of":
		return envAsOf
	case "deleted":
		return envDeleted
	case "data":
		return envData
	}
	return -1
}

// raw is one value as read: its token kind and, for scalars, its text (strings
// unescaped, numbers as written, objects as their whole JSON text).
type raw struct {
	set bool
	tok byte
	v   string
}

// checked is one value after its checks: normal form of a string, value of an
// integer or boolean.
type checked struct {
	ok bool
	s  string
	n  int64
	b  bool
}

// maxProps bounds the fields of one record type, so per-record state lives on the stack.
const maxProps = 16

// run holds the state of one Validate call.
type run struct {
	v        *Validator
	clock    time.Time // read on first use: most records hold no ID number
	rejects  []Reject
	pending  []Reject // data rejects found while reading, reported after the envelope's
	warnings []Reject
}

func (r *run) now() time.Time {
	if r.clock.IsZero() {
		r.clock = r.v.now()
	}
	return r.clock
}

func (r *run) reject(code, field, msg string) {
	r.rejects = append(r.rejects, Reject{Code: code, Field: field, Message: msg})
}

func (r *run) add(rej Reject, field string) {
	rej.Field = field
	r.rejects = append(r.rejects, rej)
}

// Validate checks one encoded record: its size, JSON syntax, the envelope, the data
// against the record type's schema, then the semantics JSON Schema cannot state (the
// identifier check characters, id equal to the natural key, exactly one subject).
//
// On refusal the error is a *RecordError listing every reject found, envelope first,
// then data in the schema's field order, then the cross-field checks; the order is a
// function of the input alone. On success the envelope is in normal form: ID numbers
// upper-case and 18 characters (also in the id of si.person), as_of in UTC, and data
// re-encoded compactly with its fields in the schema's order.
func (v *Validator) Validate(rawRecord []byte) (Validated, error) {
	if len(rawRecord) > MaxRecordBytes {
		return Validated{}, &RecordError{Rejects: []Reject{{Code: CodeTooLarge,
			Message: fmt.Sprintf("record is %d bytes; the limit is %d (64 KiB)", len(rawRecord), MaxRecordBytes)}}}
	}
	r := run{v: v}
	p := scanner{s: string(rawRecord)}

	var env [envFields]raw
	var vals [maxProps]raw
	var res [maxProps]checked
	var dataRead *recordSchema // the schema data was read with, when read in the first pass
	if c := p.peek(); c != '{' {
		return Validated{}, malformed("a record is a JSON object {…}, got " + describeStart(c))
	}
	p.i++
	for first := true; ; first = false {
		key, more, ok := p.member(first)
		if !ok {
			return Validated{}, malformed(p.err)
		}
		if !more {
			break
		}
		start := p.i
		slot := envelopeSlot(key)
		if slot == envData && !env[envData].set && p.peek() == '{' && env[envType].tok == tokString {
			// The type came first, as encoders usually write it: read data in this
			// pass rather than skipping it and reading it again.
			if rs := r.v.set.records[env[envType].v]; rs != nil {
				if !r.readData(&p, rs, vals[:len(rs.props)]) {
					return Validated{}, malformed(p.err)
				}
				env[envData] = raw{set: true, tok: tokObject, v: p.s[start:p.i]}
				dataRead = rs
				continue
			}
		}
		tok, val, ok := p.value(0)
		if !ok {
			return Validated{}, malformed(p.err)
		}
		switch {
		case slot < 0:
			r.reject(CodeUnknownField, fieldName("", key), "the envelope holds only type, id, revision, as_of, deleted and data")
			continue
		case env[slot].set:
			r.reject(CodeDuplicateField, key, "appears more than once")
			continue
		}
		if tok == tokObject {
			val = p.s[start:p.i]
		}
		env[slot] = raw{set: true, tok: tok, v: val}
	}
	if p.peek() != 0 {
		return Validated{}, malformed(fmt.Sprintf("invalid JSON at byte %d: data after the record's closing brace", p.i))
	}

	var out Envelope
	ep := r.v.set.envelope

	// type
	var rs *recordSchema
	if t := env[envType]; !t.set {
		r.reject(CodeRequired, "type", "required field is missing: the record type, e.g. si.employer")
	} else if t.tok != tokString {
		r.reject(CodeWrongType, "type", "must be a string, got "+tokName(t.tok))
	} else if rs = r.v.set.records[t.v]; rs == nil {
		r.reject(CodeUnknownType, "type", fmt.Sprintf("%q names no contract; known types are %s", truncate(t.v, 40), strings.Join(RecordTypes, ", ")))
	} else {
		out.Type = rs.typ
	}

	// id: its generic shape, then the record type's
	idp := ep["id"]
	idOK, idLegacy := false, false
	if t := env[envID]; !t.set {
		r.reject(CodeRequired, "id", "required field is missing: the record's natural key")
	} else if c := r.checkValue(&idp, t.tok, t.v); c.ok {
		out.ID = c.s
		idOK = rs == nil
		if rs != nil {
			out.ID, idOK, idLegacy = r.checkID(rs, c.s)
		}
	}

	// revision
	if t := env[envRevision]; t.set {
		p := ep["revision"]
		if c := r.checkValue(&p, t.tok, t.v); c.ok {
			out.Revision = c.n
		}
	}

	// as_of
	if t := env[envAsOf]; !t.set {
		r.reject(CodeRequired, "as_of", "required field is missing: the time the data is as of (RFC 3339)")
	} else if t.tok != tokString {
		r.reject(CodeWrongType, "as_of", "must be a string, got "+tokName(t.tok))
	} else if ts, rej := checkTimestamp(t.v); failed(rej) {
		r.add(rej, "as_of")
	} else {
		out.AsOf = ts.UTC()
	}

	// deleted
	if t := env[envDeleted]; t.set {
		switch t.tok {
		case tokTrue:
			out.Deleted = true
		case tokFalse:
		default:
			r.reject(CodeWrongType, "deleted", "must be true or false, got "+tokName(t.tok))
		}
	}

	// data
	d := env[envData]
	if d.set && d.tok != tokObject {
		r.reject(CodeWrongType, "data", "must be an object, got "+tokName(d.tok))
	}
	if rs != nil {
		if d.set && d.tok == tokObject {
			if dataRead != rs {
				// The scanner already accepted this object once.
				r.readData(&scanner{s: d.v}, rs, vals[:len(rs.props)])
			}
			r.rejects = append(r.rejects, r.pending...)
			r.checkData(rs, out.Deleted, vals[:len(rs.props)], res[:len(rs.props)])
			if idOK {
				r.checkNaturalKey(rs, out.ID, vals[:len(rs.props)], res[:len(rs.props)])
			}
		} else if !d.set && (!out.Deleted || rs.tombData) {
			msg := "required field is missing: the record's fields"
			if out.Deleted {
				msg = "a tombstone of " + rs.typ + " must still carry data with " + rs.tombList
			}
			r.reject(CodeRequired, "data", msg)
		}
	}

	if len(r.rejects) > 0 {
		return Validated{}, &RecordError{Rejects: r.rejects}
	}
	if idLegacy && !(d.set && vals[rs.keyIdx[0]].set) {
		// The id's USCC is the subject's; warn about it unless data.uscc already did.
		r.warnings = append(r.warnings, legacyWarning("id"))
	}
	if d.set {
		out.Data = encodeData(rs, vals[:len(rs.props)], res[:len(rs.props)], len(d.v))
	}
	return Validated{Envelope: out, Warnings: r.warnings}, nil
}

func malformed(msg string) error {
	return &RecordError{Rejects: []Reject{{Code: CodeMalformedJSON, Message: msg}}}
}

func describeStart(c byte) string {
	switch c {
	case 0:
		return "nothing"
	case '[':
		return "an array"
	case '"':
		return "a string"
	}
	return fmt.Sprintf("%q", c)
}

// fieldName builds the path of a field named by the sender, bounded in length.
func fieldName(prefix, key string) string {
	return prefix + truncate(key, 64)
}

// checkID checks the id against the record type's key format and returns it in normal
// form, whether it is usable for the natural-key comparison, and whether it carries a
// legacy USCC.
func (r *run) checkID(rs *recordSchema, id string) (norm string, ok, legacy bool) {
	norm, rej, legacy := checkKey(rs.idFormat, id, r.v.legacy, r.now())
	if failed(rej) {
		r.add(rej, "id")
		return id, false, false
	}
	return norm, true, legacy
}

// checkKey checks an id against a key format (uscc, id-number, uscc-month, uscc-year,
// cert-no or record-key) and returns it in normal form, and whether it is an
// allowlisted legacy USCC.
func checkKey(f format, id string, legacyList map[string]bool, now time.Time) (norm string, rej Reject, legacy bool) {
	uscc := func(code string) (Reject, bool) {
		rej, checksumOnly := checkUSCC(code)
		if failed(rej) && checksumOnly && legacyList[code] {
			return noReject, true
		}
		return rej, false
	}
	switch f {
	case fmtUSCC:
		rej, legacy = uscc(id)
		return id, rej, legacy
	case fmtIDNumber:
		norm, rej = normalizeID(id, now)
		return norm, rej, false
	case fmtUSCCMonth, fmtUSCCYear:
		code, tail, found := strings.Cut(id, ":")
		what := "USCC:YYYY-MM, e.g. 91350100M000100Y43:2018-12"
		if f == fmtUSCCYear {
			what = "USCC:YYYY, e.g. 91350100M000100Y43:2019"
		}
		if !found {
			return id, Reject{Code: CodePattern, Message: "id must be " + what}, false
		}
		if rej, legacy = uscc(code); failed(rej) {
			rej.Message = "the USCC part of the id: " + rej.Message
			return id, rej, false
		}
		if f == fmtUSCCMonth {
			if rej = checkMonth(tail); failed(rej) {
				rej.Message = "the month part of the id: " + rej.Message
				return id, rej, false
			}
		} else if len(tail) != 4 || !isDigits(tail) {
			return id, Reject{Code: CodePattern, Message: "id must be " + what}, false
		}
		return id, noReject, legacy
	case fmtCertNo:
		return id, checkCertNo(id), false
	case fmtRecordKey:
		return id, checkRecordKey(id), false
	}
	return id, Reject{Code: CodeInvalid, Message: "no key format"}, false
}

// uscc checks a USCC, accepting an allowlisted legacy code with a report of it.
func (r *run) uscc(code string) (Reject, bool) {
	rej, checksumOnly := checkUSCC(code)
	if failed(rej) && checksumOnly && r.v.legacy[code] {
		return noReject, true
	}
	return rej, false
}

// readData reads a data object, from its '{', into vals by schema slot. It returns
// false on a syntax error, which the scanner holds.
func (r *run) readData(p *scanner, rs *recordSchema, vals []raw) bool {
	p.i++ // '{', seen by the caller
	for first := true; ; first = false {
		key, more, ok := p.member(first)
		if !ok {
			return false
		}
		if !more {
			return true
		}
		tok, val, ok := p.value(1)
		if !ok {
			return false
		}
		i, known := rs.index[key]
		switch {
		case !known:
			r.pending = append(r.pending, Reject{Code: CodeUnknownField, Field: fieldName("data.", key),
				Message: "the " + rs.typ + " contract has no such field; its fields are " + rs.fieldList})
		case vals[i].set:
			r.pending = append(r.pending, Reject{Code: CodeDuplicateField, Field: rs.props[i].path, Message: "appears more than once"})
		default:
			vals[i] = raw{set: true, tok: tok, v: val}
		}
	}
}

// checkData checks every data field in schema order, then the subject rule.
func (r *run) checkData(rs *recordSchema, tombstone bool, vals []raw, res []checked) {
	required := rs.required
	if tombstone {
		required = rs.tombRequired
	}
	for i := range rs.props {
		p := &rs.props[i]
		if !vals[i].set {
			if required[i] {
				r.reject(CodeRequired, p.path, "required field is missing: "+p.hint)
			}
			continue
		}
		res[i] = r.checkValue(p, vals[i].tok, vals[i].v)
	}
	if rs.subject[0] >= 0 {
		u, id := vals[rs.subject[0]].set, vals[rs.subject[1]].set
		switch {
		case !u && !id:
			r.reject(CodeSubject, "data", "the subject is missing: set subject_uscc for an enterprise or subject_id_number for a person")
		case u && id:
			r.reject(CodeSubject, "data", "both subject_uscc and subject_id_number are present: send exactly one and omit the other")
		}
	}
}

// checkNaturalKey compares the id with the natural key fields present in data.
func (r *run) checkNaturalKey(rs *recordSchema, id string, vals []raw, res []checked) {
	parts := [2]string{id}
	if len(rs.keyIdx) == 2 {
		parts[0], parts[1], _ = strings.Cut(id, ":")
	}
	mismatch := false
	want := make([]string, 0, 2)
	for j, k := range rs.keyIdx {
		got := parts[j]
		if vals[k].set && res[k].ok {
			got = res[k].s
			if rs.props[k].kind == kindInteger {
				got = year4(res[k].n)
			}
		}
		if got != parts[j] {
			mismatch = true
		}
		want = append(want, got)
	}
	if !mismatch {
		return
	}
	if rs.typ == TypePerson {
		r.reject(CodeIDMismatch, "id", "id must equal data.id_number; the two ID numbers differ")
		return
	}
	r.reject(CodeIDMismatch, "id", fmt.Sprintf("id must equal the natural key %s built from data, %q; got %q",
		rs.keyName, strings.Join(want, ":"), truncate(id, 80)))
}

// checkValue checks one present value against its property and returns it in normal
// form; on failure it records the reject and returns ok false.
func (r *run) checkValue(p *property, tok byte, v string) checked {
	switch p.kind {
	case kindBoolean:
		if tok != tokTrue && tok != tokFalse {
			r.reject(CodeWrongType, p.path, "must be true or false, got "+tokName(tok))
			return checked{}
		}
		return checked{ok: true, b: tok == tokTrue}
	case kindInteger:
		if tok != tokNumber {
			r.reject(CodeWrongType, p.path, "must be an integer, got "+tokName(tok))
			return checked{}
		}
		n, whole, cmp := parseInteger(v, p.min, p.max)
		switch {
		case !whole:
			r.reject(CodeWrongType, p.path, "must be a whole number, got "+truncate(v, 30))
		case cmp < 0 && p.min == 0 && strings.HasPrefix(p.path, "data."):
			code := CodeNegative
			if p.money {
				code = CodeNegativeMoney
			}
			r.reject(code, p.path, "must not be negative, got "+truncate(v, 30))
		case cmp != 0:
			r.reject(CodeOutOfRange, p.path, fmt.Sprintf("must be between %d and %d, got %s", p.min, p.max, truncate(v, 30)))
		default:
			return checked{ok: true, n: n}
		}
		return checked{}
	case kindObject:
		if tok != tokObject {
			r.reject(CodeWrongType, p.path, "must be an object, got "+tokName(tok))
			return checked{}
		}
		return checked{ok: true, s: v}
	}

	if tok != tokString {
		r.reject(CodeWrongType, p.path, "must be a string, got "+tokName(tok))
		return checked{}
	}
	if v == "" {
		if p.emptyable {
			return checked{ok: true}
		}
		msg := "must not be empty"
		if p.name == "subject_uscc" || p.name == "subject_id_number" {
			msg = "must not be empty: omit the field when the subject is of the other kind"
		}
		r.reject(CodeRequired, p.path, msg)
		return checked{}
	}
	if p.enum != nil {
		for _, e := range p.enum {
			if v == e {
				return checked{ok: true, s: v}
			}
		}
		r.reject(CodeEnum, p.path, fmt.Sprintf("must be one of %s; got %q", strings.Join(p.enum, ", "), truncate(v, 40)))
		return checked{}
	}
	if p.maxLength > 0 && len(v) > p.maxLength {
		if n := utf8.RuneCountInString(v); n > p.maxLength {
			r.reject(CodeTooLong, p.path, fmt.Sprintf("must be at most %d characters, got %d", p.maxLength, n))
			return checked{}
		}
	}
	if p.pattern != nil && !p.pattern.MatchString(v) {
		r.reject(CodePattern, p.path, fmt.Sprintf("%q does not have the required shape: %s", truncate(v, 40), p.hint))
		return checked{}
	}
	var rej Reject
	switch p.format {
	case fmtNone:
	case fmtUSCC:
		var legacy bool
		if rej, legacy = r.uscc(v); legacy {
			r.warnings = append(r.warnings, legacyWarning(p.path))
		}
	case fmtIDNumber:
		v, rej = normalizeID(v, r.now())
	case fmtDate:
		rej = checkDate(v)
	case fmtMonth:
		rej = checkMonth(v)
	case fmtDateTime:
		_, rej = checkTimestamp(v)
	case fmtRegionCode:
		rej = checkRegionCode(v)
	case fmtOccupationCode:
		rej = checkOccupationCode(v)
	case fmtCertNo:
		rej = checkCertNo(v)
	case fmtRecordKey:
		rej = checkRecordKey(v)
	case fmtUSCCMonth, fmtUSCCYear:
		// Only ids have these formats, and checkID handles them.
	}
	if failed(rej) {
		r.add(rej, p.path)
		return checked{}
	}
	return checked{ok: true, s: v}
}

// parseInteger reads a JSON number that should be an integer within [lo, hi]. It
// reports whether the number is whole (1.0 and 1e2 are, as JSON Schema says) and
// compares it with the bounds (-1 below, +1 above, 0 within). It never builds
// numbers larger than the bounds, so huge exponents cost nothing.
func parseInteger(lit string, lo, hi int64) (n int64, whole bool, cmp int) {
	neg := strings.HasPrefix(lit, "-")
	if neg {
		lit = lit[1:]
	}
	if len(lit) <= 15 && isDigits(lit) {
		n = int64(atoi(lit))
		if neg {
			n = -n
		}
		return n, true, bound(n, lo, hi)
	}
	// Split into significant digits and a power of ten.
	mant, exp := lit, 0
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		e := mant[i+1:]
		mant = mant[:i]
		eneg := strings.HasPrefix(e, "-")
		e = strings.TrimLeft(strings.TrimLeft(e, "+-"), "0")
		if len(e) > 6 {
			e = "999999"
		}
		exp = atoi(e)
		if eneg {
			exp = -exp
		}
	}
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		exp -= len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	mant = strings.TrimLeft(mant, "0")
	for len(mant) > 0 && mant[len(mant)-1] == '0' {
		mant = mant[:len(mant)-1]
		exp++
	}
	switch {
	case mant == "":
		return 0, true, bound(0, lo, hi)
	case exp < 0:
		return 0, false, 0
	case len(mant)+exp > 16: // beyond ±(2^53-1), the widest bound a schema may set
		if neg {
			return 0, true, -1
		}
		return 0, true, 1
	}
	n = int64(atoi(mant))
	for ; exp > 0; exp-- {
		n *= 10
	}
	if neg {
		n = -n
	}
	return n, true, bound(n, lo, hi)
}

func bound(n, lo, hi int64) int {
	switch {
	case n < lo:
		return -1
	case n > hi:
		return 1
	}
	return 0
}

// encodeData writes the checked data compactly, fields in schema order.
func encodeData(rs *recordSchema, vals []raw, res []checked, sizeHint int) []byte {
	b := make([]byte, 0, sizeHint+16)
	b = append(b, '{')
	first := true
	for i := range rs.props {
		if !vals[i].set {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, rs.props[i].quoted...)
		switch rs.props[i].kind {
		case kindString:
			b = appendString(b, res[i].s)
		case kindInteger:
			b = strconv.AppendInt(b, res[i].n, 10)
		case kindBoolean:
			b = strconv.AppendBool(b, res[i].b)
		}
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, escaping only what JSON requires plus
// U+2028 and U+2029, so the same value always encodes to the same bytes. It is the
// canonical form of stored records, deliberately not AppendJSONString's
// encoding/json form (which also escapes <, > and &): stored bytes must not change
// with the encoder of results.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != '\u2028' && r != '\u2029' {
				i += n
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
			i += n
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
