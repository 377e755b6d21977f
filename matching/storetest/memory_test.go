package storetest_test

import (
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/verihub/verihub/matching"
	"github.com/verihub/verihub/matching/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) {
	var mu sync.Mutex
	opened := map[*testing.T]*storetest.Memory{}
	storetest.Run(t, func(t *testing.T) (matching.Store, matching.StateStore) {
		mu.Lock()
		defer mu.Unlock()
		m := opened[t]
		if m == nil {
			m = storetest.NewMemory()
		} else {
			m = m.Reopen()
		}
		opened[t] = m
		return m, m
	})
}
