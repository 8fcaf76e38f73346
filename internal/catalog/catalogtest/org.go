package catalogtest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// BenchOrg is the large org the benchmarks map: 100,000 users, 10,000
// groups and 1,000,000 memberships, a tenth of that with -short. It returns
// the org, its size as a benchmark name
// ("users=N/groups=N/memberships=N") and the options the benchmarks map it
// with (the default ones with the org's hierarchy keys).
func BenchOrg() (catalog.Input, string, catalog.Options) {
	users, groups, memberships := 100_000, 10_000, 1_000_000
	if testing.Short() {
		users, groups, memberships = 10_000, 1_000, 100_000
	}
	opts := catalog.DefaultOptions()
	opts.HierarchyKey, opts.HierarchyParentKey = "orgId", "parentOrgId"
	name := fmt.Sprintf("users=%d/groups=%d/memberships=%d", users, groups, memberships)
	return Org(users, groups, memberships), name, opts
}

// Org generates an org of the given size: users with realistic
// profiles, groups in a hierarchy, and memberships spread over the groups.
func Org(users, groups, memberships int) catalog.Input {
	rng := rand.New(rand.NewPCG(42, 42))
	first := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "zoë", "łukasz"}
	last := []string{"smith", "jones", "garcia", "müller", "ørsted", "o'brien", "nguyen", "kim", "dubois", "rossi"}
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	in := catalog.Input{Users: make([]okta.User, users), Groups: make([]okta.Group, groups), Members: make(map[string][]string, groups)}
	for i := range in.Users {
		f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		email := fmt.Sprintf("%s.%s%d@example.com", f, l, i)
		in.Users[i] = okta.User{
			ID: fmt.Sprintf("00u%017d", i), Status: okta.StatusActive,
			Created: start.Add(time.Duration(rng.IntN(1e6)) * time.Minute),
			Profile: okta.UserProfile{
				Login: email, Email: email, FirstName: f, LastName: l, DisplayName: f + " " + l,
				Department: "Engineering", Title: "Engineer",
			},
		}
	}
	for i := range in.Groups {
		custom := map[string]any{"orgId": fmt.Sprint(i)}
		if i > 0 {
			custom["parentOrgId"] = fmt.Sprint(rng.IntN(i))
		}
		in.Groups[i] = okta.Group{
			ID: fmt.Sprintf("00g%017d", i), Type: okta.GroupTypeOkta,
			Created: start.Add(time.Duration(i) * time.Minute),
			Profile: okta.GroupProfile{Name: fmt.Sprintf("Team %d (%s)", i, first[i%len(first)]), Description: "A team", Custom: okta.AttrsOf(custom)},
		}
	}
	per := memberships / max(groups, 1)
	for _, g := range in.Groups {
		ids := make([]string, per)
		for j := range ids {
			ids[j] = in.Users[rng.IntN(users)].ID
		}
		in.Members[g.ID] = ids
	}
	return in
}

// WithTransform returns opts with the transforms a typical config sets,
// compiled: a composed display name, a picture, a description, a label and
// an annotation from templates, an exclusion by user type (which the
// generated org's users do not match, so the output keeps its size) and a
// namespace for app groups.
func WithTransform(opts catalog.Options) catalog.Options {
	opts.GroupNamespaces = map[string]string{okta.GroupTypeApp: "apps"}
	opts.UserTransform = catalog.Transform{
		Exclude:     `eq .profile.userType "Service"`,
		DisplayName: `{{join " " .profile.firstName .profile.lastName | default .profile.login}}`,
		Picture:     `https://avatars.example.com/{{.profile.email | lower | urlquery}}.png`,
		Description: `{{join " in " .profile.title .profile.department}}`,
		Labels:      map[string]string{"example.com/department": `{{.profile.department | lower}}`},
		Annotations: map[string]string{"example.com/handle": `{{.profile.login | before "@"}}`},
	}
	opts.GroupTransform = catalog.Transform{
		Exclude:     `hasPrefix "tmp-" .profile.name`,
		DisplayName: `{{.profile.name | trimPrefix "Team "}}`,
		Description: `{{.profile.description | default "Synced from Okta"}}`,
	}
	compiled, err := opts.Compile()
	if err != nil {
		panic(err) // the transforms above are fixed
	}
	return compiled
}
