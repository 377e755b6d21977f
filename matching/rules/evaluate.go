package rules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// Check results and decisions.
const (
	Pass    = "pass"
	Fail    = "fail"
	Unknown = "unknown"

	Eligible         = "eligible"
	Ineligible       = "ineligible"
	InsufficientData = "insufficient_data"
)

// Result is the outcome of one program for one subject.
type Result struct {
	Program        string               `json:"program"`
	Subject        string               `json:"subject"`
	Params         map[string]any       `json:"params"`
	Decision       string               `json:"decision"`
	AmountFen      int64                `json:"amount_fen"`
	ReviewRequired bool                 `json:"review_required"`
	Checks         []CheckResult        `json:"checks"`
	Facts          map[string]any       `json:"facts"`
	DataAsOf       map[string]time.Time `json:"data_as_of"`
}

// CheckResult is one check's outcome with the records it used; the same type the
// signed result carries.
type CheckResult = contracts.CheckResult

// Evidence names one record version a check used.
type Evidence = contracts.Evidence

// Evaluate runs a program over a profile. p may be nil or empty (a subject the hub
// knows nothing about); checks then come out unknown or fail as the pack defines.
// params are the caller's request params (JSON-decoded values are fine); the
// Result carries them normalised, defaults filled.
//
// Errors: *UnknownProgramError for an unknown program, *ParamError for invalid
// params or a profile of the wrong subject kind, ctx's error when it ends,
// *LimitError when the evaluation exceeds CostLimit, and otherwise an error naming
// the expression that failed at run time (a defect of the pack or a corrupt record).
func (e *Engine) Evaluate(ctx context.Context, programID string, p *matching.Profile, params map[string]any) (Result, error) {
	return e.run(ctx, programID, p, params, false)
}

// Decide is Evaluate without what only a signed result carries: each check comes
// back with its id and result but no detail and no evidence, and DataAsOf is
// empty. Decision, amount, review flag and facts are Evaluate's (the load-time
// self-test and a test over generated data hold the two to that, with
// CompareDecision). Screening, which lists candidates and signs nothing, uses it:
// the texts and evidence are a large part of an evaluation's cost.
func (e *Engine) Decide(ctx context.Context, programID string, p *matching.Profile, params map[string]any) (Result, error) {
	return e.run(ctx, programID, p, params, true)
}

func (e *Engine) run(ctx context.Context, programID string, p *matching.Profile, params map[string]any, lean bool) (Result, error) {
	pk, ok := e.packs[programID]
	if !ok {
		return Result{}, &UnknownProgramError{Program: programID}
	}
	if p != nil && p.Subject != "" && p.Kind() != pk.kind {
		return Result{}, &ParamError{Program: programID, Field: "subject", Reason: fmt.Sprintf("program is for %s subjects", pk.kind)}
	}
	norm, req, err := pk.normalise(params)
	if err != nil {
		return Result{}, err
	}
	return pk.evaluate(ctx, p, norm, req, lean)
}

