// Package api serves the catalog over HTTP: the entity endpoints Backstage reads,
// health, status and the status page, metrics, the OpenAPI document, the
// admin call that accepts a held-back snapshot and the Okta event hook
// endpoint. openapi.yaml at the repository root is its contract.
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
//
// routes.go is the one list of the surface. The handlers are grouped by
// what they answer: entities.go (the entity bodies), negotiate.go (Accept,
// Accept-Encoding and If-None-Match), auth.go (the entities and admin
// secrets and the token checks), health.go (/healthz and /readyz),
// admin.go (POST /admin/accept, bound to the held snapshot's ETag, and
// the page's form), hooks.go (/hooks/okta: its secret, body and rate
// bounds; the deliveries go to a HookReceiver), page.go and status.html
// (the status page, rendered from the same status JSON /status answers)
// and operations.go (status, the held snapshot's lists, metrics, the
// OpenAPI document, unknown paths and methods); encode.go maps errors to
// statuses and middleware.go holds request ids, logs, the Observer of
// served requests and panic recovery.
package api
