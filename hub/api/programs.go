package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/problem"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/rules"
	"github.com/verihub/verihub/matching/screening"
)

// Programs serves the loaded packs and screening (免申即享): the enterprises that
// already qualify for a program, without an application.
type Programs struct {
	Engine *rules.Engine
	Store  matching.Store
	Audit  audit.Log
	// CacheTTL keeps a screening's results for paging (default 10 min). A screening
	// of the whole store runs once per (program, params, region) within the TTL.
	CacheTTL time.Duration

	mu   sync.Mutex
	runs map[string]*screeningRun
	last map[string]ScreeningSummary
	Now  func() time.Time
}

type screeningRun struct {
	done    chan struct{}
	at      time.Time
	results []Candidate
	skipped []string // subjects left out: their evaluation exceeded the cost limit
	err     error
}

// Candidate is one qualifying subject of a screening.
type Candidate struct {
	Subject        string         `json:"subject"`
	Region         string         `json:"region,omitempty"`
	Decision       string         `json:"decision"`
	AmountFen      int64          `json:"amount_fen"`
	ReviewRequired bool           `json:"review_required"`
	Facts          map[string]any `json:"facts,omitempty"`
}

// ScreeningSummary describes the last screening of a program, for the console.
type ScreeningSummary struct {
	Program        string    `json:"program"`
	Params         string    `json:"params"`
	At             time.Time `json:"at"`
	Candidates     int       `json:"candidates"`
	TotalAmountFen int64     `json:"total_amount_fen"`
	ReviewRequired int       `json:"review_required"`
	DurationMS     int64     `json:"duration_ms"`
	// Skipped counts subjects left out because their evaluation exceeded the rule
	// engine's cost limit.
	Skipped int `json:"skipped"`
}

func (p *Programs) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// ServeList handles GET /v1/programs.
func (p *Programs) ServeList(w http.ResponseWriter, r *http.Request) {
	progs := p.Engine.Programs()
	p.mu.Lock()
	last := make(map[string]ScreeningSummary, len(p.last))
	for k, v := range p.last {
		last[k] = v
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"programs": progs, "last_screening": last})
}

// ServeCandidates handles GET /v1/programs/{id}/candidates?year=&region=&cursor=&limit=.
// The cursor is the last subject of the previous page.
func (p *Programs) ServeCandidates(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	client, ok := auth.FromContext(r.Context())
	if !ok {
		problem.Write(w, &problem.Error{Status: 401, Code: "missing_token", Detail: "bearer token required"}, rid)
		return
	}
	id := r.PathValue("id")
	if !client.HasScope(auth.ScopeVerify(id)) && client.Role != auth.RoleAdmin {
		problem.Write(w, &problem.Error{Status: 403, Code: "insufficient_scope", Detail: fmt.Sprintf("client may not screen program %q", id)}, rid)
		return
	}
	q := r.URL.Query()
	params := map[string]any{}
	if y := q.Get("year"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil {
			problem.Write(w, &problem.Error{Status: 400, Code: rules.CodeInvalidParams, Field: "year", Detail: "year must be an integer"}, rid)
			return
		}
		params["year"] = n
	}
	if d := q.Get("assessment_date"); d != "" {
		params["assessment_date"] = d
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			problem.Write(w, &problem.Error{Status: 400, Code: "invalid_limit", Field: "limit", Detail: "limit is 1 to 1000"}, rid)
			return
		}
		limit = n
	}
	kind, err := p.Engine.SubjectKind(id)
	if err != nil {
		problem.Write(w, programError(err), rid)
		return
	}
	if kind != contracts.KindEnterprise {
		problem.Write(w, &problem.Error{Status: 400, Code: "screening_not_supported", Detail: "skill-upgrade programs are decided per certificate application; screen enterprise programs"}, rid)
		return
	}
	region := q.Get("region")
	run, err := p.screen(r.Context(), id, params, region)
	if err != nil {
		problem.Write(w, programError(err), rid)
		return
	}
	cursor := q.Get("cursor")
	start := sort.Search(len(run.results), func(i int) bool { return run.results[i].Subject > cursor })
	end := min(start+limit, len(run.results))
	page := run.results[start:end]
	next := ""
	if end < len(run.results) && len(page) > 0 {
		next = page[len(page)-1].Subject
	}
	ev := audit.Event{Time: p.now().UTC(), Action: audit.ActionScreeningExport, Client: client.ClientID, Program: id,
		Params: map[string]any{"params": params, "region": region, "cursor": cursor, "returned": len(page)}, RequestID: rid}
	if err := p.Audit.Record(r.Context(), ev); err != nil {
		problem.Write(w, fmt.Errorf("auditing: %w: %w", contracts.ErrUnavailable, err), rid)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"program": id, "params": params, "region": region,
		"screened_at": run.at, "total": len(run.results), "candidates": page, "next": next, "skipped": run.skipped})
}

// screen returns a (possibly cached) screening run, running it if needed.
func (p *Programs) screen(ctx context.Context, program string, params map[string]any, region string) (*screeningRun, error) {
	key := fmt.Sprintf("%s|%v|%s", program, params, region)
	ttl := p.CacheTTL
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	p.mu.Lock()
	if p.runs == nil {
		p.runs, p.last = map[string]*screeningRun{}, map[string]ScreeningSummary{}
	}
	run, ok := p.runs[key]
	if ok {
		select {
		case <-run.done:
			if run.err != nil || p.now().Sub(run.at) > ttl {
				ok = false
			}
		default:
		}
	}
	if !ok {
		run = &screeningRun{done: make(chan struct{})}
		p.runs[key] = run
		go p.run(run, program, params, region, key)
	}
	p.mu.Unlock()
	select {
	case <-run.done:
		return run, run.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Programs) run(run *screeningRun, program string, params map[string]any, region, key string) {
	defer close(run.done)
	start := p.now()
	var out []Candidate
	var total int64
	review := 0
	var skipped []string
	filter := screening.Filter{RegionPrefix: region, OnLimit: func(subject string, _ *rules.LimitError) {
		skipped = append(skipped, subject)
	}}
	err := screening.Screen(context.Background(), p.Store, p.Engine, program, params, filter,
		func(res rules.Result) error {
			out = append(out, Candidate{Subject: res.Subject, Region: regionFact(res), Decision: res.Decision,
				AmountFen: res.AmountFen, ReviewRequired: res.ReviewRequired, Facts: res.Facts})
			total += res.AmountFen
			if res.ReviewRequired {
				review++
			}
			return nil
		})
	sort.Slice(out, func(i, j int) bool { return out[i].Subject < out[j].Subject })
	if skipped == nil {
		skipped = []string{}
	}
	sort.Strings(skipped)
	run.results, run.skipped, run.err, run.at = out, skipped, err, p.now().UTC()
	if err == nil {
		p.mu.Lock()
		p.last[program] = ScreeningSummary{Program: program, Params: key, At: run.at, Candidates: len(out),
			TotalAmountFen: total, ReviewRequired: review, DurationMS: time.Since(start).Milliseconds(), Skipped: len(skipped)}
		p.mu.Unlock()
	}
}

func regionFact(res rules.Result) string {
	if s, ok := res.Facts["region_code"].(string); ok {
		return s
	}
	return ""
}
