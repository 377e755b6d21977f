// Package certification is the pull connector for the skill certification (技能人才评价机构) agency, "cert".
// It pulls the record types in Types, in that order, through the pull API; the agency
// serves contract envelopes, so records pass through unchanged to validation. See
// README.md for the cursor and failure behaviour.
package certification

import (
	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/contracts"
)

// Agency is the agency name.
const Agency = contracts.AgencyCertification

// Types returns the record types pulled, in pull order.
func Types() []string { return []string{contracts.TypeCertificate} }

// NewSource returns the agency's Source over a pull client.
func NewSource(c *pull.Client) pull.Source { return pull.NewSource(c, Types()) }

// NewSimulator returns a simulator of the agency's pull API accepting token; seed makes
// its fault injection reproducible.
func NewSimulator(token string, seed uint64) *simulator.Simulator {
	return simulator.New(Agency, Types(), token, seed)
}
