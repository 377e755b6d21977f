package contracts

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

//go:embed schemas/*.json
var schemaFiles embed.FS

// EnvelopeSchema is the name Schema takes for the envelope's own schema.
const EnvelopeSchema = "envelope"

// SchemaVersion is the contract version of the record types in RecordTypes.
const SchemaVersion = "v1"

// SchemaFS returns the JSON Schemas (draft 2020-12) of every contract, one file per
// record type named "<type>.v1.json" plus "envelope.v1.json", at the root of the FS.
// Each record type's schema refers to the envelope's by the relative URI
// "envelope.v1.json", so the files resolve against each other wherever they are served.
func SchemaFS() fs.FS {
	sub, err := fs.Sub(schemaFiles, "schemas")
	if err != nil {
		panic(err) // unreachable: "schemas" is a valid path embedded above
	}
	return sub
}

// Schema returns the JSON Schema of a record type ("si.employer"), or of the envelope
// (EnvelopeSchema), and whether there is one.
func Schema(recordType string) ([]byte, bool) {
	b, err := schemaFiles.ReadFile("schemas/" + recordType + "." + SchemaVersion + ".json")
	if err != nil {
		return nil, false
	}
	return b, true
}

// The validator does not interpret JSON Schema per record. compileSchemas reads the
// embedded schemas once into the flat form below, accepting only the keywords and the
// layout the contracts use and failing on anything else, so a schema edit the fast
// path would not honour cannot go unnoticed. A test runs a general 2020-12 validator
// over the same files and corpus to keep the two in step.

type valueKind uint8

const (
	kindString valueKind = iota
	kindInteger
	kindBoolean
	kindObject
)

func (k valueKind) String() string {
	return [...]string{"a string", "an integer", "true or false", "an object"}[k]
}

type format uint8

const (
	fmtNone format = iota
	fmtUSCC
	fmtIDNumber
	fmtDate
	fmtMonth
	fmtDateTime
	fmtRegionCode
	fmtOccupationCode
	fmtCertNo
	fmtRecordKey
	fmtUSCCMonth
	fmtUSCCYear
)

// formatNames are the JSON Schema "format" values the contracts use. All but
// date-time are defined by this package; date-time is RFC 3339 as the standard says.
var formatNames = map[string]format{
	"uscc":            fmtUSCC,
	"id-number":       fmtIDNumber,
	"date":            fmtDate,
	"month":           fmtMonth,
	"date-time":       fmtDateTime,
	"region-code":     fmtRegionCode,
	"occupation-code": fmtOccupationCode,
	"cert-no":         fmtCertNo,
	"record-key":      fmtRecordKey,
	"uscc-month":      fmtUSCCMonth,
	"uscc-year":       fmtUSCCYear,
}

// property is one compiled field of the envelope or of a record's data.
type property struct {
	name      string
	path      string // "id", "data.uscc"
	kind      valueKind
	enum      []string
	format    format
	emptyable bool // anyOf [{"const": ""}, …]: the empty string is allowed
	minLength int
	maxLength int // 0: none
	hasMin    bool
	min       int64
	hasMax    bool
	max       int64
	pattern   *regexp.Regexp
	money     bool   // a *_fen field: below minimum is negative_money
	hint      string // the English part of the description, for messages
	quoted    string // `"name":`, as encoded
}

// recordSchema is one compiled record type.
type recordSchema struct {
	typ          string
	idFormat     format
	props        []property
	index        map[string]int
	required     []bool // of a live record
	tombRequired []bool // of a tombstone
	tombData     bool   // a tombstone must carry data
	subject      [2]int // indexes of subject_uscc, subject_id_number (oneOf); -1 when none
	keyIdx       []int  // the natural key's fields (naturalKeys)
	keyName      string // "uscc:month"
	fieldList    string // "uscc, name, …" for messages
	tombList     string // what a tombstone's data must carry, for messages
}

// schemaSet is every compiled schema.
type schemaSet struct {
	envelope map[string]property
	records  map[string]*recordSchema
}

func compileSchemas() (*schemaSet, error) {
	set := &schemaSet{records: map[string]*recordSchema{}}
	env, err := loadSchemaNode(EnvelopeSchema)
	if err != nil {
		return nil, err
	}
	if set.envelope, err = compileEnvelope(env); err != nil {
		return nil, fmt.Errorf("compiling schema %s: %w", EnvelopeSchema, err)
	}
	for _, t := range RecordTypes {
		n, err := loadSchemaNode(t)
		if err != nil {
			return nil, err
		}
		rs, err := compileRecord(t, n)
		if err != nil {
			return nil, fmt.Errorf("compiling schema %s: %w", t, err)
		}
		set.records[t] = rs
	}
	return set, nil
}

var envelopeFields = []string{"type", "id", "revision", "as_of", "deleted", "data"}

