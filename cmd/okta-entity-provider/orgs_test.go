package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/metrics"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

func TestOrgsConfig(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "config.yaml", `
naming:
  group: profile-name
orgs:
  - name: acme
    url: https://acme.okta.com
    tokenEnv: ACME_TOKEN
    namespace: acme
    users: {filter: 'status eq "ACTIVE"'}
    naming:
      user: id
  - name: globex
    url: https://globex.okta.com
    tokenEnv: GLOBEX_TOKEN
    namePrefix: globex-
    groups: {search: 'profile.name sw "eng"'}
`)
	dir := t.TempDir()
	c, err := loadConfig(nil, env(map[string]string{"CONFIG_FILE": file, "ACME_TOKEN": "a", "GLOBEX_TOKEN": "g",
		"USER_NAMING": "kebab-case-email", "DATA_DIR": dir}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := c.providerOrgs(zerolog.Nop(), metrics.New(prometheus.NewRegistry()), c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Name, UserNaming, GroupNaming, Namespace, NamePrefix, StatePath string
		Users                                                           okta.UserListOptions
		Groups                                                          okta.GroupListOptions
	}
	var gots []got
	for _, o := range orgs {
		if o.Client == nil {
			t.Errorf("%s: no client", o.Name)
		}
		gots = append(gots, got{o.Name, o.Catalog.UserNaming, o.Catalog.GroupNaming, o.Catalog.Namespace, o.Catalog.NamePrefix, o.StatePath, o.Users, o.Groups})
	}
	want := []got{
		{"acme", "id", "profile-name", "acme", "", orgStatePath(dir, "acme"), okta.UserListOptions{Filter: `status eq "ACTIVE"`}, okta.GroupListOptions{}},
		{"globex", "kebab-case-email", "profile-name", "", "globex-", orgStatePath(dir, "globex"), okta.UserListOptions{}, okta.GroupListOptions{Search: `profile.name sw "eng"`}},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("orgs (-want +got):\n%s", diff)
	}
}

func TestOrgsConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"every problem at once", "orgs:\n  - name: Acme\n  - name: globex\n    url: ftp://x\n    tokenEnv: NONE\n", nil,
			`CONFIG_FILE orgs[0]: name "Acme": want lower-case letters, digits and dashes, at most 32 characters, starting and ending with a letter or digit, such as acme; ` +
				"CONFIG_FILE orgs[0]: url is not set: give the org's Okta URL, such as https://acme.okta.com; " +
				"CONFIG_FILE orgs[0]: no credentials: set tokenEnv to the name of an environment variable holding an API token (or tokenFile to a file holding it), or clientId and privateKeyFile (or privateKeyEnv) for an OAuth service app; " +
				`CONFIG_FILE orgs[1] (globex): url "ftp://x": want an absolute URL such as https://example.okta.com; ` +
				"CONFIG_FILE orgs[1] (globex): tokenEnv: the environment variable NONE is empty or not set: set it to the org's API token"},
		{"duplicate name", "orgs:\n  - {name: acme, url: https://a.okta.com, tokenEnv: T}\n  - {name: acme, url: https://b.okta.com, tokenEnv: T}\n", map[string]string{"T": "t"},
			`CONFIG_FILE orgs[1] (acme): name "acme" is taken by orgs[0]: give each org a name of its own`},
		{"single-org setting", "orgs:\n  - {name: acme, url: https://a.okta.com, tokenEnv: T}\n", map[string]string{"T": "t", "OKTA_ORG_URL": "https://x.okta.com"},
			"OKTA_ORG_URL is set with the orgs of CONFIG_FILE: each org gives its own as url in its entry; unset OKTA_ORG_URL"},
		{"filter and search", "orgs:\n  - {name: acme, url: https://a.okta.com, tokenEnv: T, users: {filter: a, search: b}}\n", map[string]string{"T": "t"},
			"CONFIG_FILE orgs[0] (acme): users has both filter and search: Okta takes a filter or a search expression, not both; keep one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := map[string]string{"CONFIG_FILE": writeFile(t, "config.yaml", tt.file)}
			for k, v := range tt.env {
				e[k] = v
			}
			_, err := loadConfig(nil, env(e), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// twinOrgs are two fake orgs, acme and globex, generated from one seed
// (the same logins, names and Okta ids in both), and a config file that
// lists them; env is the service's environment for it.
type twinOrgs struct {
	acme, globex         *oktafake.Org
	acmeFake, globexFake *oktafake.Server
	env                  map[string]string
}

// startTwinOrgs starts the fakes of two orgs made by gen with fopts and
// writes the config file; globex's entry gets the keys globexKeys (such
// as "namePrefix: gx-").
func startTwinOrgs(t *testing.T, gen oktafake.OrgOptions, fopts oktafake.Options, globexKeys string) twinOrgs {
	t.Helper()
	o := twinOrgs{acme: oktafake.GenerateOrg(gen), globex: oktafake.GenerateOrg(gen)}
	var acmeURL, globexURL string
	o.acmeFake, acmeURL = startFake(t, o.acme, fopts)
	o.globexFake, globexURL = startFake(t, o.globex, fopts)
	config := writeFile(t, "orgs.yaml", "orgs:\n"+
		"  - {name: acme, url: '"+acmeURL+"', tokenEnv: ACME_TOKEN}\n"+
		"  - {name: globex, url: '"+globexURL+"', tokenEnv: GLOBEX_TOKEN, "+globexKeys+"}\n")
	o.env = map[string]string{"CONFIG_FILE": config, "ACME_TOKEN": "demo-token", "GLOBEX_TOKEN": "demo-token"}
	return o
}
