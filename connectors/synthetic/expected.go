package synthetic

import (
	"bufio"
	"fmt"

	"github.com/verihub/verihub/contracts"
)

// ExpectedSubject names the subject of an expected line: exactly one field is set.
type ExpectedSubject struct {
	USCC     string `json:"uscc,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
}

// ExpectedParams are the request params of an expected line: Year for refund packs,
// CertificateNo and ApplicationDate for skill packs.
type ExpectedParams struct {
	Year            int    `json:"year,omitempty"`
	CertificateNo   string `json:"certificate_no,omitempty"`
	ApplicationDate string `json:"application_date,omitempty"`
}

// Expected is one line of expected.ndjson (PACKS.md, last section). ReviewRequired is
// present for refund packs only.
type Expected struct {
	Program        string          `json:"program"`
	Subject        ExpectedSubject `json:"subject"`
	Params         ExpectedParams  `json:"params"`
	Decision       string          `json:"decision"`
	AmountFen      int64           `json:"amount_fen"`
	ReviewRequired *bool           `json:"review_required,omitempty"`
}

// ExpectedChecks is one line of expected_checks.ndjson: an expected line with the
// oracle's check outcomes.
type ExpectedChecks struct {
	Expected
	Checks []CheckResult `json:"checks"`
}

// expectedWriter evaluates every subject with the oracle and writes the lines.
type expectedWriter struct {
	w       *bufio.Writer
	checks  *bufio.Writer
	m       *Manifest
	observe func(result)
	lines   int
}

func (x *expectedWriter) write(r result) error {
	e := Expected{Program: r.Program, Decision: r.Decision, AmountFen: r.AmountFen}
	if r.USCC != "" {
		review := r.ReviewRequired
		e.Subject.USCC, e.Params.Year, e.ReviewRequired = r.USCC, r.Year, &review
		if review {
			x.m.ReviewRequired[r.Program]++
		}
	} else {
		e.Subject.IDNumber = r.IDNumber
		e.Params.CertificateNo, e.Params.ApplicationDate = r.CertNo, r.ApplicationDate
	}
	if _, err := x.w.Write(append(mustJSON(e), '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", FileExpected, err)
	}
	if x.checks != nil {
		if _, err := x.checks.Write(append(mustJSON(ExpectedChecks{e, r.Checks}), '\n')); err != nil {
			return fmt.Errorf("writing %s: %w", FileChecks, err)
		}
	}
	x.lines++
	byDecision := x.m.Decisions[r.Program]
	if byDecision == nil {
		byDecision = map[string]int{}
		x.m.Decisions[r.Program] = byDecision
	}
	byDecision[r.Decision]++
	if x.observe != nil {
		x.observe(r)
	}
	return nil
}

// enterprise evaluates every refund pack and year for one enterprise.
func (x *expectedWriter) enterprise(uscc string, envs []contracts.Envelope) error {
	f, err := newEnterpriseFacts(uscc, envs)
	if err != nil {
		return err
	}
	for _, p := range refundPacks {
		for _, y := range p.years {
			if err := x.write(evaluateRefund(f, p.id, defaultRefundParams(y))); err != nil {
				return err
			}
		}
	}
	return nil
}

// person evaluates every skill pack for each of the person's applications.
func (x *expectedWriter) person(id string, envs []contracts.Envelope, apps []application) error {
	if len(apps) == 0 {
		return nil
	}
	f, err := newPersonFacts(id, envs)
	if err != nil {
		return err
	}
	for _, a := range apps {
		for _, pk := range skillPacks {
			if err := x.write(evaluateSkill(f, pk, a.certNo, a.date)); err != nil {
				return err
			}
		}
	}
	return nil
}
