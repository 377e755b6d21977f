package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/hub/api"
	"github.com/verihub/verihub/hub/auth"
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

// TestRunScreenRemoteReportsSkipped screens through a hub's candidates endpoint
// (here served by a stand-in behind the real token endpoint): every page is fetched
// with the previous page's cursor, the candidates of all pages are written, and a
// subject the hub left out over the cost limit is reported once on stderr, although
// every page lists it.
func TestRunScreenRemoteReportsSkipped(t *testing.T) {
	f := newAuthFixture(t, auth.ClientConfig{ID: "portal-a", Role: auth.RolePortal, Programs: []string{"jrr-2019"}})
	pages := map[string]string{
		"": `{"candidates":[{"subject":"uscc:A","region":"320500","decision":"eligible","amount_fen":100,"review_required":false}],` +
			`"next":"p2","total":2,"skipped":["uscc:HEAVY"]}`,
		"p2": `{"candidates":[{"subject":"uscc:B","region":"320500","decision":"eligible","amount_fen":200,"review_required":true}],` +
			`"next":"","total":2,"skipped":["uscc:HEAVY"]}`,
	}
	var cursors []string
	mux := http.NewServeMux()
	mux.Handle("POST /oauth/token", f.Auth.TokenHandler())
	mux.Handle("GET /v1/programs/jrr-2019/candidates", f.Auth.Require(auth.RolePortal, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cursor := r.URL.Query().Get("cursor")
		cursors = append(cursors, cursor)
		if r.URL.Query().Get("year") != "2019" {
			http.Error(w, "year missing", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, pages[cursor])
	})))
	f.Srv.Config.Handler = mux

	var out, errOut bytes.Buffer
	err := runScreen(context.Background(), []string{"--url", f.Srv.URL, "--key", f.KeyFile, "--program", "jrr-2019",
		"--year", "2019", "--format", "ndjson"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !slices.Equal(cursors, []string{"", "p2"}) {
		t.Errorf("cursors sent %q, want the first page then p2", cursors)
	}
	var got []string
	for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
		var c api.Candidate
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got = append(got, c.Subject)
	}
	if !slices.Equal(got, []string{"uscc:A", "uscc:B"}) {
		t.Errorf("candidates %v, want both pages' in order", got)
	}
	if n := strings.Count(errOut.String(), "left out uscc:HEAVY"); n != 1 || !strings.Contains(errOut.String(), "cost limit") {
		t.Errorf("stderr reports the skipped subject %d times, want once naming the cost limit:\n%s", n, errOut.String())
	}
	if !strings.Contains(errOut.String(), "2 candidates in ") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
