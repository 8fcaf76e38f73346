package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/metrics"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// orgConfig is one org of the config file's orgs list, resolved: its
// credentials read, its mapping the top-level one with the org's keys
// applied, checked and compiled.
type orgConfig struct {
	Name string
	URL  string
	// TokenFile, TokenEnv, ClientID, PrivateKeyFile, PrivateKeyEnv, KeyID
	// and Scopes are the credentials as given, for the start-up log; auth
	// holds them read and parsed.
	TokenFile, TokenEnv                     string
	ClientID, PrivateKeyFile, PrivateKeyEnv string
	KeyID                                   string
	Scopes                                  []string
	Users                                   okta.UserListOptions
	Groups                                  okta.GroupListOptions
	AppIDs                                  []string
	AppGroupsOnly                           bool
	NamePrefix                              string
	Catalog                                 catalog.Options

	auth okta.Authenticator
}

// orgNameRE is an org's name: it goes into metric labels, logs, file
// names and annotations, so it is kept short and plain.
var orgNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// orgsConflicts checks the settings that the orgs list takes the place of
// or that work with one org only: with orgs, each must be unset.
func (c *config) orgsConflicts() error {
	var lines []string
	for _, s := range c.settings() {
		if name, given := c.given[s.env]; given && s.orgKey != "" {
			lines = append(lines, fmt.Sprintf("%s is set with the orgs of CONFIG_FILE: each org gives its own as %s in its entry; unset %s", name, s.orgKey, name))
		}
	}
	if name, given := c.given["DEMO"]; given && c.Demo {
		lines = append(lines, fmt.Sprintf("%s is set with the orgs of CONFIG_FILE: the demo org is served alone; unset %s or remove orgs", name, name))
	}
	if c.hasOrgs && len(c.fileOrgs) == 0 {
		lines = append(lines, "CONFIG_FILE orgs is empty: list the orgs to serve, or remove orgs to serve the one org of the OKTA_ settings")
	}
	if len(lines) > 0 {
		return errors.New(strings.Join(lines, "; "))
	}
	return nil
}

// resolveOrgs resolves the config file's orgs into Orgs, and reports
// every problem of every org at once, each named by its place in the file.
func (c *config) resolveOrgs(getenv func(string) string) error {
	var lines []string
	names := make(map[string]int)
	c.Orgs = nil
	for i, f := range c.fileOrgs {
		place := fmt.Sprintf("CONFIG_FILE orgs[%d]", i)
		if orgNameRE.MatchString(f.Name) {
			place += " (" + f.Name + ")"
		}
		org, problems := c.resolveOrg(f, getenv)
		if j, taken := names[f.Name]; taken && f.Name != "" {
			problems = append([]string{fmt.Sprintf("name %q is taken by orgs[%d]: give each org a name of its own", f.Name, j)}, problems...)
		} else {
			names[f.Name] = i
		}
		for _, p := range problems {
			lines = append(lines, place+": "+p)
		}
		c.Orgs = append(c.Orgs, org)
	}
	if len(lines) > 0 {
		c.Orgs = nil
		return errors.New(strings.Join(lines, "; "))
	}
	return nil
}

