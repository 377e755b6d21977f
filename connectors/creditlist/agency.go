// Package creditlist is the pull connector for the credit lists and designations (信用中国 and designating authorities) agency, "credit".
// It pulls the record types in Types, in that order, through the pull API; the agency
// serves contract envelopes, so records pass through unchanged to validation. See
// README.md for the cursor and failure behaviour.
package creditlist

import (
	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/contracts"
)

// Agency is the agency name.
const Agency = contracts.AgencyCredit

// Types returns the record types pulled, in pull order.
func Types() []string { return []string{contracts.TypeListing} }

// NewSource returns the agency's Source over a pull client.
func NewSource(c *pull.Client) pull.Source { return pull.NewSource(c, Types()) }

// NewSimulator returns a simulator of the agency's pull API accepting token; seed makes
// its fault injection reproducible.
func NewSimulator(token string, seed uint64) *simulator.Simulator {
	return simulator.New(Agency, Types(), token, seed)
}
