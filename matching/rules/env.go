package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// Built-in variables every pack can read. Records are dyn values (see record);
// lists hold the subject's live records of one type, ordered by id.
//
//	subject       string     the profile's subject key ("uscc:…" or "person:…")
//	program       string     the pack id
//	employer      dyn        si.employer of the enterprise, or null
//	taxpayer      dyn        tax.taxpayer of the enterprise, or null
//	person        dyn        si.person of the person, or null
//	months        Months     si.employer_month by month: months.at("2018-12") is the
//	                         record or null; months.year(2018) the 12 months of a
//	                         year in order, null where absent
//	listings      list(dyn)  credit.listing
//	penalties     list(dyn)  env.penalty
//	ratings       list(dyn)  env.rating
//	awards        list(dyn)  grant.award
//	certificates  list(dyn)  cert.certificate
var builtinNames = []string{
	"subject", "program", "employer", "taxpayer", "person", "months",
	"listings", "penalties", "ratings", "awards", "certificates", "amount",
}

const (
	bSubject = iota
	bProgram
	bEmployer
	bTaxpayer
	bPerson
	bMonths
	bListings
	bPenalties
	bRatings
	bAwards
	bCertificates
	bAmount
)

// newBaseEnv declares the built-in variables and functions.
//
// Functions (dates are "YYYY-MM-DD" strings, months "YYYY-MM"):
//
//	addDays(date, n) string         calendar arithmetic (Go's AddDate)
//	addMonths(date, n) string       calendar months, as Go's AddDate(0, n, 0)
//	ym(year, month) string          "YYYY-MM"
//	yearOf(date) int                the year of a date or month
//	activeOn(listing, date) bool    listed_on <= date and (removed_on empty or > date)
//	rateLT(l, s, t) bool            l/s < t/10000, exactly in integers; l/s is 0 when s is 0
//	rateLE(l, s, t) bool            l/s <= t/10000, likewise
//	pct(l, s) string                l/s as a percentage, e.g. "3.12%"
//	bp(t) string                    t/10000 as a percentage, e.g. "5.5%"
//	yuan(fen) string                an amount in yuan, e.g. "1,234.50"
//	sum(list(int)) int              the sum (an error on overflow)
//	sum(records, field) int         the sum of an int field over a list of records
//	months.at(month) dyn            see above
//	months.year(year) list(dyn)     see above
//	months.present(year) list(dyn)  the year's month records that exist, in month order
//	months.missing(year) list(string)
//	                                the "YYYY-MM" months of the year without a record
//
// The list functions do in Go what a comprehension would do in CEL: the packs
// call them on every evaluation, and a comprehension over twelve months costs
// more than all the rest of a check.
//
// Rate parameters reach CEL as integers in ten-thousandths (0.055 → 550).
func newBaseEnv() (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.Strings(),
		ext.Bindings(),
		cel.Variable("subject", cel.StringType),
		cel.Variable("program", cel.StringType),
		cel.Variable("employer", cel.DynType),
		cel.Variable("taxpayer", cel.DynType),
		cel.Variable("person", cel.DynType),
		cel.Variable("months", monthsCELType),
		cel.Variable("listings", cel.ListType(cel.DynType)),
		cel.Variable("penalties", cel.ListType(cel.DynType)),
		cel.Variable("ratings", cel.ListType(cel.DynType)),
		cel.Variable("awards", cel.ListType(cel.DynType)),
		cel.Variable("certificates", cel.ListType(cel.DynType)),
		cel.Function("addDays", cel.Overload("addDays_string_int",
			[]*cel.Type{cel.StringType, cel.IntType}, cel.StringType,
			cel.BinaryBinding(func(d, n ref.Val) ref.Val { return shiftDate(d, n, false) }))),
		cel.Function("addMonths", cel.Overload("addMonths_string_int",
			[]*cel.Type{cel.StringType, cel.IntType}, cel.StringType,
			cel.BinaryBinding(func(d, n ref.Val) ref.Val { return shiftDate(d, n, true) }))),
		cel.Function("ym", cel.Overload("ym_int_int",
			[]*cel.Type{cel.IntType, cel.IntType}, cel.StringType,
			cel.BinaryBinding(func(y, m ref.Val) ref.Val {
				yi, mi := int64(y.(types.Int)), int64(m.(types.Int))
				if yi < 1 || yi > 9999 || mi < 1 || mi > 12 {
					return types.NewErr("ym(%d, %d): no such month", yi, mi)
				}
				return types.String(monthString(yi, mi))
			}))),
		cel.Function("yearOf", cel.Overload("yearOf_string",
			[]*cel.Type{cel.StringType}, cel.IntType,
			cel.UnaryBinding(func(d ref.Val) ref.Val {
				s := string(d.(types.String))
				if len(s) < 4 {
					return types.NewErr("yearOf(%q): not a date", s)
				}
				y, err := strconv.ParseInt(s[:4], 10, 64)
				if err != nil {
					return types.NewErr("yearOf(%q): not a date", s)
				}
				return types.Int(y)
			}))),
		cel.Function("activeOn", cel.Overload("activeOn_dyn_string",
			[]*cel.Type{cel.DynType, cel.StringType}, cel.BoolType,
			cel.BinaryBinding(activeOn))),
		cel.Function("rateLT", cel.Overload("rateLT_int_int_int",
			[]*cel.Type{cel.IntType, cel.IntType, cel.IntType}, cel.BoolType,
			cel.FunctionBinding(func(a ...ref.Val) ref.Val { return compareRate(a, false) }))),
		cel.Function("rateLE", cel.Overload("rateLE_int_int_int",
			[]*cel.Type{cel.IntType, cel.IntType, cel.IntType}, cel.BoolType,
			cel.FunctionBinding(func(a ...ref.Val) ref.Val { return compareRate(a, true) }))),
		cel.Function("pct", cel.Overload("pct_int_int",
			[]*cel.Type{cel.IntType, cel.IntType}, cel.StringType,
			cel.BinaryBinding(func(l, s ref.Val) ref.Val {
				return types.String(formatRatio(int64(l.(types.Int)), int64(s.(types.Int))))
			}))),
		cel.Function("bp", cel.Overload("bp_int",
			[]*cel.Type{cel.IntType}, cel.StringType,
			cel.UnaryBinding(func(t ref.Val) ref.Val {
				return types.String(formatRatio(int64(t.(types.Int)), 10000))
			}))),
		cel.Function("yuan", cel.Overload("yuan_int",
			[]*cel.Type{cel.IntType}, cel.StringType,
			cel.UnaryBinding(func(f ref.Val) ref.Val { return types.String(formatYuan(int64(f.(types.Int)))) }))),
		cel.Function("sum", cel.Overload("sum_list_int",
			[]*cel.Type{cel.ListType(cel.IntType)}, cel.IntType,
			cel.UnaryBinding(sumList))),
		cel.Function("sum", cel.Overload("sum_list_string",
			[]*cel.Type{cel.ListType(cel.DynType), cel.StringType}, cel.IntType,
			cel.BinaryBinding(sumField))),
		monthsMethod("present", "months_present_int", cel.IntType, cel.ListType(cel.DynType),
			func(v *view, y ref.Val) ref.Val { return v.present(int64(y.(types.Int))) }),
		monthsMethod("missing", "months_missing_int", cel.IntType, cel.ListType(cel.StringType),
			func(v *view, y ref.Val) ref.Val { return v.missing(int64(y.(types.Int))) }),
		monthsMethod("at", "months_at_string", cel.StringType, cel.DynType,
			func(v *view, ym ref.Val) ref.Val { return v.month(string(ym.(types.String))) }),
		monthsMethod("year", "months_year_int", cel.IntType, cel.ListType(cel.DynType),
			func(v *view, y ref.Val) ref.Val { return v.year(int64(y.(types.Int))) }),
	}
	return cel.NewEnv(opts...)
}

