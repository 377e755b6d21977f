package deploy

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// metricDef is a metric the hub registers, read from the Go sources.
type metricDef struct {
	kind   string // counter, gauge, histogram, summary or collector
	labels map[string]bool
	file   string
}

var (
	metricNameRE = regexp.MustCompile(`"(verihub_[a-z0-9_]+)"`)
	constructRE  = regexp.MustCompile(`prometheus\.New(Counter|Gauge|Histogram|Summary)(Vec)?\(|prometheus\.NewDesc\(`)
	stringListRE = regexp.MustCompile(`\[\]string\{([^}]*)\}`)
	appendRE     = regexp.MustCompile(`append\((\w+), ([^)]*)\)`)
	quotedRE     = regexp.MustCompile(`"([^"]*)"`)
	// usedRE finds a metric in a PromQL expression, with its matchers if any.
	usedRE = regexp.MustCompile(`(verihub_[a-z0-9_]+)(\{([^}]*)\})?`)
)

// hubMetrics reads every verihub_* metric registered in the repository's non-test Go
// files, with its type and label names.
func hubMetrics(t *testing.T) map[string]metricDef {
	t.Helper()
	defs := map[string]metricDef{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "deploy" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		for _, m := range metricNameRE.FindAllStringSubmatchIndex(src, -1) {
			name := src[m[2]:m[3]]
			// The constructor is the last one before the name, and its labels follow
			// the name before the next constructor.
			cons := constructRE.FindAllStringSubmatchIndex(src[:m[0]], -1)
			if len(cons) == 0 {
				continue
			}
			c := cons[len(cons)-1]
			kind := "collector"
			if c[2] >= 0 {
				kind = strings.ToLower(src[c[2]:c[3]])
			}
			rest := src[m[1]:]
			if next := constructRE.FindStringIndex(rest); next != nil {
				rest = rest[:next[0]]
			}
			defs[name] = metricDef{kind: kind, labels: labelNames(src, rest), file: path}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) < 10 {
		t.Fatalf("found only %d hub metrics; the scan is broken", len(defs))
	}
	return defs
}

// labelNames reads the label list of one metric definition: a []string literal, or
// append(v, ...) of a []string variable defined in the same file.
func labelNames(file, def string) map[string]bool {
	out := map[string]bool{}
	add := func(list string) {
		for _, q := range quotedRE.FindAllStringSubmatch(list, -1) {
			out[q[1]] = true
		}
	}
	if m := appendRE.FindStringSubmatch(def); m != nil {
		if v := regexp.MustCompile(m[1] + ` := \[\]string\{([^}]*)\}`).FindStringSubmatch(file); v != nil {
			add(v[1])
		}
		add(m[2])
		return out
	}
	if m := stringListRE.FindStringSubmatch(def); m != nil {
		add(m[1])
	}
	return out
}

// checkExpr reports the problems of one PromQL expression against the hub's metrics.
func checkExpr(expr string, defs map[string]metricDef) []string {
	var problems []string
	for _, m := range usedRE.FindAllStringSubmatch(expr, -1) {
		name, def, ok := m[1], metricDef{}, false
		if def, ok = defs[name]; !ok {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base := strings.TrimSuffix(name, suffix)
				if base != name {
					if def, ok = defs[base]; ok && def.kind != "histogram" && def.kind != "summary" {
						problems = append(problems, name+": "+base+" is a "+def.kind+", not a histogram")
					}
					break
				}
			}
		}
		if !ok {
			problems = append(problems, name+": not registered by the hub")
			continue
		}
		for _, matcher := range strings.Split(m[3], ",") {
			label, _, found := strings.Cut(strings.TrimSpace(matcher), "=")
			label = strings.TrimRight(label, "!~")
			if !found || label == "" || label == "job" || label == "instance" {
				continue
			}
			if !def.labels[label] && !(label == "le" && strings.HasSuffix(name, "_bucket")) {
				problems = append(problems, name+": no label "+label)
			}
		}
	}
	return problems
}

// usedExprs returns every PromQL expression of the alert rules and the dashboard.
func usedExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	var rules alertFile
	yamlFile(t, "prometheus/alerts.yaml", &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert] = r.Expr
		}
	}
	var dash dashboard
	b, err := os.ReadFile("grafana/verihub.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/verihub.json: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			out["panel "+p.Title+" "+tg.RefID] = tg.Expr
		}
	}
	return out
}

// TestMetricNamesExist checks every verihub_* metric and matcher label that the alerts
// and the dashboard use against what the hub's Go code registers.
func TestMetricNamesExist(t *testing.T) {
	defs := hubMetrics(t)
	used := map[string]bool{}
	for where, expr := range usedExprs(t) {
		for _, p := range checkExpr(expr, defs) {
			t.Errorf("%s: %s", where, p)
		}
		for _, m := range usedRE.FindAllStringSubmatch(expr, -1) {
			used[m[1]] = true
		}
	}
	// The console overview: connectors, bus lag, verification, store.
	for _, want := range []string{"verihub_connector_state", "verihub_connector_records_total", "verihub_connector_lag_records",
		"verihub_bus_consumer_lag", "verihub_http_requests_total", "verihub_http_request_duration_seconds_bucket", "verihub_store_profiles"} {
		if !used[want] {
			t.Errorf("neither the alerts nor the dashboard use %s", want)
		}
	}
}

// TestCheckExprCatches shows the checker above can fail.
func TestCheckExprCatches(t *testing.T) {
	defs := hubMetrics(t)
	tests := []struct {
		expr string
		want string // "" means no problem
	}{
		{`rate(verihub_http_requests_total{route="GET /readyz",code="5xx"}[5m])`, ""},
		{`histogram_quantile(0.99, rate(verihub_http_request_duration_seconds_bucket{le="1"}[5m]))`, ""},
		{`verihub_connector_state{state="failed",connector="x",agency="si"}`, ""},
		{`verihub_store_profiles{kind="person"}`, ""},
		{`rate(verihub_http_requests_totals[5m])`, "not registered"},
		{`verihub_connector_state{status="failed"}`, "no label status"},
		{`verihub_bus_consumer_lag_bucket`, "not a histogram"},
		{`verihub_connector_records_total{outcome="rejected", route="x"}`, "no label route"},
	}
	for _, tt := range tests {
		got := strings.Join(checkExpr(tt.expr, defs), "; ")
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("checkExpr(%s) = %q, want %q", tt.expr, got, tt.want)
		}
	}
	if def := defs["verihub_connector_records_total"]; !slices.Equal(sortedKeys(def.labels), []string{"agency", "connector", "outcome"}) {
		t.Errorf("labels of verihub_connector_records_total read as %v", sortedKeys(def.labels))
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
