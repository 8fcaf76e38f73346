package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// writeSettingsDoc writes the settings reference (docs/settings.md) as
// Markdown: one table per section from the settings table, then the config
// file format.
func writeSettingsDoc(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Settings\n\n")
	b.WriteString("<!-- Generated from cmd/okta-entity-provider/settings.go by `go test ./cmd/okta-entity-provider -run TestSettingsDoc -update`. Do not edit. -->\n\n")
	b.WriteString("Every setting is an environment variable with an equal command-line flag: the flag is the\n")
	b.WriteString("variable's name in lower case with dashes (`OKTA_ORG_URL` is `-okta-org-url`). A flag wins over\n")
	b.WriteString("the environment, and the environment wins over the optional YAML file named by `CONFIG_FILE`.\n")
	b.WriteString("An empty environment variable counts as unset. Invalid settings stop the service at start with\n")
	b.WriteString("one line naming the setting and the fix. Durations are Go durations (`90s`, `10m`, `1h30m`);\n")
	b.WriteString("lists are comma separated. Secrets are masked in the start-up log.\n\n")
	b.WriteString("`okta-entity-provider preview` takes the same flags, as changes to the current settings, and\n")
	b.WriteString("shows what they would add to, remove from and rename in the catalog (see the README).\n")
	section := ""
	for _, s := range (&config{}).settings() {
		if s.section != section {
			section = s.section
			fmt.Fprintf(&b, "\n## %s\n\n", section)
			b.WriteString("| Variable | Flag | Default | Description |\n|---|---|---|---|\n")
		}
		def := ""
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		usage := strings.ReplaceAll(s.usage, "|", "\\|")
		if s.secret {
			usage += " Secret: masked in logs."
		}
		fmt.Fprintf(&b, "| `%s` | `-%s` | %s | %s |\n", s.env, s.flagName(), def, usage)
	}
	b.WriteString(configFileDoc)
	_, err := io.WriteString(w, b.String())
	return err
}

const configFileDoc = "\n## Config file\n\n" +
	"`CONFIG_FILE` names an optional YAML file for the structured options. Every key is optional;\n" +
	"an unknown key is an error, so a typo fails at start. Environment variables and flags win over\n" +
	"the file for the options that have one.\n\n" +
	"```yaml\n" +
	"naming:\n" +
	"  user: strip-domain-email        # USER_NAMING\n" +
	"  group: kebab-case-name          # GROUP_NAMING\n" +
	"  namespace: default              # NAMESPACE\n" +
	"  groupNamespaces:                # Okta group type -> namespace of its groups\n" +
	"    APP_GROUP: apps\n" +
	"hierarchy:\n" +
	"  key: orgId                      # GROUP_HIERARCHY_KEY\n" +
	"  parentKey: parentOrgId          # GROUP_HIERARCHY_PARENT_KEY\n" +
	"selection:\n" +
	"  includeGroupTypes: [OKTA_GROUP, APP_GROUP]   # INCLUDE_GROUP_TYPES\n" +
	"  excludeGroupTypes: [BUILT_IN]   # EXCLUDE_GROUP_TYPES ([] keeps all)\n" +
	"  includeEmptyGroups: true        # INCLUDE_EMPTY_GROUPS\n" +
	"  userStatuses: [ACTIVE, PROVISIONED, STAGED]  # USER_STATUSES\n" +
	"  usersFromGroups: false          # USERS_FROM_GROUPS\n" +
	"  groupMembers: false             # GROUP_MEMBERS\n" +
	"groupTypes:                       # GROUP_TYPES: Okta group type -> Backstage spec.type\n" +
	"  OKTA_GROUP: team\n" +
	"  APP_GROUP: app-group\n" +
	"userAnnotations: [department, costCenter]   # USER_ANNOTATIONS: -> okta.com/profile.<attribute>\n" +
	"groupAnnotations: [samAccountName]          # GROUP_ANNOTATIONS\n" +
	"userMappings:                     # profile attribute -> annotation or label (exactly one)\n" +
	"  - attribute: githubUsername\n" +
	"    annotation: github.com/user-login\n" +
	"  - attribute: department\n" +
	"    label: example.com/department\n" +
	"groupMappings:\n" +
	"  - attribute: samAccountName\n" +
	"    annotation: example.com/sam-account-name\n" +
	"transform:                        # templates over .id, .status/.type and .profile.<attribute>\n" +
	"  user:\n" +
	"    exclude: eq .profile.userType \"Service\"   # an expression: true leaves the user out\n" +
	"    displayName: '{{join \" \" .profile.firstName .profile.lastName | default .profile.login}}'\n" +
	"    picture: 'https://avatars.example.com/{{.profile.email | lower | urlquery}}.png'\n" +
	"    title: '{{.profile.displayName}}'\n" +
	"    description: '{{join \" in \" .profile.title .profile.department}}'\n" +
	"    labels:\n" +
	"      example.com/cost-center: '{{.profile.costCenter}}'\n" +
	"    annotations:\n" +
	"      example.com/manager: '{{.profile.manager}}'\n" +
	"  group:\n" +
	"    exclude: hasPrefix \"tmp-\" .profile.name\n" +
	"    displayName: '{{.profile.name | trimPrefix \"team-\"}}'\n" +
	"    description: '{{.profile.description | default \"Synced from Okta\"}}'\n" +
	"```\n\n" +
	"A transform's templates are Go templates limited to the functions lower, upper, trim,\n" +
	"trimPrefix, trimSuffix, replace, default, join, truncate, before, after, contains, hasPrefix,\n" +
	"hasSuffix and eq, ne, lt, le, gt, ge, and, or, not, len, urlquery; no range, with or template.\n" +
	"Each takes the value it works on last (`.profile.email | before \"@\"`). A missing attribute is\n" +
	"empty; an empty result keeps the entity's usual value. Results are made valid for Backstage\n" +
	"(see the README's Shaping entities), and what cannot be is left out and listed in the mapping\n" +
	"report.\n\n" +
	"### Several orgs\n\n" +
	"With `orgs:` the service serves several Okta orgs in one catalog. Each entry has a `name`\n" +
	"(lower-case letters, digits and dashes, at most 32 characters, unique), a `url`, credentials\n" +
	"(`tokenEnv`, the name of an environment variable holding an API token, or `tokenFile`; or OAuth\n" +
	"with `clientId`, `privateKeyFile` or `privateKeyEnv`, `keyId` and `scopes`), `users` and `groups`\n" +
	"(`filter` or `search`), `appIds`, `appGroupsOnly`, `namespace` and `namePrefix`, and any of the\n" +
	"mapping keys above, which replace the top-level value (from the file, the environment or a flag)\n" +
	"for that org. The settings of the one org (`OKTA_ORG_URL`, `OKTA_TOKEN`, the OAuth settings, the\n" +
	"filters, `OKTA_APP_IDS`) must then be unset; the client settings (`OKTA_RATE_SHARE`,\n" +
	"`OKTA_MAX_CONCURRENCY`, `OKTA_MAX_RETRIES`, `OKTA_REQUEST_TIMEOUT`) apply to each org's client.\n" +
	"Each org keeps its state in `sync-state-<name>.bin` in `DATA_DIR` (with `DATABASE_URL`, in the\n" +
	"database, by the org's name). With `OKTA_EVENT_HOOK_SECRET`, each org's event hook calls\n" +
	"`/hooks/okta/<name>` with that one secret. `preview` lists every org and compares the merged\n" +
	"catalog, each entity's Okta id with its org.\n\n" +
	"```yaml\n" +
	"naming:\n" +
	"  group: kebab-case-name\n" +
	"orgs:\n" +
	"  - name: acme\n" +
	"    url: https://acme.okta.com\n" +
	"    tokenEnv: ACME_OKTA_TOKEN       # the API token is in this environment variable\n" +
	"    namespace: acme\n" +
	"    users: {filter: 'status eq \"ACTIVE\"'}\n" +
	"  - name: globex\n" +
	"    url: https://globex.okta.com\n" +
	"    clientId: 0oa1b2c3d4e5f6g7h8i9\n" +
	"    privateKeyFile: /etc/okta-entity-provider/globex.pem\n" +
	"    scopes: [okta.users.read, okta.groups.read, okta.apps.read]\n" +
	"    appIds: [0oa9z8y7x6w5v4u3t2s1]\n" +
	"    namePrefix: globex-\n" +
	"    naming:\n" +
	"      user: id                     # this org only\n" +
	"```\n"

