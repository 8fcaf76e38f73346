// Package oktafake is an Okta-compatible fake server and a generated Okta org,
// for tests, benchmarks and the service's demo mode.
//
// It follows Okta's Management API where this project depends on it: users,
// groups, group members, apps with their user and group assignments, the
// System Log, Link-header pagination with opaque cursors, the filter and
// search expression subset, rate-limit headers and 429s, Okta-shaped error
// bodies, API tokens and OAuth 2.0 service apps with private-key JWT
// assertions and DPoP. It is not a mock of this project's
// client: it answers any HTTP client the way Okta would.
//
// It holds clients to Okta's limits by default: generated orgs have years
// of history whose newest change is months old, the System Log keeps 90
// days of events, refuses a since more than 180 days back and shows an
// event only seconds after it happened. Its clock can run ahead of or
// behind the client's (Options.ClockOffset), and Faults inject the failures
// Okta is known for.
//
// It owns Okta's behaviour as this project's tests need it, and must not
// import the service's packages other than internal/okta's types and JSON
// helpers: a fake that shared the client's logic would only agree with it.
// Its admin API (/_fake) is for tests, benchmarks and cmd/fake-okta; the
// service's demo mode mounts the Okta API only.
package oktafake
