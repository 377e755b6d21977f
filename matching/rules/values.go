package rules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

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
	fields map[string]int // JSON name → struct field index
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
			if name != "" && name != "-" {
				k.fields[name] = i
			}
		}
		out[typ] = k
	}
	return out
}

// record is one live record version as a CEL value.
type record struct {
	typ   string
	id    string
	asOf  time.Time
	kind  *recordKind
	value reflect.Value // the decoded struct
}

// decodeRecord decodes an envelope's data into the contracts struct of its type.
func decodeRecord(kinds map[string]*recordKind, e contracts.Envelope) (*record, error) {
	k, ok := kinds[e.Type]
	if !ok {
		return nil, fmt.Errorf("decoding %s: no record kind", e.Key())
	}
	ptr := reflect.New(k.goType)
	if err := json.Unmarshal(e.Data, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", e.Key(), err)
	}
	return &record{typ: e.Type, id: e.ID, asOf: e.AsOf, kind: k, value: ptr.Elem()}, nil
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
	f := r.value.Field(i)
	switch f.Kind() {
	case reflect.String:
		return types.String(f.String()), true
	case reflect.Int64, reflect.Int:
		return types.Int(f.Int()), true
	case reflect.Bool:
		return types.Bool(f.Bool()), true
	}
	return types.NewErr("field %s of %s has an unsupported kind", name, r.typ), true
}

// str reads a string field directly, for the built-in functions.
func (r *record) str(name string) (string, bool) {
	i, ok := r.kind.fields[name]
	if !ok {
		return "", false
	}
	f := r.value.Field(i)
	if f.Kind() != reflect.String {
		return "", false
	}
	return f.String(), true
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
