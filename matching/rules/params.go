package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Overrides are configuration values for pack parameters. Values replace the pack's
// own: a global value replaces the pack default, a region value is looked up like
// the pack's region table (the enterprise's 6-digit region code, then its 4-digit
// prefix, then its 2-digit prefix) and beats the pack's value for the same prefix.
// Program-specific values beat the all-packs ones. A parameter name no pack (or not
// the named pack) declares is an error, and so is an unknown program id.
type Overrides struct {
	// Parameters apply to every pack that declares the parameter.
	Parameters map[string]any `yaml:"parameters" json:"parameters,omitempty"`
	// Regions maps a region prefix (2, 4 or 6 digits) to parameter values, for every
	// pack that declares them.
	Regions map[string]map[string]any `yaml:"regions" json:"regions,omitempty"`
	// Programs holds values for one program, by program id.
	Programs map[string]ProgramOverrides `yaml:"programs" json:"programs,omitempty"`
}

// ProgramOverrides are one program's parameter values.
type ProgramOverrides struct {
	Parameters map[string]any            `yaml:"parameters" json:"parameters,omitempty"`
	Regions    map[string]map[string]any `yaml:"regions" json:"regions,omitempty"`
}

// Parameter describes one pack parameter as listed by Programs.
type Parameter struct {
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Default     any            `json:"default"`
	Regions     map[string]any `json:"regions,omitempty"`
	DataYears   map[string]any `json:"data_years,omitempty"`
	Allowed     []string       `json:"allowed,omitempty"`
	Description Text           `json:"description"`
}

// RequestParam describes one request param as listed by Programs.
type RequestParam struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Required    bool     `json:"required,omitempty"`
	Default     any      `json:"default,omitempty"`
	DefaultExpr string   `json:"default_expr,omitempty"`
	Min         *int64   `json:"min,omitempty"`
	Max         *int64   `json:"max,omitempty"`
	Allowed     []string `json:"allowed,omitempty"`
	Description Text     `json:"description"`
}

// param is a compiled pack parameter: its CEL values by region and data year.
type param struct {
	spec      paramSpec
	celType   *cel.Type
	def       value
	regions   map[string]value
	dataYears map[int64]value
}

type value struct {
	native any
	cel    ref.Val
}

func newParam(spec paramSpec) (*param, error) {
	p := &param{spec: spec, regions: map[string]value{}, dataYears: map[int64]value{}}
	switch spec.Type {
	case "int", "rate":
		p.celType = cel.IntType
	case "string":
		p.celType = cel.StringType
	case "string_list":
		p.celType = cel.ListType(cel.StringType)
	case "int_map":
		p.celType = cel.MapType(cel.IntType, cel.IntType)
	default:
		return nil, fmt.Errorf("parameter %q: type %q must be int, rate, string, string_list or int_map", spec.Name, spec.Type)
	}
	var err error
	if p.def, err = p.convert(spec.Default); err != nil {
		return nil, fmt.Errorf("parameter %q default: %w", spec.Name, err)
	}
	for prefix, raw := range spec.Regions {
		if err := p.setRegion(prefix, raw); err != nil {
			return nil, err
		}
	}
	for y, raw := range spec.DataYears {
		v, err := p.convert(raw)
		if err != nil {
			return nil, fmt.Errorf("parameter %q data year %d: %w", spec.Name, y, err)
		}
		p.dataYears[y] = v
	}
	return p, nil
}

func (p *param) setRegion(prefix string, raw any) error {
	if !validRegionPrefix(prefix) {
		return fmt.Errorf("parameter %q: region prefix %q must be 2, 4 or 6 digits", p.spec.Name, prefix)
	}
	v, err := p.convert(raw)
	if err != nil {
		return fmt.Errorf("parameter %q region %s: %w", p.spec.Name, prefix, err)
	}
	p.regions[prefix] = v
	return nil
}

