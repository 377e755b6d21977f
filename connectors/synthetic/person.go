package synthetic

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/verihub/verihub/contracts"
)

// workerCert is a certificate of the person, with the application the generator files
// for it (expected.ndjson carries one line per certificate per skill pack).
type workerCert struct {
	c        contracts.Certificate
	revoked  bool // valid at first, revoked by a later version
	tomb     bool // published, then deleted
	oldLevel int64
	appDate  string
}

// application is one skill-subsidy request expected.ndjson answers.
type application struct {
	certNo, date string
}

// worker is the generator's plan of one person.
type worker struct {
	idx      int
	scenario string
	region   region
	male     bool
	birth    time.Time
	p        contracts.Person
	asOf     time.Time
	noPerson bool
	tombP    bool
	certs    []workerCert
	awards   []plannedAward
	listings []contracts.Listing
	apps     []application
}

// employersOf groups the enterprises' USCCs by province prefix, for linking persons.
type employerIndex map[string][]string

// newWorker plans person idx. taken reports ID numbers already used; lastCert is a
// certificate number of an earlier person ("" if none), for applications that quote
// someone else's certificate.
func newWorker(seed uint64, idx int, employers employerIndex, taken func(string) bool, lastCert string) *worker {
	r := rand.New(rand.NewPCG(seed, 2<<56|uint64(idx)))
	w := &worker{idx: idx}
	var sc *workerScenario
	k := 0
	if idx%3 == 0 {
		j := idx / 3
		sc = &workerScenarios[j%len(workerScenarios)]
		w.scenario = sc.name
		k = j / len(workerScenarios)
	}
	w.region = pickRegion(r, "")
	w.male = r.IntN(2) == 0
	w.birth = day(1960, 1, 1).AddDate(0, 0, r.IntN(45*365))
	var id string
	for id == "" || taken(id) {
		seq := r.IntN(500) * 2
		if w.male {
			seq++
		}
		id = makeIDNumber(w.region.code, w.birth.Format("20060102"), seq)
	}
	w.p = contracts.Person{IDNumber: id, Name: personName(r, w.male), Status: "contributing", Category: "enterprise"}
	w.asOf = at(r, day(2025, 1, 3).AddDate(0, 0, r.IntN(60)))
	age := 2025 - w.birth.Year()
	if sc == nil {
		switch {
		case (w.male && age >= 60) || (!w.male && age >= 55):
			if r.IntN(5) > 0 {
				w.p.Status = "retired"
			}
		default:
			switch u := r.IntN(100); {
			case u < 8:
				w.p.Status = "suspended"
			case u < 15:
				w.p.Status = "receiving_benefits"
			}
		}
		switch u := r.IntN(100); {
		case u < 8:
			w.p.Category = "public_institution"
		case u < 20:
			w.p.Category = "flexible"
		}
	}
	if w.p.Category == "enterprise" {
		group := employers[w.region.code[:2]]
		if len(group) == 0 || r.IntN(10) == 0 {
			for _, g := range []string{"22", "32", "61", "46"} {
				if len(employers[g]) > 0 {
					group = employers[g]
					break
				}
			}
		}
		if len(group) > 0 {
			w.p.EmployerUSCC = group[r.IntN(len(group))]
		}
	}
	start := w.birth.AddDate(20, 0, 0)
	if start.Before(day(1999, 1, 1)) {
		start = day(1999, 1, 1)
	}
	span := (2024-start.Year())*12 + 12 - int(start.Month())
	w.p.UIMonths = int64(max(0, span) * (30 + r.IntN(71)) / 100)
	if sc != nil {
		w.p.UIMonths = 60 + int64(r.IntN(120))
		sc.apply(w, r, k, lastCert)
	} else {
		w.randomCerts(r)
		if r.IntN(100) == 0 {
			w.addListing(contracts.ListJudgmentDefaulter, listedDate(r, 2018+r.IntN(7)))
		}
	}
	for i := range w.certs {
		w.apps = append(w.apps, application{w.certs[i].c.CertNo, w.certs[i].appDate})
	}
	return w
}

func pickLevel(r *rand.Rand) int64 {
	switch u := r.IntN(100); {
	case u < 35:
		return 5
	case u < 70:
		return 4
	case u < 90:
		return 3
	case u < 97:
		return 2
	}
	return 1
}

// randomCerts gives about a third of persons 1–3 certificates, some of them with an
// earlier award, and picks an application date for each.
func (w *worker) randomCerts(r *rand.Rand) {
	if r.IntN(100) >= 35 {
		return
	}
	n := 1
	switch u := r.IntN(10); {
	case u >= 9:
		n = 3
	case u >= 7:
		n = 2
	}
	occ := pick(r, occupations)
	level := pickLevel(r)
	issued := day(2016, 1, 1).AddDate(0, 0, r.IntN(9*365+240))
	for k := 0; k < n; k++ {
		if k > 0 {
			if r.IntN(2) == 0 && level > 1 {
				level-- // progressed to the next level of the same occupation
			} else {
				occ, level = pick(r, occupations), pickLevel(r)
			}
			issued = issued.AddDate(0, 6+r.IntN(30), r.IntN(28))
			if issued.After(day(2025, 9, 30)) {
				break
			}
		}
		c := w.addCert(r, occ, level, issued)
		if r.IntN(33) == 0 {
			c.revoked = true
		}
		var app time.Time
		switch u := r.IntN(100); {
		case u < 75:
			app = issued.AddDate(0, 0, 1+r.IntN(360))
		case u < 88:
			app = issued.AddDate(0, 13+r.IntN(18), 0)
		case u < 93:
			app = issued.AddDate(0, 0, -1-r.IntN(60))
		default:
			app = issued.AddDate(0, 12, 0)
		}
		if app.After(day(2025, 12, 31)) {
			app = day(2025, 12, 31)
		}
		c.appDate = dateString(app)
		// Some applied before and were granted: this application is then a duplicate.
		if level >= 3 && !c.revoked && r.IntN(5) == 0 {
			granted := issued.AddDate(0, 1+r.IntN(6), r.IntN(28))
			if granted.Before(day(2025, 12, 1)) {
				w.addAward(occ.code, level, granted, r.IntN(20) == 0)
			}
		}
	}
}

