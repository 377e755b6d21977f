package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cf is a reject's code and field, what the table tests assert.
type cf struct{ code, field string }

func codesOf(rs []Reject) []cf {
	var out []cf
	for _, r := range rs {
		out = append(out, cf{r.Code, r.Field})
	}
	return out
}

type validateCase struct {
	name   string
	raw    []byte
	legacy []string
	want   []cf // rejects, in order; nil means accepted
	warn   []cf // warnings of an accepted record
	// schemaOnly marks cases a general JSON Schema validator must judge the same way.
	schemaOnly bool
}

func validateCases(t testing.TB) []validateCase {
	j := func(r rec) []byte { return r.json(t) }
	data := func(typ, field string, v any) []byte {
		return j(good(typ, func(r rec) { r.data()[field] = v }))
	}
	del := func(typ, field string) []byte {
		return j(good(typ, func(r rec) { delete(r.data(), field) }))
	}
	env := func(typ, field string, v any) []byte {
		return j(good(typ, func(r rec) { r[field] = v }))
	}
	envDel := func(typ, field string) []byte {
		return j(good(typ, func(r rec) { delete(r, field) }))
	}
	both := func(typ, field string, v any) []byte {
		return j(good(typ, func(r rec) { r.data()[field] = v; r["id"] = v }))
	}
	tomb := func(typ string, d any) []byte {
		return j(good(typ, func(r rec) {
			r["deleted"] = true
			if d == nil {
				delete(r, "data")
			} else {
				r["data"] = d
			}
		}))
	}
	const em, per = TypeEmployerMonth, TypePerson
	cases := []validateCase{
		// Every type's good record.
		{name: "good si.employer", raw: j(good(TypeEmployer, nil)), schemaOnly: true},
		{name: "good si.employer_month", raw: j(good(em, nil)), schemaOnly: true},
		{name: "good si.person", raw: j(good(per, nil)), schemaOnly: true},
		{name: "good tax.taxpayer", raw: j(good(TypeTaxpayer, nil)), schemaOnly: true},
		{name: "good cert.certificate", raw: j(good(TypeCertificate, nil)), schemaOnly: true},
		{name: "good env.penalty", raw: j(good(TypePenalty, nil)), schemaOnly: true},
		{name: "good env.rating", raw: j(good(TypeRating, nil)), schemaOnly: true},
		{name: "good credit.listing", raw: j(good(TypeListing, nil)), schemaOnly: true},
		{name: "good grant.award", raw: j(good(TypeAward, nil)), schemaOnly: true},
		{name: "optional fields absent", raw: j(good(TypeAward, func(r rec) { delete(r.data(), "level"); delete(r.data(), "occupation_code") })), schemaOnly: true},
		{name: "emptyable fields empty", raw: j(good(per, func(r rec) { r.data()["employer_uscc"] = "" })), schemaOnly: true},
		{name: "optional emptyable absent", raw: del(TypeListing, "removed_on"), schemaOnly: true},
		{name: "whole number written 1.0", raw: []byte(strings.Replace(string(j(good(em, nil))), `"insured_count":25`, `"insured_count":25.0`, 1)), schemaOnly: true},
		{name: "whole number written 1e2", raw: []byte(strings.Replace(string(j(good(em, nil))), `"insured_count":25`, `"insured_count":1e2`, 1)), schemaOnly: true},
		{name: "deleted false explicit", raw: env(em, "deleted", false), schemaOnly: true},
		{name: "revision absent", raw: envDel(em, "revision"), schemaOnly: true},
		{name: "as_of with offset", raw: env(em, "as_of", "2019-01-05T08:00:00+08:00"), schemaOnly: true},
		{name: "lower-case x", raw: both(per, "id_number", "11010519491231002x"), schemaOnly: true},
		{name: "15-digit legacy ID", raw: both(per, "id_number", "110105491231002"), schemaOnly: true},
		{name: "15-digit data, 18-digit id", raw: data(per, "id_number", "110105491231002")},
		{name: "birth year 1880", raw: data(TypeCertificate, "id_number", "440524188001010014"), schemaOnly: true},
		{name: "qualification cert no", raw: both(TypeCertificate, "cert_no", "20191100000012"), schemaOnly: true},

		// Size and syntax.
		{name: "too large", raw: bytes.Repeat([]byte(" "), MaxRecordBytes+1), want: []cf{{CodeTooLarge, ""}}},
		{name: "not JSON", raw: []byte(`{"type":`), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},
		{name: "array", raw: []byte(`[]`), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},
		{name: "empty", raw: []byte(``), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},
		{name: "trailing data", raw: append(j(good(em, nil)), '{', '}'), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},
		{name: "trailing comma", raw: []byte(`{"type":"si.employer",}`), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},
		{name: "invalid UTF-8", raw: []byte("{\"type\":\"si.employer\",\"id\":\"\xff\"}"), want: []cf{{CodeMalformedJSON, ""}}},
		{name: "control character in string", raw: []byte("{\"id\":\"a\x01\"}"), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},
		{name: "bad number", raw: []byte(`{"revision":01}`), want: []cf{{CodeMalformedJSON, ""}}, schemaOnly: true},

		// Envelope.
		{name: "unknown type", raw: env(em, "type", "si.employer_year"), want: []cf{{CodeUnknownType, "type"}}, schemaOnly: true},
		{name: "type missing", raw: envDel(em, "type"), want: []cf{{CodeRequired, "type"}}, schemaOnly: true},
		{name: "type not a string", raw: env(em, "type", 7), want: []cf{{CodeWrongType, "type"}}, schemaOnly: true},
		{name: "id missing", raw: envDel(em, "id"), want: []cf{{CodeRequired, "id"}}, schemaOnly: true},
		{name: "id empty", raw: env(em, "id", ""), want: []cf{{CodeRequired, "id"}}, schemaOnly: true},
		{name: "id with a space", raw: env(TypeListing, "id", "CL 1"), want: []cf{{CodePattern, "id"}}, schemaOnly: true},
		{name: "id too long", raw: env(TypeListing, "id", strings.Repeat("K", 257)), want: []cf{{CodeTooLong, "id"}}, schemaOnly: true},
		{name: "revision negative", raw: env(em, "revision", -1), want: []cf{{CodeOutOfRange, "revision"}}, schemaOnly: true},
		{name: "revision fractional", raw: env(em, "revision", 1.5), want: []cf{{CodeWrongType, "revision"}}, schemaOnly: true},
		{name: "revision string", raw: env(em, "revision", "3"), want: []cf{{CodeWrongType, "revision"}}, schemaOnly: true},
		{name: "revision huge", raw: []byte(strings.Replace(string(j(good(em, nil))), `"revision":3`, `"revision":1e400`, 1)), want: []cf{{CodeOutOfRange, "revision"}}},
		{name: "as_of missing", raw: envDel(em, "as_of"), want: []cf{{CodeRequired, "as_of"}}, schemaOnly: true},
		{name: "as_of not RFC 3339", raw: env(em, "as_of", "2019-01-05 00:00:00"), want: []cf{{CodeTimestamp, "as_of"}}, schemaOnly: true},
		{name: "as_of date only", raw: env(em, "as_of", "2019-01-05"), want: []cf{{CodeTimestamp, "as_of"}}, schemaOnly: true},
		{name: "deleted not bool", raw: env(em, "deleted", "yes"), want: []cf{{CodeWrongType, "deleted"}}, schemaOnly: true},
		{name: "data not object", raw: env(em, "data", []any{}), want: []cf{{CodeWrongType, "data"}}, schemaOnly: true},
		{name: "data null", raw: env(em, "data", nil), want: []cf{{CodeWrongType, "data"}}, schemaOnly: true},
		{name: "data missing", raw: envDel(em, "data"), want: []cf{{CodeRequired, "data"}}, schemaOnly: true},
		{name: "unknown envelope field", raw: env(em, "source", "si"), want: []cf{{CodeUnknownField, "source"}}, schemaOnly: true},
		{name: "duplicate envelope field", raw: []byte(strings.Replace(string(j(good(em, nil))), `"revision":3`, `"revision":3,"revision":4`, 1)), want: []cf{{CodeDuplicateField, "revision"}}},

		// Data, per schema.
		{name: "unknown data field", raw: data(em, "headcount", 3), want: []cf{{CodeUnknownField, "data.headcount"}}, schemaOnly: true},
		{name: "duplicate data field", raw: []byte(strings.Replace(string(j(good(em, nil))), `"arrears_fen":0`, `"arrears_fen":0,"arrears_fen":5`, 1)), want: []cf{{CodeDuplicateField, "data.arrears_fen"}}},
		{name: "required field missing", raw: del(em, "ui_paid_fen"), want: []cf{{CodeRequired, "data.ui_paid_fen"}}, schemaOnly: true},
		{name: "required string empty", raw: data(TypeEmployer, "name", ""), want: []cf{{CodeRequired, "data.name"}}, schemaOnly: true},
		{name: "required enum empty", raw: data(TypeEmployer, "status", ""), want: []cf{{CodeRequired, "data.status"}}, schemaOnly: true},
		{name: "string for integer", raw: data(em, "insured_count", "25"), want: []cf{{CodeWrongType, "data.insured_count"}}, schemaOnly: true},
		{name: "integer for string", raw: data(TypeEmployer, "name", 25), want: []cf{{CodeWrongType, "data.name"}}, schemaOnly: true},
		{name: "null field", raw: data(TypeListing, "removed_on", nil), want: []cf{{CodeWrongType, "data.removed_on"}}, schemaOnly: true},
		{name: "object field", raw: data(em, "deferral_agreement", rec{"x": 1}), want: []cf{{CodeWrongType, "data.deferral_agreement"}}, schemaOnly: true},
		{name: "string for bool", raw: data(em, "deferral_agreement", "false"), want: []cf{{CodeWrongType, "data.deferral_agreement"}}, schemaOnly: true},
		{name: "fraction", raw: data(em, "ui_due_fen", 100.5), want: []cf{{CodeWrongType, "data.ui_due_fen"}}, schemaOnly: true},
		{name: "enum", raw: data(TypeEmployer, "size", "huge"), want: []cf{{CodeEnum, "data.size"}}, schemaOnly: true},
		{name: "enum case", raw: data(TypeTaxpayer, "credit_grade", "a"), want: []cf{{CodeEnum, "data.credit_grade"}}, schemaOnly: true},
		{name: "date not real", raw: data(TypeEmployer, "enrolled_on", "2019-02-30"), want: []cf{{CodeDate, "data.enrolled_on"}}, schemaOnly: true},
		{name: "date 29 Feb not leap", raw: data(TypeEmployer, "enrolled_on", "2100-02-29"), want: []cf{{CodeDate, "data.enrolled_on"}}, schemaOnly: true},
		{name: "date 29 Feb leap", raw: data(TypeEmployer, "enrolled_on", "2000-02-29"), schemaOnly: true},
		{name: "date shape", raw: data(TypeEmployer, "enrolled_on", "2019/01/01"), want: []cf{{CodeDate, "data.enrolled_on"}}, schemaOnly: true},
		{name: "emptyable date bad", raw: data(TypeListing, "removed_on", "2019-13-01"), want: []cf{{CodeDate, "data.removed_on"}}, schemaOnly: true},
		{name: "month not real", raw: data(em, "month", "2018-13"), want: []cf{{CodeMonth, "data.month"}}, schemaOnly: true},
		{name: "month shape", raw: data(em, "month", "2018-1"), want: []cf{{CodeMonth, "data.month"}}, schemaOnly: true},
		{name: "negative money", raw: data(em, "arrears_fen", -1), want: []cf{{CodeNegativeMoney, "data.arrears_fen"}}, schemaOnly: true},
		{name: "negative count", raw: data(em, "insured_count", -3), want: []cf{{CodeNegative, "data.insured_count"}}, schemaOnly: true},
		{name: "level out of range", raw: data(TypeCertificate, "level", 6), want: []cf{{CodeOutOfRange, "data.level"}}, schemaOnly: true},
		{name: "level zero", raw: data(TypeAward, "level", 0), want: []cf{{CodeOutOfRange, "data.level"}}, schemaOnly: true},
		{name: "year out of range", raw: data(TypeTaxpayer, "credit_year", 1800), want: []cf{{CodeOutOfRange, "data.credit_year"}}, schemaOnly: true},
		{name: "money beyond 2^53", raw: data(TypePenalty, "fine_fen", 1e17), want: []cf{{CodeOutOfRange, "data.fine_fen"}}, schemaOnly: true},
		{name: "pattern", raw: data(TypeEmployer, "industry_code", "Z99"), want: []cf{{CodePattern, "data.industry_code"}}, schemaOnly: true},
		{name: "program pattern", raw: data(TypeAward, "program", "SUS 2019"), want: []cf{{CodePattern, "data.program"}}, schemaOnly: true},
		{name: "too long", raw: data(TypeEmployer, "name", strings.Repeat("名", 201)), want: []cf{{CodeTooLong, "data.name"}}, schemaOnly: true},
		{name: "max length in characters not bytes", raw: data(TypeEmployer, "name", strings.Repeat("名", 200)), schemaOnly: true},
		{name: "region code shape", raw: data(TypeEmployer, "region_code", "35010"), want: []cf{{CodeRegionCode, "data.region_code"}}, schemaOnly: true},
		{name: "region code province", raw: data(TypeEmployer, "region_code", "990100"), want: []cf{{CodeRegionCode, "data.region_code"}}, schemaOnly: true},
		{name: "occupation code", raw: data(TypeCertificate, "occupation_code", "6-29-1-06"), want: []cf{{CodeOccupationCode, "data.occupation_code"}}, schemaOnly: true},
		{name: "occupation major group", raw: data(TypeCertificate, "occupation_code", "9-29-01-06"), want: []cf{{CodeOccupationCode, "data.occupation_code"}}, schemaOnly: true},
		{name: "emptyable occupation code bad", raw: data(TypeAward, "occupation_code", "629-01-06"), want: []cf{{CodeOccupationCode, "data.occupation_code"}}, schemaOnly: true},
		{name: "cert no", raw: both(TypeCertificate, "cert_no", "S35010020230000123456"), want: []cf{{CodeCertNo, "id"}, {CodeCertNo, "data.cert_no"}}, schemaOnly: true},
		{name: "cert no lower case", raw: both(TypeCertificate, "cert_no", "s350100202300001234567"), want: []cf{{CodeCertNo, "id"}, {CodeCertNo, "data.cert_no"}}, schemaOnly: true},
		{name: "decision no with space", raw: both(TypePenalty, "decision_no", "闽环罚 12号"), want: []cf{{CodePattern, "id"}, {CodePattern, "data.decision_no"}}, schemaOnly: true},

		// USCC.
		{name: "uscc too short", raw: both(TypeTaxpayer, "uscc", "91350100M000100Y4"), want: []cf{{CodeUSCCLength, "id"}, {CodeUSCCLength, "data.uscc"}}, schemaOnly: true},
		{name: "uscc charset", raw: both(TypeTaxpayer, "uscc", "91350100M000100I43"), want: []cf{{CodeUSCCCharset, "id"}, {CodeUSCCCharset, "data.uscc"}}, schemaOnly: true},
		{name: "uscc lower case", raw: data(TypeEmployer, "uscc", "91350100m000100Y43"), want: []cf{{CodeUSCCCharset, "data.uscc"}}, schemaOnly: true},
		{name: "uscc org checksum", raw: both(TypeTaxpayer, "uscc", "91350100M000100Y53"), want: []cf{{CodeUSCCOrgCode, "id"}, {CodeUSCCOrgCode, "data.uscc"}}, schemaOnly: true},
		{name: "uscc checksum", raw: data(TypeEmployer, "uscc", "91350200M000100Y43"), want: []cf{{CodeUSCCChecksum, "data.uscc"}}, schemaOnly: true},
		{name: "uscc in id only", raw: env(TypeTaxpayer, "id", "914403001922038217"), want: []cf{{CodeUSCCChecksum, "id"}}, schemaOnly: true},
		{name: "legacy not allowlisted", raw: both(TypeEmployer, "uscc", "91350100M0001TGQXM"), want: []cf{{CodeUSCCChecksum, "id"}, {CodeUSCCChecksum, "data.uscc"}}, schemaOnly: true},
		{name: "legacy allowlisted", raw: both(TypeEmployer, "uscc", "91350100M0001TGQXM"), legacy: []string{"91350100M0001TGQXM"}, warn: []cf{{CodeLegacyChecksum, "data.uscc"}}},
		{name: "legacy allowlisted in subject", raw: data(TypeListing, "subject_uscc", "91350100M0001TGQXM"), legacy: []string{"91350100M0001TGQXM"}, warn: []cf{{CodeLegacyChecksum, "data.subject_uscc"}}},
		{name: "legacy allowlisted tombstone id", raw: j(good(TypeEmployer, func(r rec) { r["id"] = "91350100M0001TGQXM"; r["deleted"] = true; delete(r, "data") })), legacy: []string{"91350100M0001TGQXM"}, warn: []cf{{CodeLegacyChecksum, "id"}}},
		{name: "employer uscc bad", raw: data(per, "employer_uscc", "91310110666007217X"), want: []cf{{CodeUSCCChecksum, "data.employer_uscc"}}, schemaOnly: true},

		// ID numbers.
		{name: "id length", raw: both(per, "id_number", "1101051949123100"), want: []cf{{CodeIDLength, "id"}, {CodeIDLength, "data.id_number"}}, schemaOnly: true},
		{name: "id charset", raw: both(per, "id_number", "1101051949123100A"+"2"), want: []cf{{CodeIDCharset, "id"}, {CodeIDCharset, "data.id_number"}}, schemaOnly: true},
		{name: "id address", raw: both(per, "id_number", "99010519491231002X"), want: []cf{{CodeIDAddress, "id"}, {CodeIDAddress, "data.id_number"}}, schemaOnly: true},
		{name: "id birth date not real", raw: data(TypeCertificate, "id_number", "110105194902300021"), want: []cf{{CodeIDBirthDate, "data.id_number"}}, schemaOnly: true},
		{name: "id birth date future", raw: data(TypeCertificate, "id_number", withIDCheck("11010520991231002")), want: []cf{{CodeIDBirthDate, "data.id_number"}}},
		{name: "id birth date before 1870", raw: data(TypeCertificate, "id_number", withIDCheck("11010518691231002")), want: []cf{{CodeIDBirthDate, "data.id_number"}}, schemaOnly: true},
		{name: "id checksum", raw: both(per, "id_number", "110105194912310021"), want: []cf{{CodeIDChecksum, "id"}, {CodeIDChecksum, "data.id_number"}}, schemaOnly: true},
		{name: "id 15 digit bad date", raw: data(TypeCertificate, "id_number", "110105491331002"), want: []cf{{CodeIDBirthDate, "data.id_number"}}, schemaOnly: true},

		// Natural keys.
		{name: "id mismatch employer", raw: env(TypeEmployer, "id", "91310110666007217T"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch month", raw: env(em, "id", "91350100M000100Y43:2018-11"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch person", raw: env(per, "id", "440524188001010014"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch rating year", raw: env(TypeRating, "id", "91310110666007217T:2019"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch listing", raw: env(TypeListing, "id", "CL-2019-000124"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch award", raw: env(TypeAward, "id", "G-1"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch certificate", raw: env(TypeCertificate, "id", "20191100000012"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "id mismatch penalty", raw: env(TypePenalty, "id", "闽环罚〔2019〕13号"), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "month id without colon", raw: env(em, "id", "91350100M000100Y43"), want: []cf{{CodePattern, "id"}}, schemaOnly: true},
		{name: "month id bad month", raw: env(em, "id", "91350100M000100Y43:2018-00"), want: []cf{{CodeMonth, "id"}}, schemaOnly: true},
		{name: "rating id bad year", raw: env(TypeRating, "id", "91310110666007217T:18"), want: []cf{{CodePattern, "id"}}, schemaOnly: true},
		{name: "rating id bad uscc", raw: env(TypeRating, "id", "91310110666007217X:2018"), want: []cf{{CodeUSCCChecksum, "id"}}, schemaOnly: true},

		// Subjects.
		{name: "subject neither", raw: del(TypeListing, "subject_uscc"), want: []cf{{CodeSubject, "data"}}, schemaOnly: true},
		{name: "subject both", raw: data(TypeAward, "subject_uscc", "91310110666007217T"), want: []cf{{CodeSubject, "data"}}, schemaOnly: true},
		{name: "subject empty", raw: data(TypeListing, "subject_uscc", ""), want: []cf{{CodeRequired, "data.subject_uscc"}}, schemaOnly: true},
		{name: "subject person", raw: j(good(TypeListing, func(r rec) {
			delete(r.data(), "subject_uscc")
			r.data()["subject_id_number"] = "440524188001010014"
			r.data()["list_type"] = "judgment_defaulter"
		})), schemaOnly: true},

		// Tombstones.
		{name: "tombstone employer no data", raw: tomb(TypeEmployer, nil), schemaOnly: true},
		{name: "tombstone month no data", raw: tomb(em, nil), schemaOnly: true},
		{name: "tombstone person no data", raw: tomb(per, nil), schemaOnly: true},
		{name: "tombstone taxpayer no data", raw: tomb(TypeTaxpayer, nil), schemaOnly: true},
		{name: "tombstone rating no data", raw: tomb(TypeRating, nil), schemaOnly: true},
		{name: "tombstone partial data", raw: tomb(em, rec{"uscc": "91350100M000100Y43"}), schemaOnly: true},
		{name: "tombstone partial data wrong subject", raw: tomb(em, rec{"uscc": "91310110666007217T"}), want: []cf{{CodeIDMismatch, "id"}}},
		{name: "tombstone certificate no data", raw: tomb(TypeCertificate, nil), want: []cf{{CodeRequired, "data"}}, schemaOnly: true},
		{name: "tombstone certificate key and subject", raw: tomb(TypeCertificate, rec{"cert_no": "S350100202300001234567", "id_number": "440524188001010014"}), schemaOnly: true},
		{name: "tombstone certificate without subject", raw: tomb(TypeCertificate, rec{"cert_no": "S350100202300001234567"}), want: []cf{{CodeRequired, "data.id_number"}}, schemaOnly: true},
		{name: "tombstone penalty", raw: tomb(TypePenalty, rec{"uscc": "91350100M000100Y43", "decision_no": "闽环罚〔2019〕12号"}), schemaOnly: true},
		{name: "tombstone penalty without key", raw: tomb(TypePenalty, rec{"uscc": "91350100M000100Y43"}), want: []cf{{CodeRequired, "data.decision_no"}}, schemaOnly: true},
		{name: "tombstone listing", raw: tomb(TypeListing, rec{"listing_id": "CL-2019-000123", "subject_uscc": "91310110666007217T"}), schemaOnly: true},
		{name: "tombstone listing without subject", raw: tomb(TypeListing, rec{"listing_id": "CL-2019-000123"}), want: []cf{{CodeSubject, "data"}}, schemaOnly: true},
		{name: "tombstone award no data", raw: tomb(TypeAward, nil), want: []cf{{CodeRequired, "data"}}, schemaOnly: true},
		{name: "tombstone bad id", raw: j(good(per, func(r rec) { r["id"] = "110105194912310021"; r["deleted"] = true; delete(r, "data") })), want: []cf{{CodeIDChecksum, "id"}}, schemaOnly: true},
		{name: "tombstone fields still checked", raw: tomb(TypeEmployer, rec{"uscc": "91350100M000100Y43", "size": "huge"}), want: []cf{{CodeEnum, "data.size"}}, schemaOnly: true},

		// Several faults: all reported, envelope first, then data in schema order.
		{name: "several faults", raw: []byte(`{"data":{"size":"huge","zzz":1,"uscc":"91350100M000100Y43","name":""},"extra":1,"id":"91350100M000100Y43","type":"si.employer","as_of":"yesterday"}`),
			want: []cf{{CodeUnknownField, "extra"}, {CodeTimestamp, "as_of"}, {CodeUnknownField, "data.zzz"}, {CodeRequired, "data.name"},
				{CodeRequired, "data.region_code"}, {CodeRequired, "data.status"}, {CodeRequired, "data.enrolled_on"}, {CodeEnum, "data.size"},
				{CodeRequired, "data.industry_code"}}, schemaOnly: true},
	}
	return cases
}

// withIDCheck appends the MOD 11-2 check character to 17 digits, computed here
// independently of the package's code.
func withIDCheck(d17 string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range d17 {
		sum += int(c-'0') * w[i]
	}
	return d17 + string("10X98765432"[sum%11])
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			v := testValidator(t, tc.legacy...)
			got, err := v.Validate(tc.raw)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if !reflect.DeepEqual(codesOf(got.Warnings), tc.warn) {
					t.Errorf("warnings = %v, want %v", codesOf(got.Warnings), tc.warn)
				}
				return
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Validate = %v, want a *RecordError", err)
			}
			if !errors.Is(err, ErrInvalidRecord) {
				t.Errorf("error does not match ErrInvalidRecord")
			}
			if !reflect.DeepEqual(codesOf(re.Rejects), tc.want) {
				t.Errorf("rejects = %v\nwant      %v\n%v", codesOf(re.Rejects), tc.want, err)
			}
			for _, r := range re.Rejects {
				if r.Message == "" {
					t.Errorf("reject %s at %s has no message", r.Code, r.Field)
				}
			}
			if !reflect.DeepEqual(got, Validated{}) {
				t.Errorf("refused record returned %+v", got)
			}
		})
	}
}

