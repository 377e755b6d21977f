package hub

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// storeCollector exports the profile counts (verihub_store_profiles) that GET
// /v1/admin/pipeline reports, counted at scrape time: both stores keep counts, so a
// scrape costs one read (embedded) or one pipelined round trip (Redis).
type storeCollector struct {
	store   matching.Store
	timeout time.Duration
	desc    *prometheus.Desc
}

func newStoreCollector(s matching.Store, timeout time.Duration) *storeCollector {
	return &storeCollector{store: s, timeout: timeout, desc: prometheus.NewDesc("verihub_store_profiles",
		"Profiles in the store, by subject kind, counted at scrape time.", []string{"kind"}, nil)}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect leaves a kind out when counting fails: an unreachable store shows on
// /readyz, and the other series keep flowing (an invalid metric would fail the whole
// scrape).
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	// The collector interface carries no context; the timeout bounds the scrape.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for _, k := range []contracts.SubjectKind{contracts.KindEnterprise, contracts.KindPerson} {
		n, err := c.store.Count(ctx, k)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(k))
	}
}
