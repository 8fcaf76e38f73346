package provider

import (
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// CatalogInput returns what the catalog is built from: st's users, groups,
// and their members as listed, Everyone holding every user; when the
// selection is by Okta app, only the users assigned to the apps (and, with
// AppGroupsOnly, only the groups assigned). Member ids
// naming users outside the state (left out by the admin's expression, or
// deprovisioned) stay in the lists, and the catalog skips them: the lists
// are shared with the state rather than copied without them, which at
// 100,000 users would copy most of a million ids on every build.
func CatalogInput(st *orgsync.State) catalog.Input {
	users, groups, lists := st.Users(), st.Groups(), st.MemberLists()
	members := make(map[string][]string, len(groups))
	var everyone []string
	for i := range groups {
		g := &groups[i]
		if st.DerivedMembers(g) {
			if everyone == nil {
				everyone = make([]string, len(users))
				for j := range users {
					everyone[j] = users[j].ID
				}
			}
			members[g.ID] = everyone
			continue
		}
		if ids := lists[g.ID]; len(ids) > 0 {
			members[g.ID] = ids
		}
	}
	in := catalog.Input{Users: users, Groups: groups, Members: members, SkipUnknownMembers: true}
	if assignedUsers, assignedGroups, byApp := st.Assigned(); byApp {
		in.AssignedUsers = assignedUsers
		if st.AppGroupsOnly() {
			in.AssignedGroups = assignedGroups
		}
	}
	return in
}
