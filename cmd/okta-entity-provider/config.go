package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
)

// config is the whole configuration of the service. Defaults, environment
// variables and flags are described by the settings table (settings.go);
// the optional YAML file (configfile.go) adds the structured options.
type config struct {
	OrgURL         string
	Token          string
	TokenFile      string
	ClientID       string
	PrivateKey     string
	PrivateKeyFile string
	KeyID          string
	Scopes         []string
	RateShare      float64
	MaxConcurrency int
	MaxRetries     int
	RequestTimeout time.Duration

	UserFilter, UserSearch   string
	GroupFilter, GroupSearch string
	AppIDs                   []string
	AppGroupsOnly            bool

	// Catalog holds the mapping and selection options; the settings table
	// binds their settings to its fields, and catalog.Options validates them.
	Catalog catalog.Options

	ListenAddr       string
	MaxConnections   int
	SyncInterval     time.Duration
	SyncTimeout      time.Duration
	FullSyncInterval time.Duration
	DeletionCheck    int
	DataDir          string
	DatabaseURL      string
	ReplicaID        string
	LeaseTTL         time.Duration
	EntityShards     int
	EntitiesToken    string
	AdminToken       string
	MaxDeleteShare   float64
	AcceptDeletions  bool
	ShutdownTimeout  time.Duration
	LogLevel         zerolog.Level
	LogFormat        string
	ConfigFile       string
	Demo             bool

	EventHookSecret string
	BackstageURL    string
	BackstageToken  string
	BackstageTarget string

	// Orgs are the orgs of the config file's orgs list, resolved at
	// start (orgs.go); empty, the one org of the OKTA_ settings is served.
	Orgs []orgConfig
	// fileOrgs are the config file's orgs entries, and hasOrgs whether it
	// has the key orgs at all.
	fileOrgs []fileOrg
	hasOrgs  bool
	// given names the settings given by the environment or a flag, by
	// environment variable name, as given (OKTA_TOKEN or -okta-token).
	given map[string]string

	// demo is the resolved mode: the built-in demo org is served.
	demo bool
	// printVersion is -version: print the version and exit.
	printVersion bool
}

// loadConfig builds the configuration from defaults, the optional config
// file, the environment and the flags, in increasing precedence, and
// validates it. Errors are one line naming the setting and the fix. When
// -h or -help is given it prints the usage and returns flag.ErrHelp, on
// which run exits 0.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("okta-entity-provider", flag.ContinueOnError)
	printVersion := fs.Bool("version", false, "print the version and the commit, and exit")
	flags, err := parseSettingFlags(fs, args, stderr, printUsage)
	if err != nil {
		return nil, err
	}
	if *printVersion {
		return &config{printVersion: true}, nil
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: settings are flags such as -okta-org-url or environment variables; the subcommands are healthcheck, preview and version", fs.Arg(0))
	}
	return resolveConfig(flags, getenv)
}

