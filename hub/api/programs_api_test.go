package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/matching/rules"
)

func TestProgramsList(t *testing.T) {
	f := newAPIFixture(t)
	want := map[string]bool{}
	for _, e := range f.expected {
		want[e.Program] = true
	}
	for _, client := range []string{clientAll, clientNarrow, clientAdmin} {
		t.Run(client, func(t *testing.T) {
			res := f.do(t, client, http.MethodGet, "/v1/programs", "", nil)
			if res.status != http.StatusOK {
				t.Fatalf("%d %s", res.status, res.body)
			}
			var body struct {
				Programs []struct {
					ID string `json:"id"`
				} `json:"programs"`
			}
			if err := json.Unmarshal(res.body, &body); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, p := range body.Programs {
				got[p.ID] = true
			}
			if len(got) != len(want) {
				t.Errorf("programs %v, want those of expected.ndjson %v", got, want)
			}
			for id := range want {
				if !got[id] {
					t.Errorf("program %s missing", id)
				}
			}
		})
	}
	if res := f.do(t, "", http.MethodGet, "/v1/programs", "", nil); res.status != 401 || res.problem.Code != auth.CodeMissingToken {
		t.Errorf("without a token: %d %s", res.status, res.body)
	}
}

type candidatesPage struct {
	Program    string      `json:"program"`
	Total      int         `json:"total"`
	Next       string      `json:"next"`
	Candidates []Candidate `json:"candidates"`
	Skipped    []string    `json:"skipped"`
}

func TestCandidatesPaging(t *testing.T) {
	f := newAPIFixture(t)
	const program, year = "jrr-2019", 2019
	want := map[string]int64{} // subject → amount, from the oracle
	for _, e := range f.expected {
		if e.Program == program && e.Params.Year == year && e.Decision == contracts.DecisionEligible {
			want["uscc:"+e.Subject.USCC] = e.AmountFen
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d eligible enterprises for %s: too few to page", len(want), program)
	}
	for _, limit := range []int{1, 7, 1000} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			before := len(f.audit.recorded())
			got := map[string]int64{}
			cursor, prev, pages := "", "", 0
			for {
				q := url.Values{"year": {fmt.Sprint(year)}, "limit": {fmt.Sprint(limit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				res := f.do(t, clientNarrow, http.MethodGet, "/v1/programs/"+program+"/candidates?"+q.Encode(), "", nil)
				if res.status != http.StatusOK {
					t.Fatalf("%d %s", res.status, res.body)
				}
				var page candidatesPage
				if err := json.Unmarshal(res.body, &page); err != nil {
					t.Fatal(err)
				}
				pages++
				if page.Total != len(want) || page.Program != program {
					t.Fatalf("page %d: program %s total %d, want %s %d", pages, page.Program, page.Total, program, len(want))
				}
				if page.Skipped == nil || len(page.Skipped) != 0 {
					t.Fatalf("page %d: skipped %v, want an empty list", pages, page.Skipped)
				}
				if len(page.Candidates) > limit || (page.Next != "" && len(page.Candidates) != limit) {
					t.Fatalf("page %d: %d candidates for limit %d, next %q", pages, len(page.Candidates), limit, page.Next)
				}
				for _, c := range page.Candidates {
					if c.Subject <= prev {
						t.Fatalf("page %d: %s after %s: not in ascending order", pages, c.Subject, prev)
					}
					prev = c.Subject
					if c.Decision != contracts.DecisionEligible {
						t.Errorf("%s: decision %s", c.Subject, c.Decision)
					}
					got[c.Subject] = c.AmountFen
				}
				if page.Next == "" {
					break
				}
				if page.Next != prev {
					t.Fatalf("page %d: next %q is not the last subject %q", pages, page.Next, prev)
				}
				cursor = page.Next
				if pages > len(want)+1 {
					t.Fatal("paging does not end")
				}
			}
			if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
			if len(got) != len(want) {
				t.Errorf("%d candidates, oracle has %d eligible", len(got), len(want))
			}
			for s, amount := range want {
				if g, ok := got[s]; !ok || g != amount {
					t.Errorf("%s: candidate amount %d (listed %v), oracle %d", s, g, ok, amount)
				}
			}
			events := f.audit.recorded()[before:]
			if len(events) != pages {
				t.Fatalf("%d audit events for %d pages", len(events), pages)
			}
			for _, ev := range events {
				if ev.Action != audit.ActionScreeningExport || ev.Client != clientNarrow || ev.Program != program || ev.RequestID == "" {
					t.Errorf("audit event %+v", ev)
				}
			}
		})
	}
	t.Run("listed on /v1/programs", func(t *testing.T) {
		res := f.do(t, clientAll, http.MethodGet, "/v1/programs", "", nil)
		var body struct {
			Last map[string]ScreeningSummary `json:"last_screening"`
		}
		if err := json.Unmarshal(res.body, &body); err != nil {
			t.Fatal(err)
		}
		if s := body.Last[program]; s.Candidates != len(want) {
			t.Errorf("last screening %+v, want %d candidates", s, len(want))
		}
	})
}

func TestCandidatesRefusals(t *testing.T) {
	f := newAPIFixture(t)
	person := ""
	for _, e := range f.expected {
		if e.Subject.IDNumber != "" {
			person = e.Program
			break
		}
	}
	cases := []struct {
		name, client, path string
		status             int
		code               string
	}{
		{"no token", "", "/v1/programs/jrr-2019/candidates?year=2019", 401, auth.CodeMissingToken},
		{"program outside the client's scope", clientNarrow, "/v1/programs/jrr-2020/candidates?year=2020", 403, auth.CodeInsufficientScope},
		{"unknown program", clientAll, "/v1/programs/jrr-1999/candidates", 404, rules.CodeUnknownProgram},
		{"year not a number", clientAll, "/v1/programs/jrr-2019/candidates?year=last", 400, rules.CodeInvalidParams},
		{"year outside the pack", clientAll, "/v1/programs/jrr-2019/candidates?year=2031", 400, rules.CodeInvalidParams},
		{"limit 0", clientAll, "/v1/programs/jrr-2019/candidates?year=2019&limit=0", 400, "invalid_limit"},
		{"limit over 1000", clientAll, "/v1/programs/jrr-2019/candidates?year=2019&limit=1001", 400, "invalid_limit"},
		{"person program", clientAll, "/v1/programs/" + person + "/candidates", 400, "screening_not_supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.do(t, c.client, http.MethodGet, c.path, "", nil)
			if res.status != c.status || res.problem == nil || res.problem.Code != c.code {
				t.Fatalf("%d %s, want %d %s", res.status, res.body, c.status, c.code)
			}
		})
	}
	if n := len(f.audit.recorded()); n != 0 {
		t.Errorf("%d audit events for refused screenings", n)
	}
}

