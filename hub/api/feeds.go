package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/verihub/verihub/connectors/push"
	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/hub/auth"
	"github.com/verihub/verihub/hub/problem"
)

// FeedRoute is the pattern Feeds serves.
const FeedRoute = "POST /v1/feeds/{agency}"

// Defaults of Feeds.
const (
	DefaultFeedMaxBodyBytes = 32 << 20
	DefaultReceiptTTL       = 7 * 24 * time.Hour
)

// Stable problem codes of POST /v1/feeds/{agency}, beside push's jws_* and batch_*
// codes and auth's token codes.
const (
	CodeUnknownAgency        = "unknown_agency"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRequestTooLarge      = "request_too_large"
	CodeBatchIDConflict      = "batch_id_conflict"
	CodeUnavailable          = "unavailable"
	CodeMalformedRequest     = "malformed_request"
)

// Submitter is the ingest edge: validates raw records of one agency, publishes the
// accepted ones and dead-letters the rest, returning only once both are durable.
// A record whose type belongs to another agency is rejected with code wrong_agency.
// Submitting the same records again is harmless (applying a version is idempotent).
// An error means nothing may be counted as done: the caller retries the whole batch.
type Submitter interface {
	Submit(ctx context.Context, agency string, raws [][]byte) (accepted int, rejected []FeedReject, err error)
}

// FeedReject is one refused record of a batch: its index in the batch and why.
type FeedReject = contracts.IndexedReject

// FeedReceipt is the answer to a pushed batch.
type FeedReceipt struct {
	BatchID  string       `json:"batch_id"`
	Accepted int          `json:"accepted"`
	Rejected []FeedReject `json:"rejected"`
}

// ReceiptStore keeps receipts so a repeated batch_id returns the first one.
// matching.StateStore satisfies it. It must be shared by every hub process.
type ReceiptStore interface {
	Get(ctx context.Context, key string) ([]byte, error) // contracts.ErrNotFound when absent
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, bool, error)
}

// KeyLookup finds the public keys registered for a client. *auth.Authority
// satisfies it.
type KeyLookup interface {
	// ClientKeys returns the client's public keys: contracts.ErrNotFound for an
	// unregistered client, contracts.ErrUnavailable when they cannot be had now.
	ClientKeys(ctx context.Context, clientID string) (jwk.Set, error)
}

// KeyRefresher is what a KeyLookup may also do: fetch a client's keys afresh when a
// batch names a kid the cached copy lacks (the agency rotated its keys).
type KeyRefresher interface {
	RefreshClientKeys(ctx context.Context, clientID string) (jwk.Set, error)
}

var (
	_ KeyLookup    = (*auth.Authority)(nil)
	_ KeyRefresher = (*auth.Authority)(nil)
)

// Feeds serves POST /v1/feeds/{agency}: a batch of records signed by the pushing
// client, verified with that client's registered keys, submitted once per
// (agency, batch_id) and answered 202 with a receipt; the same batch_id again gets
// the first receipt with Idempotent-Replay: true.
//
// Mount it behind auth's Require; it checks the caller's push:<agency> scope itself
// as well. Nothing is half-applied: when the Submitter fails the answer is 503 and
// no receipt is kept, so the agency re-sends the same batch.
type Feeds struct {
	Keys     KeyLookup
	Submit   Submitter
	Receipts ReceiptStore
	// MaxRecords is the most records in one batch (default push.DefaultMaxRecords).
	MaxRecords int
	// ReceiptTTL is how long a receipt is kept (default 7 days); a batch re-sent
	// after that is submitted again, which is harmless.
	ReceiptTTL time.Duration
	// MaxBodyBytes bounds the request body (default 32 MiB).
	MaxBodyBytes int64
	// Log receives a line per batch (default: discard).
	Log *slog.Logger
}

// pendingReceipt marks a batch being submitted (or whose submission crashed).
const pendingReceipt = "pending"

// storedReceipt is what the receipt store holds for a submitted batch: the receipt
// and the digest of the records it answers, to tell a re-sent batch from another
// batch reusing its id.
type storedReceipt struct {
	Digest  string      `json:"digest"`
	Receipt FeedReceipt `json:"receipt"`
}

func receiptKey(agency, batchID string) string { return "feed/" + agency + "/" + batchID }

