// Package backstage tells a Backstage catalog to re-read this service's
// entities now, rather than at its next processing pass.
//
// After a changed snapshot is published, a Notifier finds the catalog's
// Location entities whose target is the service's entities URL (through
// the catalog's entities API) and asks the catalog to refresh each one
// (POST /api/catalog/refresh with its entity ref), which makes the catalog
// re-read the target. Calls carry a static external-access token
// (backend.auth.externalAccess in Backstage's app-config).
//
// It owns the catalog's REST calls and their retries. It must not block or
// fail a sync: a refresh that fails is logged, counted and retried with
// backoff, and the catalog's own processing interval stays the fallback.
package backstage
