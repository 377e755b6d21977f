package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/audit"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/problem"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/rules"
)

// MaxBatchItems is the most verifications one batch call may carry.
const MaxBatchItems = 1000

// Profiles is the read side of the profile store (see matching.Store).
type Profiles interface {
	Profile(ctx context.Context, subject string) (*matching.Profile, error)
	Profiles(ctx context.Context, subjects []string) ([]*matching.Profile, error)
}

// Signer signs result claims.
type Signer interface {
	Sign(claims contracts.ResultClaims) (string, error)
}

// Verifier answers verification requests: it resolves the subject, evaluates the
// program over its profile, signs the result for the requesting client and writes the
// audit entry before answering (no unaudited answers).
type Verifier struct {
	Engine    *rules.Engine
	Profiles  Profiles
	Protector *contracts.Protector
	Signer    Signer
	Audit     audit.Log
	Legacy    map[string]bool // allowlisted legacy USCCs
	Now       func() time.Time
	// BatchQueue is how many batches may wait while another is computed (default
	// DefaultBatchQueue); a batch beyond them is refused 503 overloaded.
	BatchQueue int
	// MaxInFlight bounds the single verifications answered at once (default
	// DefaultMaxInFlight); one beyond is refused 503 overloaded, so that an
	// overload shows as refusals a client can retry rather than as every answer
	// slowing down without limit.
	MaxInFlight int

	inFlight atomic.Int64

	batchOnce sync.Once
	batchRun  chan struct{} // held by the batch being computed
	batchWait chan struct{} // a slot per waiting batch
}

// Defaults of the Verifier's admission limits.
const (
	DefaultBatchQueue  = 8
	DefaultMaxInFlight = 512
)

// overloaded is the refusal of work beyond an admission limit.
func overloaded(detail string) error {
	return &problem.Error{Status: http.StatusServiceUnavailable, Code: "overloaded", Detail: detail,
		Header: http.Header{"Retry-After": {"1"}}}
}

// admitBatch waits for the turn of a batch: batches are computed one at a time,
// each with every core, in arrival order, so a batch's profiles (up to a thousand
// of them) are in memory only while it is computed and concurrent batches finish
// one after another instead of all slowly. It returns the function that ends the
// turn, or a 503 overloaded problem when BatchQueue batches already wait.
func (v *Verifier) admitBatch(ctx context.Context) (func(), error) {
	v.batchOnce.Do(func() {
		q := v.BatchQueue
		if q <= 0 {
			q = DefaultBatchQueue
		}
		v.batchRun = make(chan struct{}, 1)
		v.batchWait = make(chan struct{}, q)
	})
	select {
	case v.batchWait <- struct{}{}:
	default:
		return nil, overloaded("too many batches are waiting; retry later")
	}
	defer func() { <-v.batchWait }()
	select {
	case v.batchRun <- struct{}{}:
		return func() { <-v.batchRun }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the batch's turn: %w", ctx.Err())
	}
}

// VerificationRequest is the body of POST /v1/verifications and one batch item.
type VerificationRequest struct {
	Program string         `json:"program"`
	Subject SubjectRef     `json:"subject"`
	Params  map[string]any `json:"params"`
}

// SubjectRef names the subject: exactly one of USCC and IDNumber.
type SubjectRef struct {
	USCC     string `json:"uscc,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
}

// VerificationResponse is the answer: the signed token and, for convenience, the
// decision it carries.
type VerificationResponse struct {
	Token          string                  `json:"token"`
	Decision       string                  `json:"decision"`
	AmountFen      int64                   `json:"amount_fen"`
	ReviewRequired bool                    `json:"review_required"`
	Checks         []contracts.CheckResult `json:"checks"`
	Facts          map[string]any          `json:"facts"`
}

// appendJSON appends the response as encoding/json writes it (a test holds it to
// that), without reflection: it is written on every verification.
func (r *VerificationResponse) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"token":`...)
	b = contracts.AppendJSONString(b, r.Token)
	b = append(b, `,"decision":`...)
	b = contracts.AppendJSONString(b, r.Decision)
	b = append(b, `,"amount_fen":`...)
	b = strconv.AppendInt(b, r.AmountFen, 10)
	b = append(b, `,"review_required":`...)
	b = strconv.AppendBool(b, r.ReviewRequired)
	b = append(b, `,"checks":`...)
	var err error
	if b, err = contracts.AppendChecks(b, r.Checks); err != nil {
		return nil, err
	}
	b = append(b, `,"facts":`...)
	if b, err = contracts.AppendJSON(b, r.Facts); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// subjectKey validates the subject reference and returns its store key.