func compileEnvelope(n *node) (map[string]property, error) {
	if err := n.only("$schema", "$id", "title", "description", "type", "additionalProperties", "required", "properties"); err != nil {
		return nil, err
	}
	if err := n.expect("type", "object"); err != nil {
		return nil, err
	}
	if err := n.expect("additionalProperties", false); err != nil {
		return nil, err
	}
	if err := n.expect("required", []any{"type", "id", "as_of"}); err != nil {
		return nil, err
	}
	props := n.get("properties")
	if props == nil || props.names() != strings.Join(envelopeFields, ",") {
		return nil, fmt.Errorf("properties must be exactly %v in that order", envelopeFields)
	}
	out := map[string]property{}
	for _, m := range props.obj {
		p, err := compileProperty(m.key, m.key, m.val)
		if err != nil {
			return nil, err
		}
		out[m.key] = p
	}
	if t := out["type"]; len(t.enum) != len(RecordTypes) || strings.Join(t.enum, ",") != strings.Join(RecordTypes, ",") {
		return nil, fmt.Errorf("type enum %v must list RecordTypes %v", t.enum, RecordTypes)
	}
	return out, nil
}

// tombstoneCondition is the "if" every record schema uses.
var tombstoneCondition = map[string]any{
	"required":   []any{"deleted"},
	"properties": map[string]any{"deleted": map[string]any{"const": true}},
}

func compileRecord(t string, n *node) (*recordSchema, error) {
	if err := n.only("$schema", "$id", "title", "description", "$ref", "properties", "if", "then", "else", "$defs"); err != nil {
		return nil, err
	}
	if err := n.expect("$ref", "envelope.v1.json"); err != nil {
		return nil, err
	}
	if id, _ := n.get("$id").value().(string); !strings.HasSuffix(id, "/"+t+"."+SchemaVersion+".json") {
		return nil, fmt.Errorf("$id %q does not name %s.%s.json", id, t, SchemaVersion)
	}
	props := n.get("properties")
	if props == nil || props.names() != "type,id,data" {
		return nil, fmt.Errorf(`properties must be exactly type, id, data`)
	}
	if err := props.get("type").expectValue(map[string]any{"const": t}); err != nil {
		return nil, fmt.Errorf("properties.type: %w", err)
	}
	idn := props.get("id")
	if err := idn.only("description", "format"); err != nil {
		return nil, fmt.Errorf("properties.id: %w", err)
	}
	rs := &recordSchema{typ: t, index: map[string]int{}, subject: [2]int{-1, -1}}
	idf, _ := idn.get("format").value().(string)
	if rs.idFormat = formatNames[idf]; rs.idFormat == fmtNone {
		return nil, fmt.Errorf("properties.id: unknown format %q", idf)
	}
	if err := props.get("data").expectValue(map[string]any{"$ref": "#/$defs/data"}); err != nil {
		return nil, fmt.Errorf("properties.data: %w", err)
	}
	if err := n.get("if").expectValue(tombstoneCondition); err != nil {
		return nil, fmt.Errorf("if: %w", err)
	}

	defs := n.get("$defs")
	if defs == nil || defs.names() != "data" {
		return nil, fmt.Errorf("$defs must hold exactly data")
	}
	data := defs.get("data")
	if err := data.only("description", "type", "additionalProperties", "properties", "oneOf"); err != nil {
		return nil, fmt.Errorf("$defs.data: %w", err)
	}
	if err := data.expect("type", "object"); err != nil {
		return nil, fmt.Errorf("$defs.data: %w", err)
	}
	if err := data.expect("additionalProperties", false); err != nil {
		return nil, fmt.Errorf("$defs.data: %w", err)
	}
	dp := data.get("properties")
	if dp == nil || dp.kind != '{' || len(dp.obj) == 0 {
		return nil, fmt.Errorf("$defs.data.properties missing")
	}
	for _, m := range dp.obj {
		p, err := compileProperty(m.key, "data."+m.key, m.val)
		if err != nil {
			return nil, fmt.Errorf("$defs.data.properties: %w", err)
		}
		if p.kind == kindObject {
			return nil, fmt.Errorf("$defs.data.properties.%s: nested objects are not supported", m.key)
		}
		rs.index[m.key] = len(rs.props)
		rs.props = append(rs.props, p)
	}
	if oneOf := data.get("oneOf"); oneOf != nil {
		want := []any{map[string]any{"required": []any{"subject_uscc"}}, map[string]any{"required": []any{"subject_id_number"}}}
		if err := oneOf.expectValue(want); err != nil {
			return nil, fmt.Errorf("$defs.data.oneOf: only the subject rule is supported: %w", err)
		}
		for i, f := range []string{"subject_uscc", "subject_id_number"} {
			j, ok := rs.index[f]
			if !ok {
				return nil, fmt.Errorf("$defs.data.oneOf names %s, which is not a property", f)
			}
			rs.subject[i] = j
		}
	}

	if len(rs.props) > maxProps {
		return nil, fmt.Errorf("%d data fields; the validator supports at most %d", len(rs.props), maxProps)
	}
	var err error
	if rs.required, _, err = compileRequired(rs, n.get("else"), true); err != nil {
		return nil, fmt.Errorf("else: %w", err)
	}
	if rs.tombRequired, rs.tombData, err = compileRequired(rs, n.get("then"), false); err != nil {
		return nil, fmt.Errorf("then: %w", err)
	}

	keys := naturalKeys[t]
	if len(keys) == 0 || len(keys) > 2 {
		return nil, fmt.Errorf("no natural key defined")
	}
	for _, k := range keys {
		i, ok := rs.index[k]
		if !ok {
			return nil, fmt.Errorf("natural key field %s is not a property", k)
		}
		rs.keyIdx = append(rs.keyIdx, i)
	}
	rs.keyName = strings.Join(keys, ":")
	var names, tomb []string
	for i, p := range rs.props {
		names = append(names, p.name)
		if rs.tombRequired[i] {
			tomb = append(tomb, p.name)
		}
	}
	if rs.subject[0] >= 0 {
		tomb = append(tomb, "subject_uscc or subject_id_number")
	}
	rs.fieldList = strings.Join(names, ", ")
	rs.tombList = strings.Join(tomb, ", ")
	return rs, nil
}

