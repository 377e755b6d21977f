package rules

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"

	"github.com/verihub/verihub/contracts"
)

//go:embed packs/*.yaml
var shippedPacks embed.FS

// CostLimit bounds the CEL cost of one evaluation: every let, check, fact and the
// amount of one program for one subject together.
const CostLimit = 1_000_000

// Engine holds the compiled packs. It is immutable after Load and safe for
// concurrent use.
type Engine struct {
	packs map[string]*pack
	order []string
}

// pack is one compiled rule pack.
type pack struct {
	id         string
	file       *packFile
	kind       contracts.SubjectKind
	kinds      map[string]*recordKind
	request    []*reqParam
	reqIndex   map[string]int
	yearIdx    int // index of the "year" request param, -1 when none
	params     map[string]*param
	paramList  []*param
	slots      map[string]int
	slotList   []slot
	lets       []compiled
	checks     []*check
	amount     compiled
	review     *compiled
	facts      []compiled
	reviewSlot int
}

type compiled struct {
	name string
	src  string
	prg  cel.Program
}

type check struct {
	id    string
	title Text
	prg   cel.Program // [result, detail_zh, detail_en, evidence]
	lean  cel.Program // the result alone, for Decide
}

// Load compiles the shipped packs with configuration overrides. A pack that does
// not compile, or that fails on the built-in sample profiles, is an error naming
// the pack, the check and the expression.
func Load(overrides Overrides) (*Engine, error) {
	sub, err := fs.Sub(shippedPacks, "packs")
	if err != nil {
		return nil, fmt.Errorf("opening shipped packs: %w", err)
	}
	return LoadFS(sub, overrides)
}

// LoadFS compiles every *.yaml pack at the top of fsys with overrides.
func LoadFS(fsys fs.FS, overrides Overrides) (*Engine, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing packs: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("loading packs: no *.yaml files")
	}
	base, err := newBaseEnv()
	if err != nil {
		return nil, fmt.Errorf("building CEL environment: %w", err)
	}
	kinds := newRecordKinds()
	files := map[string]*packFile{}
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading pack %s: %w", name, err)
		}
		pf, err := decodePack(name, src)
		if err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); pf.ID != want {
			return nil, fmt.Errorf("pack file %s: id %q does not match the file name", name, pf.ID)
		}
		files[pf.ID] = pf
	}
	// Parameters first, so that overrides are in place before anything is compiled
	// against them; defaults of request params are compiled with the pack.
	e := &Engine{packs: map[string]*pack{}}
	for id, pf := range files {
		pk, err := newPack(pf, kinds)
		if err != nil {
			return nil, fmt.Errorf("pack %s: %w", id, err)
		}
		e.packs[id] = pk
	}
	if err := applyOverrides(e.packs, overrides); err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(e.packs) {
		if err := e.packs[id].compile(base); err != nil {
			return nil, fmt.Errorf("pack %s: %w", id, err)
		}
		e.order = append(e.order, id)
	}
	if err := e.selfTest(); err != nil {
		return nil, err
	}
	return e, nil
}

func newPack(pf *packFile, kinds map[string]*recordKind) (*pack, error) {
	pk := &pack{
		id: pf.ID, file: pf, kind: contracts.SubjectKind(pf.Subject), kinds: kinds,
		reqIndex: map[string]int{}, params: map[string]*param{}, slots: map[string]int{}, yearIdx: -1,
	}
	for i, spec := range pf.Request {
		rp := &reqParam{spec: spec}
		if spec.Default != nil {
			v, err := rp.check(spec.Default)
			if err != nil {
				return nil, fmt.Errorf("request param %q default: %w", spec.Name, err)
			}
			rp.def = v
		}
		pk.request = append(pk.request, rp)
		pk.reqIndex[spec.Name] = i
		if spec.Name == "year" && spec.Type == "int" {
			pk.yearIdx = i
		}
	}
	for _, spec := range pf.Parameters {
		p, err := newParam(spec)
		if err != nil {
			return nil, err
		}
		if len(p.dataYears) > 0 && pk.yearIdx < 0 {
			return nil, fmt.Errorf("parameter %q: data_years needs an int request param \"year\"", spec.Name)
		}
		pk.params[spec.Name] = p
		pk.paramList = append(pk.paramList, p)
	}
	return pk, nil
}