// resolveOrg resolves one orgs entry, and returns its problems, each
// naming the entry's key.
func (c *config) resolveOrg(f fileOrg, getenv func(string) string) (orgConfig, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	o := orgConfig{
		Name: f.Name, TokenFile: f.TokenFile, TokenEnv: f.TokenEnv,
		ClientID: f.ClientID, PrivateKeyFile: f.PrivateKeyFile, PrivateKeyEnv: f.PrivateKeyEnv, KeyID: f.KeyID,
		Users:  okta.UserListOptions{Filter: f.Users.Filter, Search: f.Users.Search},
		Groups: okta.GroupListOptions{Filter: f.Groups.Filter, Search: f.Groups.Search},
		AppIDs: f.AppIDs, AppGroupsOnly: f.AppGroupsOnly, NamePrefix: f.NamePrefix,
	}
	switch {
	case f.Name == "":
		bad("name is not set: give the org a short name such as acme, which tells it apart in logs, metrics and /status")
	case !orgNameRE.MatchString(f.Name):
		bad("name %q: want lower-case letters, digits and dashes, at most 32 characters, starting and ending with a letter or digit, such as acme", f.Name)
	}
	if f.URL == "" {
		bad("url is not set: give the org's Okta URL, such as https://acme.okta.com")
	} else if err := (urlValue{&o.URL}).Set(f.URL); err != nil {
		bad("url %q: %v", urlValue{}.redact(f.URL), err)
	}

	problems = append(problems, o.resolveAuth(f, getenv)...)

	for _, e := range []struct{ key, filter, search string }{
		{"users", f.Users.Filter, f.Users.Search},
		{"groups", f.Groups.Filter, f.Groups.Search},
	} {
		if e.filter != "" && e.search != "" {
			bad("%s has both filter and search: Okta takes a filter or a search expression, not both; keep one", e.key)
		}
	}
	for _, id := range f.AppIDs {
		if !isOktaID(id) {
			bad("appIds: %q is not an Okta app id (letters and digits, such as 0oa1b2c3d4e5f6g7h8i9; the app's id is in its Admin Console URL)", id)
		}
	}
	if f.AppGroupsOnly && len(f.AppIDs) == 0 {
		bad("appGroupsOnly is set without appIds: give the ids of the apps whose groups to keep, or remove appGroupsOnly")
	}
	if len(f.AppIDs) > 0 && f.ClientID != "" && !slices.Contains(o.Scopes, "okta.apps.read") {
		bad("appIds needs the OAuth scope okta.apps.read, which scopes does not ask for: grant it to the OAuth app (Okta API Scopes tab) and add it to scopes")
	}

	opts := c.catalogOptions()
	opts.Shape = nil
	f.apply(&opts)
	switch {
	case f.Namespace != nil && f.Naming.Namespace != nil:
		bad("namespace and naming.namespace are both set: keep one")
	case f.Namespace != nil:
		opts.Namespace = *f.Namespace
	}
	if f.NamePrefix != "" {
		opts.NamePrefix = f.NamePrefix
	}
	compiled, err := settledOptions(opts).Compile()
	if err != nil {
		problems = append(problems, optionProblems(err, fileKey)...)
	}
	o.Catalog = compiled
	return o, problems
}

// resolveAuth reads and parses the entry's credentials into o.auth: an
// API token from a file or the environment, or an OAuth service app.
func (o *orgConfig) resolveAuth(f fileOrg, getenv func(string) string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	tokenKey := "tokenEnv"
	if f.TokenFile != "" {
		tokenKey = "tokenFile"
	}
	hasToken, hasKey := f.TokenFile != "" || f.TokenEnv != "", f.PrivateKeyFile != "" || f.PrivateKeyEnv != ""
	if f.ClientID != "" {
		scopes := strings.Join(f.Scopes, " ")
		if len(f.Scopes) == 0 {
			scopes = scopesDefault
		}
		_ = fieldsValue{&o.Scopes}.Set(scopes)
	}
	if f.ClientID == "" && (f.KeyID != "" || f.Scopes != nil) {
		bad("keyId or scopes is set without clientId: they are for OAuth with a service app; remove them or set clientId")
	}
	switch {
	case f.TokenFile != "" && f.TokenEnv != "":
		bad("tokenFile and tokenEnv are both set: keep one")
	case hasToken && f.ClientID != "":
		bad("%s and clientId are both set: use an API token or an OAuth service app, not both", tokenKey)
	case hasToken && hasKey:
		bad("privateKeyFile or privateKeyEnv is set with %s: the key is for OAuth with clientId; remove one", tokenKey)
	case !hasToken && f.ClientID == "":
		bad("no credentials: set tokenEnv to the name of an environment variable holding an API token (or tokenFile to a file holding it), or clientId and privateKeyFile (or privateKeyEnv) for an OAuth service app")
	case hasToken:
		token, problem := readOrgSecret(f.TokenFile, f.TokenEnv, "tokenFile", "tokenEnv", "the org's API token", getenv)
		if problem != "" {
			bad("%s", problem)
			break
		}
		o.auth = okta.NewTokenAuth(token)
	case f.PrivateKeyFile != "" && f.PrivateKeyEnv != "":
		bad("privateKeyFile and privateKeyEnv are both set: keep one")
	case !hasKey:
		bad("privateKeyFile is not set: OAuth with clientId needs the app's private key in privateKeyFile, or in the environment variable named by privateKeyEnv")
	default:
		key, problem := readOrgSecret(f.PrivateKeyFile, f.PrivateKeyEnv, "privateKeyFile", "privateKeyEnv", "the OAuth app's private key (PEM or JWK)", getenv)
		if problem != "" {
			bad("%s", problem)
			break
		}
		auth, err := okta.NewOAuth(okta.OAuthConfig{ClientID: f.ClientID, PrivateKey: []byte(key), KeyID: f.KeyID, Scopes: o.Scopes})
		if err != nil {
			name := "privateKeyEnv"
			if f.PrivateKeyFile != "" {
				name = "privateKeyFile"
			}
			bad("invalid %s: %s; give the service app's private key as PEM (PKCS#1, PKCS#8, SEC1) or JWK", name, strings.TrimPrefix(err.Error(), "okta: "))
			break
		}
		o.auth = auth
	}
	return problems
}