// TestAdminRoutesRefuseOtherClients sends every registered admin route a portal's
// token and no token; only an administrator's token gets past authentication.
func TestAdminRoutesRefuseOtherClients(t *testing.T) {
	f := newAPIFixture(t)
	var admin []string
	for _, pattern := range f.server.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if ok && strings.HasPrefix(path, "/v1/admin/") {
			admin = append(admin, method+" "+strings.NewReplacer("{name}", "si-pull").Replace(path))
		}
	}
	if len(admin) < 8 {
		t.Fatalf("only %d admin routes registered: %v", len(admin), admin)
	}
	for _, route := range admin {
		method, path, _ := strings.Cut(route, " ")
		body := func() *strings.Reader { return strings.NewReader(`{"ids":["0:1"]}`) }
		t.Run(route, func(t *testing.T) {
			for _, c := range []struct {
				client string
				status int
				code   string
			}{
				{clientAll, 403, auth.CodeInsufficientScope},
				{clientNarrow, 403, auth.CodeInsufficientScope},
				{"", 401, auth.CodeMissingToken},
			} {
				res := f.do(t, c.client, method, path, "application/json", body())
				if res.status != c.status || res.problem == nil || res.problem.Code != c.code {
					t.Errorf("as %q: %d %s, want %d %s", c.client, res.status, res.body, c.status, c.code)
				}
			}
		})
	}
	// The refusal is about the role: the same route answers an administrator.
	res := f.do(t, clientAdmin, http.MethodGet, "/v1/admin/connectors", "", nil)
	if res.status != http.StatusOK {
		t.Errorf("administrator: %d %s", res.status, res.body)
	}
	res = f.do(t, clientAdmin, http.MethodPost, "/v1/admin/connectors/nope/pause", "application/json", nil)
	if res.status != http.StatusNotFound || res.problem.Code != "unknown_connector" {
		t.Errorf("administrator pausing an unknown connector: %d %s", res.status, res.body)
	}
}
