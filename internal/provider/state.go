package provider

import (
	"maps"
	"slices"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// state is the Okta data behind a snapshot: what the last listing (full or
// incremental) found, kept apart from the built snapshot so that a later
// sync can apply deltas to it and rebuild. A state is never mutated once a
// snapshot has been built from it; a sync works on a clone.
type state struct {
	// Users holds every listed user by id.
	Users map[string]okta.User `json:"users"`
	// Groups holds every listed group by id.
	Groups map[string]okta.Group `json:"groups"`
	// Members holds the sorted member user ids of each listed group whose
	// membership was paged from Okta. Groups whose membership is derived
	// (Everyone, see derivedMembers) have no entry.
	Members map[string][]string `json:"members"`
	// UsersWatermark is the highest user lastUpdated seen, in Okta's clock.
	UsersWatermark time.Time `json:"usersWatermark"`
	// GroupsWatermark is the highest group lastUpdated or
	// lastMembershipUpdated seen, in Okta's clock.
	GroupsWatermark time.Time `json:"groupsWatermark"`
	// LogWatermark is the publication time of the last System Log event
	// read, in Okta's clock; zero when the log is not used.
	LogWatermark time.Time `json:"logWatermark"`
	// FullSyncAt is when the last full listing finished, by the local clock
	// (used only to schedule the next full reconciliation).
	FullSyncAt time.Time `json:"fullSyncAt"`
	// DeriveEveryone reports whether BUILT_IN groups get every user as their
	// members instead of a paged listing.
	DeriveEveryone bool `json:"deriveEveryone"`
}

func newState() *state {
	return &state{
		Users:   make(map[string]okta.User),
		Groups:  make(map[string]okta.Group),
		Members: make(map[string][]string),
	}
}

// clone returns a copy that can be changed without touching s. Users and
// groups are values; member slices are replaced, never appended to, so they
// may be shared.
func (s *state) clone() *state {
	c := *s
	c.Users = maps.Clone(s.Users)
	c.Groups = maps.Clone(s.Groups)
	c.Members = maps.Clone(s.Members)
	return &c
}

// putUser records u and advances the users watermark.
func (s *state) putUser(u okta.User) {
	s.Users[u.ID] = u
	if u.LastUpdated.After(s.UsersWatermark) {
		s.UsersWatermark = u.LastUpdated
	}
}

// putGroup records g and advances the groups watermark.
func (s *state) putGroup(g okta.Group) {
	s.Groups[g.ID] = g
	for _, t := range []time.Time{g.LastUpdated, g.LastMembershipUpdated} {
		if t.After(s.GroupsWatermark) {
			s.GroupsWatermark = t
		}
	}
}

// removeUser forgets a user and its memberships.
func (s *state) removeUser(id string) {
	if _, ok := s.Users[id]; !ok {
		return
	}
	delete(s.Users, id)
	for gid, ids := range s.Members {
		if i, found := slices.BinarySearch(ids, id); found {
			s.Members[gid] = slices.Delete(slices.Clone(ids), i, i+1)
		}
	}
}

// removeGroup forgets a group and its membership.
func (s *state) removeGroup(id string) {
	delete(s.Groups, id)
	delete(s.Members, id)
}

// derivedMembers reports whether g's membership is derived locally rather
// than paged: Okta's BUILT_IN Everyone group holds every user, so paging it
// would list the whole org a second time.
func (s *state) derivedMembers(g *okta.Group) bool {
	return s.DeriveEveryone && g.Type == okta.GroupTypeBuiltIn
}

// input returns the mapping input: users and groups sorted by id, and the
// member ids of every group, derived ones included.
func (s *state) input() catalog.Input {
	in := catalog.Input{
		Users:   make([]okta.User, 0, len(s.Users)),
		Groups:  make([]okta.Group, 0, len(s.Groups)),
		Members: make(map[string][]string, len(s.Groups)),
	}
	for _, id := range slices.Sorted(maps.Keys(s.Users)) {
		in.Users = append(in.Users, s.Users[id])
	}
	var everyone []string
	for _, id := range slices.Sorted(maps.Keys(s.Groups)) {
		g := s.Groups[id]
		in.Groups = append(in.Groups, g)
		if s.derivedMembers(&g) {
			if everyone == nil {
				everyone = make([]string, 0, len(in.Users))
				for i := range in.Users {
					everyone = append(everyone, in.Users[i].ID)
				}
			}
			in.Members[id] = everyone
			continue
		}
		if ids := s.Members[id]; len(ids) > 0 {
			in.Members[id] = ids
		}
	}
	return in
}
