package connectors

import (
	"slices"

	"github.com/verihub/verihub/connectors/certification"
	"github.com/verihub/verihub/connectors/creditlist"
	"github.com/verihub/verihub/connectors/environment"
	"github.com/verihub/verihub/connectors/pull"
	"github.com/verihub/verihub/connectors/simulator"
	"github.com/verihub/verihub/connectors/socialinsurance"
	"github.com/verihub/verihub/connectors/tax"
)

// Agency is one agency package as the runner and the tools see it.
type Agency struct {
	Name    string // agency name: si, tax, cert, env, credit
	Package string // the package directory under connectors/
	// Types returns the record types pulled, in pull order.
	Types func() []string
	// NewSource builds the agency's Source over a pull client.
	NewSource func(*pull.Client) pull.Source
	// NewSimulator builds a simulator of the agency's pull API.
	NewSimulator func(token string, seed uint64) *simulator.Simulator
}

// agencies is the explicit list of pull connectors. A test checks that every agency
// package directory appears here.
var agencies = []Agency{
	{socialinsurance.Agency, "socialinsurance", socialinsurance.Types, socialinsurance.NewSource, socialinsurance.NewSimulator},
	{tax.Agency, "tax", tax.Types, tax.NewSource, tax.NewSimulator},
	{certification.Agency, "certification", certification.Types, certification.NewSource, certification.NewSimulator},
	{environment.Agency, "environment", environment.Types, environment.NewSource, environment.NewSimulator},
	{creditlist.Agency, "creditlist", creditlist.Types, creditlist.NewSource, creditlist.NewSimulator},
}

// Agencies returns every pull-connector agency, in a stable order.
func Agencies() []Agency { return slices.Clone(agencies) }

// AgencyNames returns the agency names, in the order of Agencies.
func AgencyNames() []string {
	names := make([]string, len(agencies))
	for i, a := range agencies {
		names[i] = a.Name
	}
	return names
}

// LookupAgency finds an agency by name.
func LookupAgency(name string) (Agency, bool) {
	for _, a := range agencies {
		if a.Name == name {
			return a, true
		}
	}
	return Agency{}, false
}