func (v *Verifier) subjectKey(s SubjectRef) (string, error) {
	switch {
	case s.USCC != "" && s.IDNumber != "":
		return "", &problem.Error{Status: 400, Code: "invalid_subject", Field: "subject", Detail: "give exactly one of subject.uscc and subject.id_number"}
	case s.USCC != "":
		if _, err := contracts.ValidateUSCC(s.USCC, v.Legacy); err != nil {
			detail := err.Error()
			var re *contracts.RecordError
			if errors.As(err, &re) {
				detail = re.First().Code + ": " + re.First().Message
			}
			return "", &problem.Error{Status: 400, Code: "invalid_subject", Field: "subject.uscc", Detail: "not a valid unified social credit code: " + detail}
		}
		return "uscc:" + s.USCC, nil
	case s.IDNumber != "":
		id, err := contracts.NormalizeIDNumber(s.IDNumber, v.now())
		if err != nil {
			// The message never repeats the number itself.
			return "", &problem.Error{Status: 400, Code: "invalid_subject", Field: "subject.id_number", Detail: "not a valid resident ID number: " + idReason(err)}
		}
		return "person:" + v.Protector.Pseudonym(id), nil
	}
	return "", &problem.Error{Status: 400, Code: "invalid_subject", Field: "subject", Detail: "give subject.uscc or subject.id_number"}
}

