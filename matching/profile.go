package matching

import (
	"sort"
	"strings"

	"github.com/verihub/verihub/contracts"
)

// TypeMemberLink is the hub-internal record kept in an enterprise profile for each
// person whose si.person record names that enterprise as employer. Its id is the
// person's subject key and its version that of the si.person record. Links are only
// added, never removed by a person changing employer: readers confirm a link against
// the person's own profile (the person side is authoritative), which keeps apply
// idempotent and per-subject.
const TypeMemberLink = "link.member"

// Change is one record addressed to one subject key ("uscc:…" or "person:…").
type Change struct {
	Subject string
	Record  contracts.Envelope
}

// Outcome says what applying one record did.
type Outcome int

const (
	Applied   Outcome = iota // a newer version was stored (or a tombstone recorded)
	Duplicate                // the same version was already there: a no-op
	Stale                    // an older version: ignored
)

func (o Outcome) String() string {
	return [...]string{"applied", "duplicate", "stale"}[o]
}

// Profile is everything the hub knows about one subject: the latest version of each
// record addressed to it, tombstones included (so late old copies stay dead).
type Profile struct {
	Subject string                                   `json:"subject"`
	Records map[string]map[string]contracts.Envelope `json:"records"` // type → id → latest version
}

// NewProfile returns an empty profile for a subject key.
func NewProfile(subject string) *Profile {
	return &Profile{Subject: subject, Records: map[string]map[string]contracts.Envelope{}}
}

// Kind returns the kind of subject the profile is about.
func (p *Profile) Kind() contracts.SubjectKind {
	if strings.HasPrefix(p.Subject, "person:") {
		return contracts.KindPerson
	}
	return contracts.KindEnterprise
}

// Apply merges one record version by SPEC §1's ordering: a greater (revision, as_of)
// wins, an equal one is a no-op, a lesser one is ignored.
func (p *Profile) Apply(rec contracts.Envelope) Outcome {
	byID := p.Records[rec.Type]
	if byID == nil {
		byID = map[string]contracts.Envelope{}
		p.Records[rec.Type] = byID
	}
	if cur, ok := byID[rec.ID]; ok {
		switch rec.Version().Compare(cur.Version()) {
		case 0:
			return Duplicate
		case -1:
			return Stale
		}
	}
	if rec.Deleted {
		rec.Data = nil
	}
	byID[rec.ID] = rec
	return Applied
}

// Live returns the records of a type that are not tombstones, ordered by id.
func (p *Profile) Live(recordType string) []contracts.Envelope {
	byID := p.Records[recordType]
	out := make([]contracts.Envelope, 0, len(byID))
	for _, r := range byID {
		if !r.Deleted {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Get returns the live record of a type and id.
func (p *Profile) Get(recordType, id string) (contracts.Envelope, bool) {
	r, ok := p.Records[recordType][id]
	if !ok || r.Deleted {
		return contracts.Envelope{}, false
	}
	return r, true
}

// Route returns the changes one protected record makes: the record itself to its
// subject, plus, for an si.person naming an employer, a member link in that
// employer's profile.
func Route(subject string, rec contracts.Envelope) []Change {
	out := []Change{{Subject: subject, Record: rec}}
	if rec.Type == contracts.TypePerson && !rec.Deleted {
		if uscc := employerOf(rec); uscc != "" {
			out = append(out, Change{Subject: "uscc:" + uscc, Record: contracts.Envelope{
				Type: TypeMemberLink, ID: subject, Revision: rec.Revision, AsOf: rec.AsOf,
			}})
		}
	}
	return out
}