// scopesDefault is the OAuth scopes asked for when none are given, by
// OKTA_SCOPES or an org's scopes.
const scopesDefault = "okta.users.read okta.groups.read"

// readOrgSecret reads a secret from the file at path or the environment
// variable named env (one of them is set), and returns it or the problem.
func readOrgSecret(path, env, fileKey, envKey, what string, getenv func(string) string) (string, string) {
	if path != "" {
		s, err := readSecretFile(fileKey, path, what)
		if err != nil {
			return "", err.Error()
		}
		return s, ""
	}
	s := strings.TrimSpace(getenv(env))
	if s == "" {
		return "", fmt.Sprintf("%s: the environment variable %s is empty or not set: set it to %s", envKey, env, what)
	}
	return s, ""
}

// orgStatePath is the file of an org's sync state in dataDir; "" when
// dataDir is empty.
func orgStatePath(dataDir, org string) string {
	if dataDir == "" {
		return ""
	}
	return filepath.Join(dataDir, "sync-state-"+org+".bin")
}

// providerOrgs returns the provider's orgs, each with its Okta client (the
// client settings apply to every one), its metrics by m.Org (none when m
// is nil) and its state file in stateDir ("" for none). It reports every
// org's problem at once.
func (c *config) providerOrgs(log zerolog.Logger, m *metrics.Metrics, stateDir string) ([]provider.Org, error) {
	orgs := make([]provider.Org, 0, len(c.Orgs))
	var lines []string
	for i, o := range c.Orgs {
		var obs okta.Observer
		if m != nil {
			obs = m.Org(o.Name)
		}
		client, err := c.newOktaClient(o.URL, o.auth, log.With().Str("org", o.Name).Logger(), obs)
		if err != nil {
			lines = append(lines, fmt.Sprintf("CONFIG_FILE orgs[%d] (%s): url: %v", i, o.Name, err))
			continue
		}
		orgs = append(orgs, provider.Org{
			Name:          o.Name,
			Client:        client,
			Users:         o.Users,
			Groups:        o.Groups,
			Catalog:       o.Catalog,
			AppIDs:        o.AppIDs,
			AppGroupsOnly: o.AppGroupsOnly,
			StatePath:     orgStatePath(stateDir, o.Name),
		})
	}
	if len(lines) > 0 {
		return nil, errors.New(strings.Join(lines, "; "))
	}
	return orgs, nil
}

// savedOrgs returns the orgs as SavedCatalogs reads them: each with its
// mapping and its state file in DATA_DIR, without a client.
func (c *config) savedOrgs() []provider.Org {
	orgs := make([]provider.Org, len(c.Orgs))
	for i, o := range c.Orgs {
		orgs[i] = provider.Org{Name: o.Name, Catalog: o.Catalog, StatePath: orgStatePath(c.DataDir, o.Name)}
	}
	return orgs
}

// orgsLog returns the orgs for the start-up log, secrets left out.
func (c *config) orgsLog() *zerolog.Array {
	a := zerolog.Arr()
	for _, o := range c.Orgs {
		d := zerolog.Dict().Str("name", o.Name).Str("url", o.URL)
		switch {
		case o.TokenFile != "":
			d.Str("tokenFile", o.TokenFile)
		case o.TokenEnv != "":
			d.Str("tokenEnv", o.TokenEnv)
		default:
			d.Str("clientId", o.ClientID).Strs("scopes", o.Scopes)
		}
		d.Str("namespace", o.Catalog.Namespace).Str("namePrefix", o.NamePrefix)
		d.Str("userFilter", o.Users.Filter).Str("userSearch", o.Users.Search)
		d.Str("groupFilter", o.Groups.Filter).Str("groupSearch", o.Groups.Search)
		d.Strs("appIds", o.AppIDs)
		a.Dict(d)
	}
	return a
}