func idReason(err error) string {
	var re *contracts.RecordError
	if errors.As(err, &re) {
		return re.First().Code
	}
	return "invalid"
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// verify evaluates and signs one request for client. It returns the response and
// the audit event to write; it writes nothing itself.
func (v *Verifier) verify(ctx context.Context, client auth.Identity, req VerificationRequest) (VerificationResponse, audit.Event, error) {
	subject, err := v.prepare(client, req)
	if err != nil {
		return VerificationResponse{}, audit.Event{}, err
	}
	profile, err := v.Profiles.Profile(ctx, subject)
	switch {
	case errors.Is(err, contracts.ErrNotFound):
		profile = nil
	case err != nil:
		return VerificationResponse{}, audit.Event{}, fmt.Errorf("reading profile: %w", err)
	}
	return v.answer(ctx, client, req, subject, profile)
}

// prepare checks a request against the client's scopes and the program, and
// returns the subject's store key.
func (v *Verifier) prepare(client auth.Identity, req VerificationRequest) (string, error) {
	if req.Program == "" {
		return "", &problem.Error{Status: 400, Code: "invalid_request", Field: "program", Detail: "program is required"}
	}
	if !client.HasScope(auth.ScopeVerify(req.Program)) {
		return "", &problem.Error{Status: 403, Code: "insufficient_scope", Field: "program", Detail: fmt.Sprintf("client may not verify program %q", req.Program)}
	}
	subject, err := v.subjectKey(req.Subject)
	if err != nil {
		return "", err
	}
	kind, err := v.Engine.SubjectKind(req.Program)
	if err != nil {
		return "", programError(err)
	}
	if (kind == contracts.KindPerson) != strings.HasPrefix(subject, "person:") {
		return "", &problem.Error{Status: 400, Code: "invalid_subject", Field: "subject", Detail: fmt.Sprintf("program %s is for %s subjects", req.Program, kind)}
	}
	return subject, nil
}

// answer evaluates a prepared request over the subject's profile (nil: the hub
// knows nothing of the subject) and signs the result.
func (v *Verifier) answer(ctx context.Context, client auth.Identity, req VerificationRequest, subject string,
	profile *matching.Profile) (VerificationResponse, audit.Event, error) {
	if profile == nil {
		profile = matching.NewProfile(subject)
	}
	res, err := v.Engine.Evaluate(ctx, req.Program, profile, req.Params)
	if err != nil {
		return VerificationResponse{}, audit.Event{}, programError(err)
	}
	claims := contracts.ResultClaims{
		ID: newTokenID(), Audience: client.ClientID, Subject: subject, Program: res.Program, Params: res.Params,
		Decision: res.Decision, AmountFen: res.AmountFen, ReviewRequired: res.ReviewRequired,
		Checks: res.Checks, Facts: res.Facts, DataAsOf: res.DataAsOf,
	}
	token, err := v.Signer.Sign(claims)
	if err != nil {
		return VerificationResponse{}, audit.Event{}, fmt.Errorf("signing result: %w", err)
	}
	ev := audit.Event{Time: v.now().UTC(), Action: audit.ActionVerification, Client: client.ClientID,
		Subject: subject, Program: res.Program, Params: res.Params, Decision: res.Decision,
		AmountFen: res.AmountFen, TokenID: claims.ID}
	return VerificationResponse{Token: token, Decision: res.Decision, AmountFen: res.AmountFen,
		ReviewRequired: res.ReviewRequired, Checks: res.Checks, Facts: res.Facts}, ev, nil
}

// programError maps rules errors to problems.
func programError(err error) error {
	var up *rules.UnknownProgramError
	if errors.As(err, &up) {
		return &problem.Error{Status: 404, Code: rules.CodeUnknownProgram, Field: "program", Detail: up.Error()}
	}
	var pe *rules.ParamError
	if errors.As(err, &pe) {
		return &problem.Error{Status: 400, Code: rules.CodeInvalidParams, Field: "params." + pe.Field, Detail: pe.Reason}
	}
	var le *rules.LimitError
	if errors.As(err, &le) {
		return &problem.Error{Status: 422, Code: rules.CodeLimit, Field: "subject", Detail: le.Error()}
	}
	return err
}

// ServeVerification handles POST /v1/verifications.
func (v *Verifier) ServeVerification(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	client, ok := auth.FromContext(r.Context())
	if !ok {
		problem.Write(w, &problem.Error{Status: 401, Code: "missing_token", Detail: "bearer token required"}, rid)
		return
	}
	limit := int64(v.MaxInFlight)
	if limit <= 0 {
		limit = DefaultMaxInFlight
	}
	if v.inFlight.Add(1) > limit {
		v.inFlight.Add(-1)
		problem.Write(w, overloaded("too many verifications in progress; retry later"), rid)
		return
	}
	defer v.inFlight.Add(-1)
	var req VerificationRequest
	if err := decodeJSON(r, &req); err != nil {
		problem.Write(w, err, rid)
		return
	}
	resp, ev, err := v.verify(r.Context(), client, req)
	if err != nil {
		problem.Write(w, err, rid)
		return
	}
	ev.RequestID = rid
	if err := v.Audit.Record(r.Context(), ev); err != nil {
		problem.Write(w, fmt.Errorf("auditing: %w: %w", contracts.ErrUnavailable, err), rid)
		return
	}
	body, err := resp.appendJSON(make([]byte, 0, 2*len(resp.Token)+1024))
	if err != nil {
		problem.Write(w, fmt.Errorf("encoding the response: %w", err), rid)
		return
	}
	writeEncoded(w, http.StatusOK, append(body, '\n'))
}

// BatchItemResult is one item of a batch answer: a result or a problem.
type BatchItemResult struct {
	*VerificationResponse
	Error *problem.Problem `json:"error,omitempty"`
}

// batchChunk is how many items of a batch a worker reads and answers at a time.
const batchChunk = 50

// ServeBatch handles POST /v1/verifications:batch: up to MaxBatchItems requests, each
// with its own signed result or its own problem; the whole batch is audited in one
// durable write before the answer.
func (v *Verifier) ServeBatch(w http.ResponseWriter, r *http.Request) {
	rid := RequestID(r.Context())
	client, ok := auth.FromContext(r.Context())
	if !ok {
		problem.Write(w, &problem.Error{Status: 401, Code: "missing_token", Detail: "bearer token required"}, rid)
		return
	}
	var body struct {
		Items []VerificationRequest `json:"items"`
	}
	if err := decodeJSON(r, &body); err != nil {
		problem.Write(w, err, rid)
		return
	}
	if len(body.Items) == 0 || len(body.Items) > MaxBatchItems {
		problem.Write(w, &problem.Error{Status: 400, Code: "batch_size", Field: "items",
			Detail: fmt.Sprintf("a batch holds 1 to %d items, got %d", MaxBatchItems, len(body.Items))}, rid)
		return
	}
	done, err := v.admitBatch(r.Context())
	if err != nil {
		problem.Write(w, err, rid)
		return
	}
	release := sync.OnceFunc(done)
	defer release()
	results := make([]BatchItemResult, len(body.Items))
	events := make([]audit.Event, len(body.Items))
	subjects := make([]string, len(body.Items))
	var valid []int
	for i, item := range body.Items {
		subject, err := v.prepare(client, item)
		if err != nil {
			p := problem.From(err)
			results[i] = BatchItemResult{Error: &p}
			continue
		}
		subjects[i] = subject
		valid = append(valid, i)
	}
	// Workers take the items a chunk at a time: one read of the chunk's profiles
	// (one transaction, one Redis round trip), then evaluation and signing. Reading
	// in chunks keeps every core busy from the start, where one read of the whole
	// batch ran on one core while the others waited.
	var failed error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
	}
	work := make(chan []int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(body.Items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range work {
				toRead := make([]string, len(chunk))
				for k, i := range chunk {
					toRead[k] = subjects[i]
				}
				profiles, err := v.Profiles.Profiles(r.Context(), toRead)
				if err != nil {
					fail(fmt.Errorf("reading profiles: %w", err))
					continue
				}
				for k, i := range chunk {
					resp, ev, err := v.answer(r.Context(), client, body.Items[i], subjects[i], profiles[k])
					if err != nil {
						p := problem.From(err)
						if p.Status >= 500 {
							fail(err)
						}
						results[i] = BatchItemResult{Error: &p}
						continue
					}
					ev.Action, ev.RequestID, ev.Item = audit.ActionBatchItem, rid, i
					results[i], events[i] = BatchItemResult{VerificationResponse: &resp}, ev
				}
			}
		}()
	}
	for len(valid) > 0 {
		n := min(batchChunk, len(valid))
		work <- valid[:n]
		valid = valid[n:]
	}
	close(work)
	wg.Wait()
	// The next batch may compute while this one is audited and written.
	release()
	if failed != nil {
		problem.Write(w, failed, rid)
		return
	}
	toRecord := events[:0:0]
	for i, ev := range events {
		if results[i].Error == nil {
			toRecord = append(toRecord, ev)
		}
	}
	if err := v.Audit.Record(r.Context(), toRecord...); err != nil {
		problem.Write(w, fmt.Errorf("auditing: %w: %w", contracts.ErrUnavailable, err), rid)
		return
	}
	out, err := appendBatch(make([]byte, 0, 4096*len(results)), results)
	if err != nil {
		problem.Write(w, fmt.Errorf("encoding the response: %w", err), rid)
		return
	}
	writeEncoded(w, http.StatusOK, append(out, '\n'))
}

// appendBatch appends a batch answer, {"results": [...]}, as encoding/json writes it.
func appendBatch(b []byte, results []BatchItemResult) ([]byte, error) {
	b = append(b, `{"results":[`...)
	for i, res := range results {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		switch {
		case res.VerificationResponse != nil && res.Error == nil:
			b, err = res.VerificationResponse.appendJSON(b)
		default:
			var enc []byte
			enc, err = json.Marshal(res)
			b = append(b, enc...)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}
