// Package okta is a client for the parts of the Okta Management API that a
// catalog sync needs: listing users, groups, group members and System Log
// events. It is hand-written on resty and shaped like go-github: one Client
// holding the org URL, the authenticator and the rate-limit state; one
// method per API operation; iterators over all pages; a typed *Error built
// from Okta's error body.
//
// The client paces itself per rate-limit bucket so that a sync keeps a share
// of the org's budget free, caps the requests in flight, waits out 429s,
// retries server and network errors with backoff, refuses to follow a
// pagination link off the org, and never writes a credential to a log, an
// error or a panic.
//
// The package owns Okta's side of the service: its URLs, authentication,
// rate limits, wire types (User, Group, LogEvent) and their JSON, and the
// JSON string escaping and time layout Okta uses (AppendJSONString,
// TimeLayout), which the fake Okta and the catalog share. It must not:
//
//   - import any package of this module: the catalog and the provider
//     depend on it, never the other way;
//   - log, return in an error or format with %v a credential: API tokens,
//     access tokens, client assertions, DPoP proofs, private keys, or a
//     query parameter whose name looks like one;
//   - send a request, or the credentials, anywhere but the org URL, or
//     follow a redirect;
//   - know about Backstage entities, snapshots or the sync schedule.
package okta