// compile builds the pack's CEL environment step by step (built-ins, request
// params, parameters, then each let seeing only the ones before it) and compiles
// every expression.
func (pk *pack) compile(base *cel.Env) error {
	addSlot := func(name string, s slot) {
		pk.slots[name] = len(pk.slotList)
		pk.slotList = append(pk.slotList, s)
	}
	for i, n := range builtinNames {
		addSlot(n, slot{slotBuiltin, i})
	}
	pk.reviewSlot = pk.slots["amount"]
	env := base
	for i, rp := range pk.request {
		if rp.spec.DefaultExpr != "" {
			prg, err := compileExpr(env, rp.spec.DefaultExpr, celTypeOfRequest(rp.spec.Type))
			if err != nil {
				return fmt.Errorf("request param %q default_expr %q: %w", rp.spec.Name, rp.spec.DefaultExpr, err)
			}
			rp.defExpr = prg
		}
		var err error
		if env, err = env.Extend(cel.Variable(rp.spec.Name, celTypeOfRequest(rp.spec.Type))); err != nil {
			return fmt.Errorf("declaring request param %q: %w", rp.spec.Name, err)
		}
		addSlot(rp.spec.Name, slot{slotRequest, i})
	}
	for i, p := range pk.paramList {
		var err error
		if env, err = env.Extend(cel.Variable(p.spec.Name, p.celType)); err != nil {
			return fmt.Errorf("declaring parameter %q: %w", p.spec.Name, err)
		}
		addSlot(p.spec.Name, slot{slotParam, i})
	}
	// The amount variable is declared for review only.
	for i, l := range pk.file.Let {
		ast, iss := env.Compile(l.Expr)
		if iss.Err() != nil {
			return fmt.Errorf("let %q expression %q: %w", l.Name, l.Expr, iss.Err())
		}
		prg, err := program(env, ast)
		if err != nil {
			return fmt.Errorf("let %q expression %q: %w", l.Name, l.Expr, err)
		}
		pk.lets = append(pk.lets, compiled{name: l.Name, src: l.Expr, prg: prg})
		if env, err = env.Extend(cel.Variable(l.Name, ast.OutputType())); err != nil {
			return fmt.Errorf("declaring let %q: %w", l.Name, err)
		}
		addSlot(l.Name, slot{slotLet, i})
	}
	for _, c := range pk.file.Checks {
		ck, err := compileCheck(env, c)
		if err != nil {
			return fmt.Errorf("check %s: %w", c.ID, err)
		}
		pk.checks = append(pk.checks, ck)
	}
	prg, err := compileExpr(env, pk.file.Amount, cel.IntType)
	if err != nil {
		return fmt.Errorf("amount expression %q: %w", pk.file.Amount, err)
	}
	pk.amount = compiled{name: "amount", src: pk.file.Amount, prg: prg}
	if pk.file.Review != "" {
		renv, err := env.Extend(cel.Variable("amount", cel.IntType))
		if err != nil {
			return fmt.Errorf("declaring amount: %w", err)
		}
		prg, err := compileExpr(renv, pk.file.Review, cel.BoolType)
		if err != nil {
			return fmt.Errorf("review expression %q: %w", pk.file.Review, err)
		}
		pk.review = &compiled{name: "review", src: pk.file.Review, prg: prg}
	}
	for _, f := range pk.file.Facts {
		prg, err := compileExpr(env, f.Expr, nil)
		if err != nil {
			return fmt.Errorf("fact %q expression %q: %w", f.Name, f.Expr, err)
		}
		pk.facts = append(pk.facts, compiled{name: f.Name, src: f.Expr, prg: prg})
	}
	return nil
}

func celTypeOfRequest(t string) *cel.Type {
	if t == "int" {
		return cel.IntType
	}
	return cel.StringType
}

// compileCheck checks each case's pieces on their own (so an error names the piece)
// and then compiles the check into one expression yielding
// [result, detail_zh, detail_en, evidence] from the first case that holds.
func compileCheck(env *cel.Env, c checkSpec) (*check, error) {
	var full, lean []string // each case's branch, up to the first without a when
	for i, k := range c.Cases {
		where := fmt.Sprintf("case %d (%s)", i+1, k.Result)
		zh, err := template(k.ZH)
		if err != nil {
			return nil, fmt.Errorf("%s zh text %q: %w", where, k.ZH, err)
		}
		en, err := template(k.EN)
		if err != nil {
			return nil, fmt.Errorf("%s en text %q: %w", where, k.EN, err)
		}
		ev := k.Evidence
		if ev == "" {
			ev = c.Evidence
		}
		if ev == "" {
			ev = "[]"
		}
		pieces := []struct {
			what, src, shown string
			want             *cel.Type
		}{
			{"when", k.When, k.When, cel.BoolType},
			{"zh text", zh, k.ZH, cel.StringType},
			{"en text", en, k.EN, cel.StringType},
			{"evidence", ev, ev, nil},
		}
		for _, p := range pieces {
			if p.src == "" {
				continue
			}
			if _, err := compileExpr(env, p.src, p.want); err != nil {
				return nil, fmt.Errorf("%s %s %q: %w", where, p.what, p.shown, err)
			}
		}
		full = append(full, fmt.Sprintf("[%s, %s, %s, %s]", strconv.Quote(k.Result), zh, en, ev))
		lean = append(lean, strconv.Quote(k.Result))
		if k.When == "" {
			break
		}
	}
	src := firstCase(c.Cases, full, `["", "", "", []]`)
	prg, err := compileExpr(env, src, nil)
	if err != nil {
		return nil, fmt.Errorf("combined expression %q: %w", src, err)
	}
	// The result alone, for Decide: the same conditions without texts and evidence.
	leanSrc := firstCase(c.Cases, lean, `""`)
	leanPrg, err := compileExpr(env, leanSrc, cel.StringType)
	if err != nil {
		return nil, fmt.Errorf("result expression %q: %w", leanSrc, err)
	}
	return &check{id: c.ID, title: c.Title, prg: prg, lean: leanPrg}, nil
}

