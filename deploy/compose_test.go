package deploy

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/hub"
)

type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       map[string]any `yaml:"build"`
		Command     []string       `yaml:"command"`
		Entrypoint  []string       `yaml:"entrypoint"`
		Environment map[string]any `yaml:"environment"`
		Secrets     []string       `yaml:"secrets"`
		Configs     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"configs"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Configs map[string]struct {
		File string `yaml:"file"`
	} `yaml:"configs"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// TestComposeStructure checks compose.yaml against the hub: the Kafka quorum, the
// hubs' configurations, the simulators the connectors pull from, the subcommands and
// flags used, and what Prometheus scrapes.
func TestComposeStructure(t *testing.T) {
	var c composeFile
	yamlFile(t, "compose.yaml", &c)

	// Three KRaft nodes, each a voter, distinct ids.
	var voters string
	ids := map[string]bool{}
	for _, n := range []string{"kafka-1", "kafka-2", "kafka-3"} {
		s, ok := c.Services[n]
		if !ok {
			t.Fatalf("no service %s", n)
		}
		if !strings.HasPrefix(s.Image, "apache/kafka:") {
			t.Errorf("%s: image %s, want apache/kafka", n, s.Image)
		}
		id, _ := s.Environment["KAFKA_NODE_ID"].(string)
		ids[id] = true
		voters, _ = s.Environment["KAFKA_CONTROLLER_QUORUM_VOTERS"].(string)
		if !strings.Contains(voters, id+"@"+n+":") {
			t.Errorf("%s (node %s) is not among the voters %s", n, id, voters)
		}
	}
	if len(ids) != 3 {
		t.Errorf("node ids %v are not distinct", ids)
	}
	if _, ok := c.Services["redis"]; !ok {
		t.Error("no redis service")
	}

	// Every hub subcommand and flag used exists in cmd/hub.
	for name, s := range c.Services {
		if !strings.HasPrefix(s.Image, "verihub/hub") || len(s.Command) == 0 || len(s.Entrypoint) > 0 {
			continue
		}
		checkHubCommand(t, name, s.Command)
	}

	// The two hubs: same matching group, one runs connectors, each config file exists.
	groups := map[string]bool{}
	var pullers []hub.Config
	for _, name := range []string{"hub-1", "hub-2"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if len(s.Configs) != 1 || s.Command[len(s.Command)-1] != s.Configs[0].Target {
			t.Fatalf("%s: serve --config must point at its mounted config", name)
		}
		file := c.Configs[s.Configs[0].Source].File
		cfg, err := hub.LoadConfig(file)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		groups[cfg.Matching.Group] = true
		if len(cfg.Connectors) > 0 {
			pullers = append(pullers, cfg)
		}
		if ht := strings.Join(s.Healthcheck.Test, " "); !strings.Contains(ht, "probe http://127.0.0.1:"+portOf(cfg.HTTP.Addr)+"/readyz") {
			t.Errorf("%s: healthcheck %q must probe /readyz on the hub's port", name, ht)
		}
		for _, secret := range s.Secrets {
			if _, ok := c.Secrets[secret]; !ok {
				t.Errorf("%s: undeclared secret %s", name, secret)
			}
		}
		for _, f := range referencedFiles(cfg) {
			if strings.HasPrefix(f, "/run/secrets/") && !slices.Contains(s.Secrets, strings.TrimPrefix(f, "/run/secrets/")) {
				t.Errorf("%s: its config reads %s, which is not one of its secrets", name, f)
			}
		}
	}
	if len(groups) != 1 {
		t.Errorf("the hubs use matching groups %v; they must share one", groups)
	}
	if len(pullers) != 1 {
		t.Fatalf("%d hubs run connectors, want exactly 1", len(pullers))
	}

	// One simulator per pull agency, at the address the connector pulls from.
	for _, conn := range pullers[0].Connectors {
		u, err := url.Parse(conn.BaseURL)
		if err != nil {
			t.Fatal(err)
		}
		sim, ok := c.Services[u.Hostname()]
		if !ok {
			t.Errorf("connector %s pulls from %s: no such service", conn.Name, u.Host)
			continue
		}
		if flag(sim.Command, "--agency") != conn.Agency || portOf(flag(sim.Command, "--addr")) != u.Port() {
			t.Errorf("connector %s (%s at %s) does not match %s %v", conn.Name, conn.Agency, u.Host, u.Hostname(), sim.Command)
		}
	}
	if got := len(pullers[0].Connectors); got != len(connectors.AgencyNames()) {
		t.Errorf("%d connectors, want one per pull agency %v", got, connectors.AgencyNames())
	}

	// Every secret file is one compose-secrets.sh creates; every config file exists.
	script, err := os.ReadFile("compose-secrets.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range c.Secrets {
		base := filepath.Base(s.File)
		created := strings.Contains(string(script), base) ||
			(strings.HasSuffix(base, ".token") && strings.Contains(string(script), `"$a.token"`)) ||
			(strings.HasSuffix(base, ".pub.jwk") && strings.Contains(string(script), `"$name.pub.jwk"`))
		if !strings.HasPrefix(s.File, "./secrets/") || !created {
			t.Errorf("secret %s: %s is not created by compose-secrets.sh", name, s.File)
		}
	}
	for name, cf := range c.Configs {
		if _, err := os.Stat(cf.File); err != nil {
			t.Errorf("config %s: %v", name, err)
		}
	}

	// Prometheus scrapes both hubs.
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	yamlFile(t, "prometheus/prometheus.yml", &prom)
	var targets []string
	for _, sc := range prom.ScrapeConfigs {
		if sc.JobName == "verihub" {
			for _, st := range sc.StaticConfigs {
				targets = append(targets, st.Targets...)
			}
		}
	}
	for _, want := range []string{"hub-1:8080", "hub-2:8080"} {
		if !slices.Contains(targets, want) {
			t.Errorf("prometheus does not scrape %s (targets %v)", want, targets)
		}
	}
}

// TestComposeSchema validates compose.yaml against the Compose Specification schema
// with dclint (npm), keeping its schema check and its correctness rules and leaving
// out the ones about key order and naming style.
func TestComposeSchema(t *testing.T) {
	dclint := lookTool(t, "VERIHUB_DCLINT", "dclint", "npm install --prefix /tmp/dclint dclint, then VERIHUB_DCLINT=/tmp/dclint/node_modules/.bin/dclint")
	args := []string{"compose.yaml", "--disable-rule", "no-build-and-image", "service-image-require-explicit-tag",
		"service-keys-order", "services-alphabetical-order", "top-level-properties-order",
		"service-dependencies-alphabetical-order", "require-quotes-in-ports"}
	if out, err := exec.Command(dclint, args...).CombinedOutput(); err != nil {
		t.Fatalf("dclint: %v\n%s", err, out)
	}
}

func checkHubCommand(t *testing.T, service string, cmd []string) {
	t.Helper()
	cmds, err := os.ReadFile("../cmd/hub/commands.go")
	if err != nil {
		t.Fatal(err)
	}
	sub := cmd[0]
	if !strings.Contains(string(cmds), `"`+sub+`":`) {
		t.Errorf("%s: hub has no subcommand %q", service, sub)
		return
	}
	src, err := os.ReadFile(filepath.Join("..", "cmd", "hub", "cmd_"+strings.ReplaceAll(sub, "-", "")+".go"))
	if err != nil {
		matches, _ := filepath.Glob("../cmd/hub/cmd_*.go")
		for _, m := range matches {
			b, _ := os.ReadFile(m)
			src = append(src, b...)
		}
	}
	for _, a := range cmd[1:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !strings.Contains(string(src), `"`+name+`"`) {
				t.Errorf("%s: hub %s has no flag --%s", service, sub, name)
			}
		}
	}
}

func flag(cmd []string, name string) string {
	for i, a := range cmd {
		if a == name && i+1 < len(cmd) {
			return cmd[i+1]
		}
	}
	return ""
}

func portOf(addr string) string {
	_, port, _ := strings.Cut(addr, ":")
	return port
}

// referencedFiles lists the files a configuration reads.
func referencedFiles(cfg hub.Config) []string {
	files := []string{cfg.PII.SecretFile, cfg.Auth.SecretFile, cfg.Store.Redis.PasswordFile}
	for _, c := range cfg.Connectors {
		files = append(files, c.TokenFile)
	}
	for _, cl := range cfg.Auth.Clients {
		files = append(files, cl.KeyFiles...)
	}
	return slices.DeleteFunc(files, func(s string) bool { return s == "" })
}
