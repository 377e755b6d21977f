package matching

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/verihub/verihub/contracts"
)

// canonicalProfile is the dump form of one profile: records as a list sorted by
// (type, id) instead of a map, so the bytes do not depend on map order.
type canonicalProfile struct {
	Subject string               `json:"subject"`
	Records []contracts.Envelope `json:"records"`
}

// WriteCanonical writes every profile in s, enterprises and persons, as NDJSON: one
// line per profile, sorted by subject, each profile's records (tombstones included)
// sorted by type then id, as_of written in UTC. Two stores holding the same profiles
// produce the same bytes, whatever order the records arrived in, which is what "a
// rebuild yields a byte-identical set of profiles" is checked with.
//
// It holds only the subject keys in memory and reads each profile a second time, so
// it works on stores larger than memory; it is not a snapshot of a store that is
// being written to.
func WriteCanonical(ctx context.Context, s Store, w io.Writer) error {
	var subjects []string
	for _, kind := range []contracts.SubjectKind{contracts.KindEnterprise, contracts.KindPerson} {
		err := s.Scan(ctx, kind, func(p *Profile) error {
			subjects = append(subjects, p.Subject)
			return nil
		})
		if err != nil {
			return fmt.Errorf("listing %s profiles for the canonical dump: %w", kind, err)
		}
	}
	sort.Strings(subjects)
	bw := bufio.NewWriterSize(w, 64<<10)
	for i, subject := range subjects {
		if i > 0 && subjects[i-1] == subject {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("writing the canonical dump: %w", err)
		}
		p, err := s.Profile(ctx, subject)
		if err != nil {
			return fmt.Errorf("reading profile %q for the canonical dump: %w", subject, err)
		}
		line, err := CanonicalJSON(p)
		if err != nil {
			return err
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("writing the canonical dump: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the canonical dump: %w", err)
	}
	return nil
}

// CanonicalJSON returns the deterministic encoding of one profile that WriteCanonical
// writes (without the newline).
func CanonicalJSON(p *Profile) ([]byte, error) {
	c := canonicalProfile{Subject: p.Subject, Records: []contracts.Envelope{}}
	for _, byID := range p.Records {
		for _, r := range byID {
			r.AsOf = r.AsOf.UTC()
			if r.Deleted {
				r.Data = nil
			}
			c.Records = append(c.Records, r)
		}
	}
	sort.Slice(c.Records, func(i, j int) bool {
		a, b := c.Records[i], c.Records[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.ID < b.ID
	})
	out, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding profile %q: %w", p.Subject, err)
	}
	return out, nil
}
