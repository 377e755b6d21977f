// Package api serves the hub's HTTP API for subsidy portals and agencies: verification
// (single and batch, results signed as JWS), programs and screening candidates, pushed
// feeds, and the admin endpoints. Routes are described in contracts/openapi.yaml and a
// test keeps the two in step. Errors are problem+json through package problem.
package api
