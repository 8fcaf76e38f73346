package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

var update = flag.Bool("update", false, "rewrite golden files")

// env returns a getenv over the given pairs.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.pem")
	emptyFile := writeFile(t, "empty-token", "\n")
	badYAML := writeFile(t, "config.yaml", "naming:\n  usr: id\n")
	badMapping := writeFile(t, "config.yaml", "userMappings:\n  - attribute: x\n    annotation: okta.com/id\n")
	badTransform := writeFile(t, "config.yaml", "naming:\n  groupNamespaces:\n    APP_GROUP: Apps\n"+
		"transform:\n  user:\n    picture: '{{printf \"%s\" .profile.login}}'\n  group:\n    labels:\n      team: '{{.profile.name'\n")
	typoTransform := writeFile(t, "config.yaml", "transform:\n  user:\n    displayname: x\n")
	_, keyErr := okta.NewOAuth(okta.OAuthConfig{ClientID: "0oa1", PrivateKey: []byte("not a key")})
	if keyErr == nil {
		t.Fatal("okta.NewOAuth accepted a bogus key")
	}
	const org = "https://example.okta.com"

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"missing token", nil, map[string]string{"OKTA_ORG_URL": org},
			"OKTA_TOKEN is not set: set OKTA_TOKEN (or OKTA_TOKEN_FILE) to an API token, or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY for an OAuth service app"},
		{"missing org URL", nil, map[string]string{"OKTA_TOKEN": "t"},
			"OKTA_ORG_URL is not set: set it to your Okta org URL such as https://example.okta.com, or unset every OKTA_ setting to run the demo org"},
		{"malformed URL", nil, map[string]string{"OKTA_ORG_URL": "example.okta.com", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "example.okta.com": want an absolute URL such as https://example.okta.com`},
		{"malformed URL flag", []string{"-okta-org-url", "ftp://example.okta.com"}, map[string]string{"OKTA_TOKEN": "t"},
			`invalid -okta-org-url "ftp://example.okta.com": want an absolute URL such as https://example.okta.com`},
		{"plain http to a remote org", nil, map[string]string{"OKTA_ORG_URL": "http://example.okta.com", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL: org URL "http://example.okta.com" uses http, want https (plain http only for loopback test servers)`},
		{"user filter and search", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_TOKEN": "t",
			"OKTA_USER_FILTER": `status eq "ACTIVE"`, "OKTA_USER_SEARCH": `profile.department eq "R&D"`},
			"OKTA_USER_FILTER and OKTA_USER_SEARCH are both set: Okta takes a filter or a search expression, not both; keep one"},
		{"group filter and search", []string{"-okta-group-filter", `type eq "OKTA_GROUP"`}, map[string]string{"OKTA_GROUP_SEARCH": `profile.name sw "eng"`},
			"OKTA_GROUP_FILTER and OKTA_GROUP_SEARCH are both set: Okta takes a filter or a search expression, not both; keep one"},
		{"bad app id", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_TOKEN": "t", "OKTA_APP_IDS": "0oa1,apps/0oa2"},
			`invalid OKTA_APP_IDS: "apps/0oa2" is not an Okta app id (letters and digits, such as 0oa1b2c3d4e5f6g7h8i9; the app's id is in its Admin Console URL)`},
		{"app groups without apps", []string{"-app-groups-only"}, map[string]string{"OKTA_ORG_URL": org, "OKTA_TOKEN": "t"},
			"APP_GROUPS_ONLY is set without OKTA_APP_IDS: set the ids of the apps whose groups to keep, or unset APP_GROUPS_ONLY"},
		{"apps without the apps scope", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY": "k", "OKTA_APP_IDS": "0oa2"},
			"OKTA_APP_IDS needs the OAuth scope okta.apps.read, which OKTA_SCOPES does not ask for: grant it to the OAuth app (Okta API Scopes tab) and add it to OKTA_SCOPES"},
		{"unknown user naming", nil, map[string]string{"USER_NAMING": "fancy"},
			`invalid USER_NAMING "fancy": unknown strategy; want id, kebab-case-email, strip-domain-email, slugify-email or profile:<attribute>`},
		{"unknown group naming", []string{"-group-naming=title"}, nil,
			`invalid GROUP_NAMING "title": unknown strategy; want id, kebab-case-name, profile-name or profile:<attribute>`},
		{"unreadable key file", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY_FILE": missing},
			"cannot read OKTA_PRIVATE_KEY_FILE: open " + missing + ": no such file or directory; point it at a readable file holding the OAuth app's private key (PEM or JWK)"},
		{"unparsable key", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY": "not a key"},
			"invalid OKTA_PRIVATE_KEY: " + strings.TrimPrefix(keyErr.Error(), "okta: ") + "; give the service app's private key as PEM (PKCS#1, PKCS#8, SEC1) or JWK"},
		{"client id without key", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_CLIENT_ID": "0oa1"},
			"OKTA_PRIVATE_KEY is not set: OAuth with OKTA_CLIENT_ID needs the app's private key in OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE"},
		{"token and client id", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_TOKEN": "t", "OKTA_CLIENT_ID": "0oa1"},
			"OKTA_TOKEN and OKTA_CLIENT_ID are both set: use an API token or an OAuth service app, not both"},
		{"unreadable token file", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_TOKEN_FILE": missing},
			"cannot read OKTA_TOKEN_FILE: open " + missing + ": no such file or directory; point it at a readable file holding the API token"},
		{"empty token file", nil, map[string]string{"OKTA_ORG_URL": org, "OKTA_TOKEN_FILE": emptyFile},
			"OKTA_TOKEN_FILE " + emptyFile + " is empty: put the API token in it"},
		{"bad duration", nil, map[string]string{"SYNC_INTERVAL": "10"},
			`invalid SYNC_INTERVAL "10": want a duration such as 90s, 10m or 1h30m`},
		{"interval too short", []string{"-sync-interval", "100ms"}, nil,
			`invalid -sync-interval "100ms": want at least 1s`},
		{"bad delete share", nil, map[string]string{"MAX_DELETE_SHARE": "1.5"},
			`invalid MAX_DELETE_SHARE "1.5": want a share from 0 to 1, e.g. 0.1`},
		{"zero rate share", []string{"-okta-rate-share=0"}, nil,
			`invalid -okta-rate-share "0": want a share above 0 and at most 1, e.g. 0.5`},
		{"bad concurrency", nil, map[string]string{"OKTA_MAX_CONCURRENCY": "100"},
			`invalid OKTA_MAX_CONCURRENCY "100": want a whole number from 1 to 75`},
		{"bad shards", nil, map[string]string{"ENTITY_SHARDS": "-1"},
			`invalid ENTITY_SHARDS "-1": want a whole number from 0 to 1024`},
		{"bad bool", nil, map[string]string{"INCLUDE_EMPTY_GROUPS": "yes please"},
			`invalid INCLUDE_EMPTY_GROUPS "yes please": want true or false`},
		{"bad log format", nil, map[string]string{"LOG_FORMAT": "xml"},
			`invalid LOG_FORMAT "xml": want json or console`},
		{"bad log level", nil, map[string]string{"LOG_LEVEL": "loud"},
			`invalid LOG_LEVEL "loud": want debug, info, warn or error`},
		{"bad max connections", nil, map[string]string{"MAX_CONNECTIONS": "0"},
			`invalid MAX_CONNECTIONS "0": want a whole number from 1 to 65536`},
		{"bad listen address", nil, map[string]string{"LISTEN_ADDR": "8080"},
			`invalid LISTEN_ADDR "8080": want host:port or :port, e.g. :8080`},
		{"unknown group type", nil, map[string]string{"INCLUDE_GROUP_TYPES": "OKTA_GROUP,TEAM"},
			`invalid INCLUDE_GROUP_TYPES "TEAM": unknown Okta group type; use OKTA_GROUP, APP_GROUP, BUILT_IN`},
		{"every mapping problem at once", nil, map[string]string{"USER_STATUSES": "ACTIVE,GONE", "NAMESPACE": "Team_A"},
			`invalid NAMESPACE "Team_A": want lower-case letters, digits and dashes, at most 63 characters; ` +
				`invalid USER_STATUSES "GONE": unknown Okta user status; use STAGED, PROVISIONED, ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED, DEPROVISIONED`},
		{"bad group type map", nil, map[string]string{"GROUP_TYPES": "OKTA_GROUP"},
			`invalid GROUP_TYPES "OKTA_GROUP": want comma-separated KEY=value pairs, e.g. OKTA_GROUP=team,APP_GROUP=app-group`},
		{"short event hook secret", nil, map[string]string{"OKTA_EVENT_HOOK_SECRET": "short"},
			"invalid OKTA_EVENT_HOOK_SECRET: 5 characters; use at least 16 random ones, e.g. from openssl rand -hex 32"},
		{"backstage token without url", nil, map[string]string{"BACKSTAGE_TOKEN": "t0ken-t0ken"},
			"BACKSTAGE_TOKEN or BACKSTAGE_LOCATION_TARGET is set without BACKSTAGE_URL: set BACKSTAGE_URL to the Backstage backend's URL, or unset them"},
		{"backstage url without token", nil, map[string]string{"BACKSTAGE_URL": "http://backstage:7007", "BACKSTAGE_LOCATION_TARGET": "http://svc:8080/entities"},
			"BACKSTAGE_URL is set without BACKSTAGE_TOKEN: set it to a static token of Backstage's backend.auth.externalAccess"},
		{"backstage url without target", nil, map[string]string{"BACKSTAGE_URL": "http://backstage:7007", "BACKSTAGE_TOKEN": "t0ken-t0ken"},
			"BACKSTAGE_URL is set without BACKSTAGE_LOCATION_TARGET: set it to this service's entities URL as in Backstage's catalog.locations, e.g. http://okta-entity-provider:8080/entities"},
		{"backstage target with a query", nil, map[string]string{"BACKSTAGE_LOCATION_TARGET": "http://svc:8080/entities?token=x"},
			`invalid BACKSTAGE_LOCATION_TARGET "http://svc:8080/entities?REDACTED": want a URL without query or fragment, such as https://example.okta.com`},
		{"hierarchy key without parent", nil, map[string]string{"GROUP_HIERARCHY_KEY": "orgId"},
			`invalid GROUP_HIERARCHY_KEY "orgId": the parent key is not set; set the attribute holding the parent's key too, e.g. parentOrgId`},
		{"unreadable config file", nil, map[string]string{"CONFIG_FILE": missing},
			"cannot read CONFIG_FILE: open " + missing + ": no such file or directory; point it at a readable YAML file or unset it"},
		{"typo in config file", []string{"-config-file", badYAML}, nil,
			"invalid CONFIG_FILE " + badYAML + ": line 2: unknown key usr; fix the YAML (see docs/settings.md)"},
		{"reserved mapping key", nil, map[string]string{"CONFIG_FILE": badMapping},
			"invalid CONFIG_FILE " + badMapping + `: userMappings: mapping of "x": key "okta.com/id" is set by the service itself; choose another`},
		{"bad transform", nil, map[string]string{"CONFIG_FILE": badTransform},
			"invalid CONFIG_FILE " + badTransform + `: naming.groupNamespaces "APP_GROUP": namespace "Apps": want lower-case letters, digits and dashes, at most 63 characters; ` +
				"invalid CONFIG_FILE " + badTransform + `: transform.user.picture "{{printf \"%s\" .profile.login}}": picture:1:2: function "printf" is not allowed; use lower, upper, trim, trimPrefix, trimSuffix, replace, default, join, truncate, before, after, contains, hasPrefix, hasSuffix or eq, ne, lt, le, gt, ge, and, or, not, len, urlquery; ` +
				"invalid CONFIG_FILE " + badTransform + `: transform.group.labels.team "{{.profile.name": labels.team:1: unclosed action`},
		{"typo in transform", nil, map[string]string{"CONFIG_FILE": typoTransform},
			"invalid CONFIG_FILE " + typoTransform + ": line 3: unknown key displayname; fix the YAML (see docs/settings.md)"},
		{"data dir is a file", nil, map[string]string{"DATA_DIR": emptyFile},
			"invalid DATA_DIR: mkdir " + emptyFile + ": not a directory; give a writable directory (in a container, mount a volume there) or leave DATA_DIR empty"},
		{"unknown flag", []string{"-okta-org"}, nil, "flag provided but not defined: -okta-org"},
		{"stray argument", []string{"serve"}, nil,
			`unexpected argument "serve": settings are flags such as -okta-org-url or environment variables; the subcommands are healthcheck, preview and version`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e := map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}
			for k, v := range tt.env {
				e[k] = v
			}
			err := run(ctx, tt.args, env(e), &stdout, &stderr)
			if err == nil {
				t.Fatalf("run: got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("run error:\n got %q\nwant %q", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("run error spans several lines: %q", err)
			}
			if strings.Contains(stdout.String(), "listening") {
				t.Errorf("run listened before rejecting the configuration")
			}
		})
	}
}

// TestRunKeepsURLSecretsOut gives org URLs that carry a secret: each is
// refused before anything is logged, and neither the error nor the output
// shows the secret.
func TestRunKeepsURLSecretsOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"password in the org URL", nil, map[string]string{"OKTA_ORG_URL": "https://admin:s3cret@example.okta.com", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "https://example.okta.com": the URL holds credentials (user:password@); remove them and give the API token in OKTA_TOKEN or the OAuth app in OKTA_CLIENT_ID`},
		{"password in the flag", []string{"-okta-org-url", "https://admin:s3cret@example.okta.com"}, map[string]string{"OKTA_TOKEN": "t"},
			`invalid -okta-org-url "https://example.okta.com": the URL holds credentials (user:password@); remove them and give the API token in OKTA_TOKEN or the OAuth app in OKTA_CLIENT_ID`},
		{"user only", nil, map[string]string{"OKTA_ORG_URL": "https://s3cret@example.okta.com", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "https://example.okta.com": the URL holds credentials (user:password@); remove them and give the API token in OKTA_TOKEN or the OAuth app in OKTA_CLIENT_ID`},
		{"token in the query", nil, map[string]string{"OKTA_ORG_URL": "https://example.okta.com/?Token=s3cret", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "https://example.okta.com/?REDACTED": want a URL without query or fragment, such as https://example.okta.com`},
		{"access token in the query", nil, map[string]string{"OKTA_ORG_URL": "https://example.okta.com?access_token=s3cret", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "https://example.okta.com?REDACTED": want a URL without query or fragment, such as https://example.okta.com`},
		{"token in the fragment", nil, map[string]string{"OKTA_ORG_URL": "https://example.okta.com#access_token=s3cret", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "https://example.okta.com#REDACTED": want a URL without query or fragment, such as https://example.okta.com`},
		{"unparsable with a password", nil, map[string]string{"OKTA_ORG_URL": "https://admin:s3cret@exa mple.okta.com", "OKTA_TOKEN": "t"},
			`invalid OKTA_ORG_URL "***": want an absolute URL such as https://example.okta.com`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			e := map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}
			for k, v := range tt.env {
				e[k] = v
			}
			err := run(t.Context(), tt.args, env(e), &stdout, &stderr)
			if err == nil {
				t.Fatalf("run: got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("run error:\n got %q\nwant %q", got, tt.want)
			}
			if out := stdout.String() + stderr.String(); strings.Contains(out, "s3cret") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the secret shows: error %q, output %s", err, out)
			}
			if stdout.Len() > 0 {
				t.Errorf("run logged before refusing the configuration: %s", stdout.String())
			}
		})
	}
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "config.yaml", `
naming:
  user: id
  group: profile-name
selection:
  includeEmptyGroups: false
  excludeGroupTypes: []
groupTypes:
  OKTA_GROUP: team
userMappings:
  - attribute: githubUsername
    annotation: github.com/user-login
transform:
  user:
    exclude: eq .profile.userType "Service"
    displayName: '{{join " " .profile.firstName .profile.lastName}}'
    labels:
      example.com/department: '{{.profile.department | lower}}'
`)
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantUser  string
		wantGroup string
	}{
		{"file over defaults", nil, map[string]string{"CONFIG_FILE": file}, "id", "profile-name"},
		{"env over file", nil, map[string]string{"CONFIG_FILE": file, "USER_NAMING": "kebab-case-email"}, "kebab-case-email", "profile-name"},
		{"flag over env", []string{"-user-naming", "slugify-email", "-config-file=" + file},
			map[string]string{"USER_NAMING": "kebab-case-email", "GROUP_NAMING": "id"}, "slugify-email", "id"},
		{"defaults", nil, nil, catalog.DefaultOptions().UserNaming, catalog.DefaultOptions().GroupNaming},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, env(tt.env), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Catalog.UserNaming != tt.wantUser || c.Catalog.GroupNaming != tt.wantGroup {
				t.Errorf("naming: got %q/%q, want %q/%q", c.Catalog.UserNaming, c.Catalog.GroupNaming, tt.wantUser, tt.wantGroup)
			}
			if !c.demo {
				t.Error("demo: got false with no Okta settings, want true")
			}
		})
	}

	c, err := loadConfig(nil, env(map[string]string{"CONFIG_FILE": file}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.catalogOptions()
	if o.IncludeEmptyGroups {
		t.Error("IncludeEmptyGroups: got true, want false from the file")
	}
	if o.ExcludeGroupTypes == nil || len(o.ExcludeGroupTypes) != 0 {
		t.Errorf("ExcludeGroupTypes: got %#v, want an empty non-nil list from the file", o.ExcludeGroupTypes)
	}
	if diff := cmp.Diff(map[string]string{"OKTA_GROUP": "team"}, o.GroupTypes); diff != "" {
		t.Errorf("GroupTypes (-want +got):\n%s", diff)
	}
	wantMap := []catalog.AttributeMapping{{Attribute: "githubUsername", Annotation: "github.com/user-login"}}
	if diff := cmp.Diff(wantMap, o.UserMappings); diff != "" {
		t.Errorf("UserMappings (-want +got):\n%s", diff)
	}
	wantTransform := catalog.Transform{
		Exclude:     `eq .profile.userType "Service"`,
		DisplayName: `{{join " " .profile.firstName .profile.lastName}}`,
		Labels:      map[string]string{"example.com/department": "{{.profile.department | lower}}"},
	}
	if diff := cmp.Diff(wantTransform, o.UserTransform); diff != "" {
		t.Errorf("UserTransform (-want +got):\n%s", diff)
	}
	if o.Shape == nil {
		t.Error("Shape: got nil, want the transforms compiled at start")
	}
}

// TestConfigFileDocLoads holds the documented config file example to the
// decoder and the catalog's validation.
func TestConfigFileDocLoads(t *testing.T) {
	t.Parallel()
	_, rest, _ := strings.Cut(configFileDoc, "```yaml\n")
	example, _, _ := strings.Cut(rest, "```")
	file := writeFile(t, "config.yaml", example)
	c, err := loadConfig(nil, env(map[string]string{"CONFIG_FILE": file}), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("the documented example: %v", err)
	}
	if c.Catalog.Shape == nil || c.Catalog.GroupNamespaces["APP_GROUP"] != "apps" {
		t.Errorf("the documented example's transforms and namespaces were not loaded")
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.catalogOptions()
	if !o.IncludeEmptyGroups {
		t.Error("IncludeEmptyGroups: got false, want true by default")
	}
	if diff := cmp.Diff(catalog.DefaultOptions(), o); diff != "" {
		t.Errorf("catalog options differ from the catalog's defaults (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name      string
		got, want any
	}{
		{"ListenAddr", c.ListenAddr, ":8080"},
		{"SyncInterval", c.SyncInterval, 10 * time.Minute},
		{"FullSyncInterval", c.FullSyncInterval, 24 * time.Hour},
		{"MaxDeleteShare", c.MaxDeleteShare, 0.1},
		{"RateShare", c.RateShare, 0.5},
		{"Scopes", strings.Join(c.Scopes, " "), "okta.users.read okta.groups.read"},
		{"EntityShards", c.EntityShards, 0},
		{"LogFormat", c.LogFormat, "json"},
		{"MaxConnections", c.MaxConnections, 256},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestConfigLogMasksSecrets(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{
		"OKTA_ORG_URL":     "https://example.okta.com",
		"OKTA_TOKEN":       "00secret-api-token",
		"ENTITIES_TOKEN":   "secret-entities-token",
		"ADMIN_TOKEN":      "secret-admin-token",
		"OKTA_USER_FILTER": `status eq "ACTIVE"`,
	}
	c, err := loadConfig(nil, env(secrets), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c.LogFormat = "json"
	log := newLogger(c, &out)
	log.Info().Dict("config", c.logDict()).Msg("starting")
	for _, k := range []string{"OKTA_TOKEN", "ENTITIES_TOKEN", "ADMIN_TOKEN"} {
		if strings.Contains(out.String(), secrets[k]) {
			t.Errorf("start-up log shows %s: %s", k, out.String())
		}
		if !strings.Contains(out.String(), `"`+k+`":"***"`) {
			t.Errorf("start-up log: got no masked %s in %s", k, out.String())
		}
	}
	if !strings.Contains(out.String(), `"OKTA_USER_FILTER":"status eq \"ACTIVE\""`) {
		t.Errorf("start-up log: got no OKTA_USER_FILTER in %s", out.String())
	}

	// The OAuth key, from a file, never shows either.
	key := writeFile(t, "key.pem", "-----BEGIN PRIVATE KEY-----\nsecretkeymaterial\n-----END PRIVATE KEY-----\n")
	c, err = loadConfig(nil, env(map[string]string{"OKTA_ORG_URL": "https://example.okta.com", "OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY_FILE": key}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	log = newLogger(c, &out)
	log.Info().Dict("config", c.logDict()).Msg("starting")
	if strings.Contains(out.String(), "secretkeymaterial") {
		t.Errorf("start-up log shows the private key: %s", out.String())
	}
}

func TestSettingsTable(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for _, s := range (&config{}).settings() {
		if seen[s.env] {
			t.Errorf("%s: listed twice", s.env)
		}
		seen[s.env] = true
		if want := strings.ReplaceAll(strings.ToLower(s.env), "_", "-"); s.flagName() != want {
			t.Errorf("%s: flag %q, want %q", s.env, s.flagName(), want)
		}
		if s.usage == "" || s.section == "" {
			t.Errorf("%s: no description or section", s.env)
		}
	}
	for _, k := range []string{"OKTA_ORG_URL", "OKTA_TOKEN", "OKTA_TOKEN_FILE", "OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY",
		"OKTA_PRIVATE_KEY_FILE", "OKTA_KEY_ID", "OKTA_SCOPES", "OKTA_RATE_SHARE", "OKTA_MAX_CONCURRENCY",
		"OKTA_USER_FILTER", "OKTA_USER_SEARCH", "OKTA_GROUP_FILTER", "OKTA_GROUP_SEARCH", "USER_NAMING",
		"GROUP_NAMING", "LISTEN_ADDR", "SYNC_INTERVAL", "DATA_DIR", "ENTITY_SHARDS", "ENTITIES_TOKEN",
		"ADMIN_TOKEN", "LOG_LEVEL", "LOG_FORMAT", "CONFIG_FILE", "DEMO", "MAX_DELETE_SHARE", "ACCEPT_DELETIONS"} {
		if !seen[k] {
			t.Errorf("%s: missing from the settings table", k)
		}
	}
}

// The libraries name their knobs by field; each one they name, and each
// catalog.Options field with a setting, is named by exactly one setting.
func TestSettingsNameEveryKnob(t *testing.T) {
	t.Parallel()
	table := (&config{}).settings()
	fields := make(map[string]string)
	for _, s := range table {
		if s.field == "" {
			continue
		}
		if prev, ok := fields[s.field]; ok {
			t.Errorf("%s: set by %s and %s", s.field, prev, s.env)
		}
		fields[s.field] = s.env
	}
	for _, k := range provider.Knobs() {
		if settingName(table, k) == "" {
			t.Errorf("provider names %s, which no setting sets", k)
		}
	}
	opts := reflect.TypeFor[catalog.Options]()
	for i := range opts.NumField() {
		f := opts.Field(i).Name
		if settingName(table, "catalog."+f) == "" && fileKey(f) == f {
			t.Errorf("catalog.Options.%s: no setting and no config file key names it", f)
		}
	}
}

// TestSettingsDoc holds docs/settings.md to the settings table; run with
// -update to rewrite it.
func TestSettingsDoc(t *testing.T) {
	var b bytes.Buffer
	if err := writeSettingsDoc(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "settings.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/okta-entity-provider -run TestSettingsDoc -update)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("docs/settings.md is stale; run go test ./cmd/okta-entity-provider -run TestSettingsDoc -update (-file +table):\n%s", diff)
	}
}

func TestHelpExitsCleanly(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, env(nil), &stdout, &stderr); err != nil {
		t.Fatalf("run -h: got %v, want nil", err)
	}
	for _, want := range []string{"-okta-org-url, OKTA_ORG_URL", "-sync-interval, SYNC_INTERVAL (default 10m)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage: got no %q in\n%s", want, stderr.String())
		}
	}
}