func validRegionPrefix(s string) bool {
	if len(s) != 2 && len(s) != 4 && len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lookup returns the value for a region code ("" when unknown) and data year
// (0 when the pack has none): the most specific region prefix, then the data
// year, then the default.
func (p *param) lookup(region string, dataYear int64) ref.Val {
	if len(p.regions) > 0 {
		for _, n := range [...]int{6, 4, 2} {
			if len(region) >= n {
				if v, ok := p.regions[region[:n]]; ok {
					return v.cel
				}
			}
		}
	}
	if v, ok := p.dataYears[dataYear]; ok && dataYear != 0 {
		return v.cel
	}
	return p.def.cel
}

// convert turns a YAML or JSON value into the parameter's type.
func (p *param) convert(raw any) (value, error) {
	if raw == nil {
		return value{}, fmt.Errorf("no value")
	}
	switch p.spec.Type {
	case "int":
		n, err := toInt(raw)
		if err != nil {
			return value{}, err
		}
		return value{native: n, cel: types.Int(n)}, nil
	case "rate":
		f, err := toFloat(raw)
		if err != nil {
			return value{}, err
		}
		if f < 0 || f > 1 {
			return value{}, fmt.Errorf("rate %v outside 0…1", f)
		}
		bp := math.Round(f * 10000)
		if math.Abs(bp-f*10000) > 1e-6 {
			return value{}, fmt.Errorf("rate %v has more than four decimals", f)
		}
		return value{native: bp / 10000, cel: types.Int(int64(bp))}, nil
	case "string":
		s, ok := raw.(string)
		if !ok {
			return value{}, fmt.Errorf("%v is not a string", raw)
		}
		if len(p.spec.Allowed) > 0 && !contains(p.spec.Allowed, s) {
			return value{}, fmt.Errorf("%q is not one of %v", s, p.spec.Allowed)
		}
		return value{native: s, cel: types.String(s)}, nil
	case "string_list":
		list, ok := raw.([]any)
		if !ok {
			if ss, ok := raw.([]string); ok {
				return value{native: ss, cel: types.NewStringList(types.DefaultTypeAdapter, ss)}, nil
			}
			return value{}, fmt.Errorf("%v is not a list", raw)
		}
		ss := make([]string, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return value{}, fmt.Errorf("element %d (%v) is not a string", i, e)
			}
			ss[i] = s
		}
		return value{native: ss, cel: types.NewStringList(types.DefaultTypeAdapter, ss)}, nil
	case "int_map":
		m := map[int64]int64{}
		add := func(k, v any) error {
			kn, err := toInt(k)
			if err != nil {
				return fmt.Errorf("key %v: %w", k, err)
			}
			vn, err := toInt(v)
			if err != nil {
				return fmt.Errorf("value of %v: %w", k, err)
			}
			m[kn] = vn
			return nil
		}
		switch mm := raw.(type) {
		case map[string]any:
			for k, v := range mm {
				if err := add(k, v); err != nil {
					return value{}, err
				}
			}
		case map[any]any:
			for k, v := range mm {
				if err := add(k, v); err != nil {
					return value{}, err
				}
			}
		case map[int64]int64:
			for k, v := range mm {
				m[k] = v
			}
		default:
			return value{}, fmt.Errorf("%v is not a map", raw)
		}
		native := make(map[string]int64, len(m))
		for k, v := range m {
			native[strconv.FormatInt(k, 10)] = v
		}
		return value{native: native, cel: types.DefaultTypeAdapter.NativeToValue(m)}, nil
	}
	return value{}, fmt.Errorf("unknown type %q", p.spec.Type)
}

