package main

import (
	"context"
	"sync"
	"time"
)

// outcome is what one request reports: its kind for the error table ("" when it
// succeeded), and how many items it carried (a batch counts its items).
type outcome struct {
	err   string
	items int
}

// sample is one request's result: latency measured from its scheduled start.
type sample struct {
	latency time.Duration
	outcome
	// late is how long after its scheduled time the request was actually sent.
	late time.Duration
}

// openLoop sends rate requests a second for duration, whatever the target's speed:
// request i is scheduled at start + i/rate, and its latency runs from that scheduled
// time, not from when it was sent. When the target falls behind, requests queue for
// one of at most concurrency slots and the wait counts as latency — a closed loop
// would instead slow down and hide it (coordinated omission). Sending stops at the
// end of duration (or when ctx ends): requests still unsent then are counted in
// unsent, the overload the target could not absorb. In-flight requests then get
// drain to finish: their ctx ends then, and has the deadline start + duration +
// drain for clients that take deadlines rather than cancellation.
func openLoop(ctx context.Context, rate float64, duration time.Duration, concurrency int, drain time.Duration,
	do func(ctx context.Context, i int) outcome) (samples []sample, elapsed time.Duration, unsent int) {
	n := int(rate * duration.Seconds())
	samples = make([]sample, 0, n)
	var mu sync.Mutex
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	reqCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), start.Add(duration+drain))
	defer cancel()
	stop, cancelStop := context.WithDeadline(ctx, start.Add(duration))
	defer cancelStop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	i := 0
schedule:
	for ; i < n; i++ {
		at := start.Add(time.Duration(i) * interval)
		// Every request is due before the end; only a wait for a slot is cut short by
		// it, so a target that keeps up gets the whole schedule however late the
		// timer fires.
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				break schedule
			case <-timer.C:
			}
		}
		select {
		case slots <- struct{}{}:
		default:
			select {
			case slots <- struct{}{}:
			case <-stop.Done():
				break schedule
			}
		}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer wg.Done()
			sent := time.Now()
			out := do(reqCtx, i)
			done := time.Now()
			<-slots
			mu.Lock()
			samples = append(samples, sample{latency: done.Sub(at), outcome: out, late: sent.Sub(at)})
			mu.Unlock()
		}(i, at)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(drain):
		cancel()
		<-finished
	}
	elapsed = time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	return samples, elapsed, n - i
}
