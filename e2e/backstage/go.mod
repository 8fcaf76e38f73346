// This module exists only to keep the npm dependencies under node_modules
// (some ship Go sources) out of the service module's ./... pattern.
module okta-entity-provider-e2e-backstage

go 1.26.0
