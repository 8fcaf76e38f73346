package catalog

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadOrg reads the fixture org: every nasty case the mapping handles.
func loadOrg(t testing.TB) Input {
	t.Helper()
	b, err := os.ReadFile("testdata/org.json")
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Users   []okta.User         `json:"users"`
		Groups  []okta.Group        `json:"groups"`
		Members map[string][]string `json:"members"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	out := Input{Users: in.Users, Groups: in.Groups, Members: in.Members}
	return out
}

// goldenScenarios are the option sets the golden files cover.
func goldenScenarios() map[string]Options {
	def := DefaultOptions()
	def.HierarchyKey, def.HierarchyParentKey = "orgId", "profile.parentOrgId"
	def.UserAnnotations = []string{"department", "title"}
	def.UserMappings = []AttributeMapping{
		{Attribute: "githubUsername", Annotation: "github.com/user-login"},
		{Attribute: "githubUsername", Label: "github-user"},
		{Attribute: "department", Label: "example.com/department"},
		{Attribute: "costCenter", Label: "cost-center"},
		{Attribute: "level", Annotation: "example.com/level"},
		{Attribute: "skills", Annotation: "example.com/skills"},
	}
	def.GroupAnnotations = []string{"orgId"}
	def.GroupMappings = []AttributeMapping{{Attribute: "orgId", Label: "okta.com/org-id"}}

	peer := DefaultOptions()
	peer.UserNaming = UserNamingKebabCaseEmail
	peer.GroupNaming = GroupNamingKebabCaseName
	peer.Namespace = "okta"
	peer.IncludeMembers = true
	peer.ExcludeGroupTypes = []string{}
	peer.GroupTypes = map[string]string{"APP_GROUP": "app-group", "BUILT_IN": "everyone"}
	peer.HierarchyParentKey = "parentOrgId" // no key: parent values are matched against names

	sel := DefaultOptions()
	sel.UserNaming = UserNamingSlugifyEmail
	sel.GroupNaming = GroupNamingProfileName
	sel.IncludeEmptyGroups = false
	sel.UsersFromGroups = true
	sel.IncludeGroupTypes = []string{"OKTA_GROUP"}
	sel.UserStatuses = []string{"ACTIVE"}
	sel.HierarchyKey, sel.HierarchyParentKey = "orgId", "parentOrgId"

	ids := DefaultOptions()
	ids.UserNaming = UserNamingID
	ids.GroupNaming = GroupNamingID
	ids.UserStatuses = []string{"ACTIVE", "SUSPENDED", "DEPROVISIONED"}

	return map[string]Options{"default": def, "peer": peer, "selection": sel, "id": ids, "transform": transformOptions()}
}

// transformOptions shape the entities with templates: a picture, a
// display name composed of several attributes, namespaces per group type,
// and exclusions of users (service accounts) and of a group with children.
func transformOptions() Options {
	o := DefaultOptions()
	o.HierarchyKey, o.HierarchyParentKey = "orgId", "parentOrgId"
	o.IncludeMembers = true
	o.GroupNamespaces = map[string]string{"APP_GROUP": "apps", "OKTA_GROUP": "teams"}
	o.UserTransform = Transform{
		Exclude:     `eq .profile.userType "Service"`,
		DisplayName: `{{join " " .profile.firstName .profile.lastName | default .profile.displayName | default .profile.login}}`,
		Picture:     `https://avatars.example.com/{{.profile.email | lower | urlquery}}.png`,
		Description: `{{join " in " .profile.title .profile.department}}`,
		Labels:      map[string]string{"example.com/department": `{{.profile.department | lower}}`, "example.com/level": `{{.profile.level}}`},
		Annotations: map[string]string{"github.com/user-login": `{{.profile.githubUsername}}`, "example.com/handle": `{{.profile.login | before "@"}}`},
	}
	o.GroupTransform = Transform{
		Exclude:     `eq .profile.orgId "platform"`,
		DisplayName: `{{.profile.name}} ({{.type | lower | replace "_group" ""}})`,
		Title:       `{{.profile.name | upper | truncate 20}}`,
		Description: `{{.profile.description | default "No description in Okta"}}`,
		Labels:      map[string]string{"example.com/org": `{{.profile.orgId}}`},
	}
	return o
}

// encodeStream writes the entities as Backstage reads them: YAML documents
// separated by "---".
func encodeStream(es []Entity) []byte {
	var b []byte
	for i := range es {
		b = append(b, "---\n"...)
		b = AppendYAML(b, &es[i])
	}
	return b
}

// eachGoldenScenario runs f as a parallel subtest, named by the scenario,
// for each golden scenario over the golden org.
func eachGoldenScenario(t *testing.T, f func(t *testing.T, name string, opts Options, in Input)) {
	t.Helper()
	in := loadOrg(t)
	for name, opts := range goldenScenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, name, opts, in)
		})
	}
}

func TestBuildGolden(t *testing.T) {
	t.Parallel()
	eachGoldenScenario(t, func(t *testing.T, name string, opts Options, in Input) {
		if err := opts.Validate(); err != nil {
			t.Fatalf("options: %v", err)
		}
		res := Build(opts, in)
		yml := encodeStream(res.Entities)
		rep, err := json.MarshalIndent(res.Report, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		rep = append(rep, '\n')
		checkGolden(t, filepath.Join("testdata", name+".yaml.golden"), yml)
		checkGolden(t, filepath.Join("testdata", name+".report.json.golden"), rep)
		checkEntities(t, opts, res)
	})
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// TestBuildIgnoresInputOrder holds the output byte-identical when every
// input list is shuffled.
func TestBuildIgnoresInputOrder(t *testing.T) {
	t.Parallel()
	eachGoldenScenario(t, func(t *testing.T, _ string, opts Options, in Input) {
		want := Build(opts, in)
		wantYAML := encodeStream(want.Entities)
		wantRep, _ := json.Marshal(want.Report)
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			sh := shuffled(rng, in)
			got := Build(opts, sh)
			if gotYAML := encodeStream(got.Entities); !bytes.Equal(gotYAML, wantYAML) {
				t.Fatalf("shuffled input gives other entities:\n%s", cmp.Diff(string(wantYAML), string(gotYAML)))
			}
			if gotRep, _ := json.Marshal(got.Report); !bytes.Equal(gotRep, wantRep) {
				t.Fatalf("shuffled input gives another report:\n%s", cmp.Diff(string(wantRep), string(gotRep)))
			}
		}
	})
}

func shuffled(rng *rand.Rand, in Input) Input {
	out := Input{
		Users:   append(in.Users[:0:0], in.Users...),
		Groups:  append(in.Groups[:0:0], in.Groups...),
		Members: make(map[string][]string, len(in.Members)),
	}
	rng.Shuffle(len(out.Users), func(i, j int) { out.Users[i], out.Users[j] = out.Users[j], out.Users[i] })
	rng.Shuffle(len(out.Groups), func(i, j int) { out.Groups[i], out.Groups[j] = out.Groups[j], out.Groups[i] })
	for k, v := range in.Members {
		v = append(v[:0:0], v...)
		rng.Shuffle(len(v), func(i, j int) { v[i], v[j] = v[j], v[i] })
		out.Members[k] = v
	}
	return out
}
