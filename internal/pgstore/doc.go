// Package pgstore keeps the replicas' shared state in PostgreSQL: the
// leader's lease, and the published generation (the sync state, the
// served snapshot and a held one), written by the leader in one
// transaction that checks its lease, read by every replica.
//
// It owns:
//
//   - the schema (migrate.go, migrations/): embedded, versioned SQL, applied
//     by the binary under a transaction-level advisory lock, so replicas
//     starting together migrate once;
//   - leadership (lease.go): a lease row with an epoch, taken when it has
//     expired by the database's clock, renewed by its holder;
//   - generations (generation.go): the fenced writes, the reads, and the
//     acceptance of a held snapshot by any replica;
//   - forwarded hints (hints.go): a bounded table where followers leave
//     event hook hints for the leader, which drains it;
//   - notifications (watch.go): LISTEN/NOTIFY on a dedicated connection;
//   - the database's availability as seen from this replica (health.go).
//
// It stores bytes: what they encode (orgsync's state, snapshot's bodies)
// is the provider's business, and it knows neither.
package pgstore
