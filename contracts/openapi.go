package contracts

import _ "embed"

// OpenAPI is the OpenAPI 3.1 description of the hub's HTTP API. A test in hub/api
// checks that every route the server registers is described here and every described
// route exists.
//
//go:embed openapi.yaml
var OpenAPI []byte
