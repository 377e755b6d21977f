package hub

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/verihub/verihub/contracts"
	"github.com/verihub/verihub/matching"
)

// countStore answers Count from a map; the embedded matching.Store is nil so any
// other call panics.
type countStore struct {
	matching.Store
	counts map[contracts.SubjectKind]int64
	err    error
}

func (s countStore) Count(_ context.Context, k contracts.SubjectKind) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	return s.counts[k], nil
}

func TestStoreCollector(t *testing.T) {
	tests := []struct {
		name  string
		store countStore
		want  string
	}{
		{
			name:  "counts",
			store: countStore{counts: map[contracts.SubjectKind]int64{contracts.KindEnterprise: 1000, contracts.KindPerson: 10000}},
			want: `# HELP verihub_store_profiles Profiles in the store, by subject kind, counted at scrape time.
# TYPE verihub_store_profiles gauge
verihub_store_profiles{kind="enterprise"} 1000
verihub_store_profiles{kind="person"} 10000
`,
		},
		{name: "store down: no series, no scrape error", store: countStore{err: errors.New("connection refused")}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(newStoreCollector(tt.store, time.Second))
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want), "verihub_store_profiles"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