func (pk *pack) evaluate(ctx context.Context, p *matching.Profile, norm map[string]any, req []ref.Val, lean bool) (Result, error) {
	v, err := newView(pk, p, req)
	if err != nil {
		return Result{}, fmt.Errorf("evaluating %s: %w", pk.id, err)
	}
	defer v.close()
	res := Result{Program: pk.id, Params: norm, Checks: make([]CheckResult, 0, len(pk.checks))}
	if p != nil {
		res.Subject = p.Subject
	}
	anyFail, anyUnknown := false, false
	for _, c := range pk.checks {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		prg, read := c.prg, checkResult
		if lean {
			prg, read = c.lean, leanResult
		}
		out, err := v.eval(prg)
		if err != nil {
			return Result{}, pk.evalError("check "+c.id, err)
		}
		cr, err := read(c.id, out)
		if err != nil {
			return Result{}, fmt.Errorf("evaluating check %s of %s: %w", c.id, pk.id, err)
		}
		switch cr.Result {
		case Fail:
			anyFail = true
		case Unknown:
			anyUnknown = true
		}
		res.Checks = append(res.Checks, cr)
	}
	switch {
	case anyFail:
		res.Decision = Ineligible
	case anyUnknown:
		res.Decision = InsufficientData
	default:
		res.Decision = Eligible
	}
	if res.Decision == Eligible {
		out, err := v.eval(pk.amount.prg)
		if err != nil {
			return Result{}, pk.evalError("amount", err)
		}
		amt, ok := out.(types.Int)
		if !ok || amt < 0 {
			return Result{}, fmt.Errorf("evaluating amount of %s: got %v, want a non-negative int", pk.id, out)
		}
		res.AmountFen = int64(amt)
		if pk.review != nil {
			v.amount = amt
			out, err := v.eval(pk.review.prg)
			if err != nil {
				return Result{}, pk.evalError("review", err)
			}
			b, ok := out.(types.Bool)
			if !ok {
				return Result{}, fmt.Errorf("evaluating review of %s: got %v, want a bool", pk.id, out)
			}
			res.ReviewRequired = bool(b)
		}
	}
	res.Facts = make(map[string]any, len(pk.facts))
	for _, f := range pk.facts {
		out, err := v.eval(f.prg)
		if err != nil {
			return Result{}, pk.evalError("fact "+f.name, err)
		}
		if nv, ok := nativeFact(out); ok {
			res.Facts[f.name] = nv
		}
	}
	res.DataAsOf = map[string]time.Time{}
	for _, c := range res.Checks {
		for _, ev := range c.Evidence {
			a := contracts.AgencyOf(ev.Type)
			if ev.AsOf.After(res.DataAsOf[a]) {
				res.DataAsOf[a] = ev.AsOf
			}
		}
	}
	return res, nil
}

// evalError names where an evaluation failed; exceeding the cost limit is a
// *LimitError.
func (pk *pack) evalError(where string, err error) error {
	var ec interpreter.EvalCancelledError
	if errors.As(err, &ec) && ec.Cause == interpreter.CostLimitExceeded {
		return &LimitError{Program: pk.id, Where: where}
	}
	return fmt.Errorf("evaluating %s of %s: %w", where, pk.id, err)
}

// leanResult reads a check's result alone.
func leanResult(id string, out ref.Val) (CheckResult, error) {
	r, _ := out.(types.String)
	switch string(r) {
	case Pass, Fail, Unknown:
		return CheckResult{ID: id, Result: string(r)}, nil
	case "":
		return CheckResult{}, fmt.Errorf("no case of the check holds")
	}
	return CheckResult{}, fmt.Errorf("result %q is not pass, fail or unknown", string(r))
}

// checkResult reads a check's [result, zh, en, evidence] list.
func checkResult(id string, out ref.Val) (CheckResult, error) {
	list, ok := out.(traits.Lister)
	if !ok || list.Size() != types.Int(4) {
		return CheckResult{}, fmt.Errorf("check yielded %v, want [result, zh, en, evidence]", out)
	}
	r, _ := list.Get(types.Int(0)).(types.String)
	zh, _ := list.Get(types.Int(1)).(types.String)
	en, _ := list.Get(types.Int(2)).(types.String)
	switch string(r) {
	case Pass, Fail, Unknown:
	case "":
		return CheckResult{}, fmt.Errorf("no case of the check holds")
	default:
		return CheckResult{}, fmt.Errorf("result %q is not pass, fail or unknown", string(r))
	}
	cr := CheckResult{ID: id, Result: string(r), Detail: string(zh) + " / " + string(en), Evidence: []Evidence{}}
	if err := collectEvidence(list.Get(types.Int(3)), &cr.Evidence, 0); err != nil {
		return CheckResult{}, err
	}
	return cr, nil
}