// TestValidateEveryCode proves the table exercises every reject code.
func TestValidateEveryCode(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range validateCases(t) {
		for _, c := range append(tc.want, tc.warn...) {
			seen[c.code] = true
		}
	}
	for _, code := range []string{CodeMalformedJSON, CodeTooLarge, CodeUnknownType, CodeUnknownField, CodeRequired,
		CodeWrongType, CodeEnum, CodeDate, CodeMonth, CodeTimestamp, CodeNegativeMoney, CodeNegative, CodeOutOfRange,
		CodePattern, CodeIDMismatch, CodeSubject, CodeUSCCLength, CodeUSCCCharset, CodeUSCCOrgCode, CodeUSCCChecksum,
		CodeLegacyChecksum, CodeIDLength, CodeIDCharset, CodeIDAddress, CodeIDBirthDate, CodeIDChecksum, CodeCertNo,
		CodeOccupationCode, CodeRegionCode, CodeTooLong, CodeDuplicateField} {
		if !seen[code] {
			t.Errorf("no test case expects code %s", code)
		}
	}
}

func TestValidateNormalForm(t *testing.T) {
	v := testValidator(t)
	tests := []struct {
		name     string
		raw      string
		wantID   string
		wantData string
		wantAsOf time.Time
	}{
		{
			name:     "fields in schema order, compact",
			raw:      `{ "data" : {"retired_or_deceased":1, "new_ui_claimants":0,"deferral_agreement":true,"arrears_fen":0,"ui_paid_fen":5,"ui_due_fen":5,"insured_count":2.0,"month":"2018-12","uscc":"91350100M000100Y43"}, "as_of":"2019-01-05T08:00:00+08:00", "id":"91350100M000100Y43:2018-12","type":"si.employer_month"}`,
			wantID:   "91350100M000100Y43:2018-12",
			wantData: `{"uscc":"91350100M000100Y43","month":"2018-12","insured_count":2,"ui_due_fen":5,"ui_paid_fen":5,"arrears_fen":0,"deferral_agreement":true,"new_ui_claimants":0,"retired_or_deceased":1}`,
			wantAsOf: time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC),
		},
		{
			name:     "ID numbers upgraded and upper-cased, escapes decoded",
			raw:      `{"type":"si.person","id":"110105491231002","as_of":"2019-01-05T00:00:00Z","data":{"id_number":"11010519491231002x","name":"\u5f20\u4e09 \"\\\/","ui_months":1,"status":"retired","category":"flexible"}}`,
			wantID:   "11010519491231002X",
			wantData: `{"id_number":"11010519491231002X","name":"张三 \"\\/","ui_months":1,"status":"retired","category":"flexible"}`,
			wantAsOf: time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC),
		},
		{
			name:     "subject ID number upgraded",
			raw:      `{"type":"grant.award","id":"G1","as_of":"2019-01-05T00:00:00.5Z","deleted":true,"data":{"grant_id":"G1","subject_id_number":"110105491231002"}}`,
			wantID:   "G1",
			wantData: `{"grant_id":"G1","subject_id_number":"11010519491231002X"}`,
			wantAsOf: time.Date(2019, 1, 5, 0, 0, 0, 5e8, time.UTC),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Validate([]byte(tc.raw))
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			e := got.Envelope
			if e.ID != tc.wantID || string(e.Data) != tc.wantData || !e.AsOf.Equal(tc.wantAsOf) || e.AsOf.Location() != time.UTC {
				t.Errorf("got id %q data %s as_of %v\nwant id %q data %s as_of %v", e.ID, e.Data, e.AsOf, tc.wantID, tc.wantData, tc.wantAsOf)
			}
			// The normal form is a fixed point.
			again, err := v.Validate(mustMarshal(t, e))
			if err != nil {
				t.Fatalf("re-validating the normal form: %v", err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Errorf("normal form changed on re-validation:\n%+v\n%+v", again, got)
			}
		})
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestValidatedRecordsFeedThePipeline checks that what Validate accepts decodes into
// the record structs and has a subject the Protector can key.
func TestValidatedRecordsFeedThePipeline(t *testing.T) {
	v := testValidator(t)
	p, err := NewProtector(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]any{TypeEmployer: &Employer{}, TypeEmployerMonth: &EmployerMonth{}, TypePerson: &Person{},
		TypeTaxpayer: &Taxpayer{}, TypeCertificate: &Certificate{}, TypePenalty: &Penalty{}, TypeRating: &Rating{},
		TypeListing: &Listing{}, TypeAward: &Award{}}
	for typ, r := range goodRecords() {
		got, err := v.Validate(r.json(t))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		dec := json.NewDecoder(bytes.NewReader(got.Envelope.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(structs[typ]); err != nil {
			t.Errorf("%s: decoding data into its struct: %v", typ, err)
		}
		// The struct, encoded again, is accepted too.
		r2 := r.clone()
		r2["data"] = json.RawMessage(mustMarshal(t, structs[typ]))
		if _, err := v.Validate(r2.json(t)); err != nil {
			t.Errorf("%s: record re-encoded from its struct: %v", typ, err)
		}
		if _, key, err := p.Protect(got.Envelope); err != nil || key == "" {
			t.Errorf("%s: Protect = %q, %v", typ, key, err)
		}
	}
}

func TestValidateMessagesHideIDNumbers(t *testing.T) {
	v := testValidator(t)
	ids := []string{"110105194912310021", "99010519491231002X", "110105194902300021", "1101051949123100A2", withIDCheck("11010520991231002"), "110105491331002"}
	for _, id := range ids {
		for _, raw := range [][]byte{
			good(TypePerson, func(r rec) { r["id"] = id; r.data()["id_number"] = id }).json(t),
			good(TypeAward, func(r rec) { r.data()["subject_id_number"] = id }).json(t),
			good(TypePerson, func(r rec) { r["id"] = "440524188001010014" }).json(t),
		} {
			_, err := v.Validate(raw)
			if err == nil {
				continue
			}
			if msg := err.Error(); strings.Contains(msg, id) || strings.Contains(msg, id[:14]) || strings.Contains(msg, "44052418800101") || strings.Contains(msg, "11010519491231") {
				t.Errorf("message reveals an ID number: %s", msg)
			}
		}
	}
}

func TestValidateDeterministic(t *testing.T) {
	v := testValidator(t)
	for _, tc := range validateCases(t) {
		_, err1 := v.Validate(tc.raw)
		_, err2 := v.Validate(tc.raw)
		if fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("%s: two runs differ:\n%v\n%v", tc.name, err1, err2)
		}
	}
}

func TestNewValidatorLegacyAllowlist(t *testing.T) {
	tests := []struct {
		code    string
		wantErr bool
	}{
		{"91350100M0001TGQXM", false},
		{"91350100M000100Y43", false}, // passes: harmless
		{"91350100M000100Y53", true},  // organization code wrong: a typo, not a pilot code
		{"9135", true},
		{"91350100m0001TGQXM", true},
	}
	for _, tc := range tests {
		_, err := NewValidator(Options{LegacyUSCC: []string{tc.code}})
		if (err != nil) != tc.wantErr {
			t.Errorf("NewValidator(legacy %s) error = %v, want error %v", tc.code, err, tc.wantErr)
		}
	}
}

func TestParseInteger(t *testing.T) {
	const max = 1<<53 - 1
	tests := []struct {
		lit   string
		n     int64
		whole bool
		cmp   int
	}{
		{"0", 0, true, 0},
		{"-0", 0, true, 0},
		{"42", 42, true, 0},
		{"-1", -1, true, -1},
		{"1.0", 1, true, 0},
		{"1.50", 0, false, 0},
		{"1e2", 100, true, 0},
		{"1E+2", 100, true, 0},
		{"120e-1", 12, true, 0},
		{"125e-1", 0, false, 0},
		{"0.000e5", 0, true, 0},
		{"9007199254740991", max, true, 0},
		{"9007199254740992", max + 1, true, 1},
		{"1e16", 1e16, true, 1},
		{"1e17", 0, true, 1},
		{"-1e400", 0, true, -1},
		{"1e99999999999", 0, true, 1},
		{"1e-99999999999", 0, false, 0},
		{"123456789012345678901234567890", 0, true, 1},
	}
	for _, tc := range tests {
		n, whole, cmp := parseInteger(tc.lit, 0, max)
		if whole != tc.whole || cmp != tc.cmp || whole && cmp == 0 && n != tc.n {
			t.Errorf("parseInteger(%s) = %d, %v, %d; want %d, %v, %d", tc.lit, n, whole, cmp, tc.n, tc.whole, tc.cmp)
		}
	}
}
