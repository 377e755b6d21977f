package rules

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// sample is a profile Load evaluates every pack of its kind against.
type sample struct {
	name    string
	kind    contracts.SubjectKind
	profile *matching.Profile
	params  map[string]any
}

// sampleProfiles builds profiles that reach every branch a shipped pack has: no
// profile, an empty one, and full ones both clean and troubled, for each kind.
func sampleProfiles(map[string]*recordKind) []sample {
	asOf := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	put := func(p *matching.Profile, typ, id string, at time.Time, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			panic(err) // plain structs always marshal
		}
		p.Apply(contracts.Envelope{Type: typ, ID: id, AsOf: at, Data: data})
	}
	enterprise := func(name string, troubled bool) sample {
		const uscc = "91350100M000100Y43"
		p := matching.NewProfile("uscc:" + uscc)
		size := "small"
		if troubled {
			size = "large"
		}
		put(p, contracts.TypeEmployer, uscc, asOf, contracts.Employer{USCC: uscc, Name: "样例", RegionCode: "220102",
			Status: "active", EnrolledOn: "2010-01-01", Size: size, IndustryCode: "C"})
		for y := 2015; y <= 2025; y++ {
			for m := 1; m <= 12; m++ {
				ym := fmt.Sprintf("%04d-%02d", y, m)
				rec := contracts.EmployerMonth{USCC: uscc, Month: ym, InsuredCount: int64(40 - m), UIDueFen: 100000, UIPaidFen: 100000, NewUIClaimants: 1}
				if troubled && m == 12 {
					rec.ArrearsFen, rec.DeferralAgreement = 5000, y%2 == 0
				}
				if troubled && m == 7 && y%3 == 0 {
					rec.UIPaidFen = 1
				}
				if troubled && m == 3 && y%4 == 0 {
					continue
				}
				put(p, contracts.TypeEmployerMonth, uscc+":"+ym, asOf, rec)
			}
		}
		lists := []string{contracts.ListDeCapacity, contracts.ListKeySupported}
		if troubled {
			lists = append(lists, contracts.ListZombie, contracts.ListSeriousDishonesty)
			put(p, contracts.TypePenalty, "P1", asOf, contracts.Penalty{USCC: uscc, DecisionNo: "P1", DecidedOn: "2018-05-01", Severity: "major", Status: "in_force"})
			for y := int64(2018); y <= 2025; y++ {
				for _, prog := range []string{"jrr-2019", "jrr-2020", "jrr-2021", "jilin-2018-decapacity"} {
					id := fmt.Sprintf("G-%s-%d", prog, y)
					put(p, contracts.TypeAward, id, asOf, contracts.Award{GrantID: id, Program: prog, SubjectUSCC: uscc, Year: y, AmountFen: 1, GrantedOn: "2019-01-01", Status: "granted"})
				}
			}
		}
		for i, lt := range lists {
			id := fmt.Sprintf("L%d", i)
			put(p, contracts.TypeListing, id, asOf, contracts.Listing{ListingID: id, SubjectUSCC: uscc, ListType: lt, ListedOn: "2016-01-01"})
		}
		return sample{name: name, kind: contracts.KindEnterprise, profile: p}
	}
	person := func(name string, troubled bool) sample {
		p := matching.NewProfile("person:00000000000000000000000000000000")
		status := "contributing"
		if troubled {
			status = "retired"
		}
		put(p, contracts.TypePerson, "00000000000000000000000000000000", asOf, contracts.Person{IDNumber: "pii1:sample", Name: "样例",
			UIMonths: 40, Status: status, Category: "enterprise"})
		for i, lvl := range []int64{4, 3, 2} {
			no := fmt.Sprintf("C%d", i)
			put(p, contracts.TypeCertificate, no, asOf, contracts.Certificate{CertNo: no, IDNumber: "pii1:sample", OccupationCode: "6-18-01-01",
				Level: lvl, Kind: "skill_level", IssuedOn: "2025-01-15", Status: "valid"})
		}
		if troubled {
			for i, occ := range []string{"6-18-01-01", "1-01-01-01", "2-02-02-02"} {
				id := fmt.Sprintf("G%d", i)
				put(p, contracts.TypeAward, id, asOf, contracts.Award{GrantID: id, Program: "sus-2025", SubjectIDNumber: "pii1:sample", Year: 2025,
					AmountFen: 1, GrantedOn: "2025-02-01", OccupationCode: occ, Level: 3, Status: "granted"})
			}
		}
		return sample{name: name, kind: contracts.KindPerson, profile: p,
			params: map[string]any{"certificate_no": "C0", "application_date": "2025-03-01"}}
	}
	personParams := map[string]any{"certificate_no": "C0", "application_date": "2025-03-01"}
	return []sample{
		{name: "absent enterprise", kind: contracts.KindEnterprise},
		{name: "empty enterprise", kind: contracts.KindEnterprise, profile: matching.NewProfile("uscc:91350100M000100Y43")},
		enterprise("clean enterprise", false),
		enterprise("troubled enterprise", true),
		{name: "absent person", kind: contracts.KindPerson, params: personParams},
		person("clean person", false),
		person("troubled person", true),
	}
}
