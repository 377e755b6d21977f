package synthetic

import (
	"math/rand/v2"
	"time"
)

// workerScenario is a planted person case: an insured worker who contributes, with
// one certificate and its application, and one condition placed around them.
type workerScenario struct {
	name  string
	apply func(w *worker, r *rand.Rand, k int, lastCert string)
}

// nonShortage are occupations off sus-2025's default shortage list.
var nonShortage = []string{"6-18-01-02", "6-18-02-04", "4-10-01-05", "4-03-02-01", "4-12-01-01", "6-29-01-01"}

// mainCert adds the case's certificate: level, issued in year y, and an application
// 1–300 days after issue (capped to 2025).
func (w *worker) mainCert(r *rand.Rand, occ string, level int64, y int) *workerCert {
	issued := day(y, 1+r.IntN(12), 1+r.IntN(28))
	if y == 2025 {
		issued = day(2025, 1+r.IntN(5), 1+r.IntN(28))
	}
	c := w.addCert(r, occupationByCode(occ), level, issued)
	app := issued.AddDate(0, 0, 1+r.IntN(300))
	if app.After(day(2025, 12, 31)) {
		app = day(2025, 12, 31)
	}
	c.appDate = dateString(app)
	return c
}

func issuedOf(c *workerCert) time.Time {
	t, _ := time.Parse(time.DateOnly, c.c.IssuedOn)
	return t
}

func appOf(c *workerCert) time.Time {
	t, _ := time.Parse(time.DateOnly, c.appDate)
	return t
}

// caseYear cycles the issue year of the k-th person of a case through 2025 … 2017.
func caseYear(k int) int { return 2025 - k%9 }

func anyOcc(r *rand.Rand) string { return pick(r, occupations).code }

// awardsInYear adds n awards granted in the application year of c for occupations
// drawn from occs, at level 5, other than c's occupation.
func (w *worker) awardsInYear(c *workerCert, n int, occs []string) {
	y := appOf(c).Year()
	for i := 0; i < n; i++ {
		occ := occs[i%len(occs)]
		if occ == c.c.OccupationCode {
			occ = occs[(i+1)%len(occs)]
		}
		w.addAward(occ, 5, day(y, 1, 2+i), false)
	}
}

