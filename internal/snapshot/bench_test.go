package snapshot

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// benchOrg generates an org of the given size: users with realistic
// profiles, groups in a hierarchy, and memberships spread over the groups.
func benchOrg(users, groups, memberships int) catalog.Input {
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

// BenchmarkBuildSnapshot measures what the service does on a changed sync:
// mapping the org and encoding the snapshot (YAML and JSON, hashed and
// compressed) without holding the entities. B/op is what it allocates.
func BenchmarkBuildSnapshot(b *testing.B) {
	users, groups, memberships := 100_000, 10_000, 1_000_000
	if testing.Short() {
		users, groups, memberships = 10_000, 1_000, 100_000
	}
	in := benchOrg(users, groups, memberships)
	opts := catalog.DefaultOptions()
	opts.HierarchyKey, opts.HierarchyParentKey = "orgId", "parentOrgId"
	name := fmt.Sprintf("users=%d/groups=%d/memberships=%d", users, groups, memberships)
	b.Run("streamed/"+name, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Build(nil, opts, in, time.Time{}, 0)
		}
	})
}

// BenchmarkBuild builds a sharded snapshot of an org where every user is in
// one team and in everyone, from nothing and from an unchanged previous
// snapshot (the usual sync).
func BenchmarkBuild(b *testing.B) {
	for _, users := range []int{20_000, 100_000} {
		if testing.Short() && users > 20_000 {
			continue
		}
		in := catalog.Input{Members: make(map[string][]string, users/10+1)}
		everyone := make([]string, 0, users)
		for i := range users {
			u := testUser(fmt.Sprintf("user-%06d", i))
			in.Users = append(in.Users, u)
			team := fmt.Sprintf("00ggroup-%05d", i%(users/10))
			in.Members[team] = append(in.Members[team], u.ID)
			everyone = append(everyone, u.ID)
		}
		for i := range users / 10 {
			in.Groups = append(in.Groups, testGroup(fmt.Sprintf("group-%05d", i)))
		}
		in.Groups = append(in.Groups, testGroup("everyone"))
		in.Members["00geveryone"] = everyone
		opts := catalog.DefaultOptions()
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			var size int64
			for b.Loop() {
				s := Build(nil, opts, in, time.Time{}, 16)
				size = s.All.Size
			}
			b.SetBytes(size)
		})
		prev := Build(nil, opts, in, time.Time{}, 16)
		b.Run(fmt.Sprintf("users=%d/unchanged", users), func(b *testing.B) {
			var size int64
			for b.Loop() {
				s := Build(prev, opts, in, time.Time{}, 16)
				size = s.All.Size
			}
			b.SetBytes(size)
		})
	}
}
