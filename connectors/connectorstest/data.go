package connectorstest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Records returns n contract-shaped envelopes of the given types (round robin), in the
// order an agency would serve them. About a fifth of the keys get a second, newer
// version later in the list, a few get an older copy after the newer one (which must
// lose), and a few newer versions are tombstones. The output depends only on seed.
func Records(types []string, n int, seed uint64) []contracts.Envelope {
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC)
	out := make([]contracts.Envelope, 0, n+n/4)
	for i := range n {
		typ := types[i%len(types)]
		e := record(typ, i, rng)
		e.AsOf = base.Add(time.Duration(i) * time.Minute)
		out = append(out, e)
	}
	// Later versions, and stale copies that arrive after them.
	firsts := len(out)
	for i := 0; i < firsts; i += 5 {
		newer := out[i]
		newer.Revision++
		newer.AsOf = newer.AsOf.Add(24 * time.Hour)
		if rng.IntN(4) == 0 {
			newer.Deleted = true
		} else {
			newer.Data = record(newer.Type, i, rng).Data
		}
		out = append(out, newer)
		if i%15 == 0 {
			stale := out[i]
			stale.AsOf = stale.AsOf.Add(-time.Hour)
			out = append(out, stale)
		}
	}
	return out
}

// Invalid returns raw records that any validator refuses: one of an unknown type and
// one of a type belonging to another agency than owner (which the runner refuses as
// foreign even when the validator accepts it).
func Invalid(owner string, recordType string) []json.RawMessage {
	foreign := contracts.TypeListing
	if owner == contracts.AgencyCredit {
		foreign = contracts.TypeTaxpayer
	}
	return []json.RawMessage{
		json.RawMessage(fmt.Sprintf(`{"type":%q,"id":"x-1-%s","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}}`, recordType+"_unknown", recordType)),
		json.RawMessage(fmt.Sprintf(`{"type":%q,"id":"x-2-%s","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{"uscc":"91350100M000100Y43"}}`, foreign, recordType)),
		json.RawMessage(fmt.Sprintf(`{"type":%q,"id":"","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{"n":%q}}`, recordType, recordType)),
	}
}

func uscc(i int) string { return fmt.Sprintf("91350100M%08dX", i) }

func idNumber(i int) string { return fmt.Sprintf("11010519%02d0101%03d%d", 50+i%40, i%1000, i%10) }

func record(typ string, i int, rng *rand.Rand) contracts.Envelope {
	var id string
	var data any
	switch typ {
	case contracts.TypeEmployer:
		id = uscc(i)
		data = contracts.Employer{USCC: id, Name: fmt.Sprintf("企业%d", i), RegionCode: "350100", Status: "active",
			EnrolledOn: "2010-01-01", Size: []string{"micro", "small", "medium", "large"}[rng.IntN(4)], IndustryCode: "C13"}
	case contracts.TypeEmployerMonth:
		u := uscc(i)
		month := fmt.Sprintf("2018-%02d", i%12+1)
		id = u + ":" + month
		due := int64(rng.IntN(100000))
		data = contracts.EmployerMonth{USCC: u, Month: month, InsuredCount: int64(rng.IntN(500)), UIDueFen: due, UIPaidFen: due}
	case contracts.TypePerson:
		id = idNumber(i)
		data = contracts.Person{IDNumber: id, Name: fmt.Sprintf("职工%d", i), EmployerUSCC: uscc(i / 3),
			UIMonths: int64(rng.IntN(200)), Status: "contributing", Category: "enterprise"}
	case contracts.TypeTaxpayer:
		id = uscc(i)
		data = contracts.Taxpayer{USCC: id, Name: fmt.Sprintf("纳税人%d", i), Status: "normal", CreditGrade: "A", CreditYear: 2018}
	case contracts.TypeCertificate:
		id = fmt.Sprintf("S%021d", i)
		data = contracts.Certificate{CertNo: id, IDNumber: idNumber(i), Name: fmt.Sprintf("职工%d", i), OccupationCode: "6-18-01-01",
			OccupationName: "车工", Level: int64(3 + rng.IntN(3)), Kind: "skill_level", IssuedOn: "2018-06-01", Issuer: "评价机构", Status: "valid"}
	case contracts.TypePenalty:
		id = fmt.Sprintf("闽环罚〔2018〕%d号", i)
		data = contracts.Penalty{USCC: uscc(i), DecisionNo: id, DecidedOn: "2018-03-01", Violation: "超标排放",
			FineFen: int64(rng.IntN(1000000)), Severity: []string{"general", "major"}[rng.IntN(2)], Status: "in_force"}
	case contracts.TypeRating:
		id = fmt.Sprintf("%s:%d", uscc(i), 2018)
		data = contracts.Rating{USCC: uscc(i), Year: 2018, Rating: []string{"green", "blue", "yellow", "red", "black"}[rng.IntN(5)]}
	case contracts.TypeListing:
		id = fmt.Sprintf("L%06d", i)
		data = contracts.Listing{ListingID: id, SubjectUSCC: uscc(i), ListType: contracts.ListSeriousDishonesty, Authority: "信用中国", ListedOn: "2018-05-01"}
	default:
		panic("connectorstest: no generator for " + typ)
	}
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return contracts.Envelope{Type: typ, ID: id, Revision: int64(rng.IntN(3)), Data: b}
}