// parseSettingFlags defines a flag for every setting on fs (next to any
// flags of its own fs has already), parses args and returns the settings
// given, by environment variable name. usage prints fs's help.
func parseSettingFlags(fs *flag.FlagSet, args []string, stderr io.Writer, usage func(io.Writer, []setting)) (map[string]string, error) {
	table := (&config{}).settings()
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr, table) }
	flags := make(map[string]string)
	for _, s := range table {
		record := func(v string) error { flags[s.env] = v; return nil }
		if s.isBool() {
			fs.BoolFunc(s.flagName(), s.usage, record)
		} else {
			fs.Func(s.flagName(), s.usage, record)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return flags, nil
}

// resolveConfig builds the configuration from defaults, the optional
// config file, the environment and flags (settings given on the command
// line, by environment variable name), in increasing precedence, and
// validates it.
func resolveConfig(flags map[string]string, getenv func(string) string) (*config, error) {
	c := &config{}
	table := c.settings()
	for _, s := range table {
		if err := s.value.Set(s.def); err != nil {
			return nil, fmt.Errorf("default of %s %q: %w", s.env, s.def, err)
		}
	}
	file, fromFlag := flags["CONFIG_FILE"]
	if !fromFlag {
		file = getenv("CONFIG_FILE")
	}
	if file != "" {
		if err := c.loadFile(file); err != nil {
			return nil, err
		}
	}
	c.given = make(map[string]string)
	for _, s := range table {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := s.value.Set(v); err != nil {
			return nil, invalid(s, s.env, v, err)
		}
		c.given[s.env] = s.env
	}
	for _, s := range table {
		v, ok := flags[s.env]
		if !ok {
			continue
		}
		if err := s.value.Set(v); err != nil {
			return nil, invalid(s, "-"+s.flagName(), v, err)
		}
		c.given[s.env] = "-" + s.flagName()
	}
	if err := c.validate(getenv); err != nil {
		return nil, err
	}
	return c, nil
}

func invalid(s setting, name, v string, err error) error {
	if s.secret {
		return fmt.Errorf("invalid %s: %v", name, err)
	}
	return fmt.Errorf("invalid %s %q: %v", name, s.shown(v), err)
}

// validate checks settings against each other, resolves the mode and reads
// the token and key files (secrets.go), or resolves the orgs of the config
// file (orgs.go), whose tokens and keys may be in the environment.
func (c *config) validate(getenv func(string) string) error {
	if c.hasOrgs {
		if err := c.orgsConflicts(); err != nil {
			return err
		}
	}
	for _, e := range []struct{ filter, search, fv, sv string }{
		{"OKTA_USER_FILTER", "OKTA_USER_SEARCH", c.UserFilter, c.UserSearch},
		{"OKTA_GROUP_FILTER", "OKTA_GROUP_SEARCH", c.GroupFilter, c.GroupSearch},
	} {
		if e.fv != "" && e.sv != "" {
			return fmt.Errorf("%s and %s are both set: Okta takes a filter or a search expression, not both; keep one", e.filter, e.search)
		}
	}
	if err := c.validateApps(); err != nil {
		return err
	}
	opts, err := c.catalogOptions().Compile()
	if err != nil {
		return c.optionError(err)
	}
	// The templates are compiled once, here; every build reuses them.
	c.Catalog.Shape = opts.Shape
	if err := c.validatePush(); err != nil {
		return err
	}
	if c.hasOrgs {
		return c.resolveOrgs(getenv)
	}
	c.demo = c.Demo || (c.OrgURL == "" && c.Token == "" && c.TokenFile == "" &&
		c.ClientID == "" && c.PrivateKey == "" && c.PrivateKeyFile == "")
	if c.demo {
		return nil
	}
	if c.OrgURL == "" {
		return errors.New("OKTA_ORG_URL is not set: set it to your Okta org URL such as https://example.okta.com, or unset every OKTA_ setting to run the demo org")
	}
	hasToken := c.Token != "" || c.TokenFile != ""
	switch {
	case c.Token != "" && c.TokenFile != "":
		return errors.New("OKTA_TOKEN and OKTA_TOKEN_FILE are both set: keep one")
	case hasToken && c.ClientID != "":
		return errors.New("OKTA_TOKEN and OKTA_CLIENT_ID are both set: use an API token or an OAuth service app, not both")
	case !hasToken && c.ClientID == "":
		return errors.New("OKTA_TOKEN is not set: set OKTA_TOKEN (or OKTA_TOKEN_FILE) to an API token, or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY for an OAuth service app")
	case hasToken && (c.PrivateKey != "" || c.PrivateKeyFile != ""):
		return errors.New("OKTA_PRIVATE_KEY is set with OKTA_TOKEN: the key is for OAuth with OKTA_CLIENT_ID; remove one")
	}
	if len(c.AppIDs) > 0 && c.ClientID != "" && !slices.Contains(c.Scopes, "okta.apps.read") {
		return errors.New("OKTA_APP_IDS needs the OAuth scope okta.apps.read, which OKTA_SCOPES does not ask for: grant it to the OAuth app (Okta API Scopes tab) and add it to OKTA_SCOPES")
	}
	return c.readSecrets()
}

// minHookSecret is the shortest OKTA_EVENT_HOOK_SECRET taken: the secret
// is all that stands between the internet and the endpoint.
const minHookSecret = 16

// validatePush checks the event hook and Backstage settings.
func (c *config) validatePush() error {
	switch {
	case c.EventHookSecret != "" && len(c.EventHookSecret) < minHookSecret:
		return fmt.Errorf("invalid OKTA_EVENT_HOOK_SECRET: %d characters; use at least %d random ones, e.g. from openssl rand -hex 32", len(c.EventHookSecret), minHookSecret)
	case c.BackstageURL == "" && (c.BackstageToken != "" || c.BackstageTarget != ""):
		return errors.New("BACKSTAGE_TOKEN or BACKSTAGE_LOCATION_TARGET is set without BACKSTAGE_URL: set BACKSTAGE_URL to the Backstage backend's URL, or unset them")
	case c.BackstageURL != "" && c.BackstageToken == "":
		return errors.New("BACKSTAGE_URL is set without BACKSTAGE_TOKEN: set it to a static token of Backstage's backend.auth.externalAccess")
	case c.BackstageURL != "" && c.BackstageTarget == "":
		return errors.New("BACKSTAGE_URL is set without BACKSTAGE_LOCATION_TARGET: set it to this service's entities URL as in Backstage's catalog.locations, e.g. http://okta-entity-provider:8080/entities")
	}
	return nil
}

// validateApps checks the app selection: ids as Okta writes them, and
// APP_GROUPS_ONLY only with apps to take the groups from.
func (c *config) validateApps() error {
	for _, id := range c.AppIDs {
		if !isOktaID(id) {
			return fmt.Errorf("invalid OKTA_APP_IDS: %q is not an Okta app id (letters and digits, such as 0oa1b2c3d4e5f6g7h8i9; the app's id is in its Admin Console URL)", id)
		}
	}
	if c.AppGroupsOnly && len(c.AppIDs) == 0 {
		return errors.New("APP_GROUPS_ONLY is set without OKTA_APP_IDS: set the ids of the apps whose groups to keep, or unset APP_GROUPS_ONLY")
	}
	return nil
}

// isOktaID reports whether s has the shape of an Okta object id.
func isOktaID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// catalogOptions returns the mapping and selection options.
func (c *config) catalogOptions() catalog.Options {
	return settledOptions(c.Catalog)
}

// settledOptions returns o as the settings mean it.
func settledOptions(o catalog.Options) catalog.Options {
	// A nil ExcludeGroupTypes means the catalog's default; "none" must mean none.
	o.ExcludeGroupTypes = append([]string{}, o.ExcludeGroupTypes...)
	if len(o.GroupTypes) == 0 {
		o.GroupTypes = nil
	}
	return o
}

// optionError turns catalog.Options' problems into one line that names the
// settings: the settings table maps an option field to its setting, and the
// attribute mappings exist only in the config file.
func (c *config) optionError(err error) error {
	table := c.settings()
	lines := optionProblems(err, func(field string) string {
		if name := settingName(table, "catalog."+field); name != "" {
			return name
		}
		return "CONFIG_FILE " + c.ConfigFile + ": " + fileKey(field)
	})
	for i := range lines {
		lines[i] = "invalid " + lines[i]
	}
	return errors.New(strings.Join(lines, "; "))
}

// optionProblems returns catalog.Options' problems, one line each, naming
// an option field by name(field).
func optionProblems(err error, name func(field string) string) []string {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []string{"mapping options: " + err.Error()}
	}
	var lines []string
	for _, e := range joined.Unwrap() {
		var oe *catalog.OptionError
		if !errors.As(e, &oe) {
			lines = append(lines, "mapping options: "+e.Error())
			continue
		}
		if oe.Value == "" {
			lines = append(lines, fmt.Sprintf("%s: %s", name(oe.Field), oe.Problem))
		} else {
			lines = append(lines, fmt.Sprintf("%s %q: %s", name(oe.Field), oe.Value, oe.Problem))
		}
	}
	return lines
}

// settingName is the setting that sets a library field ("catalog.UserNaming",
// "provider.Timeout", "okta.RequestTimeout"), or "" when none does.
func settingName(table []setting, field string) string {
	if i := slices.IndexFunc(table, func(s setting) bool { return s.field == field }); i >= 0 {
		return table[i].env
	}
	return ""
}
