package contracts

import (
	"encoding/json"
	"fmt"
)

// SubjectKind is what a profile is about.
type SubjectKind string

const (
	KindEnterprise SubjectKind = "enterprise" // keyed by USCC
	KindPerson     SubjectKind = "person"     // keyed by resident ID number
)

// Subject names the enterprise or person a record belongs to. Key is the raw USCC or
// the raw ID number: it never leaves the ingest edge unprotected (see Protector).
type Subject struct {
	Kind SubjectKind
	Key  string
}

// SubjectOf returns the subject a validated record belongs to.
func SubjectOf(e Envelope) (Subject, error) {
	var probe struct {
		USCC            string `json:"uscc"`
		IDNumber        string `json:"id_number"`
		SubjectUSCC     string `json:"subject_uscc"`
		SubjectIDNumber string `json:"subject_id_number"`
	}
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &probe); err != nil {
			return Subject{}, fmt.Errorf("reading subject of %s: %w", e.Key(), err)
		}
	}
	switch e.Type {
	case TypeEmployer, TypeEmployerMonth, TypeTaxpayer, TypePenalty, TypeRating:
		if probe.USCC != "" {
			return Subject{KindEnterprise, probe.USCC}, nil
		}
	case TypePerson, TypeCertificate:
		if probe.IDNumber != "" {
			return Subject{KindPerson, probe.IDNumber}, nil
		}
	case TypeListing, TypeAward:
		if probe.SubjectUSCC != "" {
			return Subject{KindEnterprise, probe.SubjectUSCC}, nil
		}
		if probe.SubjectIDNumber != "" {
			return Subject{KindPerson, probe.SubjectIDNumber}, nil
		}
	default:
		return Subject{}, fmt.Errorf("subject of %s: %w: unknown type", e.Key(), ErrInvalidRecord)
	}
	// A tombstone may carry no data: its subject then comes from the id for types
	// keyed by the subject itself.
	if e.Deleted {
		switch e.Type {
		case TypeEmployer, TypeTaxpayer:
			return Subject{KindEnterprise, e.ID}, nil
		case TypePerson:
			return Subject{KindPerson, e.ID}, nil
		case TypeEmployerMonth, TypeRating:
			if i := indexByte(e.ID, ':'); i > 0 {
				return Subject{KindEnterprise, e.ID[:i]}, nil
			}
		}
	}
	return Subject{}, fmt.Errorf("subject of %s: %w: no subject field", e.Key(), ErrInvalidRecord)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
