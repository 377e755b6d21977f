package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// generalValidator compiles the embedded schemas with a general draft 2020-12
// implementation, the custom formats bound to this package's checks.
type generalValidator struct {
	envelope *jsonschema.Schema
	records  map[string]*jsonschema.Schema
}

func newGeneralValidator(t testing.TB) *generalValidator {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for name, f := range formatNames {
		check := formatCheck(f)
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(v any) error {
			s, ok := v.(string)
			if !ok {
				return nil // formats apply to strings only
			}
			if r := check(s); failed(r) {
				return errors.New(r.Message)
			}
			return nil
		}})
	}
	ids := map[string]string{}
	err := fs.WalkDir(SchemaFS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(SchemaFS(), path)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		ids[path] = id
		return c.AddResource(id, doc)
	})
	if err != nil {
		t.Fatalf("loading schemas: %v", err)
	}
	g := &generalValidator{records: map[string]*jsonschema.Schema{}}
	if g.envelope, err = c.Compile(ids["envelope.v1.json"]); err != nil {
		t.Fatalf("compiling envelope schema: %v", err)
	}
	for _, typ := range RecordTypes {
		if g.records[typ], err = c.Compile(ids[typ+".v1.json"]); err != nil {
			t.Fatalf("compiling %s schema: %v", typ, err)
		}
	}
	return g
}

// formatCheck returns the check behind a custom format, with no legacy allowlist.
func formatCheck(f format) func(string) Reject {
	switch f {
	case fmtUSCC, fmtIDNumber, fmtUSCCMonth, fmtUSCCYear, fmtCertNo, fmtRecordKey:
		return func(s string) Reject { _, r, _ := checkKey(f, s, nil, testNow); return r }
	case fmtDate:
		return checkDate
	case fmtMonth:
		return checkMonth
	case fmtDateTime:
		return func(s string) Reject { _, r := checkTimestamp(s); return r }
	case fmtRegionCode:
		return checkRegionCode
	case fmtOccupationCode:
		return checkOccupationCode
	}
	panic(fmt.Sprintf("format %d has no check", f))
}

func (g *generalValidator) validate(raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	sch := g.envelope
	if m, ok := inst.(map[string]any); ok {
		if typ, ok := m["type"].(string); ok && g.records[typ] != nil {
			sch = g.records[typ]
		}
	}
	return sch.Validate(inst)
}

// schemaCorpus returns records the general validator must judge like the fast one:
// the table cases marked schemaOnly, and every data field of every type's good record
// replaced by values of each JSON kind, removed, and so on, live and as tombstones.
func schemaCorpus(t testing.TB) map[string][]byte {
	corpus := map[string][]byte{}
	for _, tc := range validateCases(t) {
		if tc.schemaOnly {
			corpus["case "+tc.name] = tc.raw
		}
	}
	values := []any{"", nil, -1, 0, 1, 1.5, 2019, 1e17, "x", "2019-01-01", "2019-01", "350100", "6-29-01-06",
		"91350100M000100Y43", "440524188001010014", "S350100202300001234567", "active", true, false,
		rec{}, []any{}, strings.Repeat("长", 300)}
	for typ, r := range goodRecords() {
		for field := range r.data() {
			corpus[typ+" without "+field] = good(typ, func(r rec) { delete(r.data(), field) }).json(t)
			corpus[typ+" tombstone without "+field] = good(typ, func(r rec) { delete(r.data(), field); r["deleted"] = true }).json(t)
			for i, v := range values {
				corpus[fmt.Sprintf("%s %s=%d", typ, field, i)] = good(typ, func(r rec) { r.data()[field] = v }).json(t)
			}
		}
		corpus[typ+" tombstone no data"] = good(typ, func(r rec) { delete(r, "data"); r["deleted"] = true }).json(t)
		corpus[typ+" tombstone empty data"] = good(typ, func(r rec) { r["data"] = rec{}; r["deleted"] = true }).json(t)
		corpus[typ+" tombstone"] = good(typ, func(r rec) { r["deleted"] = true }).json(t)
		corpus[typ+" no data"] = good(typ, func(r rec) { delete(r, "data") }).json(t)
		corpus[typ+" empty data"] = good(typ, func(r rec) { r["data"] = rec{} }).json(t)
		corpus[typ+" extra field"] = good(typ, func(r rec) { r.data()["extra"] = "x" }).json(t)
		corpus[typ+" deleted string"] = good(typ, func(r rec) { r["deleted"] = "true" }).json(t)
		corpus[typ+" revision 2.0"] = []byte(strings.Replace(string(good(typ, func(r rec) { delete(r, "revision") }).json(t)), `"as_of"`, `"revision":2.0,"as_of"`, 1))
		corpus[typ+" id number"] = good(typ, func(r rec) { r["id"] = 5 }).json(t)
		corpus[typ+" id tab"] = good(typ, func(r rec) { r["id"] = "a\tb" }).json(t)
	}
	return corpus
}

