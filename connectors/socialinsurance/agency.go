// Package socialinsurance is the pull connector for the social insurance (社会保险经办机构) agency, "si".
// It pulls the record types in Types, in that order, through the pull API; the agency
// serves contract envelopes, so records pass through unchanged to validation. See
// README.md for the cursor and failure behaviour.
package socialinsurance

import (
	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/contracts"
)

// Agency is the agency name.
const Agency = contracts.AgencySocialInsurance

// Types returns the record types pulled, in pull order.
func Types() []string {
	return []string{contracts.TypeEmployer, contracts.TypeEmployerMonth, contracts.TypePerson}
}

// NewSource returns the agency's Source over a pull client.
func NewSource(c *pull.Client) pull.Source { return pull.NewSource(c, Types()) }

// NewSimulator returns a simulator of the agency's pull API accepting token; seed makes
// its fault injection reproducible.
func NewSimulator(token string, seed uint64) *simulator.Simulator {
	return simulator.New(Agency, Types(), token, seed)
}
