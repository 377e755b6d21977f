package api

import (
	"github.com/verihub/verihub/hub/admin/console"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/verihub/verihub/contracts"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// documentedOperations returns "METHOD /path" for every operation of an OpenAPI
// document.
func documentedOperations(t *testing.T, doc []byte) map[string]bool {
	t.Helper()
	var d struct {
		OpenAPI string                          `yaml:"openapi"`
		Paths   map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		t.Fatalf("parsing openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Errorf("openapi version %q", d.OpenAPI)
	}
	ops := map[string]bool{}
	for path, item := range d.Paths {
		for key := range item {
			if slices.Contains(openAPIMethods, key) {
				ops[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	return ops
}

var muxWildcard = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

// openAPIPath maps a ServeMux pattern's path to an OpenAPI path: "{name...}"
// becomes "{name}", a "{$}" anchor is dropped, the rest is literal.
func openAPIPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return muxWildcard.ReplaceAllString(p, "{$1}")
}

// registeredOperations returns "METHOD /path" for every pattern the server
// registers. A pattern without a method (the console's "/admin/") serves every
// method: it is described when the document has at least one operation on it, and
// every operation the document gives it is served.
func registeredOperations(routes []string) (ops map[string]bool, anyMethod map[string]bool) {
	ops, anyMethod = map[string]bool{}, map[string]bool{}
	for _, r := range routes {
		method, path, ok := strings.Cut(r, " ")
		if !ok {
			anyMethod[openAPIPath(r)] = true
			continue
		}
		ops[method+" "+openAPIPath(path)] = true
	}
	return ops, anyMethod
}

func TestOpenAPIPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/v1/verifications:batch", "/v1/verifications:batch"},
		{"/v1/programs/{id}/candidates", "/v1/programs/{id}/candidates"},
		{"/files/{path...}", "/files/{path}"},
		{"/v1/{$}", "/v1/"},
		{"/admin/", "/admin/"},
	} {
		if got := openAPIPath(c.in); got != c.want {
			t.Errorf("openAPIPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOpenAPIDescribesEveryRoute keeps contracts/openapi.yaml and the server's routes
// in step, in both directions.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	f := newAPIFixture(t)
	// The console is optional; describe the server with every route it can have.
	s := *f.server
	c, err := console.New(console.Options{Auth: s.Auth, Registry: s.Registry, TokenURL: "http://127.0.0.1/oauth/token"})
	if err != nil {
		t.Fatal(err)
	}
	s.Console = c
	s.Handler()
	routes := s.Routes()
	if !slices.Contains(routes, "/admin/") {
		t.Fatalf("routes %v lack the console", routes)
	}
	documented := documentedOperations(t, contracts.OpenAPI)
	served, anyMethod := registeredOperations(routes)

	var missing, extra []string
	for op := range served {
		if !documented[op] {
			missing = append(missing, op)
		}
	}
	for path := range anyMethod {
		found := false
		for op := range documented {
			_, p, _ := strings.Cut(op, " ")
			found = found || p == path
		}
		if !found {
			missing = append(missing, "* "+path)
		}
	}
	for op := range documented {
		_, p, _ := strings.Cut(op, " ")
		if !served[op] && !anyMethod[p] {
			extra = append(extra, op)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, op := range missing {
		t.Errorf("route %s is served but not described in contracts/openapi.yaml", op)
	}
	for _, op := range extra {
		t.Errorf("operation %s is described in contracts/openapi.yaml but not served", op)
	}
	if len(served) < 15 {
		t.Errorf("only %d routes registered", len(served))
	}
}

// TestOpenAPIConformanceDetectsDrift proves the comparison above can fail.
func TestOpenAPIConformanceDetectsDrift(t *testing.T) {
	doc := []byte("openapi: 3.1.0\npaths:\n  /a:\n    get: {}\n  /b/{id}:\n    post: {}\n    parameters: []\n")
	documented := documentedOperations(t, doc)
	if len(documented) != 2 || !documented["GET /a"] || !documented["POST /b/{id}"] {
		t.Fatalf("documented %v", documented)
	}
	served, _ := registeredOperations([]string{"GET /a", "POST /b/{id...}", "DELETE /c"})
	if !served["POST /b/{id}"] || documented["DELETE /c"] || !served["DELETE /c"] {
		t.Fatalf("served %v", served)
	}
}
