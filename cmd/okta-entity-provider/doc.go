// Command okta-entity-provider keeps a Backstage catalog's User and Group
// entities in sync with Okta: it syncs users and groups from Okta on a
// schedule and serves them as multi-document YAML at /entities, for a
// Backstage url location.
//
// Usage:
//
//	okta-entity-provider [flags]
//	okta-entity-provider healthcheck [-listen-addr addr]
//	okta-entity-provider preview [-instance url] [-json] [flags]
//
// preview lists Okta with the current settings changed by the flags given
// and prints what the catalog would gain, lose and see renamed compared
// with a running instance or the state saved in DATA_DIR, writing
// nothing; it exits 0 when nothing would be removed or renamed, 2 when
// entities would be removed, 3 when some would only be renamed, and 1
// when it fails.
//
// Every setting is an environment variable with an equal flag
// (OKTA_ORG_URL = -okta-org-url); see docs/settings.md. With no Okta
// settings, or with -demo, it serves a built-in demo org.
//
// The command owns the service's settings and their names: the settings
// table (settings.go), their precedence and checks (config.go), the YAML
// config file (configfile.go), the token and key files and what is masked
// (secrets.go), and the usage text and docs/settings.md (usage.go). It
// turns the library packages' errors into messages that name a setting and
// the fix. It also wires the packages together, owns every goroutine's
// lifetime and the HTTP server's limits (run.go, listener.go), and runs
// the preview of a settings change (preview.go).
//
// It must not hold catalog, sync or HTTP API logic of its own: selection
// and mapping rules belong to internal/catalog, the sync loop to
// internal/provider, and the HTTP surface to api. In demo mode it serves
// only the fake's Okta API, never the fake's admin API under /_fake/.
package main
