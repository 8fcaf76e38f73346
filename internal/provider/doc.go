// Package provider owns time and state: it syncs Okta users and groups on a
// schedule, builds catalog snapshots from them and serves the last good one,
// holding back a snapshot that would delete too much of the catalog.
package provider
