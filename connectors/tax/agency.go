// Package tax is the pull connector for the tax administration (税务部门) agency, "tax".
// It pulls the record types in Types, in that order, through the pull API; the agency
// serves contract envelopes, so records pass through unchanged to validation. See
// README.md for the cursor and failure behaviour.
package tax

import (
	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/contracts"
)

// Agency is the agency name.
const Agency = contracts.AgencyTax

// Types returns the record types pulled, in pull order.
func Types() []string { return []string{contracts.TypeTaxpayer} }

// NewSource returns the agency's Source over a pull client.
func NewSource(c *pull.Client) pull.Source { return pull.NewSource(c, Types()) }

// NewSimulator returns a simulator of the agency's pull API accepting token; seed makes
// its fault injection reproducible.
func NewSimulator(token string, seed uint64) *simulator.Simulator {
	return simulator.New(Agency, Types(), token, seed)
}
