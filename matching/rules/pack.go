package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/contracts"
)

// Text is a human-readable string in Chinese and English.
type Text struct {
	ZH string `yaml:"zh" json:"zh"`
	EN string `yaml:"en" json:"en"`
}

// packFile is the YAML form of a rule pack. Decoding is strict: unknown keys are
// errors.
type packFile struct {
	ID         string        `yaml:"id"`
	Title      Text          `yaml:"title"`
	LegalBasis string        `yaml:"legal_basis"`
	Subject    string        `yaml:"subject"`
	Request    []requestSpec `yaml:"request"`
	Parameters []paramSpec   `yaml:"parameters"`
	Let        []letSpec     `yaml:"let"`
	Checks     []checkSpec   `yaml:"checks"`
	Amount     string        `yaml:"amount"`
	Review     string        `yaml:"review"`
	Facts      []letSpec     `yaml:"facts"`
}

// requestSpec declares one request param.
type requestSpec struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"` // int | date | string
	Required    bool     `yaml:"required"`
	Default     any      `yaml:"default"`
	DefaultExpr string   `yaml:"default_expr"` // CEL over the earlier request params
	Min         *int64   `yaml:"min"`
	Max         *int64   `yaml:"max"`
	Allowed     []string `yaml:"allowed"`
	Description Text     `yaml:"description"`
}

// paramSpec declares one pack parameter.
type paramSpec struct {
	Name        string         `yaml:"name"`
	Type        string         `yaml:"type"` // int | rate | string | string_list | int_map
	Default     any            `yaml:"default"`
	Regions     map[string]any `yaml:"regions"`    // region prefix (2, 4 or 6 digits) → value
	DataYears   map[int64]any  `yaml:"data_years"` // data year D = year − 1 → value
	Allowed     []string       `yaml:"allowed"`
	Description Text           `yaml:"description"`
}

// letSpec is a named CEL expression.
type letSpec struct {
	Name string `yaml:"name"`
	Expr string `yaml:"expr"`
}

// checkSpec is one check: the first case whose condition holds gives the result,
// and its texts the detail. A case without `when` always holds.
type checkSpec struct {
	ID       string     `yaml:"id"`
	Title    Text       `yaml:"title"`
	Evidence string     `yaml:"evidence"` // CEL list of records (nulls dropped, nested lists flattened)
	Cases    []caseSpec `yaml:"cases"`
}

type caseSpec struct {
	When     string `yaml:"when"`
	Result   string `yaml:"result"` // pass | fail | unknown
	ZH       string `yaml:"zh"`     // template: literal text with {CEL} interpolations
	EN       string `yaml:"en"`
	Evidence string `yaml:"evidence"` // overrides the check's evidence for this case
}

var (
	identRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*$|^[A-Z]$`)
	packIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// decodePack reads one pack strictly and checks its shape (not its expressions).
func decodePack(name string, src []byte) (*packFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var pf packFile
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("decoding pack file %s: %w", name, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding pack file %s: more than one YAML document", name)
	}
	if err := pf.validate(); err != nil {
		return nil, fmt.Errorf("pack file %s: %w", name, err)
	}
	return &pf, nil
}

func (pf *packFile) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !packIDRE.MatchString(pf.ID) {
		bad("id %q: must be lower-case letters, digits and dashes", pf.ID)
	}
	if pf.Title.ZH == "" || pf.Title.EN == "" {
		bad("title: zh and en are both required")
	}
	if pf.LegalBasis == "" {
		bad("legal_basis is required")
	}
	switch contracts.SubjectKind(pf.Subject) {
	case contracts.KindEnterprise, contracts.KindPerson:
	default:
		bad("subject %q: must be enterprise or person", pf.Subject)
	}
	if len(pf.Checks) == 0 {
		bad("no checks")
	}
	if strings.TrimSpace(pf.Amount) == "" {
		bad("amount is required")
	}
	seen := map[string]string{}
	for _, b := range builtinNames {
		seen[b] = "built-in variable"
	}
	name := func(n, what string) {
		if !identRE.MatchString(n) {
			bad("%s %q: not a valid name", what, n)
			return
		}
		if prev, ok := seen[n]; ok {
			bad("%s %q: name already used by a %s", what, n, prev)
			return
		}
		seen[n] = what
	}
	for _, r := range pf.Request {
		name(r.Name, "request param")
		switch r.Type {
		case "int", "date", "string":
		default:
			bad("request param %q: type %q must be int, date or string", r.Name, r.Type)
		}
		if r.Default != nil && r.DefaultExpr != "" {
			bad("request param %q: default and default_expr are exclusive", r.Name)
		}
		if r.Required && (r.Default != nil || r.DefaultExpr != "") {
			bad("request param %q: a required param has no default", r.Name)
		}
	}
	for _, p := range pf.Parameters {
		name(p.Name, "parameter")
	}
	for _, l := range pf.Let {
		name(l.Name, "let")
	}
	checkIDs := map[string]bool{}
	for _, c := range pf.Checks {
		if !identRE.MatchString(c.ID) || checkIDs[c.ID] {
			bad("check %q: id missing, malformed or repeated", c.ID)
		}
		checkIDs[c.ID] = true
		if c.Title.ZH == "" || c.Title.EN == "" {
			bad("check %q: title zh and en are both required", c.ID)
		}
		if len(c.Cases) == 0 {
			bad("check %q: no cases", c.ID)
		}
		for i, k := range c.Cases {
			switch k.Result {
			case Pass, Fail, Unknown:
			default:
				bad("check %q case %d: result %q must be pass, fail or unknown", c.ID, i+1, k.Result)
			}
			if k.ZH == "" || k.EN == "" {
				bad("check %q case %d: zh and en texts are both required", c.ID, i+1)
			}
			if k.When == "" && i != len(c.Cases)-1 {
				bad("check %q case %d: only the last case may omit when", c.ID, i+1)
			}
		}
	}
	factNames := map[string]bool{}
	for _, f := range pf.Facts {
		if !identRE.MatchString(f.Name) || factNames[f.Name] {
			bad("fact %q: name missing, malformed or repeated", f.Name)
		}
		factNames[f.Name] = true
	}
	return errors.Join(errs...)
}
