package connectors

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/verihub/verihub/connectors/connectorstest"
	"github.com/verihub/verihub/contracts"
)

// BenchmarkPull measures records per second through the runner (HTTP fetch, decode,
// validation stand-in, publish to a fake sink, cursor store) from a local simulator.
func BenchmarkPull(b *testing.B) {
	a, _ := LookupAgency(contracts.AgencySocialInsurance)
	sim := a.NewSimulator(testToken, 1)
	recs := connectorstest.Records(a.Types(), 30000, 1)
	if err := sim.Append(recs...); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	b.Setenv("VERIHUB_BENCH_TOKEN", testToken)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sink := connectorstest.NewSink()
		r, err := NewRunner(Config{Name: "bench", Agency: a.Name, BaseURL: srv.URL, TokenEnv: "VERIHUB_BENCH_TOKEN", PageSize: 1000, PollInterval: time.Hour},
			Deps{Sink: sink, Cursors: connectorstest.NewCursors(), Validator: ValidatorFunc(connectorstest.Validate)})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		go func() { r.Run(ctx); close(done) }()
		for sink.Published() < len(recs) {
			time.Sleep(200 * time.Microsecond)
		}
		b.StopTimer()
		cancel()
		<-done
		b.StartTimer()
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
}
