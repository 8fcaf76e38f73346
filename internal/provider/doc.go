// Package provider owns time and state: it syncs Okta users and groups on a
// schedule, builds catalog snapshots from them and serves the last good one,
// holding back a snapshot that would delete too much of the catalog.
//
// It owns:
//
//   - the sync loop (schedule.go): when syncs run, and their jitter;
//   - event hook hints (hooks.go): the coalescing of hints into syncs and
//     the deletions they ask a sync to check with each org's Okta;
//   - the sync step (sync.go): one sync from the served state, full or
//     incremental, bounded by its timeout, and the snapshot built from it;
//   - several orgs (org.go): each org's sync, state and failures, the orgs
//     synced at once and merged into one catalog, and each org with a
//     state synced in the background so that a slow, hung or failing one
//     holds the others back for its patience at most;
//   - the catalog's input (input.go): the state's users, groups and member
//     lists as catalog.Map reads them, shared with the state, not copied;
//   - the deletion guard (guard.go): which snapshots are held back, and an
//     operator's acceptance of a held one;
//   - publishing (publish.go, persist.go): the atomic swap of the served
//     snapshot and the sync state kept across restarts;
//   - shared mode (shared.go), when replicas share a PostgreSQL database
//     (pgstore): leading (the lease, the syncs, each generation written
//     fenced before it is served), following (serving the latest
//     generation), acceptance through any replica, the orgs' states in
//     the shared store (states.go), and the hints a follower forwards to
//     the leader (forward.go);
//   - preview (preview.go): what a first sync under other settings would
//     serve, listed and mapped without serving or saving anything;
//   - what is reported of all that (status.go, ready.go), and how far a
//     running sync is, with its ETA from the rate budget (progress.go).
//
// A held snapshot's state never becomes the one the next sync starts
// from: only a published snapshot moves it.
//
// It does not speak HTTP to clients (package api serves the snapshots,
// status and acceptance it offers) and knows no Okta wire details: the
// listings come through orgsync, the entities are made by catalog and the
// served bodies by snapshot.
package provider