// compileRequired reads {"required": ["data"], "properties": {"data": {"required": […]}}}
// or, for a tombstone that may omit data, {}.
func compileRequired(rs *recordSchema, n *node, live bool) ([]bool, bool, error) {
	req := make([]bool, len(rs.props))
	if n == nil {
		return nil, false, fmt.Errorf("missing")
	}
	if len(n.obj) == 0 && n.kind == '{' && !live {
		return req, false, nil
	}
	if err := n.only("required", "properties"); err != nil {
		return nil, false, err
	}
	if err := n.expect("required", []any{"data"}); err != nil {
		return nil, false, err
	}
	p := n.get("properties")
	if p == nil || p.names() != "data" {
		return nil, false, fmt.Errorf("properties must hold exactly data")
	}
	d := p.get("data")
	if err := d.only("required"); err != nil {
		return nil, false, err
	}
	list, ok := d.get("required").value().([]any)
	if !ok {
		return nil, false, fmt.Errorf("properties.data.required must be a list")
	}
	for _, v := range list {
		name, _ := v.(string)
		i, ok := rs.index[name]
		if !ok {
			return nil, false, fmt.Errorf("required names %v, which is not a property", v)
		}
		req[i] = true
	}
	return req, true, nil
}

func compileProperty(name, path string, n *node) (property, error) {
	p := property{name: name, path: path, money: strings.HasSuffix(name, "_fen")}
	if n == nil || n.kind != '{' {
		return p, fmt.Errorf("%s: not an object", name)
	}
	if err := n.only("description", "type", "enum", "format", "anyOf", "minLength", "maxLength", "minimum", "maximum", "pattern"); err != nil {
		return p, fmt.Errorf("%s: %w", name, err)
	}
	d, _ := n.get("description").value().(string)
	if d == "" {
		return p, fmt.Errorf("%s: description missing", name)
	}
	p.hint = d
	if i := strings.LastIndex(d, " / "); i >= 0 {
		p.hint = d[i+3:]
	}
	p.quoted = strconv.Quote(name) + ":"
	switch t, _ := n.get("type").value().(string); t {
	case "string":
		p.kind = kindString
	case "integer":
		p.kind = kindInteger
	case "boolean":
		p.kind = kindBoolean
	case "object":
		p.kind = kindObject
	default:
		return p, fmt.Errorf("%s: unsupported type %q", name, t)
	}
	body := n
	if a := n.get("anyOf"); a != nil {
		// The one anyOf the contracts use: a format or pattern that also admits "".
		if a.kind != '[' || len(a.arr) != 2 || a.arr[0].expectValue(map[string]any{"const": ""}) != nil {
			return p, fmt.Errorf(`%s: anyOf must be [{"const": ""}, {…}]`, name)
		}
		if n.get("format") != nil || n.get("pattern") != nil || n.get("enum") != nil {
			return p, fmt.Errorf("%s: with anyOf, format and pattern go inside its second branch", name)
		}
		body = a.arr[1]
		if err := body.only("format", "pattern"); err != nil {
			return p, fmt.Errorf("%s: anyOf branch: %w", name, err)
		}
		p.emptyable = true
	}
	if f := body.get("format"); f != nil {
		s, _ := f.value().(string)
		if p.format = formatNames[s]; p.format == fmtNone {
			return p, fmt.Errorf("%s: unknown format %q", name, s)
		}
	}
	if pat := body.get("pattern"); pat != nil {
		s, _ := pat.value().(string)
		re, err := regexp.Compile(s)
		if err != nil {
			return p, fmt.Errorf("%s: pattern: %w", name, err)
		}
		p.pattern = re
	}
	if e := n.get("enum"); e != nil {
		list, ok := e.value().([]any)
		if !ok || p.kind != kindString {
			return p, fmt.Errorf("%s: enum must be a list of strings", name)
		}
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return p, fmt.Errorf("%s: enum must be a list of strings", name)
			}
			p.enum = append(p.enum, s)
		}
	}
	var err error
	intKw := func(kw string) (int64, bool) {
		v := n.get(kw)
		if v == nil || err != nil {
			return 0, false
		}
		num, ok := v.value().(json.Number)
		i, e := num.Int64()
		if !ok || e != nil || i < 0 && kw != "minimum" {
			err = fmt.Errorf("%s: %s must be an integer", name, kw)
			return 0, false
		}
		return i, true
	}
	ml, _ := intKw("minLength")
	xl, _ := intKw("maxLength")
	p.minLength, p.maxLength = int(ml), int(xl)
	p.min, p.hasMin = intKw("minimum")
	p.max, p.hasMax = intKw("maximum")
	if err != nil {
		return p, err
	}
	if p.kind == kindInteger && (!p.hasMin || !p.hasMax || p.max > 1<<53-1 || p.min < -(1<<53-1)) {
		// Bounded integers never overflow int64 and stay exact in JavaScript clients.
		return p, fmt.Errorf("%s: integers need minimum and maximum within ±(2^53-1)", name)
	}
	if p.kind != kindInteger && (p.hasMin || p.hasMax) || p.kind != kindString && (p.minLength > 0 || p.maxLength > 0 || p.format != fmtNone || p.pattern != nil) {
		return p, fmt.Errorf("%s: keyword does not apply to its type", name)
	}
	if p.minLength > 1 {
		return p, fmt.Errorf("%s: minLength other than 1 is not supported", name)
	}
	return p, nil
}