func monthString(y, m int64) string {
	var b [7]byte
	b[0] = byte('0' + y/1000%10)
	b[1] = byte('0' + y/100%10)
	b[2] = byte('0' + y/10%10)
	b[3] = byte('0' + y%10)
	b[4] = '-'
	b[5] = byte('0' + m/10)
	b[6] = byte('0' + m%10)
	return string(b[:])
}

func shiftDate(d, n ref.Val, months bool) ref.Val {
	s := string(d.(types.String))
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return types.NewErr("%q is not a YYYY-MM-DD date", s)
	}
	k := int(n.(types.Int))
	if months {
		t = t.AddDate(0, k, 0)
	} else {
		t = t.AddDate(0, 0, k)
	}
	return types.String(t.Format(time.DateOnly))
}

func activeOn(l, d ref.Val) ref.Val {
	r, ok := l.(*record)
	if !ok {
		return types.NewErr("activeOn: %s is not a record", l.Type().TypeName())
	}
	listed, ok1 := r.str("listed_on")
	removed, ok2 := r.str("removed_on")
	if !ok1 || !ok2 {
		return types.NewErr("activeOn: %s has no listed_on/removed_on", r.typ)
	}
	date := string(d.(types.String))
	return types.Bool(listed != "" && listed <= date && (removed == "" || removed > date))
}

