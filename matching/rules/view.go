package rules

import (
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

type slotKind uint8

const (
	slotBuiltin slotKind = iota
	slotRequest
	slotParam
	slotLet
)

type slot struct {
	kind slotKind
	idx  int
}

// view is the CEL activation for one evaluation: the profile seen through the
// pack's names. Every value is computed on first use and kept, so a record is
// decoded at most once and a let is evaluated at most once per evaluation.
type view struct {
	pk     *pack
	prof   *matching.Profile
	key    string // the subject key without its "uscc:"/"person:" prefix
	req    []ref.Val
	memo   []ref.Val
	months map[int64]ref.Val // by year*100 + month
	amount ref.Val

	region     string
	regionDone bool
	dataYear   int64

	// frame carries one evaluation through every program of the pack, so that
	// they share a single cost tracker: CostLimit bounds the whole evaluation.
	frame *interpreter.ExecutionFrame
}

var _ interpreter.Activation = (*view)(nil)

func newView(pk *pack, p *matching.Profile, req []ref.Val) (*view, error) {
	v := &view{pk: pk, prof: p, req: req, memo: make([]ref.Val, len(pk.slotList))}
	f, err := interpreter.NewExecutionFrame(v)
	if err != nil {
		return nil, err
	}
	v.frame = f
	if p != nil {
		_, v.key, _ = strings.Cut(p.Subject, ":")
	}
	if pk.yearIdx >= 0 {
		if y, ok := req[pk.yearIdx].(types.Int); ok {
			v.dataYear = int64(y) - 1
		}
	}
	return v, nil
}

// eval runs one of the pack's programs in this evaluation.
func (v *view) eval(prg cel.Program) (ref.Val, error) {
	out, _, err := prg.Eval(v.frame)
	return out, err
}

// close returns the evaluation's frame; the view is not used after.
func (v *view) close() {
	v.frame.Close()
	v.frame = nil
}

// Parent implements interpreter.Activation.
func (v *view) Parent() interpreter.Activation { return nil }

// ResolveName implements interpreter.Activation.
func (v *view) ResolveName(name string) (any, bool) {
	i, ok := v.pk.slots[name]
	if !ok {
		return nil, false
	}
	if m := v.memo[i]; m != nil {
		return m, true
	}
	s := v.pk.slotList[i]
	var val ref.Val
	switch s.kind {
	case slotBuiltin:
		val = v.builtin(s.idx)
	case slotRequest:
		val = v.req[s.idx]
		if val == nil {
			val = types.NullValue
		}
	case slotParam:
		val = v.pk.paramList[s.idx].lookup(v.regionCode(), v.dataYear)
	case slotLet:
		out, err := v.eval(v.pk.lets[s.idx].prg)
		if err != nil {
			val = types.WrapErr(err)
		} else {
			val = out
		}
	}
	v.memo[i] = val
	return val, true
}

func (v *view) builtin(b int) ref.Val {
	switch b {
	case bSubject:
		if v.prof == nil {
			return types.String("")
		}
		return types.String(v.prof.Subject)
	case bProgram:
		return types.String(v.pk.id)
	case bEmployer:
		return v.one(contracts.TypeEmployer)
	case bTaxpayer:
		return v.one(contracts.TypeTaxpayer)
	case bPerson:
		return v.one(contracts.TypePerson)
	case bMonths:
		return months{v}
	case bListings:
		return v.list(contracts.TypeListing)
	case bPenalties:
		return v.list(contracts.TypePenalty)
	case bRatings:
		return v.list(contracts.TypeRating)
	case bAwards:
		return v.list(contracts.TypeAward)
	case bCertificates:
		return v.list(contracts.TypeCertificate)
	case bAmount:
		if v.amount == nil {
			return types.NewErr("amount is only defined in review")
		}
		return v.amount
	}
	return types.NewErr("no built-in %d", b)
}

// one returns the subject's own record of a type keyed by the subject (si.employer,
// tax.taxpayer, si.person), or null.
func (v *view) one(typ string) ref.Val {
	if v.prof == nil {
		return types.NullValue
	}
	e, ok := v.prof.Get(typ, v.key)
	if !ok {
		return types.NullValue
	}
	return v.decode(e)
}

func (v *view) decode(e contracts.Envelope) ref.Val {
	r, err := decodeRecord(v.pk.kinds, e)
	if err != nil {
		return types.WrapErr(err)
	}
	return r
}

func (v *view) list(typ string) ref.Val {
	if v.prof == nil {
		return types.NewRefValList(types.DefaultTypeAdapter, nil)
	}
	live := v.prof.Live(typ)
	out := make([]ref.Val, 0, len(live))
	for _, e := range live {
		r := v.decode(e)
		if types.IsError(r) {
			return r
		}
		out = append(out, r)
	}
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

// month returns the si.employer_month of a "YYYY-MM" month, or null.
func (v *view) month(ym string) ref.Val {
	y, m, ok := parseMonth(ym)
	if !ok {
		return types.NullValue
	}
	return v.monthOf(y, m)
}

func parseMonth(s string) (y, m int64, ok bool) {
	if len(s) != 7 || s[4] != '-' {
		return 0, 0, false
	}
	for i, c := range []byte(s) {
		if i == 4 {
			continue
		}
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	y = int64(s[0]-'0')*1000 + int64(s[1]-'0')*100 + int64(s[2]-'0')*10 + int64(s[3]-'0')
	m = int64(s[5]-'0')*10 + int64(s[6]-'0')
	return y, m, y >= 1 && m >= 1 && m <= 12
}

// monthOf returns the si.employer_month of month m of year y, or null; records
// are looked up and decoded once per evaluation.
func (v *view) monthOf(y, m int64) ref.Val {
	k := y*100 + m
	if r, ok := v.months[k]; ok {
		return r
	}
	var r ref.Val = types.NullValue
	if v.prof != nil {
		if e, ok := v.prof.Get(contracts.TypeEmployerMonth, v.key+":"+monthString(y, m)); ok {
			r = v.decode(e)
		}
	}
	if v.months == nil {
		v.months = make(map[int64]ref.Val, 16)
	}
	v.months[k] = r
	return r
}

// yearMonths calls fn for the twelve months of year y in order, stopping at the
// first error it returns.
func (v *view) yearMonths(y int64, fn func(m int64, r ref.Val) ref.Val) ref.Val {
	if y < 1 || y > 9999 {
		return types.NewErr("months of %d: no such year", y)
	}
	for m := int64(1); m <= 12; m++ {
		r := v.monthOf(y, m)
		if types.IsError(r) {
			return r
		}
		if err := fn(m, r); err != nil {
			return err
		}
	}
	return nil
}

func (v *view) year(y int64) ref.Val {
	out := make([]ref.Val, 0, 12)
	if err := v.yearMonths(y, func(_ int64, r ref.Val) ref.Val { out = append(out, r); return nil }); err != nil {
		return err
	}
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

func (v *view) present(y int64) ref.Val {
	out := make([]ref.Val, 0, 12)
	if err := v.yearMonths(y, func(_ int64, r ref.Val) ref.Val {
		if r != types.NullValue {
			out = append(out, r)
		}
		return nil
	}); err != nil {
		return err
	}
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

func (v *view) missing(y int64) ref.Val {
	var out []string
	if err := v.yearMonths(y, func(m int64, r ref.Val) ref.Val {
		if r == types.NullValue {
			out = append(out, monthString(y, m))
		}
		return nil
	}); err != nil {
		return err
	}
	return types.NewStringList(types.DefaultTypeAdapter, out)
}

// regionCode is the enterprise's si.employer region_code, "" when unknown.
func (v *view) regionCode() string {
	if v.regionDone {
		return v.region
	}
	v.regionDone = true
	if v.pk.kind != contracts.KindEnterprise {
		return ""
	}
	if r, ok := v.builtinMemo(bEmployer).(*record); ok {
		v.region, _ = r.str("region_code")
	}
	return v.region
}

func (v *view) builtinMemo(b int) ref.Val {
	val, _ := v.ResolveName(builtinNames[b])
	return val.(ref.Val)
}