func (f *Feeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reqID := RequestID(ctx)
	fail := func(status int, code, detail string) {
		problem.Write(w, problem.New(status, code, detail), reqID)
	}
	agency := r.PathValue("agency")
	if !slices.Contains(contracts.Agencies, agency) {
		fail(http.StatusNotFound, CodeUnknownAgency, "no feed named "+truncate(agency))
		return
	}
	id, ok := auth.FromContext(ctx)
	if !ok {
		fail(http.StatusUnauthorized, auth.CodeMissingToken, "an Authorization: Bearer access token is required")
		return
	}
	if !id.HasScope(auth.ScopePush(agency)) {
		fail(http.StatusForbidden, auth.CodeInsufficientScope, "this needs scope "+auth.ScopePush(agency))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != push.MediaType {
		fail(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the body must be "+push.MediaType+" (a compact JWS)")
		return
	}
	limit := f.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultFeedMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if IsTooLarge(err) {
			fail(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "the body is larger than the limit")
			return
		}
		fail(http.StatusBadRequest, CodeMalformedRequest, "reading the body")
		return
	}

	batch, err := f.verify(ctx, id.ClientID, body)
	if err != nil {
		var pe *push.Error
		if !errors.As(err, &pe) {
			problem.Write(w, err, reqID)
			return
		}
		fail(verifyStatus(pe.Code), pe.Code, pe.Detail)
		return
	}

	log := f.logger().With("agency", agency, "client", id.ClientID, "batch_id", loggableBatchID(batch.BatchID), "request_id", reqID)
	digest := batch.Digest()
	key := receiptKey(agency, batch.BatchID)
	ttl := f.ReceiptTTL
	if ttl <= 0 {
		ttl = DefaultReceiptTTL
	}
	stored, created, err := f.Receipts.PutIfAbsent(ctx, key, []byte(pendingReceipt), ttl)
	if err != nil {
		log.Warn("reserving batch receipt", "err", err)
		f.unavailable(w, reqID)
		return
	}
	if !created && string(stored) != pendingReceipt {
		var sr storedReceipt
		switch err := json.Unmarshal(stored, &sr); {
		case err != nil || sr.Receipt.BatchID != batch.BatchID:
			log.Error("unreadable batch receipt; submitting again")
		case sr.Digest != digest:
			fail(http.StatusConflict, CodeBatchIDConflict, "batch_id "+batch.BatchID+" was already used for other records; a new batch needs a new id")
			return
		default:
			log.Debug("batch replayed")
			w.Header().Set(push.ReplayHeader, "true")
			writeReceipt(w, sr.Receipt)
			return
		}
	}

	raws := make([][]byte, len(batch.Records))
	for i, rec := range batch.Records {
		raws[i] = rec
	}
	accepted, rejected, err := f.Submit.Submit(ctx, agency, raws)
	if err != nil {
		log.Warn("submitting batch", "records", len(raws), "err", err)
		f.unavailable(w, reqID)
		return
	}
	if rejected == nil {
		rejected = []FeedReject{}
	}
	if accepted+len(rejected) != len(raws) {
		log.Error("submitter counts do not add up", "records", len(raws), "accepted", accepted, "rejected", len(rejected))
	}
	rc := FeedReceipt{BatchID: batch.BatchID, Accepted: accepted, Rejected: rejected}
	b, err := json.Marshal(storedReceipt{Digest: digest, Receipt: rc})
	if err == nil {
		err = f.Receipts.Put(ctx, key, b, ttl)
	}
	if err != nil {
		// The records are durable; only the receipt is not. A re-send submits them
		// again, which is harmless, so the agency still gets its answer.
		log.Warn("storing batch receipt", "err", err)
	}
	log.Info("batch submitted", "records", len(raws), "accepted", accepted, "rejected", len(rejected))
	writeReceipt(w, rc)
}

// verify checks the batch with the caller's keys, fetching them afresh once when the
// batch names a kid the cached copy lacks.
func (f *Feeds) verify(ctx context.Context, clientID string, body []byte) (push.Batch, error) {
	keys, err := f.Keys.ClientKeys(ctx, clientID)
	if errors.Is(err, contracts.ErrNotFound) {
		return push.Batch{}, &push.Error{Code: push.CodeUnknownKey, Detail: "the caller has no registered keys"}
	}
	if err != nil {
		return push.Batch{}, unavailableError()
	}
	batch, err := push.Verify(body, keys, f.MaxRecords)
	if push.CodeOf(err) != push.CodeUnknownKey {
		return batch, err
	}
	kr, ok := f.Keys.(KeyRefresher)
	if !ok {
		return batch, err
	}
	fresh, ferr := kr.RefreshClientKeys(ctx, clientID)
	if ferr != nil {
		return batch, err
	}
	return push.Verify(body, fresh, f.MaxRecords)
}

func verifyStatus(code string) int {
	switch code {
	case push.CodeAlgNotAllowed, push.CodeUnknownKey, push.CodeBadSignature:
		return http.StatusUnauthorized
	case push.CodeTooManyRecords:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func unavailableError() *problem.Error {
	e := problem.New(http.StatusServiceUnavailable, CodeUnavailable, "the batch could not be taken now; nothing was applied, send it again with the same batch_id")
	e.Header = http.Header{"Retry-After": {"5"}}
	return e
}

func (f *Feeds) unavailable(w http.ResponseWriter, reqID string) {
	problem.Write(w, unavailableError(), reqID)
}

func (f *Feeds) logger() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}

func writeReceipt(w http.ResponseWriter, rc FeedReceipt) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(rc)
}

// loggableBatchID masks anything in a batch id shaped like a resident ID number.
func loggableBatchID(id string) string { return MaskIDs(id) }

func truncate(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%.64s…", s)
	}
	return s
}