func (w *worker) issuer(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return w.region.city + "职业技能鉴定中心"
	case 1:
		return w.region.province + "职业技能鉴定指导中心"
	}
	return w.region.city + pick(r, firmWords) + "职业技能等级认定评价机构"
}

// addCert adds a valid certificate; its number is unique: S, the region, the year and
// a bijection of (person, certificate).
func (w *worker) addCert(r *rand.Rand, occ occupation, level int64, issued time.Time) *workerCert {
	seq := ((uint64(w.idx)*10+uint64(len(w.certs)))*7919 + 31415926535) % 100000000000
	kind := "skill_level"
	if issued.Before(day(2020, 1, 1)) {
		kind = "qualification"
	}
	c := contracts.Certificate{
		CertNo:         fmt.Sprintf("S%s%d%011d", w.region.code, issued.Year(), seq),
		IDNumber:       w.p.IDNumber,
		Name:           w.p.Name,
		OccupationCode: occ.code,
		OccupationName: occ.name,
		Level:          level,
		Kind:           kind,
		IssuedOn:       dateString(issued),
		Issuer:         w.issuer(r),
		Status:         "valid",
	}
	w.certs = append(w.certs, workerCert{c: c})
	return &w.certs[len(w.certs)-1]
}

// skillProgram is the skill pack in force on a date.
func skillProgram(t time.Time) string {
	switch {
	case t.Year() >= 2025:
		return packSUS2025
	case t.Year() >= 2022:
		return packSUS2022
	case t.Year() >= 2019:
		return packSUS2019
	}
	return packSUS2017
}

func (w *worker) addAward(occ string, level int64, granted time.Time, revoked bool) *plannedAward {
	a := contracts.Award{
		GrantID:         fmt.Sprintf("JN%d%08d%02d", granted.Year(), w.idx, len(w.awards)),
		Program:         skillProgram(granted),
		SubjectIDNumber: w.p.IDNumber,
		Year:            int64(granted.Year()),
		RegionCode:      w.region.code,
		AmountFen:       amountByLevelFen[level],
		GrantedOn:       dateString(granted),
		OccupationCode:  occ,
		Level:           level,
		Status:          "granted",
	}
	if a.AmountFen == 0 {
		a.AmountFen = 100000
	}
	w.awards = append(w.awards, plannedAward{a: a, revoked: revoked})
	return &w.awards[len(w.awards)-1]
}

func (w *worker) addListing(lt string, listed time.Time) {
	w.listings = append(w.listings, contracts.Listing{
		ListingID:       fmt.Sprintf("XYP%s%08d", listed.Format("20060102"), w.idx),
		SubjectIDNumber: w.p.IDNumber,
		ListType:        lt,
		Authority:       authority(lt, w.region),
		ListedOn:        dateString(listed),
	})
}

// emit writes the person's records.
func (w *worker) emit(b *batch, r *rand.Rand) {
	id := w.p.IDNumber
	old := w.p
	old.UIMonths = max(0, w.p.UIMonths-int64(1+r.IntN(24)))
	rev := int64(r.IntN(2))
	switch {
	case w.noPerson:
	case w.tombP:
		b.tombstoned(contracts.TypePerson, id, rev, w.asOf, w.p)
	default:
		b.put(contracts.TypePerson, id, rev, w.asOf, w.p, old)
	}
	for _, wc := range w.certs {
		c := wc.c
		issued, _ := time.Parse(time.DateOnly, c.IssuedOn)
		asOf := at(r, issued.AddDate(0, 0, 2+r.IntN(20)))
		switch {
		case wc.tomb:
			b.tombstoned(contracts.TypeCertificate, c.CertNo, 0, asOf, c)
		case wc.revoked:
			rv := c
			rv.Status = "revoked"
			b.history(version(contracts.TypeCertificate, c.CertNo, 0, asOf, c, false),
				version(contracts.TypeCertificate, c.CertNo, 1, asOf.AddDate(0, 5, 0), rv, false))
		case wc.oldLevel != 0:
			// A corrected level: the correction comes first in the file.
			was := c
			was.Level = wc.oldLevel
			b.putVersions(version(contracts.TypeCertificate, c.CertNo, 1, asOf.AddDate(0, 0, 7), c, false),
				version(contracts.TypeCertificate, c.CertNo, 0, asOf, was, false))
		default:
			was := c
			was.Name = w.p.Name + "（曾用名）"
			b.put(contracts.TypeCertificate, c.CertNo, 0, asOf, c, was)
		}
	}
	for _, l := range w.listings {
		listed, _ := time.Parse(time.DateOnly, l.ListedOn)
		b.put(contracts.TypeListing, l.ListingID, 0, at(r, listed.AddDate(0, 0, 3)), l, nil)
	}
	for _, wa := range w.awards {
		b.award(r, wa, 1)
	}
}
