package hub

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite deploy/config/REFERENCE.md from the configuration structs")

// TestConfigReference keeps deploy/config/REFERENCE.md, the operators' configuration
// reference, equal to what the configuration structs accept.
func TestConfigReference(t *testing.T) {
	got, err := ConfigReference("..")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "deploy", "config", "REFERENCE.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with go test ./hub -run TestConfigReference -update)", err)
	}
	if string(want) != got {
		t.Fatalf("%s is out of date with the configuration structs: go test ./hub -run TestConfigReference -update", path)
	}
	for _, key := range []string{"`bus.brokers`", "`store.redis.addrs`", "`auth.clients[].programs`", "`connectors[].base_url`"} {
		if !strings.Contains(got, key) {
			t.Errorf("reference lacks %s", key)
		}
	}
}

// modulePath is the module the configuration types live in.
const modulePath = "github.com/verihub/verihub"

// ConfigReference renders the configuration reference (Markdown) from the Config
// structs themselves: every YAML key with its type, its default in an embedded hub,
// and the doc comment of its field, read from the Go sources under moduleRoot. A test
// keeps deploy/config/REFERENCE.md equal to it.
func ConfigReference(moduleRoot string) (string, error) {
	docs := fieldDocs{root: moduleRoot, parsed: map[string]map[string]string{}}
	var rows []refRow
	defaults := reflect.ValueOf(Config{}.WithDefaults())
	if err := walkConfig(reflect.TypeOf(Config{}), defaults, "", &docs, &rows); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("Generated from the configuration structs by `go test ./hub -run TestConfigReference -update`;\n")
	b.WriteString("a test fails when this file and the code disagree. Decoding is strict: a key not\n")
	b.WriteString("listed here is an error. Defaults are those of an embedded hub with `data_dir: data`;\n")
	b.WriteString("durations are Go durations (`500ms`, `10s`, `24h`). `[]` marks a list of entries.\n\n")
	b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.key, r.typ, r.def, r.doc)
	}
	return b.String(), nil
}

type refRow struct{ key, typ, def, doc string }

func walkConfig(t reflect.Type, v reflect.Value, prefix string, docs *fieldDocs, rows *[]refRow) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice {
			prefix += "[]"
		}
		t, v = t.Elem(), reflect.Value{}
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		var fv reflect.Value
		if v.IsValid() {
			fv = v.Field(i)
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			if err := walkConfig(f.Type, fv, prefix, docs, rows); err != nil {
				return err
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		doc, err := docs.of(t, f.Name)
		if err != nil {
			return err
		}
		*rows = append(*rows, refRow{key: key, typ: typeName(f.Type), def: defaultOf(fv), doc: doc})
		if err := walkConfig(f.Type, fv, key, docs, rows); err != nil {
			return err
		}
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "duration"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map"
	case t.Kind() == reflect.Struct:
		return "section"
	case t.Kind() == reflect.Interface:
		return "any"
	}
	return t.Kind().String()
}

func defaultOf(v reflect.Value) string {
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return ""
	case reflect.Slice:
		if v.Len() == 0 {
			return ""
		}
	}
	if d, ok := v.Interface().(time.Duration); ok {
		return "`" + d.String() + "`"
	}
	return "`" + fmt.Sprint(v.Interface()) + "`"
}

// fieldDocs reads struct field comments from the module's sources.
type fieldDocs struct {
	root   string
	parsed map[string]map[string]string // package path → "Type.Field" → doc
}

func (d *fieldDocs) of(t reflect.Type, field string) (string, error) {
	pkg := t.PkgPath()
	if !strings.HasPrefix(pkg, modulePath) {
		return "", nil
	}
	m, ok := d.parsed[pkg]
	if !ok {
		var err error
		if m, err = parseFieldDocs(filepath.Join(d.root, strings.TrimPrefix(pkg, modulePath))); err != nil {
			return "", err
		}
		d.parsed[pkg] = m
	}
	return m[t.Name()+"."+field], nil
}

func parseFieldDocs(dir string) (map[string]string, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading config docs: %w", err)
	}
	out := map[string]string{}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("reading config docs: %w", err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			for _, fl := range st.Fields.List {
				text := ""
				if fl.Doc != nil {
					text = fl.Doc.Text()
				} else if fl.Comment != nil {
					text = fl.Comment.Text()
				}
				text = strings.Join(strings.Fields(text), " ")
				text = strings.ReplaceAll(text, "|", "\\|")
				for _, id := range fl.Names {
					out[ts.Name.Name+"."+id.Name] = text
				}
			}
			return false
		})
	}
	return out, nil
}
