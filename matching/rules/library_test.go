package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/verihub/verihub/contracts"
)

// TestMonthLibrary checks months.present, months.missing, months.year and the
// record sum against a year with gaps, through facts added to a shipped pack.
func TestMonthLibrary(t *testing.T) {
	fsys := shippedFS(t)
	src := string(fsys["jrr-2019.yaml"].Data)
	edited := strings.Replace(src, "facts:\n", `facts:
  - {name: t_present, expr: 'months.present(2018).map(m, m.month)'}
  - {name: t_missing, expr: 'months.missing(2018)'}
  - {name: t_year, expr: 'months.year(2018).map(m, m == null ? "-" : m.month)'}
  - {name: t_sum, expr: 'sum(months.present(2018), "ui_paid_fen")'}
  - {name: t_empty_sum, expr: 'sum(months.present(1990), "ui_paid_fen")'}
  - {name: t_at, expr: 'months.at("2018-03") == null && months.at("2018-13") == null && months.at("x") == null'}
`, 1)
	if edited == src {
		t.Fatal("edit did not apply")
	}
	fsys["jrr-2019.yaml"] = &fstest.MapFile{Data: []byte(edited)}
	e, err := LoadFS(fsys, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	// 2018 without March and November; paid 100 fen in each month present.
	p := enterprise().employer(fresh, nil).year(2018, 10, 10, 100, func(m int, _ *contracts.EmployerMonth) bool {
		return m != 3 && m != 11
	}).p
	r := evaluate(t, e, "jrr-2019", p, nil)
	want := map[string]any{
		"t_present":   []any{"2018-01", "2018-02", "2018-04", "2018-05", "2018-06", "2018-07", "2018-08", "2018-09", "2018-10", "2018-12"},
		"t_missing":   []any{"2018-03", "2018-11"},
		"t_year":      []any{"2018-01", "2018-02", "-", "2018-04", "2018-05", "2018-06", "2018-07", "2018-08", "2018-09", "2018-10", "-", "2018-12"},
		"t_sum":       int64(1000),
		"t_empty_sum": int64(0),
		"t_at":        true,
	}
	for k, w := range want {
		if got := r.Facts[k]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
}

// TestSumOfRecordsRefusesNonInts: summing a string field is an error at load (the
// self-test meets it), naming the field.
func TestSumOfRecordsRefusesNonInts(t *testing.T) {
	fsys := shippedFS(t)
	src := string(fsys["jrr-2019.yaml"].Data)
	edited := strings.Replace(src, `sum(ms_present, "ui_paid_fen")`, `sum(ms_present, "month")`, 1)
	if edited == src {
		t.Fatal("edit did not apply")
	}
	fsys["jrr-2019.yaml"] = &fstest.MapFile{Data: []byte(edited)}
	_, err := LoadFS(fsys, Overrides{})
	if err == nil || !strings.Contains(err.Error(), `no int field "month"`) {
		t.Fatalf("err = %v, want one naming the field", err)
	}
}

// TestCostLimit: an evaluation whose cost grows past CostLimit with the subject's
// records stops with a *LimitError naming where, and the engine goes on serving.
func TestCostLimit(t *testing.T) {
	fsys := shippedFS(t)
	src := string(fsys["jrr-2019.yaml"].Data)
	edited := strings.Replace(src, "facts:\n", `facts:
  - {name: t_pairs, expr: 'listings.all(a, listings.all(b, a.listing_id != "" && b.listing_id != ""))'}
`, 1)
	fsys["jrr-2019.yaml"] = &fstest.MapFile{Data: []byte(edited)}
	e, err := LoadFS(fsys, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	b := good2018()
	for i := range 20 {
		b.listing(fmt.Sprintf("L%04d", i), "wage_arrears", "2015-01-01", "2016-01-01")
	}
	if r := evaluate(t, e, "jrr-2019", b.p, nil); r.Facts["t_pairs"] != true {
		t.Fatalf("20 listings: t_pairs = %v", r.Facts["t_pairs"])
	}
	for i := 20; i < 2000; i++ {
		b.listing(fmt.Sprintf("L%04d", i), "wage_arrears", "2015-01-01", "2016-01-01")
	}
	_, err = e.Evaluate(t.Context(), "jrr-2019", b.p, nil)
	var le *LimitError
	if !errors.As(err, &le) || le.Code() != CodeLimit || le.Where != "fact t_pairs" {
		t.Fatalf("2,000 listings: err = %v, want a *LimitError at fact t_pairs", err)
	}
	if r := evaluate(t, e, "jrr-2019", good2018().p, nil); r.Decision != Eligible {
		t.Fatalf("after the limit: decision %s", r.Decision)
	}
}