// collectEvidence flattens records out of nested lists, dropping nulls and repeats.
func collectEvidence(v ref.Val, out *[]Evidence, depth int) error {
	switch t := v.(type) {
	case *record:
		for _, e := range *out {
			if e.Type == t.typ && e.ID == t.id {
				return nil
			}
		}
		*out = append(*out, Evidence{Type: t.typ, ID: t.id, AsOf: t.asOf})
		return nil
	case types.Null:
		return nil
	case *types.Err:
		return t
	case traits.Lister:
		if depth > 3 {
			return fmt.Errorf("evidence nested too deeply")
		}
		it := t.Iterator()
		for it.HasNext() == types.True {
			if err := collectEvidence(it.Next(), out, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("evidence holds a %s, not a record", v.Type().TypeName())
}

// nativeFact turns a CEL value into a JSON-friendly one; nulls are left out.
func nativeFact(v ref.Val) (any, bool) {
	switch t := v.(type) {
	case types.Null:
		return nil, false
	case types.Int:
		return int64(t), true
	case types.String:
		return string(t), true
	case types.Bool:
		return bool(t), true
	case types.Double:
		return float64(t), true
	case *record:
		return t.typ + "/" + t.id, true
	case traits.Lister:
		var out []any
		it := t.Iterator()
		for it.HasNext() == types.True {
			if nv, ok := nativeFact(it.Next()); ok {
				out = append(out, nv)
			}
		}
		return out, true
	}
	return fmt.Sprint(v.Value()), true
}

// selfTest evaluates every pack against the sample profiles, so that an expression
// reading a field no record has, or otherwise failing at run time, stops the start.
func (e *Engine) selfTest() error {
	samples := sampleProfiles(e.packs[e.order[0]].kinds)
	ctx := context.Background()
	for _, id := range e.order {
		pk := e.packs[id]
		for _, s := range samples {
			if s.kind != pk.kind {
				continue
			}
			for _, params := range pk.sampleParams(s.params) {
				norm, req, err := pk.normalise(params)
				if err != nil {
					return fmt.Errorf("pack %s: self-test params %v: %w", id, params, err)
				}
				full, err := pk.evaluate(ctx, s.profile, norm, req, false)
				if err != nil {
					return fmt.Errorf("pack %s: self-test on the %s sample with %v: %w", id, s.name, norm, err)
				}
				lean, err := pk.evaluate(ctx, s.profile, norm, req, true)
				if err != nil {
					return fmt.Errorf("pack %s: self-test (results only) on the %s sample with %v: %w", id, s.name, norm, err)
				}
				if err := CompareDecision(full, lean); err != nil {
					return fmt.Errorf("pack %s: self-test on the %s sample with %v: %w", id, s.name, norm, err)
				}
			}
		}
	}
	return nil
}

// CompareDecision reports how a Decide result differs from the Evaluate result of
// the same evaluation (decision, amount, review flag, check results, facts), nil
// when it does not.
func CompareDecision(full, lean Result) error {
	if full.Decision != lean.Decision || full.AmountFen != lean.AmountFen || full.ReviewRequired != lean.ReviewRequired ||
		len(full.Checks) != len(lean.Checks) || len(full.Facts) != len(lean.Facts) {
		return fmt.Errorf("results only: %s %d %v, full: %s %d %v", lean.Decision, lean.AmountFen, lean.ReviewRequired,
			full.Decision, full.AmountFen, full.ReviewRequired)
	}
	for i, c := range full.Checks {
		if lean.Checks[i].ID != c.ID || lean.Checks[i].Result != c.Result {
			return fmt.Errorf("check %s: results only %s, full %s", c.ID, lean.Checks[i].Result, c.Result)
		}
	}
	for k, v := range full.Facts {
		if fmt.Sprint(lean.Facts[k]) != fmt.Sprint(v) {
			return fmt.Errorf("fact %s: results only %v, full %v", k, lean.Facts[k], v)
		}
	}
	return nil
}

// sampleParams returns the request params to self-test with: every allowed year
// of a refund pack, or the sample's own params.
func (pk *pack) sampleParams(base map[string]any) []map[string]any {
	var out []map[string]any
	if pk.yearIdx >= 0 {
		s := pk.request[pk.yearIdx].spec
		if s.Min != nil && s.Max != nil && *s.Max-*s.Min < 20 {
			for y := *s.Min; y <= *s.Max; y++ {
				out = append(out, map[string]any{"year": y})
			}
			return out
		}
	}
	params := map[string]any{}
	for k, v := range base {
		if _, ok := pk.reqIndex[k]; ok {
			params[k] = v
		}
	}
	return append(out, params)
}