// firstCase nests branches[i] under cases[i].When into one expression yielding the
// branch of the first case that holds: a case without a when always holds, and
// none when no case holds.
func firstCase(cases []caseSpec, branches []string, none string) string {
	var b strings.Builder
	for i, branch := range branches {
		if cases[i].When == "" {
			b.WriteString(branch)
			b.WriteString(strings.Repeat(")", i))
			return b.String()
		}
		fmt.Fprintf(&b, "(%s) ? %s : (", cases[i].When, branch)
	}
	b.WriteString(none)
	b.WriteString(strings.Repeat(")", len(branches)))
	return b.String()
}

// template turns "text {expr} text" into a CEL string expression: the pieces,
// expressions converted with string(), joined. Braces inside
// the expression may nest; a literal brace is written "{{" or "}}".
func template(t string) (string, error) {
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, strconv.Quote(lit.String()))
			lit.Reset()
		}
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '{' && i+1 < len(t) && t[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(t) && t[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			depth, j := 1, i+1
			for ; j < len(t) && depth > 0; j++ {
				switch t[j] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			if depth != 0 {
				return "", errors.New("unclosed {")
			}
			expr := strings.TrimSpace(t[i+1 : j-1])
			if expr == "" {
				return "", errors.New("empty {}")
			}
			flush()
			parts = append(parts, "string("+expr+")")
			i = j - 1
		case c == '}':
			return "", errors.New("unmatched }")
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	switch len(parts) {
	case 0:
		return `""`, nil
	case 1:
		return parts[0], nil
	}
	// One join rather than a chain of +: each + builds a new string (and is a
	// tracked call), which made texts a large part of an evaluation's cost.
	return "[" + strings.Join(parts, ", ") + "].join()", nil
}

// compileExpr compiles one expression and checks its result type (nil: any).
func compileExpr(env *cel.Env, src string, want *cel.Type) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if want != nil {
		out := ast.OutputType()
		if !out.IsExactType(want) && !out.IsExactType(cel.DynType) {
			return nil, fmt.Errorf("yields %s, want %s", out, want)
		}
	}
	return program(env, ast)
}

func program(env *cel.Env, ast *cel.Ast) (cel.Program, error) {
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(CostLimit))
}

// Programs lists the loaded packs, ordered by id.
func (e *Engine) Programs() []Program {
	out := make([]Program, 0, len(e.order))
	for _, id := range e.order {
		out = append(out, e.packs[id].describe())
	}
	return out
}

// Program describes one loaded pack, for GET /v1/programs.
type Program struct {
	ID          string                `json:"id"`
	Title       Text                  `json:"title"`
	LegalBasis  string                `json:"legal_basis"`
	SubjectKind contracts.SubjectKind `json:"subject_kind"`
	Params      []RequestParam        `json:"params"`
	Parameters  []Parameter           `json:"parameters"`
	Checks      []CheckInfo           `json:"checks"`
}

// CheckInfo names one check of a program.
type CheckInfo struct {
	ID    string `json:"id"`
	Title Text   `json:"title"`
}

func (pk *pack) describe() Program {
	p := Program{ID: pk.id, Title: pk.file.Title, LegalBasis: pk.file.LegalBasis, SubjectKind: pk.kind,
		Params: []RequestParam{}, Parameters: []Parameter{}}
	for _, rp := range pk.request {
		s := rp.spec
		p.Params = append(p.Params, RequestParam{Name: s.Name, Type: s.Type, Required: s.Required, Default: rp.def,
			DefaultExpr: s.DefaultExpr, Min: s.Min, Max: s.Max, Allowed: s.Allowed, Description: s.Description})
	}
	for _, prm := range pk.paramList {
		p.Parameters = append(p.Parameters, prm.describe())
	}
	for _, c := range pk.checks {
		p.Checks = append(p.Checks, CheckInfo{ID: c.id, Title: c.title})
	}
	sort.SliceStable(p.Parameters, func(i, j int) bool { return p.Parameters[i].Name < p.Parameters[j].Name })
	return p
}

// SubjectKind returns the kind of subject a program is about, or an
// *UnknownProgramError.
func (e *Engine) SubjectKind(programID string) (contracts.SubjectKind, error) {
	pk, ok := e.packs[programID]
	if !ok {
		return "", &UnknownProgramError{Program: programID}
	}
	return pk.kind, nil
}
