// Package snapshot is the catalog as served: every response body of the
// entity endpoints, encoded once per sync from catalog's mapping and held
// compressed until the next.
//
// It owns the served representation: Body (gzip content with its size and
// ETags), the bodies of one kind cut from the whole on first use, the shards
// of large-org mode and their index of Location entities, the gzip writer
// and the worker pool that encodes the bodies in parallel, and Removed, the
// comparison the deletion guard counts with. Build is its one constructor:
// it makes each entity as it encodes it (catalog.Map), so that the entities
// are never held together, and reuses the previous snapshot's unchanged
// shards. A Snapshot is immutable once built.
//
// It must not:
//
//   - import any package of this module but catalog (and okta's types
//     through it): the provider builds snapshots, the API serves them;
//   - speak HTTP: content negotiation, conditional requests and status
//     codes belong to the api package;
//   - map entities itself (names, selection, encoding of an entity): that
//     is catalog's;
//   - keep a clock or state across snapshots but what Build is given.
package snapshot
