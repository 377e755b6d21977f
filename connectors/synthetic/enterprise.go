package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/verihub/verihub/contracts"
)

// Months of si.employer_month: index 0 is 2016-12, index 96 is 2024-12.
const numMonths = 97

func monthIndex(y, m int) int { return (y-2017)*12 + m }

func monthAt(i int) (y, m int) { return 2016 + (i+11)/12, (i+11)%12 + 1 }

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// at returns a timestamp on date t at a random time of the working day (whole seconds).
func at(r *rand.Rand, t time.Time) time.Time {
	return t.Add(time.Duration(1+r.IntN(10))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
}

// firmListing is a credit.listing of the firm with how it appears in the data.
type firmListing struct {
	l    contracts.Listing
	tomb bool // published, then deleted
}

type firmPenalty struct {
	p       contracts.Penalty
	revoked bool // in force at first, revoked by a later version
	tomb    bool
}

// plannedAward is a grant.award of a firm or a person with how it appears in the
// data.
type plannedAward struct {
	a       contracts.Award
	revoked bool // granted at first, revoked by a later version
	tomb    bool // published, then deleted
}

// firm is the generator's plan of one enterprise. Records are written from it; the
// oracle never sees it.
type firm struct {
	idx      int
	scenario string
	region   region
	industry industry
	size     string
	name     string
	uscc     string
	status   string
	enrolled time.Time
	first    int // first month index with data (enrolment)
	last     int // last month index with data (closure)
	wage2017 int64
	rateHigh int64 // UI rate in basis points until 2019-04
	rateLow  int64 // from 2019-05 (阶段性降低失业保险费率)

	insured  [numMonths]int64
	unpaidPM [numMonths]int64 // per-mille of the month's due left unpaid
	repay    [numMonths]bool  // outstanding arrears repaid in this month
	missing  [numMonths]bool  // month never delivered
	tombM    [numMonths]bool  // month delivered, then deleted
	deferral bool             // signs a deferral agreement while in arrears

	noEmployer   bool
	tombEmployer bool
	employerAsOf time.Time
	staleByRev   bool // the winning si.employer version is the older snapshot
	listings     []firmListing
	penalties    []firmPenalty
	awards       []plannedAward
	clean        bool // planted: no random anomalies
	sizeAt       int  // month whose headcount gives a planted firm its size
}

// sizeOf classifies a headcount.
func sizeOf(n int64) string {
	switch {
	case n <= 20:
		return "micro"
	case n <= 100:
		return "small"
	case n <= 300:
		return "medium"
	}
	return "large"
}

// headcountFor draws a realistic start headcount for a size.
func headcountFor(r *rand.Rand, size string) int64 {
	switch size {
	case "micro":
		return 2 + r.Int64N(19)
	case "small":
		return 21 + r.Int64N(80)
	case "medium":
		return 101 + r.Int64N(200)
	}
	// large: log-uniform 301 … 3000
	return int64(math.Round(301 * math.Pow(10, r.Float64())))
}

// newFirm plans enterprise idx. Every third enterprise carries a planted scenario.
func newFirm(seed uint64, idx int) *firm {
	r := rand.New(rand.NewPCG(seed, 1<<56|uint64(idx)))
	f := &firm{idx: idx}
	var sc *firmScenario
	d := 0
	if idx%3 == 0 {
		j := idx / 3
		sc = &firmScenarios[j%len(firmScenarios)]
		f.scenario = sc.name
		f.clean = true
		d = scenarioYear(sc, j/len(firmScenarios), r)
	}
	prefix, size := "", ""
	if sc != nil {
		prefix, size = sc.region, sc.size
		if d == 2017 && prefix == "" {
			prefix = "22" // jilin-2018-decapacity is the only pack of data year 2017
		}
	}
	f.region = pickRegion(r, prefix)
	f.industry = pick(r, industries)
	if f.region.code[:2] == "22" && !f.clean && r.IntN(3) == 0 {
		for !f.industry.heavy {
			f.industry = pick(r, industries)
		}
	}
	if size == "" {
		switch u := r.IntN(100); {
		case u < 35:
			size = "micro"
		case u < 70:
			size = "small"
		case u < 90:
			size = "medium"
		default:
			size = "large"
		}
	}
	f.size = size
	f.status = "active"
	if !f.clean {
		switch u := r.IntN(100); {
		case u < 4:
			f.status = "suspended"
		case u < 9:
			f.status = "closed"
		}
	}
	// Most firms enrolled long ago; a third joined during the period.
	f.first, f.last = 0, numMonths-1
	if f.clean || r.IntN(3) > 0 {
		f.enrolled = day(1995+r.IntN(21), 1+r.IntN(12), 1+r.IntN(28))
	} else {
		f.first = 1 + r.IntN(numMonths-13)
		y, m := monthAt(f.first)
		f.enrolled = day(y, m, 1+r.IntN(28))
	}
	if f.status == "closed" {
		f.last = f.first + 12 + r.IntN(numMonths-f.first-12)
	}
	f.wage2017 = (f.region.wageLow + r.Int64N(f.region.wageHigh-f.region.wageLow+1)) * f.industry.wage / 1000 * 100
	f.rateHigh = 60 + r.Int64N(41)
	f.rateLow = 50 + r.Int64N(21)
	f.deferral = r.IntN(3) == 0
	f.employerAsOf = at(r, day(2025, 1, 2).AddDate(0, 0, r.IntN(80)))

	// Headcount: a start value and a trend, month by month.
	n := float64(headcountFor(r, size))
	trend := 0.0
	switch u := r.IntN(100); {
	case u < 25:
		trend = -(0.02 + 0.13*r.Float64()) // shrinking
	case u < 50:
		trend = 0.02 + 0.18*r.Float64() // growing
	}
	for i := f.first; i <= f.last; i++ {
		if i > f.first {
			noise := math.Sqrt(n) * 0.3 * (r.Float64()*2 - 1)
			n = math.Max(0, n+n*trend/12+noise)
		}
		f.insured[i] = int64(math.Round(n))
	}
	if !f.clean {
		f.randomAnomalies(r)
	}
	f.randomListings(r)
	if sc != nil {
		sc.apply(f, r, d)
		if d == 2017 && !sc.keepDesignation {
			f.addListing(contracts.ListDeCapacity, day(2016, 3+r.IntN(9), 1+r.IntN(28)), time.Time{})
		}
	}
	f.size = sizeFromPlan(f, sc)
	f.identity(r)
	return f
}

// sizeFromPlan keeps a planted firm's declared size in line with its planted
// headcount unless the scenario fixed the size.
func sizeFromPlan(f *firm, sc *firmScenario) string {
	if sc == nil || sc.size != "" {
		return f.size
	}
	i := min(max(f.sizeAt, f.first), numMonths-1)
	return sizeOf(f.insured[i])
}

// identity assigns the USCC and the name. The organization-code body is a bijection of
// the index (7 digits) behind a drawn character, so codes never collide.
func (f *firm) identity(r *rand.Rand) {
	lead := usccCharset[1+r.IntN(len(usccCharset)-1)]
	body := fmt.Sprintf("%c%07d", lead, (uint64(f.idx)*2654437+5039401)%10000000)
	f.uscc = makeUSCC(f.region.code, body)
	f.name = f.region.name + pick(r, firmWords) + f.industry.word + pick(r, firmSuffixes)
}

// randomAnomalies gives an unplanted firm the irregularities real data has.
func (f *firm) randomAnomalies(r *rand.Rand) {
	for i := f.first; i <= f.last; i++ {
		if r.IntN(250) == 0 {
			f.unpaidPM[i] = 100 + r.Int64N(900)
			if j := i + 1 + r.IntN(14); j < numMonths {
				f.repay[j] = true
			}
		}
		if r.IntN(1000) == 0 {
			f.missing[i] = true
		}
	}
	switch u := r.IntN(100); {
	case u < 1:
		f.noEmployer = true
	case u < 4:
		f.employerAsOf = at(r, day(2021+r.IntN(3), 1+r.IntN(12), 1+r.IntN(28)))
	}
	if r.IntN(40) == 0 {
		f.addPenalty(r, day(2017+r.IntN(8), 1+r.IntN(12), 1+r.IntN(28)), "major", r.IntN(5) == 0)
	}
	if r.IntN(15) == 0 {
		f.addPenalty(r, day(2017+r.IntN(8), 1+r.IntN(12), 1+r.IntN(28)), "general", false)
	}
	// Portals push back what they granted: some firms already got a refund.
	for _, p := range refundPacks {
		for _, y := range p.years {
			if r.IntN(25) == 0 && (p.id != packJilin2018 || f.region.code[:2] == "22") {
				f.addAward(r, p.id, y, r.IntN(10) == 0)
			}
		}
	}
}

// randomListings lists firms the way the credit platforms do; planted firms get only
// list types no pack looks at, so that their scenario decides alone.
func (f *firm) randomListings(r *rand.Rand) {
	maybe := func(permille int, lt string) {
		if r.IntN(1000) >= permille {
			return
		}
		listed := day(2016+r.IntN(9), 1+r.IntN(12), 1+r.IntN(28))
		var removed time.Time
		if r.IntN(3) == 0 {
			removed = listed.AddDate(0, 3+r.IntN(30), r.IntN(28))
			if removed.After(day(2025, 3, 31)) {
				removed = time.Time{}
			}
		}
		f.addListing(lt, listed, removed)
	}
	maybe(30, contracts.ListJudgmentDefaulter)
	maybe(5, contracts.ListMajorTaxViolation)
	maybe(10, contracts.ListWageArrears)
	maybe(40, contracts.ListAbnormalOperation)
	if f.status == "closed" {
		maybe(300, contracts.ListBankruptcy)
	}
	if f.clean {
		return
	}
	maybe(15, contracts.ListSeriousDishonesty)
	maybe(10, contracts.ListZombie)
	maybe(30, contracts.ListKeySupported)
	switch {
	case f.region.code[:2] == "22" && f.industry.heavy:
		maybe(300, contracts.ListDeCapacity)
		maybe(60, contracts.ListZombie)
	case f.region.code[:2] == "22":
		maybe(40, contracts.ListDeCapacity)
	default:
		maybe(5, contracts.ListDeCapacity)
	}
}

var listingAuthorities = map[string]string{
	contracts.ListSeriousDishonesty: "全国信用信息共享平台",
	contracts.ListJudgmentDefaulter: "最高人民法院",
	contracts.ListMajorTaxViolation: "国家税务总局%s税务局",
	contracts.ListWageArrears:       "%s人力资源和社会保障局",
	contracts.ListAbnormalOperation: "%s市场监督管理局",
	contracts.ListBankruptcy:        "%s中级人民法院",
	contracts.ListZombie:            "%s工业和信息化局",
	contracts.ListDeCapacity:        "%s发展和改革委员会",
	contracts.ListKeySupported:      "%s发展和改革委员会",
}

func authority(lt string, rg region) string {
	a := listingAuthorities[lt]
	place := rg.city
	switch lt {
	case contracts.ListMajorTaxViolation, contracts.ListDeCapacity:
		place = rg.province
	}
	if strings.Contains(a, "%s") {
		return fmt.Sprintf(a, place)
	}
	return a
}

func (f *firm) addListing(lt string, listed, removed time.Time) *firmListing {
	l := contracts.Listing{
		ListingID:   fmt.Sprintf("XY%s%07d%02d", listed.Format("20060102"), f.idx, len(f.listings)),
		SubjectUSCC: "", // set when the identity is known
		ListType:    lt,
		Authority:   authority(lt, f.region),
		ListedOn:    dateString(listed),
	}
	if !removed.IsZero() {
		l.RemovedOn = dateString(removed)
	}
	f.listings = append(f.listings, firmListing{l: l})
	return &f.listings[len(f.listings)-1]
}

func (f *firm) addPenalty(r *rand.Rand, decided time.Time, severity string, revoked bool) *firmPenalty {
	fine := 10000 + r.Int64N(190000)
	if severity == "major" {
		fine = 200000 + r.Int64N(1800000)
	}
	p := contracts.Penalty{
		DecisionNo: fmt.Sprintf("%s环罚〔%d〕%d号", provinceAbbrev[f.region.code[:2]], decided.Year(), 100000+f.idx*10+len(f.penalties)),
		DecidedOn:  dateString(decided),
		Violation:  pick(r, violations),
		FineFen:    fine * 100,
		Severity:   severity,
		Status:     "in_force",
	}
	f.penalties = append(f.penalties, firmPenalty{p: p, revoked: revoked})
	return &f.penalties[len(f.penalties)-1]
}

func (f *firm) addAward(r *rand.Rand, program string, year int, revoked bool) *plannedAward {
	a := contracts.Award{
		GrantID:   fmt.Sprintf("WG%d%07d%02d", year, f.idx, len(f.awards)),
		Program:   program,
		Year:      int64(year),
		AmountFen: (5000 + r.Int64N(200000)) * 100,
		GrantedOn: dateString(day(year, 7+r.IntN(5), 1+r.IntN(28))),
		Status:    "granted",
	}
	f.awards = append(f.awards, plannedAward{a: a, revoked: revoked})
	return &f.awards[len(f.awards)-1]
}

// wage returns the average monthly wage (fen) of month i: 6% growth a year.
func (f *firm) wage(i int) int64 {
	y, _ := monthAt(i)
	w := f.wage2017
	for k := 2017; k < y; k++ {
		w = w * 106 / 100
	}
	return w
}

// rate returns the UI rate (basis points) of month i.
func (f *firm) rate(i int) int64 {
	if i < monthIndex(2019, 5) {
		return f.rateHigh
	}
	return f.rateLow
}

// months computes the si.employer_month records of months first … last in order,
// carrying arrears.
func (f *firm) months() []contracts.EmployerMonth {
	if f.first > f.last {
		return nil
	}
	out := make([]contracts.EmployerMonth, 0, f.last-f.first+1)
	var arrears int64
	prev := f.insured[f.first]
	for i := f.first; i <= f.last; i++ {
		n := f.insured[i]
		due := n * f.wage(i) * f.rate(i) / 10000
		unpaid := due * f.unpaidPM[i] / 1000
		paid := due - unpaid
		if f.repay[i] {
			paid += arrears
			arrears = 0
		}
		arrears += unpaid
		var claimants, retired int64
		if drop := prev - n; drop > 0 {
			claimants = drop * int64(30+(i*7+f.idx)%40) / 100
		}
		claimants += n / 400
		if n >= 50 {
			retired = n / 300
		}
		y, m := monthAt(i)
		out = append(out, contracts.EmployerMonth{
			USCC:              f.uscc,
			Month:             monthKey(y, m),
			InsuredCount:      n,
			UIDueFen:          due,
			UIPaidFen:         paid,
			ArrearsFen:        arrears,
			DeferralAgreement: f.deferral && arrears > 0,
			NewUIClaimants:    claimants,
			RetiredOrDeceased: retired,
		})
		prev = n
	}
	return out
}

// pin plants a layoff: start headcount s at month iStart and end headcount e at
// December of year d, with the months between on a straight line and the rest of the
// series rescaled to join them.
func (f *firm) pin(iStart int, d int, s, e int64) {
	iEnd := monthIndex(d, 12)
	f.sizeAt = iStart
	os, oe := f.insured[iStart], f.insured[iEnd]
	for i := f.first; i <= f.last; i++ {
		switch {
		case i < iStart:
			f.insured[i] = scaled(f.insured[i], os, s)
		case i > iEnd:
			f.insured[i] = scaled(f.insured[i], oe, e)
		default:
			f.insured[i] = s + (e-s)*int64(i-iStart)/int64(iEnd-iStart)
		}
	}
}

func scaled(v, from, to int64) int64 {
	if from == 0 {
		return to
	}
	return int64(math.Round(float64(v) * float64(to) / float64(from)))
}

// emit writes the firm's records and returns every version written.
func (f *firm) emit(b *batch, r *rand.Rand) {
	for i := range f.listings {
		f.listings[i].l.SubjectUSCC = f.uscc
	}
	for i := range f.penalties {
		f.penalties[i].p.USCC = f.uscc
	}
	for i := range f.awards {
		f.awards[i].a.SubjectUSCC = f.uscc
		f.awards[i].a.RegionCode = f.region.code
	}
	emp := contracts.Employer{
		USCC: f.uscc, Name: f.name, RegionCode: f.region.code, Status: f.status,
		EnrolledOn: dateString(f.enrolled), Size: f.size, IndustryCode: f.industry.code,
	}
	oldEmp := emp
	oldEmp.Status = "active"
	if f.status == "active" {
		oldEmp.Status = "suspended"
	}
	rev := int64(r.IntN(3))
	switch {
	case f.noEmployer:
	case f.tombEmployer:
		b.tombstoned(contracts.TypeEmployer, f.uscc, rev, f.employerAsOf, emp)
	case f.staleByRev:
		// The agency re-sent an old snapshot with a higher revision: it wins, and it is stale.
		recent := version(contracts.TypeEmployer, f.uscc, rev, at(r, day(2025, 1, 10)), oldEmp, false)
		b.history(recent, version(contracts.TypeEmployer, f.uscc, rev+1, f.employerAsOf, emp, false))
	default:
		b.put(contracts.TypeEmployer, f.uscc, rev, f.employerAsOf, emp, oldEmp)
	}
	for k, mo := range f.months() {
		i := f.first + k
		y, m := monthAt(i)
		if f.missing[i] {
			continue
		}
		id := f.uscc + ":" + mo.Month
		asOf := at(r, day(y, m, 1).AddDate(0, 1, 2+r.IntN(12)))
		if f.tombM[i] {
			b.tombstoned(contracts.TypeEmployerMonth, id, 0, asOf, mo)
			continue
		}
		wrong := mo
		wrong.UIPaidFen = mo.UIDueFen * 9 / 10
		wrong.InsuredCount = mo.InsuredCount + 1 + int64(r.IntN(5))
		b.put(contracts.TypeEmployerMonth, id, 0, asOf, mo, wrong)
	}
	// tax.taxpayer: most firms are registered; abnormal and deregistered ones exist.
	if f.clean || r.IntN(20) > 0 {
		tp := contracts.Taxpayer{USCC: f.uscc, Name: f.name, Status: "normal", CreditYear: 2023}
		switch u := r.IntN(100); {
		case u < 30:
			tp.CreditGrade = "A"
		case u < 70:
			tp.CreditGrade = "B"
		case u < 85:
			tp.CreditGrade = "M"
		case u < 95:
			tp.CreditGrade = "C"
		default:
			tp.CreditGrade = "D"
		}
		switch {
		case f.status == "closed":
			tp.Status = "deregistered"
		case r.IntN(25) == 0:
			tp.Status = "abnormal"
			tp.AbnormalSince = dateString(day(2019+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28)))
			tp.CreditGrade = "D"
		}
		old := tp
		old.CreditYear, old.CreditGrade = 2022, "B"
		b.put(contracts.TypeTaxpayer, f.uscc, int64(r.IntN(2)), at(r, day(2024, 4, 1+r.IntN(28))), tp, old)
	}
	// env.rating for industrial firms.
	if f.industry.code[0] == 'B' || f.industry.code[0] == 'C' {
		for y := 2018; y <= 2024; y++ {
			if r.IntN(3) == 0 {
				continue
			}
			rt := contracts.Rating{USCC: f.uscc, Year: int64(y)}
			switch u := r.IntN(100); {
			case u < 35:
				rt.Rating = "green"
			case u < 75:
				rt.Rating = "blue"
			case u < 90:
				rt.Rating = "yellow"
			case u < 97:
				rt.Rating = "red"
			default:
				rt.Rating = "black"
			}
			b.put(contracts.TypeRating, fmt.Sprintf("%s:%d", f.uscc, y), 0, at(r, day(y+1, 3, 1+r.IntN(28))), rt, nil)
		}
	}
	for _, fp := range f.penalties {
		p := fp.p
		decided, _ := time.Parse(time.DateOnly, p.DecidedOn)
		revoked := p
		revoked.Status = "revoked"
		revocable(b, contracts.TypePenalty, p.DecisionNo, at(r, decided.AddDate(0, 0, 3+r.IntN(20))), p, revoked, fp.tomb, fp.revoked, 4)
	}
	for _, fl := range f.listings {
		l := fl.l
		listed, _ := time.Parse(time.DateOnly, l.ListedOn)
		asOf := at(r, listed.AddDate(0, 0, 1+r.IntN(10)))
		switch {
		case fl.tomb:
			b.tombstoned(contracts.TypeListing, l.ListingID, 0, asOf, l)
		case l.RemovedOn != "":
			// Listed, later removed: two versions of one record.
			removed, _ := time.Parse(time.DateOnly, l.RemovedOn)
			first := l
			first.RemovedOn = ""
			b.history(version(contracts.TypeListing, l.ListingID, 0, asOf, first, false),
				version(contracts.TypeListing, l.ListingID, 1, at(r, removed.AddDate(0, 0, 1+r.IntN(10))), l, false))
		default:
			b.put(contracts.TypeListing, l.ListingID, 0, asOf, l, nil)
		}
	}
	for _, fa := range f.awards {
		b.award(r, fa, 2)
	}
}

// award writes a planned award (see revocable), revoked revokeAfter months after
// its grant when it is revoked.
func (b *batch) award(r *rand.Rand, pa plannedAward, revokeAfter int) {
	granted, _ := time.Parse(time.DateOnly, pa.a.GrantedOn)
	revoked := pa.a
	revoked.Status = "revoked"
	revocable(b, contracts.TypeAward, pa.a.GrantID, at(r, granted), pa.a, revoked, pa.tomb, pa.revoked, revokeAfter)
}

// revocable writes a record published at asOf: deleted afterwards (tomb),
// replaced by its revoked version revokeAfter months later (revoke), or as is.
func revocable[T any](b *batch, typ, id string, asOf time.Time, rec, revoked T, tomb, revoke bool, revokeAfter int) {
	switch {
	case tomb:
		b.tombstoned(typ, id, 0, asOf, rec)
	case revoke:
		b.history(version(typ, id, 0, asOf, rec, false), version(typ, id, 1, asOf.AddDate(0, revokeAfter, 0), revoked, false))
	default:
		b.put(typ, id, 0, asOf, rec, nil)
	}
}
