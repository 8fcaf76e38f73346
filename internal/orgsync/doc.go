// Package orgsync keeps a local copy of the Okta org in step with Okta.
//
// A full sync lists what the configuration selects: the groups (with
// expand=stats, so empty groups are never paged), the users, and the members
// of every non-empty group, concurrently within the client's budget. The
// BUILT_IN Everyone group is never paged: it holds every user, so its
// membership is derived locally.
//
// An incremental sync then fetches only what changed since the previous
// state: users with a later lastUpdated (deprovisioned ones included),
// groups with a later lastUpdated or lastMembershipUpdated, and the members
// of just the groups whose membership changed. Deletions, which no delta
// listing shows, come from the System Log when the credentials may read it,
// or else from a listing of the groups every few syncs. A sync that changed
// nothing costs a handful of calls whatever the size of the org.
//
// With apps selected (Options.AppIDs), a full sync also lists who is
// assigned to each app; an incremental sync lists an app again only when
// the System Log shows an assignment change of it, a group assigned to it
// changed members, or (without the log) the periodic check comes round.
//
// Watermarks are Okta's own timestamps. Each is lowered by how long the
// listing that produced it took (a local duration, never a local instant)
// and read back with a safety overlap for Okta's eventual consistency, so a
// change made while a listing ran is fetched again by the next sync.
//
// A State is immutable once returned: an incremental sync copies what it
// changes and shares the rest with the previous state. Its accessors
// (Users, Groups, MemberLists) hand out its own lists, not copies.
//
// While a sync runs it keeps a Progress up to date (progress.go): the
// phase, the member listings done of those the groups' counts call for, and
// the calls left by rate-limit bucket, estimated from those counts and the
// page sizes. Turning that into an ETA is the provider's.
//
// It owns the local copy of the org and how it is kept current. It must
// not:
//
//   - import the catalog, the snapshot or the provider: it knows Okta's
//     users, groups and memberships, not Backstage entities, and the
//     provider builds the catalog's input from its accessors;
//   - decide when syncs run, or which state is served: that is the
//     provider's;
//   - send a request but through the okta client.
package orgsync
