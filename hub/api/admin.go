package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/verihub/verihub/connectors"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/bus"
	"github.com/verihub/verihub/hub/problem"
	"github.com/verihub/verihub/matching"
)

// ConnectorControl is the connectors manager as the admin API sees it.
type ConnectorControl interface {
	Statuses() []connectors.Status
	Status(name string) (connectors.Status, error)
	Pause(name string) error
	Resume(name string) error
	Sync(name string) error
}

// DeadLetters is what the admin API needs to list, replay and purge dead letters.
type DeadLetters interface {
	ListDeadLetters(ctx context.Context, f bus.DeadLetterFilter, cursor string, limit int) (bus.DeadLetterPage, error)
	ReadDeadLetter(ctx context.Context, partition int, offset int64) (bus.DeadLetter, error)
}

// Replayer re-submits a dead letter's record through the ingest edge.
type Replayer interface {
	OpenDeadLetter(dl bus.DeadLetter) ([]byte, error)
	Submit(ctx context.Context, agency string, raws [][]byte) (accepted int, rejected []FeedReject, err error)
}

// AuditSearch searches the audit trail.
type AuditSearch interface {
	Search(ctx context.Context, q audit.Query) ([]audit.Event, error)
}

// Admin serves the administrators' API.
type Admin struct {
	Connectors  ConnectorControl
	DeadLetters DeadLetters
	Replay      Replayer
	Audit       audit.Log
	Trail       AuditSearch
	State       matching.StateStore
	Protector   *contracts.Protector
}

// ServeConnectors handles GET /v1/admin/connectors.
func (a *Admin) ServeConnectors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"connectors": a.Connectors.Statuses()})
}

