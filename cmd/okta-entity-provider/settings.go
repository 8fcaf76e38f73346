package main

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
)

// setting is one configuration setting: an environment variable, the flag
// of the same name in lower kebab case, its default and its description.
// The table of settings (config.settings) is the single place that lists
// them; docs/settings.md is generated from it.
type setting struct {
	env     string
	section string
	def     string
	usage   string
	secret  bool
	// field is the library field the setting sets, as "catalog.<Field>"
	// (catalog.Options, named by catalog.OptionError), "provider.<Field>"
	// (provider.Config) or "okta.<Field>" (okta.Options): the libraries
	// name their knobs so, and the service names them by this table.
	field string
	// orgKey, for a setting of the one org's connection or selection, is
	// the key of a config file orgs entry that takes its place: with orgs
	// the setting must be unset.
	orgKey string
	// value parses into and shows the bound config field.
	value value
}

// flagName is the flag for an environment variable: OKTA_ORG_URL -> okta-org-url.
func (s *setting) flagName() string {
	return strings.ReplaceAll(strings.ToLower(s.env), "_", "-")
}

// isBool reports whether the flag may be given without a value.
func (s *setting) isBool() bool {
	_, ok := s.value.(boolValue)
	return ok
}

// value parses a setting's text into a config field and shows it back. Set
// returns a message that says what is wanted, for "invalid X: <message>".
type value interface {
	Set(string) error
	String() string
}

// Sections of the settings table, in document order.
const (
	sectionOkta      = "Okta connection"
	sectionSelection = "Selection and mapping"
	sectionService   = "Service"
	sectionPush      = "Event hooks and catalog refresh"
)

