package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/hub"
)

// k8sDoc is the part of a Kubernetes object these checks read.
type k8sDoc struct {
	file       string
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas       *int                  `yaml:"replicas"`
		MinReplicas    int                   `yaml:"minReplicas"`
		MaxReplicas    int                   `yaml:"maxReplicas"`
		Selector       yaml.Node             `yaml:"selector"`
		Strategy       struct{ Type string } `yaml:"strategy"`
		ScaleTargetRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    int   `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	TerminationGracePeriodSeconds int         `yaml:"terminationGracePeriodSeconds"`
	InitContainers                []container `yaml:"initContainers"`
	Containers                    []container `yaml:"containers"`
	Volumes                       []struct {
		Name      string                 `yaml:"name"`
		ConfigMap *struct{ Name string } `yaml:"configMap"`
		Secret    *struct {
			SecretName string `yaml:"secretName"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext *struct {
		AllowPrivilegeEscalation *bool                   `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool                   `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct{ Drop []string } `yaml:"capabilities"`
	} `yaml:"securityContext"`
	StartupProbe   *probe `yaml:"startupProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// k8sDocs decodes every object in k8s/*.yaml except the kustomization.
func k8sDocs(t *testing.T) []k8sDoc {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in k8s/: %v", err)
	}
	var out []k8sDoc
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var d k8sDoc
			if err := dec.Decode(&d); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d.file = f
			out = append(out, d)
		}
	}
	return out
}

// hubRoutes returns the GET routes hub/api registers without authentication for
// orchestrators, read from its source.
func hubRoutes(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile("../hub/api/server.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if bytes.Contains(src, []byte(`handle("GET `+p+`"`)) {
			routes[p] = true
		}
	}
	return routes
}

// TestKubernetesStructure checks what a schema cannot: that the manifests agree with
// the hub and with each other.
func TestKubernetesStructure(t *testing.T) {
	docs := k8sDocs(t)
	routes := hubRoutes(t)
	if !routes["/healthz"] || !routes["/readyz"] {
		t.Fatalf("hub/api/server.go no longer registers /healthz and /readyz: %v", routes)
	}
	byKind := map[string][]k8sDoc{}
	configKeys := map[string]string{}
	for _, d := range docs {
		if d.APIVersion == "" || d.Kind == "" || d.Metadata.Name == "" {
			t.Errorf("%s: an object lacks apiVersion, kind or metadata.name", d.file)
		}
		byKind[d.Kind] = append(byKind[d.Kind], d)
		if d.Kind == "ConfigMap" {
			for k, v := range d.Data {
				configKeys[d.Metadata.Name+"/"+k] = v
			}
		}
	}
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if len(byKind[kind]) == 0 {
			t.Errorf("no %s", kind)
		}
	}

	deployments := map[string]k8sDoc{}
	for _, d := range byKind["Deployment"] {
		deployments[d.Metadata.Name] = d
		ps := d.Spec.Template.Spec
		if sc := ps.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == 0 {
			t.Errorf("%s: pod must run as a non-root user", d.Metadata.Name)
		}
		volumes := map[string]bool{}
		for _, v := range ps.Volumes {
			volumes[v.Name] = true
		}
		for _, c := range append(slices.Clone(ps.InitContainers), ps.Containers...) {
			where := d.Metadata.Name + "/" + c.Name
			if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
				c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation ||
				!slices.Contains(c.SecurityContext.Capabilities.Drop, "ALL") {
				t.Errorf("%s: needs readOnlyRootFilesystem, no privilege escalation and all capabilities dropped", where)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("%s: needs cpu and memory requests and a memory limit", where)
			}
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s: mounts undeclared volume %q", where, m.Name)
				}
			}
		}
		hubs := 0
		for _, c := range ps.Containers {
			if len(c.Args) < 3 || c.Args[0] != "serve" || c.Args[1] != "--config" {
				continue
			}
			hubs++
			where := d.Metadata.Name + "/" + c.Name
			cfg := configFromMount(t, c, ps, configKeys)
			_, port, _ := strings.Cut(cfg.HTTP.Addr, ":")
			ports := map[string]int{}
			for _, p := range c.Ports {
				ports[p.Name] = p.ContainerPort
			}
			if strconv.Itoa(ports["http"]) != port {
				t.Errorf("%s: container port http %d, the hub listens on %s", where, ports["http"], cfg.HTTP.Addr)
			}
			for name, pr := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
				if pr == nil || pr.HTTPGet == nil {
					t.Errorf("%s: no %s probe", where, name)
					continue
				}
				if !routes[pr.HTTPGet.Path] {
					t.Errorf("%s: %s probe path %s is not a hub route", where, name, pr.HTTPGet.Path)
				}
				if _, ok := ports[pr.HTTPGet.Port]; !ok {
					t.Errorf("%s: %s probe port %q is not a container port", where, name, pr.HTTPGet.Port)
				}
			}
			if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("%s: readiness must ask /readyz (dependencies), not %s", where, c.ReadinessProbe.HTTPGet.Path)
			}
			if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("%s: liveness must ask /healthz: restarting a hub because Redis is away helps nobody", where)
			}
			if grace := cfg.HTTP.ShutdownTimeout.Seconds(); float64(ps.TerminationGracePeriodSeconds) <= grace {
				t.Errorf("%s: terminationGracePeriodSeconds %d must exceed http.shutdown_timeout %v", where, ps.TerminationGracePeriodSeconds, cfg.HTTP.ShutdownTimeout)
			}
			if len(cfg.Connectors) > 0 {
				if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != "Recreate" {
					t.Errorf("%s: runs connectors, so it must be one replica with the Recreate strategy (no leader election)", where)
				}
			}
			for _, h := range byKind["HorizontalPodAutoscaler"] {
				if h.Spec.ScaleTargetRef.Name == d.Metadata.Name {
					if len(cfg.Connectors) > 0 {
						t.Errorf("%s: an HPA scales the connectors deployment", h.Metadata.Name)
					}
					if h.Spec.MaxReplicas > cfg.Bus.WithDefaults().Partitions {
						t.Errorf("%s: maxReplicas %d exceeds bus.partitions %d: extra pods would get no matching work",
							h.Metadata.Name, h.Spec.MaxReplicas, cfg.Bus.WithDefaults().Partitions)
					}
				}
			}
		}
		if hubs == 0 {
			t.Errorf("%s: no container runs hub serve --config", d.Metadata.Name)
		}
	}
	for _, h := range byKind["HorizontalPodAutoscaler"] {
		if _, ok := deployments[h.Spec.ScaleTargetRef.Name]; !ok || h.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("%s scales %s %s, not a shipped Deployment", h.Metadata.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if h.Spec.MinReplicas < 2 {
			t.Errorf("%s: minReplicas %d leaves no spare during a disruption", h.Metadata.Name, h.Spec.MinReplicas)
		}
	}
	for _, kind := range []string{"Service", "PodDisruptionBudget"} {
		for _, s := range byKind[kind] {
			sel := selectorLabels(t, s)
			matched := 0
			for _, d := range deployments {
				if labelsMatch(sel, d.Spec.Template.Metadata.Labels) {
					matched++
					if kind == "Service" {
						for _, p := range s.Spec.Ports {
							if !containerHasPort(d, p.TargetPort) {
								t.Errorf("service %s: targetPort %q is not a port of %s", s.Metadata.Name, p.TargetPort, d.Metadata.Name)
							}
						}
					}
				}
			}
			if matched == 0 {
				t.Errorf("%s %s selects no pods", kind, s.Metadata.Name)
			}
		}
	}
}

// configFromMount finds the hub configuration a container's --config path points at
// in the ConfigMaps and loads it.
func configFromMount(t *testing.T, c container, ps podSpec, configKeys map[string]string) hub.Config {
	t.Helper()
	path := c.Args[2]
	for _, m := range c.VolumeMounts {
		if !strings.HasPrefix(path, m.MountPath+"/") {
			continue
		}
		for _, v := range ps.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				raw, ok := configKeys[v.ConfigMap.Name+"/"+strings.TrimPrefix(path, m.MountPath+"/")]
				if !ok {
					t.Fatalf("%s: %s is not a key of ConfigMap %s", c.Name, path, v.ConfigMap.Name)
				}
				cfg, err := hub.ParseConfig([]byte(raw))
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				return cfg
			}
		}
	}
	t.Fatalf("%s: --config %s is not on a ConfigMap mount", c.Name, path)
	return hub.Config{}
}

func selectorLabels(t *testing.T, d k8sDoc) map[string]string {
	t.Helper()
	var m struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	var plain map[string]string
	if d.Kind == "Service" {
		if err := d.Spec.Selector.Decode(&plain); err != nil {
			t.Fatal(err)
		}
		return plain
	}
	if err := d.Spec.Selector.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.MatchLabels
}

func labelsMatch(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func containerHasPort(d k8sDoc, port string) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == port || strconv.Itoa(p.ContainerPort) == port {
				return true
			}
		}
	}
	return false
}

// TestKubernetesSchemas validates the rendered manifests against the Kubernetes JSON
// schemas with kubernetes-validate (PyPI; it ships the schemas, so it works offline).
// kubectl, when present, renders the kustomization first.
func TestKubernetesSchemas(t *testing.T) {
	validator := lookTool(t, "VERIHUB_KUBERNETES_VALIDATE", "kubernetes-validate",
		"python3 -m venv /tmp/kv && /tmp/kv/bin/pip install kubernetes-validate, then VERIHUB_KUBERNETES_VALIDATE=/tmp/kv/bin/kubernetes-validate")
	files, _ := filepath.Glob("k8s/*.yaml")
	args := []string{"--strict", "--quiet", "-k", "1.33.0"}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(kubectl, "kustomize", "k8s").Output()
		if err != nil {
			t.Fatalf("kubectl kustomize k8s: %v", err)
		}
		rendered := filepath.Join(t.TempDir(), "rendered.yaml")
		writeFile(t, rendered, string(out), 0o644)
		args = append(args, rendered)
	} else {
		t.Log("kubectl not found: validating the files without rendering the kustomization")
		for _, f := range files {
			if filepath.Base(f) != "kustomization.yaml" {
				args = append(args, f)
			}
		}
	}
	out, err := exec.Command(validator, args...).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("ERROR")) {
		t.Fatalf("kubernetes-validate: %v\n%s", err, out)
	}
}

// lookTool finds an external validator by environment variable or PATH, or skips.
func lookTool(t *testing.T, env, name, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found (set %s or put it on PATH; install: %s)", name, env, install)
	}
	return p
}
