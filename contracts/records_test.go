package contracts

import (
	"encoding/json"
	"maps"
	"testing"
	"time"
)

// Test fixtures shared by the validator, schema and fuzz tests.

// testNow is the clock the tests' validators use.
var testNow = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func testValidator(t testing.TB, legacy ...string) *Validator {
	t.Helper()
	v, err := NewValidator(Options{LegacyUSCC: legacy, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

type rec map[string]any

// goodRecords holds one valid record of each type, as decoded JSON.
func goodRecords() map[string]rec {
	return map[string]rec{
		TypeEmployer: {"type": TypeEmployer, "id": "91350100M000100Y43", "revision": 1, "as_of": "2019-01-05T00:00:00Z",
			"data": rec{"uscc": "91350100M000100Y43", "name": "福州示例科技有限公司", "region_code": "350100", "status": "active",
				"enrolled_on": "2010-03-01", "size": "small", "industry_code": "C3011"}},
		TypeEmployerMonth: {"type": TypeEmployerMonth, "id": "91350100M000100Y43:2018-12", "revision": 3, "as_of": "2019-01-05T00:00:00Z",
			"data": rec{"uscc": "91350100M000100Y43", "month": "2018-12", "insured_count": 25, "ui_due_fen": 120000,
				"ui_paid_fen": 120000, "arrears_fen": 0, "deferral_agreement": false, "new_ui_claimants": 0, "retired_or_deceased": 1}},
		TypePerson: {"type": TypePerson, "id": "11010519491231002X", "as_of": "2019-01-05T00:00:00Z",
			"data": rec{"id_number": "11010519491231002X", "name": "张三", "employer_uscc": "91310110666007217T",
				"ui_months": 40, "status": "contributing", "category": "enterprise"}},
		TypeTaxpayer: {"type": TypeTaxpayer, "id": "914403001922038216", "as_of": "2019-01-05T00:00:00Z",
			"data": rec{"uscc": "914403001922038216", "name": "深圳示例有限公司", "status": "abnormal", "abnormal_since": "2018-05-01",
				"credit_grade": "M", "credit_year": 2018}},
		TypeCertificate: {"type": TypeCertificate, "id": "S350100202300001234567", "as_of": "2020-07-02T00:00:00Z",
			"data": rec{"cert_no": "S350100202300001234567", "id_number": "440524188001010014", "name": "李四",
				"occupation_code": "6-29-01-06", "occupation_name": "电工", "level": 4, "kind": "skill_level",
				"issued_on": "2020-07-01", "issuer": "福建省职业技能鉴定指导中心", "status": "valid"}},
		TypePenalty: {"type": TypePenalty, "id": "闽环罚〔2019〕12号", "as_of": "2019-04-02T00:00:00Z",
			"data": rec{"uscc": "91350100M000100Y43", "decision_no": "闽环罚〔2019〕12号", "decided_on": "2019-04-01",
				"violation": "超标排放水污染物", "fine_fen": 5000000, "severity": "major", "status": "in_force"}},
		TypeRating: {"type": TypeRating, "id": "91310110666007217T:2018", "as_of": "2019-03-01T00:00:00Z",
			"data": rec{"uscc": "91310110666007217T", "year": 2018, "rating": "green"}},
		TypeListing: {"type": TypeListing, "id": "CL-2019-000123", "as_of": "2019-03-01T00:00:00Z",
			"data": rec{"listing_id": "CL-2019-000123", "subject_uscc": "91310110666007217T", "list_type": "zombie_enterprise",
				"authority": "上海市发展和改革委员会", "listed_on": "2019-02-01", "removed_on": ""}},
		TypeAward: {"type": TypeAward, "id": "G-350100-2019-0001", "as_of": "2019-08-02T00:00:00Z",
			"data": rec{"grant_id": "G-350100-2019-0001", "program": "sus-2019", "subject_id_number": "11010519491231002X",
				"year": 2019, "region_code": "350100", "amount_fen": 150000, "granted_on": "2019-08-01",
				"occupation_code": "6-29-01-06", "level": 4, "status": "granted"}},
	}
}

// clone deep-copies a record (data is the only nested object).
func (r rec) clone() rec {
	out := maps.Clone(r)
	if d, ok := r["data"].(rec); ok {
		out["data"] = maps.Clone(d)
	}
	return out
}

func (r rec) data() rec { return r["data"].(rec) }

func (r rec) json(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// good returns a valid record of a type, changed by edit.
func good(typ string, edit func(r rec)) rec {
	r := goodRecords()[typ].clone()
	if edit != nil {
		edit(r)
	}
	return r
}