// ServeConnectorAction handles POST /v1/admin/connectors/{name}/{action}.
func (a *Admin) ServeConnectorAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		var err error
		switch action {
		case "pause":
			err = a.Connectors.Pause(name)
		case "resume":
			err = a.Connectors.Resume(name)
		case "sync":
			err = a.Connectors.Sync(name)
		}
		if err != nil {
			problem.Write(w, connectorError(name, err), RequestID(r.Context()))
			return
		}
		st, err := a.Connectors.Status(name)
		if err != nil {
			problem.Write(w, connectorError(name, err), RequestID(r.Context()))
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

func connectorError(name string, err error) error {
	if errors.Is(err, contracts.ErrNotFound) {
		return &problem.Error{Status: 404, Code: "unknown_connector", Detail: fmt.Sprintf("no connector named %q", name)}
	}
	return err
}

// DeadLetterView is a dead letter as the admin API shows it: the record opened and
// with every ID number masked.
type DeadLetterView struct {
	ID      string    `json:"id"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty"`
	Agency  string    `json:"agency"`
	Time    time.Time `json:"time"`
	Record  string    `json:"record"`
	Status  string    `json:"status"` // pending | replayed | purged
}

var idLike = regexp.MustCompile(`[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b|\b[1-9]\d{14}\b`)

// MaskIDs masks every ID-number-shaped run of text.
func MaskIDs(s string) string {
	return idLike.ReplaceAllStringFunc(s, contracts.MaskID)
}

func dlID(p bus.Position) string { return fmt.Sprintf("%d:%d", p.Partition, p.Offset) }

func parseDLID(s string) (int, int64, error) {
	ps, os, ok := strings.Cut(s, ":")
	p, err1 := strconv.Atoi(ps)
	o, err2 := strconv.ParseInt(os, 10, 64)
	if !ok || err1 != nil || err2 != nil || p < 0 || o < 0 {
		return 0, 0, &problem.Error{Status: 400, Code: "invalid_deadletter_id", Detail: fmt.Sprintf("%q is not a dead-letter id (partition:offset)", s)}
	}
	return p, o, nil
}

func (a *Admin) dlStatus(ctx context.Context, id string) string {
	if b, err := a.State.Get(ctx, "deadletter/"+id); err == nil {
		return string(b)
	}
	return "pending"
}

func (a *Admin) view(ctx context.Context, dl bus.DeadLetter) DeadLetterView {
	rec := "(sealed record could not be opened)"
	if raw, err := a.Replay.OpenDeadLetter(dl); err == nil {
		rec = MaskIDs(string(raw))
	}
	id := dlID(dl.At)
	return DeadLetterView{ID: id, Code: dl.Code, Message: MaskIDs(dl.Message), Field: dl.Field, Agency: dl.Agency,
		Time: dl.Time, Record: rec, Status: a.dlStatus(ctx, id)}
}

// ServeDeadLetters handles GET /v1/admin/deadletters?agency=&code=&since=&until=&status=&cursor=&limit=.
func (a *Admin) ServeDeadLetters(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	q := r.URL.Query()
	f := bus.DeadLetterFilter{Agency: q.Get("agency"), Code: q.Get("code")}
	var err error
	if f.Since, err = parseTime(q.Get("since"), "since"); err != nil {
		problem.Write(w, err, rid)
		return
	}
	if f.Until, err = parseTime(q.Get("until"), "until"); err != nil {
		problem.Write(w, err, rid)
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	page, err := a.DeadLetters.ListDeadLetters(r.Context(), f, q.Get("cursor"), limit)
	if errors.Is(err, bus.ErrBadCursor) {
		problem.Write(w, &problem.Error{Status: 400, Code: "invalid_cursor", Field: "cursor", Detail: "cursor was not issued by this endpoint"}, rid)
		return
	}
	if err != nil {
		problem.Write(w, fmt.Errorf("listing dead letters: %w", err), rid)
		return
	}
	status := q.Get("status")
	items := make([]DeadLetterView, 0, len(page.Items))
	for _, dl := range page.Items {
		v := a.view(r.Context(), dl)
		if status == "" || v.Status == status {
			items = append(items, v)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deadletters": items, "next": page.Next})
}

func parseTime(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &problem.Error{Status: 400, Code: "invalid_time", Field: field, Detail: field + " must be RFC 3339"}
	}
	return t, nil
}

// dlAction is the body of replay and purge.
type dlAction struct {
	IDs []string `json:"ids"`
}

// ServeReplay handles POST /v1/admin/deadletters/replay: each chosen dead letter's
// record is re-validated and, if it now passes, re-published.
func (a *Admin) ServeReplay(w http.ResponseWriter, r *http.Request) {
	a.serveAction(w, r, audit.ActionDeadLetterReplay, func(ctx context.Context, id string, dl bus.DeadLetter) (map[string]any, error) {
		raw, err := a.Replay.OpenDeadLetter(dl)
		if err != nil {
			return map[string]any{"id": id, "outcome": "unopenable"}, nil
		}
		accepted, rejected, err := a.Replay.Submit(ctx, dl.Agency, [][]byte{raw})
		if err != nil {
			return nil, err
		}
		if accepted == 1 {
			if err := a.State.Put(ctx, "deadletter/"+id, []byte("replayed"), 0); err != nil {
				return nil, err
			}
			return map[string]any{"id": id, "outcome": "replayed"}, nil
		}
		out := map[string]any{"id": id, "outcome": "rejected_again"}
		if len(rejected) > 0 {
			out["code"], out["message"] = rejected[0].Code, MaskIDs(rejected[0].Message)
		}
		return out, nil
	})
}

// ServePurge handles POST /v1/admin/deadletters/purge: the chosen dead letters are
// marked purged (hidden from the pending list; the topic keeps them until retention).
func (a *Admin) ServePurge(w http.ResponseWriter, r *http.Request) {
	a.serveAction(w, r, audit.ActionDeadLetterPurge, func(ctx context.Context, id string, _ bus.DeadLetter) (map[string]any, error) {
		if err := a.State.Put(ctx, "deadletter/"+id, []byte("purged"), 0); err != nil {
			return nil, err
		}
		return map[string]any{"id": id, "outcome": "purged"}, nil
	})
}

func (a *Admin) serveAction(w http.ResponseWriter, r *http.Request, action string,
	do func(ctx context.Context, id string, dl bus.DeadLetter) (map[string]any, error)) {
	rid := RequestID(r.Context())
	client, _ := auth.FromContext(r.Context())
	var body dlAction
	if err := decodeJSON(r, &body); err != nil {
		problem.Write(w, err, rid)
		return
	}
	if len(body.IDs) == 0 || len(body.IDs) > 1000 {
		problem.Write(w, &problem.Error{Status: 400, Code: "invalid_request", Field: "ids", Detail: "give 1 to 1000 dead-letter ids"}, rid)
		return
	}
	results := make([]map[string]any, 0, len(body.IDs))
	for _, id := range body.IDs {
		p, o, err := parseDLID(id)
		if err != nil {
			problem.Write(w, err, rid)
			return
		}
		dl, err := a.DeadLetters.ReadDeadLetter(r.Context(), p, o)
		if errors.Is(err, contracts.ErrNotFound) {
			results = append(results, map[string]any{"id": id, "outcome": "not_found"})
			continue
		}
		if err != nil {
			problem.Write(w, fmt.Errorf("reading dead letter %s: %w", id, err), rid)
			return
		}
		res, err := do(r.Context(), id, dl)
		if err != nil {
			problem.Write(w, fmt.Errorf("%s of dead letter %s: %w", action, id, err), rid)
			return
		}
		ev := audit.Event{Action: action, Client: client.ClientID, Detail: fmt.Sprintf("%s %s: %v", dl.Agency, id, res["outcome"]), RequestID: rid}
		if err := a.Audit.Record(r.Context(), ev); err != nil {
			problem.Write(w, fmt.Errorf("auditing: %w: %w", contracts.ErrUnavailable, err), rid)
			return
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// ServeAudit handles GET /v1/admin/audit?subject=&client=&since=&until=&limit=. A
// subject given as an ID number is pseudonymised first; one given as a USCC is
// prefixed.
func (a *Admin) ServeAudit(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	q := r.URL.Query()
	query := audit.Query{Client: q.Get("client")}
	var err error
	if query.Since, err = parseTime(q.Get("since"), "since"); err != nil {
		problem.Write(w, err, rid)
		return
	}
	if query.Until, err = parseTime(q.Get("until"), "until"); err != nil {
		problem.Write(w, err, rid)
		return
	}
	query.Limit, _ = strconv.Atoi(q.Get("limit"))
	if s := strings.TrimSpace(q.Get("subject")); s != "" {
		query.Subject = a.subjectKey(s)
	}
	events, err := a.Trail.Search(r.Context(), query)
	if err != nil {
		problem.Write(w, err, rid)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
}

func (a *Admin) subjectKey(s string) string {
	switch {
	case strings.HasPrefix(s, "uscc:") || strings.HasPrefix(s, "person:"):
		return s
	case len(s) == 18 || len(s) == 15:
		if id, err := contracts.NormalizeIDNumber(s, time.Now()); err == nil {
			return "person:" + a.Protector.Pseudonym(id)
		}
	}
	return "uscc:" + strings.ToUpper(s)
}

// PipelineState is what the admin API needs to report matching progress.
type PipelineState interface {
	Lag(ctx context.Context, group string, topics []string) ([]bus.PartitionLag, error)
}

// Pipeline reports the matcher's consumer lag and the store's size.
type Pipeline struct {
	Bus    PipelineState
	Store  matching.Store
	Group  string
	Topics []string
}

// ServePipeline handles GET /v1/admin/pipeline: consumer lag per partition and in
// total (computed now, not from the last metrics scrape) and profile counts.
func (p *Pipeline) ServePipeline(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	lags, err := p.Bus.Lag(r.Context(), p.Group, p.Topics)
	if err != nil {
		problem.Write(w, fmt.Errorf("reading consumer lag: %w: %w", contracts.ErrUnavailable, err), rid)
		return
	}
	enterprises, err := p.Store.Count(r.Context(), contracts.KindEnterprise)
	if err != nil {
		problem.Write(w, fmt.Errorf("counting profiles: %w", err), rid)
		return
	}
	persons, err := p.Store.Count(r.Context(), contracts.KindPerson)
	if err != nil {
		problem.Write(w, fmt.Errorf("counting profiles: %w", err), rid)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"group": p.Group, "lag": bus.TotalLag(lags), "partitions": lags,
		"profiles": map[string]int64{"enterprise": enterprises, "person": persons}})
}