// compareRate compares l/s with t/10000 as l·10000 <op> t·s; a rate over s = 0 is 0.
func compareRate(a []ref.Val, orEqual bool) ref.Val {
	l, s, t := int64(a[0].(types.Int)), int64(a[1].(types.Int)), int64(a[2].(types.Int))
	if l < 0 || s < 0 || l > 1<<40 || s > 1<<40 || t < 0 || t > 1<<20 {
		return types.NewErr("rate comparison out of range: %d/%d against %d", l, s, t)
	}
	lhs, rhs := l*10000, t*s
	if s == 0 {
		lhs, rhs = 0, t
	}
	if orEqual {
		return types.Bool(lhs <= rhs)
	}
	return types.Bool(lhs < rhs)
}

// formatRatio renders l/s as a percentage with at most two decimals, rounded half up.
func formatRatio(l, s int64) string {
	if s <= 0 || l < 0 {
		return "0%"
	}
	hundredths := (l*100000/s + 5) / 10 // percent × 100
	whole, frac := hundredths/100, hundredths%100
	switch {
	case frac == 0:
		return strconv.FormatInt(whole, 10) + "%"
	case frac%10 == 0:
		return fmt.Sprintf("%d.%d%%", whole, frac/10)
	}
	return fmt.Sprintf("%d.%02d%%", whole, frac)
}

func formatYuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	digits := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ".%02d", fen%100)
	return b.String()
}

// sumField adds up an int field of a list of records.
func sumField(l, f ref.Val) ref.Val {
	list, ok := l.(traits.Lister)
	if !ok {
		return types.NewErr("sum: not a list")
	}
	name := string(f.(types.String))
	var total int64
	it := list.Iterator()
	for it.HasNext() == types.True {
		r, ok := it.Next().(*record)
		if !ok {
			return types.NewErr("sum(list, %q): not a list of records", name)
		}
		v, found := r.field(name)
		n, isInt := v.(types.Int)
		if !found || !isInt {
			return types.NewErr("sum(list, %q): %s has no int field %q", name, r.typ, name)
		}
		if (n > 0 && total > (1<<63-1)-int64(n)) || (n < 0 && total < (-1<<63)-int64(n)) {
			return types.NewErr("sum: integer overflow")
		}
		total += int64(n)
	}
	return types.Int(total)
}

func sumList(l ref.Val) ref.Val {
	list, ok := l.(traits.Lister)
	if !ok {
		return types.NewErr("sum: not a list")
	}
	var total int64
	it := list.Iterator()
	for it.HasNext() == types.True {
		v, ok := it.Next().(types.Int)
		if !ok {
			return types.NewErr("sum: not a list of int")
		}
		n := int64(v)
		if (n > 0 && total > (1<<63-1)-n) || (n < 0 && total < (-1<<63)-n) {
			return types.NewErr("sum: integer overflow")
		}
		total += n
	}
	return types.Int(total)
}

// monthsMethod declares months.name(arg): a method of the months variable, answered
// by the evaluation's view.
func monthsMethod(name, overload string, arg, result *cel.Type, fn func(v *view, arg ref.Val) ref.Val) cel.EnvOption {
	return cel.Function(name, cel.MemberOverload(overload, []*cel.Type{monthsCELType, arg}, result,
		cel.BinaryBinding(func(m, a ref.Val) ref.Val { return fn(m.(months).v, a) })))
}