// workerScenarios are the planted person cases (see README.md).
var workerScenarios = []workerScenario{
	{"clean", func(w *worker, r *rand.Rand, k int, _ string) {
		w.mainCert(r, anyOcc(r), 3+int64(r.IntN(3)), caseYear(k))
	}},
	{"clean_2025", func(w *worker, r *rand.Rand, k int, _ string) { w.mainCert(r, anyOcc(r), 3+int64(r.IntN(3)), 2025) }},
	{"no_person", func(w *worker, r *rand.Rand, k int, _ string) {
		w.noPerson = true
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"person_tombstoned", func(w *worker, r *rand.Rand, k int, _ string) {
		w.tombP = true
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"person_stale", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2019+k%6)
		w.asOf = at(r, appOf(c).AddDate(0, 0, -401-r.IntN(300)))
	}},
	{"person_fresh_at_limit", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2019+k%6)
		w.asOf = at(r, appOf(c).AddDate(0, 0, -400))
	}},
	{"suspended", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.Status = "suspended"
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"receiving_benefits", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.Status = "receiving_benefits"
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"retired", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.Status = "retired"
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"flexible", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.Category, w.p.EmployerUSCC = "flexible", ""
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"public_institution", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.Category, w.p.EmployerUSCC = "public_institution", ""
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"ui_months_36", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.UIMonths = 36
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"ui_months_35", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.UIMonths = 35
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"ui_months_12", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.UIMonths = 12
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"ui_months_11", func(w *worker, r *rand.Rand, k int, _ string) {
		w.p.UIMonths = 11
		w.mainCert(r, anyOcc(r), 4, caseYear(k))
	}},
	{"cert_revoked", func(w *worker, r *rand.Rand, k int, _ string) {
		w.mainCert(r, anyOcc(r), 4, caseYear(k)).revoked = true
	}},
	{"cert_level_2", func(w *worker, r *rand.Rand, k int, _ string) { w.mainCert(r, anyOcc(r), 2, caseYear(k)) }},
	{"cert_level_1", func(w *worker, r *rand.Rand, k int, _ string) { w.mainCert(r, anyOcc(r), 1, caseYear(k)) }},
	{"cert_issued_2016", func(w *worker, r *rand.Rand, k int, _ string) { w.mainCert(r, anyOcc(r), 4, 2016) }},
	{"application_at_12_months", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2017+k%8)
		c.appDate = dateString(issuedOf(c).AddDate(0, 12, 0))
	}},
	{"application_12_months_and_a_day", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2017+k%8)
		c.appDate = dateString(issuedOf(c).AddDate(0, 12, 1))
	}},
	{"application_before_issue", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		c.appDate = dateString(issuedOf(c).AddDate(0, 0, -1))
	}},
	{"application_issue_day", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		c.appDate = c.c.IssuedOn
	}},
	{"application_late", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2017+k%7)
		c.appDate = dateString(issuedOf(c).AddDate(0, 14+r.IntN(10), 0))
	}},
	{"duplicate_award", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		w.addAward(c.c.OccupationCode, 4, issuedOf(c).AddDate(0, 0, -200), false)
	}},
	{"duplicate_award_revoked", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		w.addAward(c.c.OccupationCode, 4, issuedOf(c).AddDate(0, 0, -200), true)
	}},
	{"duplicate_award_tombstoned", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		w.addAward(c.c.OccupationCode, 4, issuedOf(c).AddDate(0, 0, -200), false).tomb = true
	}},
	{"award_higher_level_held", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		w.addAward(c.c.OccupationCode, 3, issuedOf(c).AddDate(0, 0, -200), false)
	}},
	{"award_lower_level_held", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		w.addAward(c.c.OccupationCode, 5, issuedOf(c).AddDate(0, 0, -200), false)
	}},
	{"three_awards_this_year", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2022+k%4)
		w.awardsInYear(c, 3, nonShortage)
	}},
	{"two_awards_this_year", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2022+k%4)
		w.awardsInYear(c, 2, nonShortage)
	}},
	{"shortage_cert_two_other_awards", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, pick(r, shortageOccupations), 4, 2025)
		w.awardsInYear(c, 2, nonShortage)
	}},
	{"other_cert_one_other_award", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, pick(r, nonShortage), 4, 2025)
		w.awardsInYear(c, 1, nonShortage)
	}},
	{"other_cert_one_shortage_award", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, pick(r, nonShortage), 4, 2025)
		w.awardsInYear(c, 1, shortageOccupations)
	}},
	{"shortage_cert_three_shortage_awards", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, pick(r, shortageOccupations), 4, 2025)
		w.awardsInYear(c, 3, shortageOccupations)
	}},
	{"higher_cert_held", func(w *worker, r *rand.Rand, k int, _ string) {
		occ := anyOcc(r)
		w.addCert(r, occupationByCode(occ), 3, day(2016, 5, 10)).appDate = "2016-06-01"
		w.mainCert(r, occ, 4, 2017+k%9)
	}},
	{"higher_cert_revoked", func(w *worker, r *rand.Rand, k int, _ string) {
		occ := anyOcc(r)
		c := w.addCert(r, occupationByCode(occ), 3, day(2016, 5, 10))
		c.appDate, c.revoked = "2016-06-01", true
		w.mainCert(r, occ, 4, 2017+k%9)
	}},
	{"lower_cert_held", func(w *worker, r *rand.Rand, k int, _ string) {
		occ := anyOcc(r)
		w.addCert(r, occupationByCode(occ), 5, day(2016, 5, 10)).appDate = "2017-03-01"
		w.mainCert(r, occ, 4, 2017+k%9)
	}},
	{"certificate_of_someone_else", func(w *worker, r *rand.Rand, k int, lastCert string) {
		c := w.mainCert(r, anyOcc(r), 4, caseYear(k))
		if lastCert != "" {
			w.apps = append(w.apps, application{lastCert, c.appDate})
		}
	}},
	{"cert_tombstoned", func(w *worker, r *rand.Rand, k int, _ string) {
		w.mainCert(r, anyOcc(r), 4, caseYear(k)).tomb = true
	}},
	{"cert_level_corrected", func(w *worker, r *rand.Rand, k int, _ string) {
		w.mainCert(r, anyOcc(r), 3, caseYear(k)).oldLevel = 2
	}},
	{"application_2018", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2017)
		c.c.IssuedOn = "2017-10-20"
		c.appDate = "2018-03-15"
	}},
	{"application_2021", func(w *worker, r *rand.Rand, k int, _ string) {
		c := w.mainCert(r, anyOcc(r), 4, 2021)
		c.c.IssuedOn = "2021-02-08"
		c.appDate = "2021-06-30"
	}},
}
