// Command fake-okta serves an Okta-compatible fake org over HTTP, for local
// runs, demos and end-to-end tests of the okta-entity-provider.
//
//	fake-okta -addr 127.0.0.1:9999 -demo
//	fake-okta -users 20000 -groups 2000 -seed 1 -latency 50ms -concurrency 75 -rate-users 600 -rate-groups 500
//
// API tokens: "demo-token" unless -tokens says otherwise. The admin API
// lives under /_fake/ (truth, stats, faults, clock, hooks, users, groups,
// apps and their assignments).
// Event hooks deliver the org's System Log events as Okta does, to a URL
// registered with -event-hook-url or POST /_fake/hooks.
//
// The command owns only its flags and the wiring of one oktafake.Server:
// the fake org, its faults and hostile modes live in internal/oktafake. It
// is a test and demo tool: it must not be imported by the service, hold
// logic the service depends on, or be exposed where real clients reach it,
// since its admin API changes the org without authentication.
package main