// printUsage writes the flag help: one line per setting, grouped.
func printUsage(w io.Writer, table []setting) {
	fmt.Fprintf(w, "Usage: okta-entity-provider [flags]\n       okta-entity-provider healthcheck [-listen-addr addr]\n")
	fmt.Fprintf(w, "       okta-entity-provider preview [-instance url] [-json] [flags]\n")
	fmt.Fprintf(w, "       okta-entity-provider version (or -version)\n\n")
	printSettings(w, table)
}

// printPreviewUsage writes the help of the preview subcommand: its own
// flags, its exit codes, then the settings it may change.
func printPreviewUsage(w io.Writer, fs *flag.FlagSet, table []setting) {
	fmt.Fprintf(w, "Usage: okta-entity-provider preview [-instance url] [-json] [flags]\n\n")
	fmt.Fprintf(w, "Lists Okta with the current settings (environment and CONFIG_FILE) changed by the flags\n")
	fmt.Fprintf(w, "given, and prints what the catalog would gain, lose and see renamed compared with a running\n")
	fmt.Fprintf(w, "instance (-instance) or the state saved in DATA_DIR. It writes nothing.\n\n")
	fmt.Fprintf(w, "Exit codes: %d nothing removed or renamed; 1 the preview failed; %d entities would be\n", previewNoRemovals, previewRemovals)
	fmt.Fprintf(w, "removed; %d none removed but some renamed (Backstage deletes the old refs).\n\n", previewRenames)
	for _, name := range []string{"instance", "json"} {
		f := fs.Lookup(name)
		arg, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace("-"+name+" "+arg), usage)
	}
	fmt.Fprintln(w)
	printSettings(w, table)
}

// printSettings writes one line per setting, grouped by section.
func printSettings(w io.Writer, table []setting) {
	fmt.Fprintf(w, "Every flag has an equal environment variable (-okta-org-url = OKTA_ORG_URL); flags win.\n")
	section := ""
	for _, s := range table {
		if s.section != section {
			section = s.section
			fmt.Fprintf(w, "\n%s:\n", section)
		}
		def := ""
		if s.def != "" {
			def = fmt.Sprintf(" (default %s)", s.def)
		}
		fmt.Fprintf(w, "  -%s, %s%s\n        %s\n", s.flagName(), s.env, def, strings.ReplaceAll(s.usage, "`", ""))
	}
}
