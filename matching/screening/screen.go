// Package screening evaluates a program over every subject in a Store (免申即享:
// the policy finds the enterprise) and streams the results.
//
// Promises: Screen reads profiles only through matching.Store.Scan, evaluates them
// with bounded parallelism (one worker per GOMAXPROCS) and bounded memory (at most
// a fixed window of profiles in flight), and emits results in the order Scan
// delivered the profiles. The order is therefore deterministic exactly when the
// Store's Scan order is (the embedded store scans by key; Redis SCAN does not):
// sort downstream when a stable listing is needed from such a store.
package screening

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/rules"
)

// Filter narrows a screening.
type Filter struct {
	// RegionPrefix keeps enterprises whose si.employer region_code starts with it
	// (empty: all). Enterprises without an si.employer record are left out when it
	// is set. Only enterprise programs can be filtered by region.
	RegionPrefix string
	// IncludeIneligible emits every result, not only eligible ones.
	IncludeIneligible bool
	// OnLimit, when set, is told of each subject whose evaluation exceeds the rule
	// engine's cost limit (one call at a time); the subject is left out and the
	// screening goes on. Without it such a subject stops the screening with the
	// *rules.LimitError.
	OnLimit func(subject string, err *rules.LimitError)
}

// window bounds the profiles in flight per worker.
const window = 64

// Screen evaluates programID with params for every profile of the program's
// subject kind in store that passes filter, and calls emit for each eligible
// result (every result with IncludeIneligible), in Scan order. Results come from
// rules.Engine.Decide: decision, amount, review flag, facts and each check's
// result, without the checks' texts and evidence (a screening signs nothing). emit is called
// from one goroutine at a time; an error from it stops the screening and is
// returned. Invalid params or an unknown program are reported before any
// profile is read, as the *rules.ParamError or *rules.UnknownProgramError that
// Evaluate returns. Profiles handed out by Scan must not be reused by the Store
// after its callback returns: they are evaluated on other goroutines.
func Screen(ctx context.Context, store matching.Store, eng *rules.Engine, programID string, params map[string]any,
	filter Filter, emit func(rules.Result) error) error {
	kind, err := eng.SubjectKind(programID)
	if err != nil {
		return err
	}
	if filter.RegionPrefix != "" && kind != contracts.KindEnterprise {
		return &rules.ParamError{Program: programID, Field: "region", Reason: "only enterprise programs can be screened by region"}
	}
	// Check the params once, with no profile, so that a bad request fails fast.
	if _, err := eng.Evaluate(ctx, programID, nil, params); err != nil {
		return err
	}
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		seq int
		p   *matching.Profile
	}
	type outcome struct {
		seq int
		r   rules.Result
	}
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan job, workers)
	done := make(chan outcome, window*workers)
	slots := make(chan struct{}, window*workers)

	g.Go(func() error {
		defer close(jobs)
		seq := 0
		err := store.Scan(gctx, kind, func(p *matching.Profile) error {
			if filter.RegionPrefix != "" && !strings.HasPrefix(regionOf(p), filter.RegionPrefix) {
				return nil
			}
			select {
			case slots <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case jobs <- job{seq, p}:
				seq++
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
		if err != nil {
			return fmt.Errorf("scanning %s profiles for %s: %w", kind, programID, err)
		}
		return nil
	})
	var wg sync.WaitGroup
	var limitMu sync.Mutex
	for i := 0; i < workers; i++ {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for j := range jobs {
				r, err := eng.Decide(gctx, programID, j.p, params)
				var le *rules.LimitError
				if errors.As(err, &le) && filter.OnLimit != nil {
					limitMu.Lock()
					filter.OnLimit(j.p.Subject, le)
					limitMu.Unlock()
					// An empty result keeps the window's sequence; it is not emitted.
					r, err = rules.Result{}, nil
				}
				if err != nil {
					return fmt.Errorf("screening %s for %s: %w", j.p.Subject, programID, err)
				}
				select {
				case done <- outcome{j.seq, r}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		wg.Wait()
		close(done)
		return nil
	})
	g.Go(func() error {
		pending := map[int]rules.Result{}
		next := 0
		for o := range done {
			pending[o.seq] = o.r
			for {
				r, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				<-slots
				if r.Decision == "" || (r.Decision != rules.Eligible && !filter.IncludeIneligible) {
					continue
				}
				if err := emit(r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// regionOf returns the region_code of an enterprise's si.employer, "" when absent.
func regionOf(p *matching.Profile) string {
	_, uscc, _ := strings.Cut(p.Subject, ":")
	e, ok := p.Get(contracts.TypeEmployer, uscc)
	if !ok {
		return ""
	}
	var emp struct {
		RegionCode string `json:"region_code"`
	}
	if json.Unmarshal(e.Data, &emp) != nil {
		return ""
	}
	return emp.RegionCode
}