// settings binds the table of every setting to c.
func (c *config) settings() []setting {
	d := catalog.DefaultOptions()
	return []setting{
		{env: "OKTA_ORG_URL", orgKey: "url", section: sectionOkta, field: "okta.OrgURL", value: urlValue{&c.OrgURL},
			usage: "Okta org URL, e.g. `https://example.okta.com`. With no org URL and no credentials the service runs the built-in demo org."},
		{env: "OKTA_TOKEN", orgKey: "tokenEnv", section: sectionOkta, secret: true, value: stringValue{&c.Token},
			usage: "Okta API token (sent as `SSWS`). Use a token of a read-only admin."},
		{env: "OKTA_TOKEN_FILE", orgKey: "tokenFile", section: sectionOkta, value: stringValue{&c.TokenFile},
			usage: "File holding the API token, instead of `OKTA_TOKEN`."},
		{env: "OKTA_CLIENT_ID", orgKey: "clientId", section: sectionOkta, value: stringValue{&c.ClientID},
			usage: "Client id of an OAuth 2.0 service app, instead of an API token."},
		{env: "OKTA_PRIVATE_KEY", orgKey: "privateKeyEnv", section: sectionOkta, secret: true, value: stringValue{&c.PrivateKey},
			usage: "Private key of the OAuth service app: PEM (PKCS#1, PKCS#8, SEC1) or JWK JSON."},
		{env: "OKTA_PRIVATE_KEY_FILE", orgKey: "privateKeyFile", section: sectionOkta, value: stringValue{&c.PrivateKeyFile},
			usage: "File holding the OAuth private key, instead of `OKTA_PRIVATE_KEY`."},
		{env: "OKTA_KEY_ID", orgKey: "keyId", section: sectionOkta, value: stringValue{&c.KeyID},
			usage: "Key id (`kid`) of the OAuth key, needed when the app has several keys."},
		{env: "OKTA_SCOPES", orgKey: "scopes", section: sectionOkta, def: scopesDefault, value: fieldsValue{&c.Scopes},
			usage: "OAuth scopes, space or comma separated. Add `okta.logs.read` to let incremental syncs read deletions from the System Log."},
		{env: "OKTA_RATE_SHARE", section: sectionOkta, def: "0.5", value: floatValue{p: &c.RateShare, min: 0, max: 1, openMin: true, want: "a share above 0 and at most 1, e.g. 0.5"},
			usage: "Share of each Okta rate-limit bucket the service may use."},
		{env: "OKTA_MAX_CONCURRENCY", section: sectionOkta, def: "20", value: intValue{p: &c.MaxConcurrency, min: 1, max: 75},
			usage: "Most Okta requests in flight at once (Okta's default concurrency limit is 75)."},
		{env: "OKTA_MAX_RETRIES", section: sectionOkta, def: "4", value: intValue{p: &c.MaxRetries, min: 1, max: 20},
			usage: "Retries of an Okta request after a server error, timeout or connection error (429s are waited out separately)."},
		{env: "OKTA_REQUEST_TIMEOUT", section: sectionOkta, field: "okta.RequestTimeout", def: "30s", value: durationValue{p: &c.RequestTimeout, min: time.Second},
			usage: "Timeout of one Okta request."},
		{env: "OKTA_USER_FILTER", orgKey: "users.filter", section: sectionSelection, value: stringValue{&c.UserFilter},
			usage: "Okta `filter` expression for users, e.g. `status eq \"ACTIVE\"`. Not with `OKTA_USER_SEARCH`."},
		{env: "OKTA_USER_SEARCH", orgKey: "users.search", section: sectionSelection, value: stringValue{&c.UserSearch},
			usage: "Okta `search` expression for users, e.g. `profile.department eq \"Engineering\"`. Not with `OKTA_USER_FILTER`."},
		{env: "OKTA_GROUP_FILTER", orgKey: "groups.filter", section: sectionSelection, value: stringValue{&c.GroupFilter},
			usage: "Okta `filter` expression for groups, e.g. `type eq \"OKTA_GROUP\"`. Not with `OKTA_GROUP_SEARCH`."},
		{env: "OKTA_GROUP_SEARCH", orgKey: "groups.search", section: sectionSelection, value: stringValue{&c.GroupSearch},
			usage: "Okta `search` expression for groups, e.g. `profile.name sw \"eng-\"`. Not with `OKTA_GROUP_FILTER`."},
		{env: "OKTA_APP_IDS", orgKey: "appIds", section: sectionSelection, field: "provider.AppIDs", value: listValue{&c.AppIDs},
			usage: "Okta app ids, comma separated: emit only the users assigned to these apps, directly or through an assigned group. Combines with the other selection settings. With OAuth, needs the scope `okta.apps.read`."},
		{env: "APP_GROUPS_ONLY", orgKey: "appGroupsOnly", section: sectionSelection, field: "provider.AppGroupsOnly", def: "false", value: boolValue{&c.AppGroupsOnly},
			usage: "With `OKTA_APP_IDS`: emit only the groups assigned to those apps."},
		{env: "USER_NAMING", section: sectionSelection, field: "catalog.UserNaming", def: d.UserNaming, value: stringValue{&c.Catalog.UserNaming},
			usage: "How a user's entity name is made: `id`, `kebab-case-email`, `strip-domain-email`, `slugify-email` or `profile:<attribute>`."},
		{env: "GROUP_NAMING", section: sectionSelection, field: "catalog.GroupNaming", def: d.GroupNaming, value: stringValue{&c.Catalog.GroupNaming},
			usage: "How a group's entity name is made: `id`, `kebab-case-name`, `profile-name` or `profile:<attribute>`."},
		{env: "NAMESPACE", section: sectionSelection, field: "catalog.Namespace", def: d.Namespace, value: stringValue{&c.Catalog.Namespace},
			usage: "Backstage namespace of the entities; empty means `default`."},
		{env: "GROUP_HIERARCHY_KEY", section: sectionSelection, field: "catalog.HierarchyKey", def: d.HierarchyKey, value: stringValue{&c.Catalog.HierarchyKey},
			usage: "Group profile attribute holding a group's own key in the hierarchy, e.g. `orgId` (`id` = the Okta group id). Needs `GROUP_HIERARCHY_PARENT_KEY`."},
		{env: "GROUP_HIERARCHY_PARENT_KEY", section: sectionSelection, field: "catalog.HierarchyParentKey", def: d.HierarchyParentKey, value: stringValue{&c.Catalog.HierarchyParentKey},
			usage: "Group profile attribute holding the parent's key, e.g. `parentOrgId`; without `GROUP_HIERARCHY_KEY` it is matched against group names. Empty: no hierarchy."},
		{env: "GROUP_TYPES", section: sectionSelection, field: "catalog.GroupTypes", value: mapValue{&c.Catalog.GroupTypes},
			usage: "Backstage `spec.type` per Okta group type, e.g. `OKTA_GROUP=team,APP_GROUP=app-group`; unlisted types get `group`."},
		{env: "INCLUDE_GROUP_TYPES", section: sectionSelection, field: "catalog.IncludeGroupTypes", value: listValue{&c.Catalog.IncludeGroupTypes},
			usage: "Okta group types to include (comma separated: `OKTA_GROUP`, `APP_GROUP`, `BUILT_IN`); empty means all."},
		{env: "EXCLUDE_GROUP_TYPES", section: sectionSelection, field: "catalog.ExcludeGroupTypes", def: strings.Join(d.ExcludeGroupTypes, ","), value: listValue{&c.Catalog.ExcludeGroupTypes},
			usage: "Okta group types to leave out; `none` keeps all. By default the `Everyone` group (`BUILT_IN`), which holds every user, is left out."},
		{env: "INCLUDE_EMPTY_GROUPS", section: sectionSelection, field: "catalog.IncludeEmptyGroups", def: "true", value: boolValue{&c.Catalog.IncludeEmptyGroups},
			usage: "Emit groups that have no members."},
		{env: "USER_STATUSES", section: sectionSelection, field: "catalog.UserStatuses", def: strings.Join(d.UserStatuses, ","), value: listValue{&c.Catalog.UserStatuses},
			usage: "User statuses to emit, comma separated; `DEPROVISIONED` may be added."},
		{env: "USERS_FROM_GROUPS", section: sectionSelection, field: "catalog.UsersFromGroups", def: strconv.FormatBool(d.UsersFromGroups), value: boolValue{&c.Catalog.UsersFromGroups},
			usage: "Emit only users that are members of an emitted group (their users then come from the member listings)."},
		{env: "GROUP_MEMBERS", section: sectionSelection, field: "catalog.IncludeMembers", def: strconv.FormatBool(d.IncludeMembers), value: boolValue{&c.Catalog.IncludeMembers},
			usage: "Also list members in each Group's `spec.members` (users always carry `spec.memberOf`)."},
		{env: "USER_ANNOTATIONS", section: sectionSelection, field: "catalog.UserAnnotations", def: strings.Join(d.UserAnnotations, ","), value: listValue{&c.Catalog.UserAnnotations},
			usage: "User profile attributes copied to annotations, comma separated."},
		{env: "GROUP_ANNOTATIONS", section: sectionSelection, field: "catalog.GroupAnnotations", def: strings.Join(d.GroupAnnotations, ","), value: listValue{&c.Catalog.GroupAnnotations},
			usage: "Group profile attributes copied to annotations, comma separated."},
		{env: "LISTEN_ADDR", section: sectionService, def: ":8080", value: addrValue{&c.ListenAddr},
			usage: "Address the HTTP server listens on."},
		{env: "MAX_CONNECTIONS", section: sectionService, def: "256", value: intValue{p: &c.MaxConnections, min: 1, max: 65536},
			usage: "Most HTTP connections open at once. A connection over the limit waits up to " + connectionWait.String() + " for one to close, then is closed unanswered (Backstage keeps its entities and reads again later). Probes count too: leave them room."},
		{env: "SYNC_INTERVAL", section: sectionService, field: "provider.Interval", def: "10m", value: durationValue{p: &c.SyncInterval, min: time.Second},
			usage: "Time between syncs, jittered by ±10 %. At least 1s."},
		{env: "SYNC_TIMEOUT", section: sectionService, field: "provider.Timeout", def: "30m", value: durationValue{p: &c.SyncTimeout, min: time.Second},
			usage: "Longest a sync may run before it counts as failed."},
		{env: "FULL_SYNC_INTERVAL", section: sectionService, def: "24h", value: durationValue{p: &c.FullSyncInterval, min: time.Second},
			usage: "Time between full reconciliations; syncs in between fetch only changes."},
		{env: "DELETION_CHECK_EVERY", section: sectionService, field: "provider.DeletionCheckEvery", def: "10", value: intValue{p: &c.DeletionCheck, min: 1, max: 10000},
			usage: "When the System Log cannot be read (no `okta.logs.read`), every Nth incremental sync lists the users and groups to find deleted ones."},
		{env: "DATA_DIR", section: sectionService, field: "provider.StatePath", value: stringValue{&c.DataDir},
			usage: "Directory for the persisted sync state, so a restart serves at once and resumes incrementally. Empty: nothing is persisted."},
		{env: "DATABASE_URL", section: sectionService, secret: true, value: databaseURLValue{&c.DatabaseURL},
			usage: "PostgreSQL connection URL (`postgres://user:password@host:5432/db?sslmode=require`): shared mode for several replicas. The replicas share the state there, one of them (the lease holder) syncs, all serve the same generation. Give it a database or schema of its own (`search_path` in the URL's options). DATA_DIR is then not used. Empty: one replica, state in DATA_DIR."},
		{env: "REPLICA_ID", section: sectionService, value: stringValue{&c.ReplicaID},
			usage: "This replica's id in shared mode, unique among the replicas. Empty: the host name (the pod's name) and a random suffix."},
		{env: "HA_LEASE_TTL", section: sectionService, def: "10s", value: durationValue{p: &c.LeaseTTL, min: 2 * time.Second},
			usage: "Shared mode: how long the leader's lease lasts unless renewed (it renews every quarter of it). A replica takes over this long after the leader died, at most. At least 2s."},
		{env: "ENTITY_SHARDS", section: sectionService, def: "0", value: intValue{p: &c.EntityShards, min: 0, max: 1024},
			usage: "Large-org mode: split the entities into this many shards, each its own URL; `/entities` then lists one Location per shard. 0 = off."},
		{env: "ENTITIES_TOKEN", section: sectionService, secret: true, value: stringValue{&c.EntitiesToken},
			usage: "Shared secret required on the entity endpoints (`Authorization: Bearer` or `?token=`). Empty: open."},
		{env: "ADMIN_TOKEN", section: sectionService, secret: true, value: stringValue{&c.AdminToken},
			usage: "Bearer token for `POST /admin/accept`. Empty: the admin endpoint is disabled."},
		{env: "MAX_DELETE_SHARE", section: sectionService, field: "provider.MaxDeleteShare", def: "0.1", value: floatValue{p: &c.MaxDeleteShare, min: 0, max: 1, want: "a share from 0 to 1, e.g. 0.1"},
			usage: "Deletion guard: a snapshot removing more than this share of the served users or groups is held back until accepted."},
		{env: "ACCEPT_DELETIONS", section: sectionService, field: "provider.AcceptDeletions", def: "false", value: boolValue{&c.AcceptDeletions},
			usage: "Serve snapshots whatever they remove (the deletion guard only logs). Set it once to accept a held snapshot."},
		{env: "SHUTDOWN_TIMEOUT", section: sectionService, def: "30s", value: durationValue{p: &c.ShutdownTimeout, min: 0},
			usage: "How long shutdown waits for in-flight requests."},
		{env: "LOG_LEVEL", section: sectionService, def: "info", value: levelValue{&c.LogLevel},
			usage: "Log level: `debug`, `info`, `warn` or `error`."},
		{env: "LOG_FORMAT", section: sectionService, def: "json", value: enumValue{p: &c.LogFormat, allowed: []string{"json", "console"}},
			usage: "Log format: `json` or `console`."},
		{env: "CONFIG_FILE", section: sectionService, value: stringValue{&c.ConfigFile},
			usage: "YAML file with the structured options (see below). Environment variables and flags win over it."},
		{env: "DEMO", section: sectionService, def: "false", value: boolValue{&c.Demo},
			usage: "Serve the built-in demo org even when Okta settings are given."},
		{env: "OKTA_EVENT_HOOK_SECRET", section: sectionPush, secret: true, value: stringValue{&c.EventHookSecret},
			usage: "Enables `/hooks/okta` for an Okta event hook whose authentication field is `Authorization` and whose secret is this (at least 16 characters); with the config file's `orgs`, `/hooks/okta/<name>` for each org, all with this secret. Empty: the endpoint answers 404 and only the schedule syncs."},
		{env: "BACKSTAGE_URL", section: sectionPush, value: urlValue{&c.BackstageURL},
			usage: "Backstage backend URL, e.g. `https://backstage.example.com`: after a changed snapshot the catalog is asked to re-read this service's location at once. Empty: the catalog reads at its own processing interval."},
		{env: "BACKSTAGE_TOKEN", section: sectionPush, secret: true, value: stringValue{&c.BackstageToken},
			usage: "Static external-access token of Backstage (`backend.auth.externalAccess`), with `catalog.entity.read` and `catalog.entity.refresh`. Required with `BACKSTAGE_URL`."},
		{env: "BACKSTAGE_LOCATION_TARGET", section: sectionPush, value: urlValue{&c.BackstageTarget},
			usage: "This service's entities URL as the catalog's location names it (the `target` in `catalog.locations`), without any query, e.g. `http://okta-entity-provider:8080/entities`. Required with `BACKSTAGE_URL`."},
	}
}

