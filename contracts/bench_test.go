package contracts

import (
	"encoding/json"
	"testing"
	"time"
)

// typicalEmployerMonth is an si.employer_month record as an agency's Go client
// encodes it: the Envelope and EmployerMonth structs, envelope fields in their order.
func typicalEmployerMonth(b *testing.B) []byte {
	data, err := json.Marshal(EmployerMonth{USCC: "91350100M000100Y43", Month: "2018-12", InsuredCount: 25,
		UIDueFen: 120000, UIPaidFen: 120000, RetiredOrDeceased: 1})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(Envelope{Type: TypeEmployerMonth, ID: "91350100M000100Y43:2018-12", Revision: 3,
		AsOf: time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC), Data: data})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkValidateEmployerMonth validates a typical record, as an agency sends it.
func BenchmarkValidateEmployerMonth(b *testing.B) {
	v := testValidator(b)
	raw := typicalEmployerMonth(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := v.Validate(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateDataFirst validates the same record with data before type, which
// costs a second pass over data.
func BenchmarkValidateDataFirst(b *testing.B) {
	v := testValidator(b)
	raw := goodRecords()[TypeEmployerMonth].json(b) // map keys sorted: data before type
	b.ReportAllocs()
	defer reportCPU(b)()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := v.Validate(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateRejected validates a record with several faults, the slow path.
func BenchmarkValidateRejected(b *testing.B) {
	v := testValidator(b)
	raw := good(TypeEmployerMonth, func(r rec) {
		r.data()["month"] = "2018-13"
		r.data()["arrears_fen"] = -5
		r.data()["extra"] = 1
	}).json(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := v.Validate(raw); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkUSCC(b *testing.B) {
	codes := []string{"91350100M000100Y43", "91310110666007217T", "914403001922038216"}
	b.ReportAllocs()
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		if _, err := ValidateUSCC(codes[i%3], nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkIDNumber(b *testing.B) {
	ids := []string{"11010519491231002X", "440524188001010014", "11010519491231002x"}
	b.ReportAllocs()
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		if _, err := NormalizeIDNumber(ids[i%3], testNow); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
