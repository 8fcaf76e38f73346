package orgsync

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// build is the next state while an incremental sync makes it: changes are
// kept aside (users, groups) or copied on first write (members, outside),
// so the previous state is never touched.
type build struct {
	prev           *State
	users          *overlay[okta.User]
	groups         *overlay[okta.Group]
	members        map[string][]string
	membersCopied  bool
	membersChanged bool
	outside        map[string]time.Time
	outsideCopied  bool

	userMark, groupMark, logMark time.Time
	logReadable                  bool
	logErr                       string
	syncsSinceCheck              int
	apps                         map[string]assignment
	appsChanged                  bool
	appEvents                    map[string]time.Time
}

func newBuild(prev *State) *build {
	return &build{
		prev:        prev,
		users:       newOverlay(prev.users, userID, prev.user),
		groups:      newOverlay(prev.groups, groupID, prev.group),
		members:     prev.members,
		outside:     prev.outside,
		userMark:    prev.userMark,
		groupMark:   prev.groupMark,
		logMark:     prev.logMark,
		logReadable: prev.logReadable,
		apps:        prev.apps,
		appEvents:   prev.appEvents,
	}
}

// setApps replaces the assignments of the listed apps and reports how
// many changed.
func (b *build) setApps(listed map[string]assignment) int {
	n := 0
	for id, a := range listed {
		if old, ok := b.apps[id]; ok && slices.Equal(old.Users, a.Users) && slices.Equal(old.Groups, a.Groups) {
			continue
		}
		if !b.appsChanged {
			b.apps = maps.Clone(b.apps)
			b.appsChanged = true
		}
		b.apps[id] = a
		n++
	}
	return n
}

func (b *build) derived(g *okta.Group) bool { return b.prev.derived(g) }

func (b *build) deletionsFromLog() bool { return b.logReadable && b.logErr == "" }

// setMembers replaces a group's member list and reports whether it changed.
func (b *build) setMembers(id string, ids []string) bool {
	if slices.Equal(b.members[id], ids) {
		return false
	}
	b.copyMembers()
	if len(ids) == 0 {
		delete(b.members, id)
	} else {
		b.members[id] = ids
	}
	b.membersChanged = true
	return true
}

func (b *build) copyMembers() {
	if !b.membersCopied {
		b.members = maps.Clone(b.members)
		if b.members == nil {
			b.members = map[string][]string{}
		}
		b.membersCopied = true
	}
}

// removeGroup drops a group and its members and reports whether it was
// there.
func (b *build) removeGroup(id string) bool {
	if _, ok := b.members[id]; ok {
		b.copyMembers()
		delete(b.members, id)
		b.membersChanged = true
	}
	return b.groups.remove(id)
}

// putNewer stores a listed user unless the state has a copy as new; with
// add false, only users already in the state are replaced.
func (b *build) putNewer(u okta.User, add bool) bool {
	cur, ok := b.users.get(u.ID)
	switch {
	case !ok && !add:
		return false
	case ok && (cur.LastUpdated.After(u.LastUpdated) || reflect.DeepEqual(cur, u)):
		return false
	}
	b.users.set(u)
	return true
}

// dropNonMembers removes the users that are no longer in any group ("users
// from groups" mode) and returns how many.
func (b *build) dropNonMembers() int {
	in := map[string]bool{}
	for _, ids := range b.members {
		for _, id := range ids {
			in[id] = true
		}
	}
	var gone []string
	for _, u := range b.prev.users {
		if !in[u.ID] && !b.users.removed[u.ID] {
			gone = append(gone, u.ID)
		}
	}
	for id := range b.users.put {
		if !in[id] {
			gone = append(gone, id)
		}
	}
	n := 0
	for _, id := range gone {
		if b.users.remove(id) {
			n++
		}
	}
	return n
}

// intern returns the state's copy of a user id string, so that member
// lists share it. It only reads, so member listings may call it at once.
func (b *build) intern(id string) string {
	if u, ok := b.users.put[id]; ok {
		return u.ID
	}
	if u, ok := b.prev.user(id); ok {
		return u.ID
	}
	return id
}

// knownUser reports whether a listed user is as the state (or the record of
// users outside the selection) already has it.
func (b *build) knownUser(u *okta.User) bool {
	if cur, ok := b.users.get(u.ID); ok {
		return cur.LastUpdated.Equal(u.LastUpdated)
	}
	t, ok := b.outside["u"+u.ID]
	return ok && t.Equal(u.LastUpdated)
}

// knownGroup is knownUser for groups.
func (b *build) knownGroup(g *okta.Group) bool {
	if cur, ok := b.groups.get(g.ID); ok {
		return cur.LastUpdated.Equal(g.LastUpdated) && cur.LastMembershipUpdated.Equal(g.LastMembershipUpdated)
	}
	t, ok := b.outside["g"+g.ID]
	return ok && t.Equal(groupStamp(g))
}

func (b *build) setOutside(key string, t time.Time) {
	if !b.outsideCopied {
		b.outside = maps.Clone(b.outside)
		if b.outside == nil {
			b.outside = map[string]time.Time{}
		}
		b.outsideCopied = true
	}
	b.outside[key] = t
}

// finish returns the new state. Records of objects outside the selection
// are kept only while a change listing can still return them.
func (b *build) finish(overlap time.Duration) *State {
	outside := b.outside
	for key, t := range b.outside {
		from := since(b.userMark, overlap)
		if strings.HasPrefix(key, "g") {
			from = since(b.groupMark, overlap)
		}
		if !t.After(from) {
			if !b.outsideCopied {
				outside = maps.Clone(b.outside)
				b.outsideCopied = true
			}
			delete(outside, key)
		}
	}
	return &State{
		users:           b.users.result(),
		groups:          b.groups.result(),
		members:         b.members,
		userMark:        b.userMark,
		groupMark:       b.groupMark,
		logMark:         b.logMark,
		logReadable:     b.logReadable,
		logErr:          b.logErr,
		usersFromGroups: b.prev.usersFromGroups,
		selection:       b.prev.selection,
		outside:         outside,
		syncsSinceCheck: b.syncsSinceCheck,
		fullAt:          b.prev.fullAt,
		apps:            b.apps,
		appGroupsOnly:   b.prev.appGroupsOnly,
		appEvents:       seenEvents(nil, b.appEvents, b.logMark, 2*overlap),
	}
}
