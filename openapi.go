// Package oktaentityprovider holds the files that describe the service as a whole.
// The program lives in cmd/okta-entity-provider.
package oktaentityprovider

import _ "embed"

// OpenAPI is the OpenAPI 3.1 description of the HTTP API (openapi.yaml), served at
// GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