// databaseURLValue is a PostgreSQL connection URL. Its text is never
// shown: it may hold the password.
type databaseURLValue struct{ p *string }

func (v databaseURLValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return fmt.Errorf("want a PostgreSQL URL such as postgres://user:password@host:5432/database")
		}
	}
	*v.p = s
	return nil
}
func (v databaseURLValue) String() string { return *v.p }

type stringValue struct{ p *string }

func (v stringValue) Set(s string) error { *v.p = s; return nil }
func (v stringValue) String() string     { return *v.p }

// urlValue is an absolute http or https URL without credentials, query or
// fragment.
type urlValue struct{ p *string }

func (v urlValue) Set(s string) error {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if s != "" {
		u, err := url.Parse(s)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return fmt.Errorf("want an absolute URL such as https://example.okta.com")
		case u.User != nil:
			return fmt.Errorf("the URL holds credentials (user:password@); remove them and give the API token in OKTA_TOKEN or the OAuth app in OKTA_CLIENT_ID")
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
			return fmt.Errorf("want a URL without query or fragment, such as https://example.okta.com")
		}
	}
	*v.p = s
	return nil
}
func (v urlValue) String() string { return *v.p }

type addrValue struct{ p *string }

func (v addrValue) Set(s string) error {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return fmt.Errorf("want host:port or :port, e.g. :8080")
	}
	*v.p = s
	return nil
}
func (v addrValue) String() string { return *v.p }

