// Package eventhook reads Okta event hook deliveries and turns them into
// hints for the sync: which syncs to run and which deletions to check.
//
// Events are hints, never data. A delivery is at least once, not ordered
// and may be late or forged by whoever learns the secret, so nothing in it
// is written to the catalog: a relevant event asks for an incremental
// sync, which reads Okta as a scheduled one does, and a deletion event
// names the users or groups to read from Okta directly (only Okta's 404
// removes one).
//
// It owns the delivery format (Okta's envelope and the System Log event
// objects in data.events), the verification answer, the event types that
// matter and the dedupe of repeated deliveries. It must not speak HTTP
// (package api authenticates, bounds and answers the requests) nor decide
// when a sync runs (the provider coalesces the hints).
package eventhook
