package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/verihub/verihub/contracts"
)

// recordCELType is the runtime type of a record in CEL. Records are declared dyn,
// so expressions select their fields by the JSON names of contracts' structs, plus
// three envelope fields: record_type, record_id and as_of (the UTC calendar date of
// the version, "YYYY-MM-DD").
var recordCELType = types.NewOpaqueType("verihub.Record")

// recordKind knows how to decode one record type and read its fields.
type recordKind struct {
	goType reflect.Type
	fields map[string]int // JSON name → field index
	names  []string       // by field index: the JSON name, in the struct's order
	kinds  []reflect.Kind // by field index
	zeros  []ref.Val      // the value of an absent field, by field index
}

func newRecordKinds() map[string]*recordKind {
	out := map[string]*recordKind{}
	for typ, sample := range map[string]any{
		contracts.TypeEmployer:      contracts.Employer{},
		contracts.TypeEmployerMonth: contracts.EmployerMonth{},
		contracts.TypePerson:        contracts.Person{},
		contracts.TypeTaxpayer:      contracts.Taxpayer{},
		contracts.TypeCertificate:   contracts.Certificate{},
		contracts.TypePenalty:       contracts.Penalty{},
		contracts.TypeRating:        contracts.Rating{},
		contracts.TypeListing:       contracts.Listing{},
		contracts.TypeAward:         contracts.Award{},
	} {
		t := reflect.TypeOf(sample)
		k := &recordKind{goType: t, fields: map[string]int{}}
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			k.fields[name] = len(k.kinds)
			k.names = append(k.names, name)
			k.kinds = append(k.kinds, t.Field(i).Type.Kind())
			switch t.Field(i).Type.Kind() {
			case reflect.String:
				k.zeros = append(k.zeros, types.String(""))
			case reflect.Int64, reflect.Int:
				k.zeros = append(k.zeros, types.Int(0))
			case reflect.Bool:
				k.zeros = append(k.zeros, types.False)
			default:
				panic(fmt.Sprintf("record type %s field %s: unsupported kind", typ, name))
			}
		}
		out[typ] = k
	}
	return out
}

// record is one live record version as a CEL value. A pack reads a few fields of
// each record, so a record read by decodeFlat keeps its data and where each value
// lies in it, and makes a field's CEL value when an expression first reads it.
type record struct {
	typ    string
	id     string
	asOf   time.Time
	kind   *recordKind
	data   []byte      // the envelope's data, when decodeFlat read it: the store's bytes, never written to
	fields []flatField // by field index
}

// flatField is one field of a record: its CEL value once made, and before that
// where decodeFlat found it.
type flatField struct {
	val  ref.Val
	kind flatKind
	n    int64 // an int's value; 1 for true; a string's bytes as start<<32 | end
}

type flatKind uint8

const (
	flatAbsent flatKind = iota // absent or null: the field's zero value
	flatString
	flatInt
	flatBool
	flatMade // val holds the value
)

// decodeRecord decodes an envelope's data. Records are flat JSON objects, which
// decodeFlat reads without reflection; anything it does not handle (escapes,
// floats, nested values, mistyped fields) goes through encoding/json into the
// contracts struct, which also gives the error.
func decodeRecord(kinds map[string]*recordKind, e contracts.Envelope) (*record, error) {
	k, ok := kinds[e.Type]
	if !ok {
		return nil, fmt.Errorf("decoding %s: no record kind", e.Key())
	}
	r := &record{typ: e.Type, id: e.ID, asOf: e.AsOf, kind: k, fields: make([]flatField, len(k.kinds))}
	if decodeFlat(k, e.Data, r.fields) {
		r.data = e.Data
		return r, nil
	}
	clear(r.fields)
	ptr := reflect.New(k.goType)
	if err := json.Unmarshal(e.Data, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", e.Key(), err)
	}
	v := ptr.Elem()
	for name, i := range k.fields {
		f := v.FieldByIndex(fieldIndex(k.goType, name))
		var val ref.Val
		switch f.Kind() {
		case reflect.String:
			val = types.String(f.String())
		case reflect.Int64, reflect.Int:
			val = types.Int(f.Int())
		case reflect.Bool:
			val = types.Bool(f.Bool())
		}
		r.fields[i] = flatField{val: val, kind: flatMade}
	}
	return r, nil
}

// value returns field i's CEL value, making it on first use.
func (r *record) value(i int) ref.Val {
	f := &r.fields[i]
	switch f.kind {
	case flatMade:
		return f.val
	case flatString:
		f.val = types.String(r.data[f.n>>32 : f.n&math.MaxUint32])
	case flatInt:
		f.val = types.Int(f.n)
	case flatBool:
		f.val = types.Bool(f.n == 1)
	default:
		f.val = r.kind.zeros[i]
	}
	f.kind = flatMade
	return f.val
}

func fieldIndex(t reflect.Type, jsonName string) []int {
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == jsonName {
			return []int{i}
		}
	}
	return nil
}