func (p *param) describe() Parameter {
	out := Parameter{Name: p.spec.Name, Type: p.spec.Type, Default: p.def.native, Allowed: p.spec.Allowed, Description: p.spec.Description}
	if len(p.regions) > 0 {
		out.Regions = map[string]any{}
		for k, v := range p.regions {
			out.Regions[k] = v.native
		}
	}
	if len(p.dataYears) > 0 {
		out.DataYears = map[string]any{}
		for k, v := range p.dataYears {
			out.DataYears[strconv.FormatInt(k, 10)] = v.native
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func toInt(raw any) (int64, error) {
	switch v := raw.(type) {
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int64:
		return v, nil
	case uint64:
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("%d is too large", v)
		}
		return int64(v), nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", v)
		}
		return int64(v), nil
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", string(v))
		}
		return n, nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", raw, raw)
}

func toFloat(raw any) (float64, error) {
	switch v := raw.(type) {
	case float64:
		return v, nil
	case int:
		return float64(v), nil
	case int64:
		return float64(v), nil
	case json.Number:
		return v.Float64()
	case string:
		return strconv.ParseFloat(v, 64)
	}
	return 0, fmt.Errorf("%v (%T) is not a number", raw, raw)
}

// applyOverrides puts configuration values on top of the packs' own.
func applyOverrides(packs map[string]*pack, o Overrides) error {
	type target struct {
		p     *param
		where string
	}
	find := func(programs []*pack, name, where string) ([]target, error) {
		var out []target
		for _, pk := range programs {
			if p, ok := pk.params[name]; ok {
				out = append(out, target{p, pk.id})
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("overriding %s: no such parameter %q", where, name)
		}
		return out, nil
	}
	all := make([]*pack, 0, len(packs))
	for _, id := range sortedKeys(packs) {
		all = append(all, packs[id])
	}
	apply := func(programs []*pack, globals map[string]any, regions map[string]map[string]any, where string) error {
		for _, name := range sortedKeys(globals) {
			ts, err := find(programs, name, where)
			if err != nil {
				return err
			}
			for _, t := range ts {
				v, err := t.p.convert(globals[name])
				if err != nil {
					return fmt.Errorf("overriding %s parameter %q of %s: %w", where, name, t.where, err)
				}
				t.p.def = v
			}
		}
		for _, prefix := range sortedKeys(regions) {
			if !validRegionPrefix(prefix) {
				return fmt.Errorf("overriding %s: region prefix %q must be 2, 4 or 6 digits", where, prefix)
			}
			for _, name := range sortedKeys(regions[prefix]) {
				ts, err := find(programs, name, where)
				if err != nil {
					return err
				}
				for _, t := range ts {
					if err := t.p.setRegion(prefix, regions[prefix][name]); err != nil {
						return fmt.Errorf("overriding %s of %s: %w", where, t.where, err)
					}
				}
			}
		}
		return nil
	}
	if err := apply(all, o.Parameters, o.Regions, "all programs"); err != nil {
		return err
	}
	for _, id := range sortedKeys(o.Programs) {
		pk, ok := packs[id]
		if !ok {
			return fmt.Errorf("overriding program %q: %w", id, &UnknownProgramError{Program: id})
		}
		po := o.Programs[id]
		if err := apply([]*pack{pk}, po.Parameters, po.Regions, "program "+id); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// reqParam is a compiled request param.
type reqParam struct {
	spec    requestSpec
	def     any         // literal default, normalised
	defExpr cel.Program // or a default computed from earlier params
}

// normalise checks request params against the pack's declarations and fills
// defaults. It returns the params as JSON-friendly values (int64, string) and as
// CEL values in declaration order.
func (pk *pack) normalise(in map[string]any) (map[string]any, []ref.Val, error) {
	for _, k := range sortedKeys(in) {
		if _, ok := pk.reqIndex[k]; !ok {
			return nil, nil, &ParamError{Program: pk.id, Field: k, Reason: "unknown param"}
		}
	}
	out := make(map[string]any, len(pk.request))
	vals := make([]ref.Val, len(pk.request))
	for i, rp := range pk.request {
		raw, present := in[rp.spec.Name]
		if present && raw == nil {
			present = false
		}
		var v any
		switch {
		case present:
			nv, err := rp.check(raw)
			if err != nil {
				return nil, nil, &ParamError{Program: pk.id, Field: rp.spec.Name, Reason: err.Error()}
			}
			v = nv
		case rp.spec.Required:
			return nil, nil, &ParamError{Program: pk.id, Field: rp.spec.Name, Reason: "required"}
		case rp.defExpr != nil:
			res, _, err := rp.defExpr.Eval(out)
			if err != nil {
				return nil, nil, &ParamError{Program: pk.id, Field: rp.spec.Name, Reason: "computing default: " + err.Error()}
			}
			nv, err := rp.check(res.Value())
			if err != nil {
				return nil, nil, &ParamError{Program: pk.id, Field: rp.spec.Name, Reason: "default: " + err.Error()}
			}
			v = nv
		default:
			v = rp.def
		}
		if v == nil {
			continue
		}
		out[rp.spec.Name] = v
		switch t := v.(type) {
		case int64:
			vals[i] = types.Int(t)
		case string:
			vals[i] = types.String(t)
		}
	}
	return out, vals, nil
}

// check validates and normalises one value of the param's type.
func (rp *reqParam) check(raw any) (any, error) {
	switch rp.spec.Type {
	case "int":
		n, err := toInt(raw)
		if err != nil {
			return nil, err
		}
		if rp.spec.Min != nil && n < *rp.spec.Min {
			return nil, fmt.Errorf("%d is below the minimum %d", n, *rp.spec.Min)
		}
		if rp.spec.Max != nil && n > *rp.spec.Max {
			return nil, fmt.Errorf("%d is above the maximum %d", n, *rp.spec.Max)
		}
		return n, nil
	case "date":
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("not a YYYY-MM-DD string")
		}
		if !validDate(s) {
			return nil, fmt.Errorf("%q is not a YYYY-MM-DD date", truncate(s))
		}
		return s, nil
	case "string":
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("not a string")
		}
		if s == "" {
			return nil, fmt.Errorf("empty")
		}
		if len(s) > 128 {
			return nil, fmt.Errorf("longer than 128 bytes")
		}
		if len(rp.spec.Allowed) > 0 && !contains(rp.spec.Allowed, s) {
			return nil, fmt.Errorf("%q is not one of %v", truncate(s), rp.spec.Allowed)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown type %q", rp.spec.Type)
}

func validDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