type boolValue struct{ p *bool }

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	*v.p = b
	return nil
}
func (v boolValue) String() string { return strconv.FormatBool(*v.p) }

type intValue struct {
	p        *int
	min, max int
}

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < v.min || n > v.max {
		return fmt.Errorf("want a whole number from %d to %d", v.min, v.max)
	}
	*v.p = n
	return nil
}
func (v intValue) String() string { return strconv.Itoa(*v.p) }

type floatValue struct {
	p        *float64
	min, max float64
	openMin  bool
	want     string
}

func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < v.min || f > v.max || (v.openMin && f == v.min) {
		return fmt.Errorf("want %s", v.want)
	}
	*v.p = f
	return nil
}
func (v floatValue) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }

type durationValue struct {
	p   *time.Duration
	min time.Duration
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want a duration such as 90s, 10m or 1h30m")
	}
	if d < v.min {
		return fmt.Errorf("want at least %s", v.min)
	}
	*v.p = d
	return nil
}
func (v durationValue) String() string { return v.p.String() }

// listValue is a comma-separated list; "none" is the empty list.
type listValue struct{ p *[]string }

func (v listValue) Set(s string) error {
	if strings.TrimSpace(s) == "none" {
		*v.p = nil
		return nil
	}
	*v.p = splitList(s, ",")
	return nil
}
func (v listValue) String() string { return strings.Join(*v.p, ",") }

