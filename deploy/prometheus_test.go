package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"time"
)

type alertFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestAlertRulesStructure is the check that runs without promtool: every rule has a
// name, an expression, a known severity, a summary and a valid duration.
func TestAlertRulesStructure(t *testing.T) {
	var f alertFile
	yamlFile(t, "prometheus/alerts.yaml", &f)
	names := map[string]bool{}
	for _, g := range f.Groups {
		if len(g.Rules) == 0 {
			t.Errorf("group %s has no rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("group %s: a rule without alert or expr", g.Name)
			}
			if names[r.Alert] {
				t.Errorf("duplicate alert %s", r.Alert)
			}
			names[r.Alert] = true
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
		}
	}
	for _, want := range []string{"VerihubConnectorFailed", "VerihubConsumerLagGrowing", "VerihubVerificationErrorRate", "VerihubReadinessFlapping"} {
		if !names[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

// TestPromtool runs promtool's rule and config checks and the alert unit tests in
// prometheus/alerts_test.yaml.
func TestPromtool(t *testing.T) {
	promtool := lookTool(t, "VERIHUB_PROMTOOL", "promtool", "apt-get install prometheus (Debian ships promtool with it)")
	for _, args := range [][]string{
		{"check", "rules", "alerts.yaml"},
		{"check", "config", "prometheus.yml"},
		{"test", "rules", "alerts_test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestDashboardStructure checks the dashboard JSON: unique panel ids, every panel on
// the data source variable, every query non-empty, nothing off the 24-column grid.
func TestDashboardStructure(t *testing.T) {
	b, err := os.ReadFile("grafana/verihub.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("dashboard needs uid and title")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["datasource"] {
		t.Error("no datasource variable")
	}
	ids := map[int]bool{}
	queries := 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("duplicate panel id %d", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q off the grid: %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q: empty query %s", p.Title, tg.RefID)
			}
			queries++
		}
	}
	if queries < 10 {
		t.Errorf("only %d queries", queries)
	}
}
