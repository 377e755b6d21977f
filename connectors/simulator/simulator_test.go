package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/verihub/verihub/contracts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func envs(typ string, n int) []contracts.Envelope {
	out := make([]contracts.Envelope, n)
	for i := range out {
		out[i] = contracts.Envelope{Type: typ, ID: typ + "-" + string(rune('a'+i)), AsOf: time.Date(2019, 1, 5, 0, 0, 0, 0, time.UTC), Data: json.RawMessage(`{}`)}
	}
	return out
}

type page struct {
	Records   []contracts.Envelope `json:"records"`
	Next      string               `json:"next"`
	HasMore   bool                 `json:"has_more"`
	Remaining int                  `json:"remaining"`
}

func get(t *testing.T, h http.Handler, url, token string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestServePages(t *testing.T) {
	s := New("tax", []string{contracts.TypeTaxpayer}, "tok", 1)
	if err := s.Append(envs(contracts.TypeTaxpayer, 5)...); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cursor := ""
	for range 10 {
		resp, body := get(t, s, "/api/v1/records?type=tax.taxpayer&limit=2&since="+cursor, "tok")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		cursor = p.Next
		if !p.HasMore {
			if p.Remaining != 0 {
				t.Errorf("remaining %d at the end", p.Remaining)
			}
			break
		}
	}
	if got := strings.Join(ids, ","); got != "tax.taxpayer-a,tax.taxpayer-b,tax.taxpayer-c,tax.taxpayer-d,tax.taxpayer-e" {
		t.Errorf("served %s", got)
	}
	// The end cursor stays valid and sees appended records.
	s.Append(envs(contracts.TypeTaxpayer, 6)[5])
	_, body := get(t, s, "/api/v1/records?type=tax.taxpayer&since="+cursor, "tok")
	var p page
	json.Unmarshal(body, &p)
	if len(p.Records) != 1 || p.Records[0].ID != "tax.taxpayer-f" {
		t.Errorf("after append: %s", body)
	}
}

func TestRefusals(t *testing.T) {
	s := New("tax", []string{contracts.TypeTaxpayer}, "tok", 1)
	s.Append(envs(contracts.TypeTaxpayer, 3)...)
	tests := []struct {
		name, url, token string
		status           int
		code             string
	}{
		{"no token", "/api/v1/records?type=tax.taxpayer", "", 401, "unauthorized"},
		{"wrong token", "/api/v1/records?type=tax.taxpayer", "nope", 401, "unauthorized"},
		{"unknown type", "/api/v1/records?type=si.person", "tok", 400, "unknown_type"},
		{"limit zero", "/api/v1/records?type=tax.taxpayer&limit=0", "tok", 400, "bad_limit"},
		{"limit text", "/api/v1/records?type=tax.taxpayer&limit=ten", "tok", 400, "bad_limit"},
		{"bad cursor", "/api/v1/records?type=tax.taxpayer&since=%25%25", "tok", 400, "bad_cursor"},
		{"cursor past end", "/api/v1/records?type=tax.taxpayer&since=" + EncodeCursor(9), "tok", 400, "bad_cursor"},
		{"other path", "/api/v2/records", "tok", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, s, tt.url, tt.token)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s, want %d problem+json", resp.StatusCode, resp.Header.Get("Content-Type"), tt.status)
			}
			var p struct{ Code string }
			json.Unmarshal(body, &p)
			if p.Code != tt.code {
				t.Errorf("code %q, want %q", p.Code, tt.code)
			}
		})
	}
	resp, body := get(t, s, "/api/v1/records?type=tax.taxpayer&limit=100000", "tok")
	var p page
	json.Unmarshal(body, &p)
	if resp.StatusCode != 200 || len(p.Records) != 3 {
		t.Errorf("a limit over the maximum is clamped, got %d: %s", resp.StatusCode, body)
	}
}