// fieldsValue is a list separated by spaces or commas.
type fieldsValue struct{ p *[]string }

func (v fieldsValue) Set(s string) error {
	*v.p = splitList(strings.ReplaceAll(s, ",", " "), " ")
	return nil
}
func (v fieldsValue) String() string { return strings.Join(*v.p, " ") }

func splitList(s, sep string) []string {
	var out []string
	for _, f := range strings.Split(s, sep) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// mapValue is a comma-separated list of key=value pairs.
type mapValue struct{ p *map[string]string }

func (v mapValue) Set(s string) error {
	m := make(map[string]string)
	for _, kv := range splitList(s, ",") {
		k, val, ok := strings.Cut(kv, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return fmt.Errorf("want comma-separated KEY=value pairs, e.g. OKTA_GROUP=team,APP_GROUP=app-group")
		}
		m[k] = val
	}
	*v.p = m
	return nil
}
func (v mapValue) String() string {
	keys := make([]string, 0, len(*v.p))
	for k := range *v.p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + (*v.p)[k]
	}
	return strings.Join(parts, ",")
}

type levelValue struct{ p *zerolog.Level }

func (v levelValue) Set(s string) error {
	l, err := zerolog.ParseLevel(strings.ToLower(strings.TrimSpace(s)))
	if err != nil || s == "" {
		return fmt.Errorf("want debug, info, warn or error")
	}
	*v.p = l
	return nil
}
func (v levelValue) String() string { return v.p.String() }

type enumValue struct {
	p       *string
	allowed []string
}

func (v enumValue) Set(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("want %s", strings.Join(v.allowed, " or "))
	}
	*v.p = s
	return nil
}
func (v enumValue) String() string { return *v.p }
