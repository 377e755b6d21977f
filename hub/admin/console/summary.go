package console

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metric families the summary reads.
const (
	durationFamily = "verihub_http_request_duration_seconds"
	requestsFamily = "verihub_http_requests_total"
)

// VerificationRoutes are the routes whose latency the summary reports as
// "verification". A batch call counts as one request.
var VerificationRoutes = []string{"POST /v1/verifications", "POST /v1/verifications:batch"}

// histogram is a cumulative histogram at one instant.
type histogram struct {
	count   uint64
	sum     float64
	bounds  []float64 // upper bounds, ascending, without +Inf
	buckets []uint64  // cumulative counts per bound
}

// sub returns h − base (the observations between the two snapshots). A reset
// counter (a restarted process) yields h itself.
func (h histogram) sub(base histogram) histogram {
	if base.count > h.count || len(base.buckets) != len(h.buckets) {
		return h
	}
	d := histogram{count: h.count - base.count, sum: h.sum - base.sum, bounds: h.bounds, buckets: make([]uint64, len(h.buckets))}
	for i := range h.buckets {
		if base.buckets[i] > h.buckets[i] {
			return h
		}
		d.buckets[i] = h.buckets[i] - base.buckets[i]
	}
	return d
}

func (h histogram) add(o histogram) histogram {
	if len(h.bounds) == 0 {
		return histogram{count: o.count, sum: o.sum, bounds: o.bounds, buckets: append([]uint64(nil), o.buckets...)}
	}
	if len(o.bounds) != len(h.bounds) {
		return h
	}
	h.count += o.count
	h.sum += o.sum
	for i := range h.buckets {
		h.buckets[i] += o.buckets[i]
	}
	return h
}

// quantile estimates the q-quantile (0 < q < 1) in seconds the way Prometheus's
// histogram_quantile does: linear interpolation inside the bucket the rank falls in,
// the lowest bucket starting at 0, and the highest finite bound when the rank falls in
// +Inf. It is NaN for an empty histogram.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 || len(h.bounds) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	rank := q * float64(h.count)
	i := sort.Search(len(h.buckets), func(i int) bool { return float64(h.buckets[i]) >= rank })
	if i == len(h.buckets) {
		return h.bounds[len(h.bounds)-1]
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = h.bounds[i-1], float64(h.buckets[i-1])
	}
	in := float64(h.buckets[i]) - below
	if in == 0 {
		return h.bounds[i]
	}
	return lower + (h.bounds[i]-lower)*(rank-below)/in
}

// snapshot is the registry's request histograms and status counts at one instant.
type snapshot struct {
	at       time.Time
	latency  map[string]histogram // route → latency
	statuses map[string]uint64    // route + " " + class ("2xx") → count
}

func takeSnapshot(g prometheus.Gatherer, at time.Time) (snapshot, error) {
	s := snapshot{at: at, latency: map[string]histogram{}, statuses: map[string]uint64{}}
	fams, err := g.Gather()
	if err != nil {
		return s, err
	}
	for _, f := range fams {
		switch f.GetName() {
		case durationFamily:
			for _, m := range f.GetMetric() {
				hp := m.GetHistogram()
				if hp == nil {
					continue
				}
				h := histogram{count: hp.GetSampleCount(), sum: hp.GetSampleSum()}
				for _, b := range hp.GetBucket() {
					if math.IsInf(b.GetUpperBound(), +1) {
						continue
					}
					h.bounds = append(h.bounds, b.GetUpperBound())
					h.buckets = append(h.buckets, b.GetCumulativeCount())
				}
				s.latency[label(m, "route")] = h
			}
		case requestsFamily:
			for _, m := range f.GetMetric() {
				if c := m.GetCounter(); c != nil {
					s.statuses[label(m, "route")+" "+label(m, "code")] = uint64(c.GetValue())
				}
			}
		}
	}
	return s, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// sampler keeps snapshots at least every apart, over window.
type sampler struct {
	g      prometheus.Gatherer
	every  time.Duration
	window time.Duration

	mu    sync.Mutex
	snaps []snapshot
}

// sample takes a snapshot now (kept when the newest kept one is at least every old)
// and returns the kept ones followed by the current one.
func (s *sampler) sample(now time.Time) ([]snapshot, error) {
	cur, err := takeSnapshot(s.g, now)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.snaps); n == 0 || now.Sub(s.snaps[n-1].at) >= s.every {
		s.snaps = append(s.snaps, cur)
	}
	// The baseline is the oldest snapshot within the window; when the console was
	// not asked for a while there may be none but the newest, and then the youngest
	// older one serves (the summary says how long its window really is).
	drop := 0
	for drop < len(s.snaps)-2 && now.Sub(s.snaps[drop].at) > s.window {
		drop++
	}
	s.snaps = append([]snapshot(nil), s.snaps[drop:]...)
	out := append([]snapshot(nil), s.snaps...)
	if out[len(out)-1].at != now {
		out = append(out, cur)
	}
	return out, nil
}

