package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Latencies are percentiles of a run, in milliseconds.
type Latencies struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p99_9_ms"`
	Max  float64 `json:"max_ms"`
}

// Summary is the result of one run; it is printed as text and as one JSON line.
type Summary struct {
	Mode        string         `json:"mode"`
	TargetRate  float64        `json:"target_rate,omitempty"`
	DurationS   float64        `json:"duration_s"`
	Concurrency int            `json:"concurrency,omitempty"`
	Scheduled   int            `json:"scheduled,omitempty"` // open loop: requests due within the duration
	Requests    int            `json:"requests"`            // requests sent and answered (or failed)
	OK          int            `json:"ok"`
	Errors      map[string]int `json:"errors"`
	Rate        float64        `json:"achieved_rate"` // completed requests per second
	ItemsRate   float64        `json:"items_rate,omitempty"`
	Latency     Latencies      `json:"latency"`
	LateP99MS   float64        `json:"send_delay_p99_ms,omitempty"`
	Extra       map[string]any `json:"extra,omitempty"`
}

// percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the nearest-rank
// method: the smallest value with at least q of the samples at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

func latenciesOf(ds []time.Duration) Latencies {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return Latencies{
		P50: ms(percentile(sorted, 0.50)), P90: ms(percentile(sorted, 0.90)), P99: ms(percentile(sorted, 0.99)),
		P999: ms(percentile(sorted, 0.999)), Max: ms(percentile(sorted, 1)),
	}
}

// summarise folds an open-loop run's samples into a Summary.
// Requests scheduled but never sent (the target was too slow to free a slot before
// the run's end) count as the error "not_sent".
func summarise(mode string, rate float64, concurrency int, samples []sample, elapsed time.Duration, unsent int) Summary {
	s := Summary{Mode: mode, TargetRate: rate, DurationS: round3(elapsed.Seconds()), Concurrency: concurrency,
		Scheduled: len(samples) + unsent, Requests: len(samples), Errors: map[string]int{}}
	if unsent > 0 {
		s.Errors["not_sent"] = unsent
	}
	lat := make([]time.Duration, len(samples))
	late := make([]time.Duration, len(samples))
	items := 0
	for i, x := range samples {
		lat[i], late[i] = x.latency, x.late
		if x.err == "" {
			s.OK++
			items += x.items
		} else {
			s.Errors[x.err]++
		}
	}
	s.Latency = latenciesOf(lat)
	s.LateP99MS = latenciesOf(late).P99
	if elapsed > 0 {
		s.Rate = round3(float64(len(samples)) / elapsed.Seconds())
		if items != s.OK {
			s.ItemsRate = round3(float64(items) / elapsed.Seconds())
		}
	}
	return s
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// print writes the summary for a person, then as one JSON line for scripts (always
// the last line of the output).
func (s Summary) print(w io.Writer, quiet bool) error {
	if !quiet {
		var b strings.Builder
		fmt.Fprintf(&b, "mode %s: %d requests in %.2fs, %.1f/s achieved", s.Mode, s.Requests, s.DurationS, s.Rate)
		if s.Scheduled > s.Requests {
			fmt.Fprintf(&b, ", %d of %d scheduled never sent (over capacity)", s.Scheduled-s.Requests, s.Scheduled)
		}
		if s.TargetRate > 0 {
			fmt.Fprintf(&b, " (target %.1f/s)", s.TargetRate)
		}
		if s.ItemsRate > 0 {
			fmt.Fprintf(&b, ", %.1f items/s", s.ItemsRate)
		}
		fmt.Fprintf(&b, "\nlatency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
			s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.P999, s.Latency.Max)
		if s.LateP99MS > 0 {
			fmt.Fprintf(&b, "send delay p99 %.3f ms (time requests waited for a free slot)\n", s.LateP99MS)
		}
		fmt.Fprintf(&b, "ok %d", s.OK)
		keys := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s %d", k, s.Errors[k])
		}
		b.WriteByte('\n')
		extras := make([]string, 0, len(s.Extra))
		for k := range s.Extra {
			extras = append(extras, k)
		}
		sort.Strings(extras)
		for _, k := range extras {
			fmt.Fprintf(&b, "%s: %v\n", k, s.Extra[k])
		}
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	line, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}