func TestFaults(t *testing.T) {
	s := New("env", []string{contracts.TypeRating}, "tok", 1)
	s.Append(envs(contracts.TypeRating, 6)...)
	url := "/api/v1/records?type=env.rating&limit=2&since=" + EncodeCursor(4)

	s.SetFaults(Faults{NextErrors: 1, RetryAfter: 1500 * time.Millisecond})
	resp, _ := get(t, s, url, "tok")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("error fault: %d Retry-After %q, want 503 with 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.SetFaults(Faults{NextErrors: 1, ErrorStatus: 502})
	if resp, _ := get(t, s, url, "tok"); resp.StatusCode != 502 || resp.Header.Get("Retry-After") != "" {
		t.Errorf("error fault without Retry-After: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.SetFaults(Faults{NextTruncated: 1})
	_, body := get(t, s, url, "tok")
	if json.Valid(body) {
		t.Errorf("truncated body is valid JSON: %s", body)
	}
	s.SetFaults(Faults{NextDuplicates: 1})
	_, body = get(t, s, url, "tok")
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	off, _ := DecodeCursor(p.Next)
	if off >= 6 || len(p.Records) == 0 || p.Records[0].ID == "env.rating-e" {
		t.Errorf("duplicate fault served %s", body)
	}
	s.SetFaults(Faults{})
	_, body = get(t, s, url, "tok")
	json.Unmarshal(body, &p)
	if p.Records[0].ID != "env.rating-e" || p.Next != EncodeCursor(6) {
		t.Errorf("no fault served %s", body)
	}
	st := s.Stats()
	if st.Errors != 2 || st.Truncated != 1 || st.Duplicates != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestServerRestartSameAddress(t *testing.T) {
	s := New("tax", []string{contracts.TypeTaxpayer}, "tok", 1)
	s.Append(envs(contracts.TypeTaxpayer, 2)...)
	srv, err := Listen(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	addr := srv.Addr()
	c := &http.Client{Timeout: time.Second}
	defer c.CloseIdleConnections()
	fetch := func() error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/api/v1/records?type=tax.taxpayer", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	if err := fetch(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	c.CloseIdleConnections()
	if err := fetch(); err == nil {
		t.Errorf("fetch succeeded while stopped")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != addr {
		t.Errorf("restarted on %s, want %s", srv.Addr(), addr)
	}
	if err := fetch(); err != nil {
		t.Errorf("fetch after restart: %v", err)
	}
	if err := srv.Start(); err == nil {
		t.Errorf("starting a running server succeeded")
	}
}

func TestLoadNDJSON(t *testing.T) {
	s := New("si", []string{contracts.TypeEmployer, contracts.TypePerson}, "tok", 1)
	in := `{"type":"si.employer","id":"a","as_of":"2019-01-05T00:00:00Z","data":{}}

{"type":"tax.taxpayer","id":"b","as_of":"2019-01-05T00:00:00Z","data":{}}
{"type": "si.person", "id":"c","as_of":"2019-01-05T00:00:00Z","data":{}}
`
	loaded, skipped, err := s.LoadNDJSON(strings.NewReader(in))
	if err != nil || loaded != 2 || skipped != 1 {
		t.Fatalf("LoadNDJSON = %d, %d, %v; want 2, 1, nil", loaded, skipped, err)
	}
	if got := string(s.Records(contracts.TypePerson)[0]); got != `{"type":"si.person","id":"c","as_of":"2019-01-05T00:00:00Z","data":{}}` {
		t.Errorf("stored %s, want it compacted", got)
	}
	_, _, err = s.LoadNDJSON(strings.NewReader("{\"type\":\"si.employer\"}\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v, want an error naming line 2", err)
	}
	if n := len(s.Records(contracts.TypeEmployer)); n != 1 {
		t.Errorf("a failed load added records: %d", n)
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add("")
	f.Add(EncodeCursor(0))
	f.Add(EncodeCursor(12345))
	f.Add("bzotMQ")
	f.Fuzz(func(t *testing.T, c string) {
		off, err := DecodeCursor(c)
		if err != nil {
			return
		}
		if off < 0 {
			t.Fatalf("negative offset %d from %q", off, c)
		}
		if c != "" && EncodeCursor(off) != c {
			t.Fatalf("cursor %q decodes to %d which encodes to %q", c, off, EncodeCursor(off))
		}
	})
}

func FuzzLoadNDJSON(f *testing.F) {
	f.Add([]byte(`{"type":"si.employer","id":"a"}` + "\n" + `{"type":"x"}`))
	f.Add([]byte("\n\n{\"type\":1}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := New("si", []string{contracts.TypeEmployer}, "tok", 1)
		loaded, _, err := s.LoadNDJSON(strings.NewReader(string(in)))
		if err != nil {
			return
		}
		recs := s.Records(contracts.TypeEmployer)
		if len(recs) != loaded {
			t.Fatalf("loaded %d, stored %d", loaded, len(recs))
		}
		for _, r := range recs {
			if !json.Valid(r) {
				t.Fatalf("stored invalid JSON %q", r)
			}
		}
	})
}
