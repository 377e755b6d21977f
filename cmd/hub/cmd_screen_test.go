package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/hub/api"
	"github.com/verihub/verihub/hub/hubtest"
	"github.com/verihub/verihub/matching/boltstore"
)

// TestRunScreenOffline screens an embedded store the way an operator does with the
// hub stopped (hub screen --config): the candidates are exactly the generator's
// eligible enterprises for the program and year.
func TestRunScreenOffline(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	if _, err := synthetic.Generate(ctx, synthetic.Config{Seed: 5, Enterprises: 80, Persons: 30, Out: gen}); err != nil {
		t.Fatal(err)
	}
	fold, err := hubtest.NewFolder(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, feed := range hubtest.GenFeeds(gen) {
		if err := fold.AddFile(feed); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	store, err := boltstore.Open(ctx, boltstore.Config{Dir: filepath.Join(data, "store")})
	if err != nil {
		t.Fatal(err)
	}
	if err := fold.ApplyTo(ctx, store); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+data+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var want []string
	raw, err := os.ReadFile(filepath.Join(gen, synthetic.FileExpected))
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.SplitSeq(bytes.TrimSpace(raw), []byte{'\n'}) {
		var e synthetic.Expected
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		if e.Program == "jrr-2019" && e.Params.Year == 2019 && e.Decision == "eligible" {
			want = append(want, "uscc:"+e.Subject.USCC)
		}
	}
	if len(want) == 0 {
		t.Fatal("the generated set has no eligible jrr-2019 enterprise")
	}

	var out, errOut bytes.Buffer
	if err := runScreen(ctx, []string{"--config", cfg, "--program", "jrr-2019", "--year", "2019", "--format", "ndjson"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var got []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var c api.Candidate
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		if c.Decision != "eligible" || c.AmountFen <= 0 {
			t.Errorf("candidate %+v", c)
		}
		got = append(got, c.Subject)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("candidates\n%v\nwant the generator's eligible enterprises\n%v", got, want)
	}
	if !strings.Contains(errOut.String(), " candidates in ") || strings.Contains(errOut.String(), "left out") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