// ---- an order-preserving JSON tree, enough to read the schemas ----

type member struct {
	key string
	val *node
}

type node struct {
	kind byte // '{', '[', 's', 'n', 'b', 'z'
	obj  []member
	arr  []*node
	str  string
	num  json.Number
	b    bool
}

func loadSchemaNode(name string) (*node, error) {
	b, ok := Schema(name)
	if !ok {
		return nil, fmt.Errorf("schema %s.%s.json: not embedded", name, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		return nil, fmt.Errorf("reading schema %s: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("reading schema %s: trailing data", name)
	}
	return n, nil
}

func decodeNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: '{'}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := k.(string)
				for _, m := range n.obj {
					if m.key == key {
						return nil, fmt.Errorf("duplicate key %q", key)
					}
				}
				v, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				n.obj = append(n.obj, member{key, v})
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &node{kind: '['}
			for dec.More() {
				v, err := decodeNode(dec)
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, v)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return &node{kind: 's', str: t}, nil
	case json.Number:
		return &node{kind: 'n', num: t}, nil
	case bool:
		return &node{kind: 'b', b: t}, nil
	case nil:
		return &node{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func (n *node) get(key string) *node {
	if n == nil {
		return nil
	}
	for _, m := range n.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// names lists an object's keys, comma-separated, in order.
func (n *node) names() string {
	keys := make([]string, len(n.obj))
	for i, m := range n.obj {
		keys[i] = m.key
	}
	return strings.Join(keys, ",")
}

// only fails when the object has a key outside allowed.
func (n *node) only(allowed ...string) error {
	if n == nil || n.kind != '{' {
		return fmt.Errorf("not an object")
	}
next:
	for _, m := range n.obj {
		for _, a := range allowed {
			if m.key == a {
				continue next
			}
		}
		return fmt.Errorf("keyword %q is not supported here", m.key)
	}
	return nil
}

// value converts a node into plain Go values (objects lose their order).
func (n *node) value() any {
	if n == nil {
		return nil
	}
	switch n.kind {
	case '{':
		m := make(map[string]any, len(n.obj))
		for _, e := range n.obj {
			m[e.key] = e.val.value()
		}
		return m
	case '[':
		a := make([]any, len(n.arr))
		for i, e := range n.arr {
			a[i] = e.value()
		}
		return a
	case 's':
		return n.str
	case 'n':
		return n.num
	case 'b':
		return n.b
	}
	return nil
}

func (n *node) expect(key string, want any) error {
	if err := n.get(key).expectValue(want); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

func (n *node) expectValue(want any) error {
	if got := n.value(); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	return nil
}
