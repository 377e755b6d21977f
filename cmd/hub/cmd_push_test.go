package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/api"
	"github.com/verihub/verihub/hub/auth"
)

// typeSubmitter accepts records of the feed's own agency and rejects the rest.
type typeSubmitter struct {
	mu      sync.Mutex
	batches int
}

func (s *typeSubmitter) Submit(_ context.Context, agency string, raws [][]byte) (int, []api.FeedReject, error) {
	s.mu.Lock()
	s.batches++
	s.mu.Unlock()
	accepted, rejected := 0, []api.FeedReject{}
	for i, raw := range raws {
		var env struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &env) != nil || contracts.AgencyOf(env.Type) != agency {
			rejected = append(rejected, api.FeedReject{Index: i, Code: "wrong_agency", Field: "type", Message: "not a " + agency + " record"})
			continue
		}
		accepted++
	}
	return accepted, rejected, nil
}

func TestPush(t *testing.T) {
	f := newAuthFixture(t, auth.ClientConfig{ID: "agency-env", Role: auth.RoleAgency, Feed: "env"})
	srv, a, state := f.Srv, f.Auth, f.State
	sub := &typeSubmitter{}
	mux := http.NewServeMux()
	mux.Handle("POST /oauth/token", a.TokenHandler())
	scope := func(r *http.Request) string { return auth.ScopePush(r.PathValue("agency")) }
	mux.Handle(api.FeedRoute, a.Require("", scope)(&api.Feeds{Keys: a, Submit: sub, Receipts: state}))
	srv.Config.Handler = mux

	dir, keyFile := t.TempDir(), f.KeyFile
	var file strings.Builder
	for i := range 25 {
		typ := "env.rating"
		if i == 3 || i >= 20 {
			typ = "credit.listing"
		}
		fmt.Fprintf(&file, `{"type":%q,"id":"91350100M000100Y43:20%02d","revision":0,"as_of":"2019-01-05T00:00:00Z","data":{}}`+"\n", typ, i)
	}
	file.WriteString("{oops\n")
	data := filepath.Join(dir, "env.ndjson")
	if err := os.WriteFile(data, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name       string
		args       []string
		code       int
		out        []string // lines stdout must start with, in order
		errHas     string
		submitted  int // batches submitted so far
		outMaxLine int
	}{
		{"push", []string{"--agency", "env", "--key", keyFile, "--url", srv.URL + "/", "--batch", "10", data}, 0,
			[]string{"accepted 19 rejected 7 batches 3", "line 4 wrong_agency type", "line 21 wrong_agency type"}, "", 3, 8},
		{"the same file again is answered from receipts", []string{"--agency", "env", "--key", keyFile, "--url", srv.URL, "--batch", "10", "--concurrency", "1", data}, 0,
			[]string{"accepted 19 rejected 7 batches 3"}, "3 of the batches were pushed before", 3, 8},
		{"another feed than the client's", []string{"--agency", "si", "--key", keyFile, "--url", srv.URL, data}, 1,
			nil, "scope_not_allowed", 3, 0},
		{"another client id", []string{"--agency", "env", "--key", keyFile, "--url", srv.URL, "--client", "agency-x", data}, 1,
			nil, "unknown_client", 3, 0},
		{"hub unreachable", []string{"--agency", "env", "--key", keyFile, "--url", "http://127.0.0.1:1", "--retries", "0", data}, 1,
			nil, "127.0.0.1:1", 3, 0},
		{"no file", []string{"--agency", "env", "--key", keyFile, "--url", srv.URL}, 2, nil, "usage", 3, 0},
		{"batch too big", []string{"--agency", "env", "--key", keyFile, "--url", srv.URL, "--batch", "1001", data}, 2, nil, "--batch", 3, 0},
		{"missing file", []string{"--agency", "env", "--key", keyFile, "--url", srv.URL, filepath.Join(dir, "nope")}, 1, nil, "nope", 3, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runHub(append([]string{"push"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s %s", code, c.code, out, stderr)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			for i, want := range c.out {
				if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
					t.Errorf("stdout line %d: %q, want %q…\n%s", i, lines, want, out)
					break
				}
			}
			if c.outMaxLine > 0 && len(lines) != c.outMaxLine {
				t.Errorf("%d stdout lines, want %d:\n%s", len(lines), c.outMaxLine, out)
			}
			if !strings.Contains(stderr, c.errHas) {
				t.Errorf("stderr %q, want it to mention %q", stderr, c.errHas)
			}
			sub.mu.Lock()
			n := sub.batches
			sub.mu.Unlock()
			if n != c.submitted {
				t.Errorf("%d batches submitted, want %d", n, c.submitted)
			}
		})
	}
}
