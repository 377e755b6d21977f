//go:build unix

package contracts

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user and system CPU time. On a machine shared with
// other work, CPU time per operation is steadier than the wall time ns/op reports.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric covering the benchmark loop that follows.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