// Summary is the body of GET /admin/api/summary.
type Summary struct {
	// At is when it was computed; WindowSeconds how much history it covers (up to an
	// hour: from the oldest snapshot kept, which may be younger when the hub or the
	// console started less than an hour ago).
	At            time.Time `json:"at"`
	WindowSeconds float64   `json:"window_seconds"`
	// Verification is the verification routes together; Routes every route seen.
	Verification RouteSummary   `json:"verification"`
	Routes       []RouteSummary `json:"routes"`
	// Series is the verification request rate between successive snapshots (per
	// minute), oldest first, for a chart.
	Series []Point `json:"series"`
}

// RouteSummary is one route's traffic over the window. Quantiles are in
// milliseconds and null when there were no requests.
type RouteSummary struct {
	Route        string   `json:"route"`
	Requests     uint64   `json:"requests"`
	PerMinute    float64  `json:"per_minute"`
	Errors4xx    uint64   `json:"errors_4xx"`
	Errors5xx    uint64   `json:"errors_5xx"`
	P50MS        *float64 `json:"p50_ms"`
	P99MS        *float64 `json:"p99_ms"`
	MeanMS       *float64 `json:"mean_ms"`
	AllTimeCount uint64   `json:"all_time_requests"`
	AllTimeP99MS *float64 `json:"all_time_p99_ms"`
}

// Point is one interval of Series.
type Point struct {
	At        time.Time `json:"at"`
	PerMinute float64   `json:"per_minute"`
}

func ms(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	r := math.Round(v*1e6) / 1e3 // seconds → ms, µs precision
	return &r
}

func summarise(route string, cur, base histogram, curS, baseS map[string]uint64, routes []string, window time.Duration) RouteSummary {
	d := cur.sub(base)
	rs := RouteSummary{Route: route, Requests: d.count, P50MS: ms(d.quantile(.5)), P99MS: ms(d.quantile(.99)),
		AllTimeCount: cur.count, AllTimeP99MS: ms(cur.quantile(.99))}
	if window > 0 {
		rs.PerMinute = math.Round(float64(d.count)/window.Minutes()*100) / 100
	}
	if d.count > 0 {
		rs.MeanMS = ms(d.sum / float64(d.count))
	}
	for _, r := range routes {
		rs.Errors4xx += delta(curS[r+" 4xx"], baseS[r+" 4xx"])
		rs.Errors5xx += delta(curS[r+" 5xx"], baseS[r+" 5xx"])
	}
	return rs
}

func delta(cur, base uint64) uint64 {
	if base > cur {
		return cur
	}
	return cur - base
}

// summary computes the Summary over snaps (oldest first, the last one current).
func summary(snaps []snapshot) Summary {
	cur, base := snaps[len(snaps)-1], snaps[0]
	window := cur.at.Sub(base.at)
	out := Summary{At: cur.at, WindowSeconds: math.Round(window.Seconds()), Routes: []RouteSummary{}, Series: []Point{}}

	var vCur, vBase histogram
	for _, r := range VerificationRoutes {
		vCur = vCur.add(cur.latency[r])
		vBase = vBase.add(base.latency[r])
	}
	out.Verification = summarise("verification", vCur, vBase, cur.statuses, base.statuses, VerificationRoutes, window)

	names := make([]string, 0, len(cur.latency))
	for r := range cur.latency {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		out.Routes = append(out.Routes, summarise(r, cur.latency[r], base.latency[r], cur.statuses, base.statuses, []string{r}, window))
	}

	for i := 1; i < len(snaps); i++ {
		a, b := snaps[i-1], snaps[i]
		var n uint64
		for _, r := range VerificationRoutes {
			n += delta(b.latency[r].count, a.latency[r].count)
		}
		if dt := b.at.Sub(a.at); dt > 0 {
			out.Series = append(out.Series, Point{At: b.at, PerMinute: math.Round(float64(n)/dt.Minutes()*100) / 100})
		}
	}
	return out
}
