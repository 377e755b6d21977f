package synthetic

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/verihub/verihub/contracts"
)

// winners reduces the versions of one subject's records to the winning version of
// each (type, id), by SPEC §1's ordering: the greater (revision, as_of) wins, an equal
// one is a no-op and a lesser one is ignored. Tombstones win like any version and are
// kept, so that the caller can see them; the result is in first-seen order.
func winners(envs []contracts.Envelope) []contracts.Envelope {
	out := make([]contracts.Envelope, 0, len(envs))
	at := make(map[string]int, len(envs))
	for _, e := range envs {
		k := e.Type + "/" + e.ID
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, e)
			continue
		}
		if newerVersion(e, out[i]) {
			out[i] = e
		}
	}
	return out
}

// newerVersion reports whether a is strictly newer than b: revision first, then as_of.
func newerVersion(a, b contracts.Envelope) bool {
	if a.Revision != b.Revision {
		return a.Revision > b.Revision
	}
	return a.AsOf.After(b.AsOf)
}

// enterpriseFacts is what the oracle knows about one enterprise: the live winning
// records addressed to it, decoded.
type enterpriseFacts struct {
	uscc         string
	employer     *contracts.Employer
	employerAsOf time.Time
	months       map[string]*contracts.EmployerMonth // by YYYY-MM
	listings     []contracts.Listing
	penalties    []contracts.Penalty
	awards       []contracts.Award
}

// personFacts is what the oracle knows about one person.
type personFacts struct {
	id         string
	person     *contracts.Person
	personAsOf time.Time
	certs      []contracts.Certificate // live
	awards     []contracts.Award       // live skill awards with status granted
}

func decodeData(e contracts.Envelope, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decoding %s/%s: %w", e.Type, e.ID, err)
	}
	return nil
}

// newEnterpriseFacts builds the facts of enterprise uscc from every version of every
// record the generator wrote for it.
func newEnterpriseFacts(uscc string, envs []contracts.Envelope) (*enterpriseFacts, error) {
	f := &enterpriseFacts{uscc: uscc, months: make(map[string]*contracts.EmployerMonth, 100)}
	for _, e := range winners(envs) {
		if e.Deleted {
			continue
		}
		switch e.Type {
		case contracts.TypeEmployer:
			var v contracts.Employer
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.employer, f.employerAsOf = &v, e.AsOf
		case contracts.TypeEmployerMonth:
			var v contracts.EmployerMonth
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.months[v.Month] = &v
		case contracts.TypeListing:
			var v contracts.Listing
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.listings = append(f.listings, v)
		case contracts.TypePenalty:
			var v contracts.Penalty
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.penalties = append(f.penalties, v)
		case contracts.TypeAward:
			var v contracts.Award
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.awards = append(f.awards, v)
		}
	}
	return f, nil
}

// newPersonFacts builds the facts of the person with ID number id.
func newPersonFacts(id string, envs []contracts.Envelope) (*personFacts, error) {
	f := &personFacts{id: id}
	for _, e := range winners(envs) {
		if e.Deleted {
			continue
		}
		switch e.Type {
		case contracts.TypePerson:
			var v contracts.Person
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.person, f.personAsOf = &v, e.AsOf
		case contracts.TypeCertificate:
			var v contracts.Certificate
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			f.certs = append(f.certs, v)
		case contracts.TypeAward:
			var v contracts.Award
			if err := decodeData(e, &v); err != nil {
				return nil, err
			}
			if v.Status == "granted" && strings.HasPrefix(v.Program, "sus-") {
				f.awards = append(f.awards, v)
			}
		}
	}
	return f, nil
}