// decodeFlat reads a flat JSON object of strings without escapes, integers, bools
// and nulls into fields. It returns false on anything else.
func decodeFlat(k *recordKind, data []byte, fields []flatField) bool {
	if len(data) > math.MaxInt32 {
		return false
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	next := 0 // the field expected next: stored records keep the struct's order
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(data) && data[j] != '"' && data[j] != '\\' && data[j] >= 0x20 && data[j] < 0x80 {
			j++
		}
		if j >= len(data) || data[j] != '"' {
			return false
		}
		idx := next
		if idx >= len(k.names) || k.names[idx] != string(data[i+1:j]) {
			// encoding/json matches keys case-insensitively: leave unknown keys to it.
			var known bool
			if idx, known = k.fields[string(data[i+1:j])]; !known {
				return false
			}
		}
		next = idx + 1
		i = skipSpace(data, j+1)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		if i >= len(data) {
			return false
		}
		var f flatField
		var kind reflect.Kind
		switch c := data[i]; {
		case c == '"':
			j := i + 1
			for j < len(data) && data[j] != '"' && data[j] != '\\' && data[j] >= 0x20 {
				j++
			}
			if j >= len(data) || data[j] != '"' || !utf8.Valid(data[i+1:j]) {
				return false
			}
			f, kind, i = flatField{kind: flatString, n: int64(i+1)<<32 | int64(j)}, reflect.String, j+1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			if c == '-' {
				j++
			}
			start := j
			var n int64
			for j < len(data) && data[j] >= '0' && data[j] <= '9' {
				if j-start >= 18 {
					return false
				}
				n = n*10 + int64(data[j]-'0')
				j++
			}
			if j == start || (j < len(data) && (data[j] == '.' || data[j] == 'e' || data[j] == 'E')) {
				return false
			}
			if j-start > 1 && data[start] == '0' {
				return false
			}
			if c == '-' {
				n = -n
			}
			f, kind, i = flatField{kind: flatInt, n: n}, reflect.Int64, j
		case c == 't' && len(data)-i >= 4 && string(data[i:i+4]) == "true":
			f, kind, i = flatField{kind: flatBool, n: 1}, reflect.Bool, i+4
		case c == 'f' && len(data)-i >= 5 && string(data[i:i+5]) == "false":
			f, kind, i = flatField{kind: flatBool}, reflect.Bool, i+5
		case c == 'n' && len(data)-i >= 4 && string(data[i:i+4]) == "null":
			i += 4
		default:
			return false
		}
		if f.kind != flatAbsent {
			want := k.kinds[idx]
			if want == reflect.Int {
				want = reflect.Int64
			}
			if want != kind {
				return false
			}
			fields[idx] = f
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func (r *record) field(name string) (ref.Val, bool) {
	switch name {
	case "record_type":
		return types.String(r.typ), true
	case "record_id":
		return types.String(r.id), true
	case "as_of":
		return types.String(r.asOf.UTC().Format(time.DateOnly)), true
	}
	i, ok := r.kind.fields[name]
	if !ok {
		return nil, false
	}
	return r.value(i), true
}

// str reads a string field directly, for the built-in functions.
func (r *record) str(name string) (string, bool) {
	i, ok := r.kind.fields[name]
	if !ok {
		return "", false
	}
	s, ok := r.value(i).(types.String)
	return string(s), ok
}

// Get implements traits.Indexer.
func (r *record) Get(index ref.Val) ref.Val {
	name, ok := index.(types.String)
	if !ok {
		return types.NewErr("record fields are selected by name, not %s", index.Type())
	}
	v, ok := r.field(string(name))
	if !ok {
		return types.NewErr("no such field %q in %s", string(name), r.typ)
	}
	return v
}

// IsSet implements traits.FieldTester: has(r.f) is true for every field of the
// record's type.
func (r *record) IsSet(field ref.Val) ref.Val {
	name, ok := field.(types.String)
	if !ok {
		return types.False
	}
	_, ok = r.field(string(name))
	return types.Bool(ok)
}

func (r *record) ConvertToNative(typeDesc reflect.Type) (any, error) {
	if typeDesc == reflect.TypeOf(r) {
		return r, nil
	}
	return nil, fmt.Errorf("record %s/%s cannot convert to %v", r.typ, r.id, typeDesc)
}

func (r *record) ConvertToType(typeVal ref.Type) ref.Val {
	if typeVal == types.TypeType {
		return recordCELType
	}
	return types.NewErr("record cannot convert to %s", typeVal.TypeName())
}

func (r *record) Equal(other ref.Val) ref.Val {
	o, ok := other.(*record)
	return types.Bool(ok && o.typ == r.typ && o.id == r.id)
}

func (r *record) Type() ref.Type { return recordCELType }
func (r *record) Value() any     { return r }

// monthsCELType is the type of the `months` variable: the subject's
// si.employer_month records, looked up lazily by month.
var monthsCELType = types.NewOpaqueType("verihub.Months")

type months struct{ v *view }

func (m months) ConvertToNative(typeDesc reflect.Type) (any, error) {
	return nil, fmt.Errorf("months cannot convert to %v", typeDesc)
}
func (m months) ConvertToType(typeVal ref.Type) ref.Val {
	if typeVal == types.TypeType {
		return monthsCELType
	}
	return types.NewErr("months cannot convert to %s", typeVal.TypeName())
}
func (m months) Equal(other ref.Val) ref.Val { return types.False }
func (m months) Type() ref.Type              { return monthsCELType }
func (m months) Value() any                  { return m }
