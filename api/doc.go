// Package api serves the catalog over HTTP: the entity endpoints Backstage reads,
// health, status, metrics, the OpenAPI document and the admin call that accepts
// a held-back snapshot. openapi.yaml at the repository root is its contract.
//
// It owns HTTP to clients: routes, content negotiation, conditional
// requests and ETags, authentication of the entity and admin endpoints,
// write deadlines, and the mapping of every outcome to a status (a
// Source's AcceptHeld finding nothing held is its 409). It must not:
//
//   - build, change or hold snapshots: it serves what its Source gives it
//     (snapshot.Snapshot, immutable) and asks the Source to accept a held one;
//   - import the provider, orgsync or okta: the Source interface it defines
//     is all it knows of the service behind it;
//   - map entities or encode bodies itself: the bodies come encoded and
//     compressed from snapshot.
package api
