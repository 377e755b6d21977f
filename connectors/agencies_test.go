package connectors

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/verihub/verihub/connectors/connectorstest"
	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/contracts"
)

// TestEveryAgencySourceReadsItsSimulator pulls every type of every registered agency
// through that agency's Source from its simulator, page by page, and checks nothing is
// lost or reordered and that the source refuses another agency's type.
func TestEveryAgencySourceReadsItsSimulator(t *testing.T) {
	for _, ag := range Agencies() {
		t.Run(ag.Name, func(t *testing.T) {
			sim := ag.NewSimulator("tok", 1)
			if err := sim.Append(connectorstest.Records(ag.Types(), 23, 1)...); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := pull.NewClient(pull.ClientConfig{BaseURL: srv.URL, Token: func() (string, error) { return "tok", nil }})
			if err != nil {
				t.Fatal(err)
			}
			src := ag.NewSource(c)
			defer src.Close()
			if !slices.Equal(src.Types(), ag.Types()) {
				t.Errorf("source types %v, want %v", src.Types(), ag.Types())
			}
			if err := src.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, typ := range ag.Types() {
				if contracts.AgencyOf(typ) != ag.Name {
					t.Errorf("type %s does not belong to %s", typ, ag.Name)
				}
				var got []string
				cursor := ""
				for {
					p, err := src.Fetch(context.Background(), typ, cursor, 4)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range p.Records {
						got = append(got, string(r))
					}
					cursor = p.Next
					if !p.HasMore {
						break
					}
				}
				var want []string
				for _, r := range sim.Records(typ) {
					want = append(want, string(r))
				}
				if len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("%s: read %d records, want the simulator's %d in order", typ, len(got), len(want))
				}
			}
			if _, err := src.Fetch(context.Background(), contracts.TypeAward, "", 4); err == nil {
				t.Errorf("fetching grant.award through the %s source succeeded", ag.Name)
			}
		})
	}
}