// TestSchemasAgreeWithGeneralValidator keeps the documentation and the code from
// drifting: the embedded schemas are valid draft 2020-12 schemas, and a general
// implementation accepts and rejects the same records as the fast validator.
// id_mismatch is the one check JSON Schema cannot state (it compares two fields), so a
// record the fast validator refuses for that reason alone is expected to pass the
// schema.
func TestSchemasAgreeWithGeneralValidator(t *testing.T) {
	g := newGeneralValidator(t)
	v := testValidator(t)
	corpus := schemaCorpus(t)
	names := make([]string, 0, len(corpus))
	for n := range corpus {
		names = append(names, n)
	}
	sort.Strings(names)
	var accepted, rejected, mismatchOnly int
	for _, name := range names {
		raw := corpus[name]
		_, fastErr := v.Validate(raw)
		generalErr := g.validate(raw)
		var re *RecordError
		if errors.As(fastErr, &re) && generalErr == nil && onlyCode(re.Rejects, CodeIDMismatch) {
			mismatchOnly++
			continue
		}
		if (fastErr == nil) != (generalErr == nil) {
			t.Errorf("%s: fast validator says %v; JSON Schema says %v\nrecord: %s", name, fastErr, generalErr, raw)
			continue
		}
		if fastErr == nil {
			accepted++
		} else {
			rejected++
		}
	}
	t.Logf("corpus: %d accepted, %d rejected by both, %d refused only for id_mismatch", accepted, rejected, mismatchOnly)
	if accepted < 50 || rejected < 300 {
		t.Errorf("corpus too thin: %d accepted, %d rejected", accepted, rejected)
	}
}

func onlyCode(rs []Reject, code string) bool {
	for _, r := range rs {
		if r.Code != code {
			return false
		}
	}
	return len(rs) > 0
}

func TestSchemaAccessors(t *testing.T) {
	want := []string{"envelope.v1.json"}
	for _, typ := range RecordTypes {
		want = append(want, typ+".v1.json")
		b, ok := Schema(typ)
		if !ok || !json.Valid(b) {
			t.Errorf("Schema(%s) = %d bytes, %v", typ, len(b), ok)
		}
	}
	if _, ok := Schema(EnvelopeSchema); !ok {
		t.Errorf("Schema(%q) missing", EnvelopeSchema)
	}
	if _, ok := Schema("si.nothing"); ok {
		t.Errorf("Schema(si.nothing) found")
	}
	var got []string
	entries, err := fs.ReadDir(SchemaFS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("SchemaFS holds %v, want %v", got, want)
	}
}

// TestSchemaDescriptions: every property documents itself in Chinese and English, so
// documentation can be generated from the schemas alone.
func TestSchemaDescriptions(t *testing.T) {
	bilingual := func(s string) bool {
		han, latin := false, false
		for _, r := range s {
			han = han || unicode.Is(unicode.Han, r)
			latin = latin || r < unicode.MaxASCII && unicode.IsLetter(r)
		}
		return han && latin
	}
	for _, name := range append([]string{EnvelopeSchema}, RecordTypes...) {
		b, _ := Schema(name)
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, k := range []string{"title", "description"} {
			if s, _ := doc[k].(string); !bilingual(s) {
				t.Errorf("%s: %s %q is not in Chinese and English", name, k, s)
			}
		}
		props, _ := doc["properties"].(map[string]any)
		if defs, ok := doc["$defs"].(map[string]any); ok {
			props = defs["data"].(map[string]any)["properties"].(map[string]any)
		}
		if len(props) == 0 {
			t.Fatalf("%s: no properties found", name)
		}
		for field, p := range props {
			if s, _ := p.(map[string]any)["description"].(string); !bilingual(s) {
				t.Errorf("%s: %s has description %q, not in Chinese and English", name, field, s)
			}
		}
	}
}

// TestSchemasMatchRecordStructs: the data fields of each schema are the JSON fields
// of its Go struct in records.go, in the same order.
func TestSchemasMatchRecordStructs(t *testing.T) {
	set, err := compileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]any{TypeEmployer: Employer{}, TypeEmployerMonth: EmployerMonth{}, TypePerson: Person{},
		TypeTaxpayer: Taxpayer{}, TypeCertificate: Certificate{}, TypePenalty: Penalty{}, TypeRating: Rating{},
		TypeListing: Listing{}, TypeAward: Award{}}
	for _, typ := range RecordTypes {
		var fields []string
		st := reflect.TypeOf(structs[typ])
		for i := 0; i < st.NumField(); i++ {
			name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
			fields = append(fields, name)
		}
		var props []string
		for _, p := range set.records[typ].props {
			props = append(props, p.name)
		}
		if !slices.Equal(fields, props) {
			t.Errorf("%s: schema fields %v, struct fields %v", typ, props, fields)
		}
	}
}

// TestCompileRejectsUnsupportedSchemas: a keyword the fast validator does not
// implement stops compilation rather than being silently ignored.
func TestCompileRejectsUnsupportedSchemas(t *testing.T) {
	b, _ := Schema(TypeRating)
	base := string(b)
	tests := []struct {
		name, old, new string
	}{
		{"unknown property keyword", `"rating": {`, `"rating": {"minItems": 1,`},
		{"unknown top-level keyword", `"$ref": "envelope.v1.json",`, `"$ref": "envelope.v1.json", "unevaluatedProperties": false,`},
		{"open data", `"additionalProperties": false`, `"additionalProperties": true`},
		{"unknown format", `"format": "uscc"`, `"format": "email"`},
		{"unbounded integer", `"minimum": 1900,`, ``},
		{"missing description", `"description": "评价年度 / year rated",`, ``},
		{"required unknown field", `"rating"
        ]`, `"rating", "grade"
        ]`},
	}
	for _, tc := range tests {
		src := strings.Replace(base, tc.old, tc.new, 1)
		if src == base {
			t.Fatalf("%s: edit did not apply", tc.name)
		}
		dec := json.NewDecoder(strings.NewReader(src))
		dec.UseNumber()
		n, err := decodeNode(dec)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := compileRecord(TypeRating, n); err == nil {
			t.Errorf("%s: compiled without error", tc.name)
		}
	}
}
