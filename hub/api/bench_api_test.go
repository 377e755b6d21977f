package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/verihub/verihub/connectors/synthetic"
	"github.com/verihub/verihub/contracts"
)

// BenchmarkVerification measures POST /v1/verifications through the whole handler
// chain (instrumentation, access-token check, decoding, rule evaluation, ES256
// signing, audit, encoding) without the network.
func BenchmarkVerification(b *testing.B) {
	f := newAPIFixture(b)
	h := f.srv.Config.Handler
	for _, c := range []struct {
		name  string
		match func(synthetic.Expected) bool
	}{
		{"enterprise", func(e synthetic.Expected) bool {
			return e.Program == "jrr-2021" && e.Decision == contracts.DecisionEligible
		}},
		{"person", func(e synthetic.Expected) bool {
			return e.Subject.IDNumber != "" && e.Decision == contracts.DecisionEligible
		}},
	} {
		body, _ := json.Marshal(requestOf(f.find(b, c.name, c.match)))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/verifications", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+f.tokens[clientAll])
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
