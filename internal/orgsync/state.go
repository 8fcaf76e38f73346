package orgsync

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// State is a local copy of the selected part of an Okta org, with the
// watermarks to update it from. It is immutable: the slices and maps its
// methods return are shared and must not be modified.
type State struct {
	users  []okta.User  // sorted by id
	groups []okta.Group // sorted by id, without embedded stats
	// members holds the sorted member ids of each group whose members were
	// listed, as Okta listed them (they may name users outside the state).
	// Groups with derived membership (Everyone) have no entry.
	members map[string][]string

	// userMark and groupMark are Okta instants up to which every change of
	// a user or group is in the state; logMark likewise for the System Log.
	userMark, groupMark, logMark time.Time
	logReadable                  bool
	// logErr is why the last read of a readable System Log failed: until
	// it reads again, deletions come from the periodic check and logMark
	// stays where the log was last read. Not saved: a restart tries again.
	logErr          string
	usersFromGroups bool // users come from member listings
	selection       string
	// outside holds recently changed users ("u"+id) and groups ("g"+id)
	// that the admin's expression leaves out, with their change stamps, so
	// that re-reading them in the overlap window costs no second listing.
	outside map[string]time.Time
	// syncsSinceCheck counts incremental syncs since the last listing of
	// the groups for deletions (when the System Log cannot be read).
	syncsSinceCheck int
	// fullAt is when the full sync this state descends from started, by
	// the local clock: used only to schedule the next full reconciliation.
	fullAt time.Time
	// apps holds each selected app's assignments, nil when the selection
	// names no app.
	apps map[string]assignment
	// appEvents holds the ids of the app assignment events acted on,
	// with their publication, while the log's overlap may return them.
	appEvents     map[string]time.Time
	appGroupsOnly bool

	once    sync.Once
	userIDs map[string]struct{}
}

// Users returns the users, sorted by id.
func (s *State) Users() []okta.User { return s.users }

// Groups returns the groups, sorted by id. Embedded stats are not kept.
func (s *State) Groups() []okta.Group { return s.groups }

// Counts returns the number of users, groups and memberships (among the
// state's users, Everyone's included).
func (s *State) Counts() (users, groups, memberships int) {
	for _, ids := range s.Members() {
		memberships += len(ids)
	}
	return len(s.users), len(s.groups), memberships
}

// Watermarks returns the Okta instants up to which the users, the groups
// and the System Log are known to be reflected in the state.
func (s *State) Watermarks() (users, groups, log time.Time) {
	return s.userMark, s.groupMark, s.logMark
}

// FullSyncAt returns when the full sync this state descends from started,
// by the local clock (for scheduling the next full reconciliation).
func (s *State) FullSyncAt() time.Time { return s.fullAt }

// LogReadable reports whether the credentials may read the System Log
// (it did not answer 403), so that deletions come from it while it reads.
func (s *State) LogReadable() bool { return s.logReadable }

// LogError is why the last read of a readable System Log failed, empty
// when it read.
func (s *State) LogError() string { return s.logErr }

// DeletionsFromLog reports whether the sync that made the state took its
// deletions from the System Log, rather than from the periodic check.
func (s *State) DeletionsFromLog() bool { return s.deletionsFromLog() }

func (s *State) deletionsFromLog() bool { return s.logReadable && s.logErr == "" }

// Members returns the member ids of every group, sorted, keeping only
// users in the state: the memberships the catalog shows. Everyone
// (BUILT_IN) holds every user. The map is new on each call; the slices may
// be shared. The catalog itself is built from MemberLists, which are not
// copied.
func (s *State) Members() map[string][]string {
	s.once.Do(s.index)
	out := make(map[string][]string, len(s.groups))
	var everyone []string
	for i := range s.groups {
		g := &s.groups[i]
		ids := s.members[g.ID]
		if s.derived(g) {
			if everyone == nil {
				everyone = make([]string, len(s.users))
				for j := range s.users {
					everyone[j] = s.users[j].ID
				}
			}
			ids = everyone
		}
		if kept := s.knownUsers(ids); len(kept) > 0 {
			out[g.ID] = kept
		}
	}
	return out
}

// MemberLists returns the member ids of the groups whose membership is
// listed, by group id, as stored: the map and its lists are the state's
// own, shared rather than copied, and must not be modified. Ids may name
// users outside the state (left out by the admin's expression, or
// deprovisioned). A group whose membership is derived (DerivedMembers) may
// have no list.
func (s *State) MemberLists() map[string][]string { return s.members }

// DerivedMembers reports whether g's membership is derived rather than
// listed: Everyone (BUILT_IN) holds every user in the state, unless users
// come from groups.
func (s *State) DerivedMembers(g *okta.Group) bool { return s.derived(g) }

// derived reports whether g's membership is derived rather than listed.
func (s *State) derived(g *okta.Group) bool {
	return g.Type == okta.GroupTypeBuiltIn && !s.usersFromGroups
}

// knownUsers returns ids without those not in the state, sharing ids when
// nothing is dropped.
func (s *State) knownUsers(ids []string) []string {
	for i, id := range ids {
		if _, ok := s.userIDs[id]; ok {
			continue
		}
		kept := slices.Clone(ids[:i])
		for _, id := range ids[i+1:] {
			if _, ok := s.userIDs[id]; ok {
				kept = append(kept, id)
			}
		}
		return kept
	}
	return ids
}

func (s *State) index() {
	s.userIDs = make(map[string]struct{}, len(s.users))
	for i := range s.users {
		s.userIDs[s.users[i].ID] = struct{}{}
	}
}

// user returns the user with the given id.
func (s *State) user(id string) (*okta.User, bool) {
	i, ok := sort.Find(len(s.users), func(i int) int { return strings.Compare(id, s.users[i].ID) })
	if !ok {
		return nil, false
	}
	return &s.users[i], true
}

// group returns the group with the given id.
func (s *State) group(id string) (*okta.Group, bool) {
	i, ok := sort.Find(len(s.groups), func(i int) int { return strings.Compare(id, s.groups[i].ID) })
	if !ok {
		return nil, false
	}
	return &s.groups[i], true
}

// Equal reports whether s and other hold the same users, groups and
// memberships, the data a catalog is built from.
func (s *State) Equal(other *State) bool { return s.Diff(other).Total() == 0 }

// Diff lists the differences between two states' users, groups and
// memberships (watermarks and bookkeeping aside). Use it to compare an
// incrementally kept state with a fresh full one.
func (s *State) Diff(other *State) Diff {
	var d Diff
	diffSorted(s.users, other.users, func(u *okta.User) string { return u.ID }, func(a, b *okta.User) bool { return reflect.DeepEqual(a, b) },
		func(kind, id string) {
			d.Users++
			d.add(fmt.Sprintf("user %s: %s", id, kind))
		})
	diffSorted(s.groups, other.groups, func(g *okta.Group) string { return g.ID }, func(a, b *okta.Group) bool { return reflect.DeepEqual(a, b) },
		func(kind, id string) {
			d.Groups++
			d.add(fmt.Sprintf("group %s: %s", id, kind))
		})
	for _, id := range slices.Sorted(maps.Keys(s.apps)) {
		if x, y := s.apps[id], other.apps[id]; !slices.Equal(x.Users, y.Users) || !slices.Equal(x.Groups, y.Groups) {
			d.Apps++
			d.add(fmt.Sprintf("app %s: %d users and %d groups assigned, want %d and %d", id, len(x.Users), len(x.Groups), len(y.Users), len(y.Groups)))
		}
	}
	a, b := s.Members(), other.Members()
	for _, id := range slices.Sorted(maps.Keys(a)) {
		if !slices.Equal(a[id], b[id]) {
			d.Memberships++
			d.add(fmt.Sprintf("group %s: %d members, want %d", id, len(a[id]), len(b[id])))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[id]; !ok {
			d.Memberships++
			d.add(fmt.Sprintf("group %s: 0 members, want %d", id, len(b[id])))
		}
	}
	return d
}

// diffSorted walks two id-sorted slices and reports every id that is only
// in a ("extra"), only in b ("missing") or different ("differs").
func diffSorted[T any](a, b []T, id func(*T) string, equal func(a, b *T) bool, report func(kind, id string)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && id(&a[i]) < id(&b[j])):
			report("extra", id(&a[i]))
			i++
		case i == len(a) || id(&b[j]) < id(&a[i]):
			report("missing", id(&b[j]))
			j++
		default:
			if !equal(&a[i], &b[j]) {
				report("differs", id(&a[i]))
			}
			i++
			j++
		}
	}
}

// Diff counts the differences between two states, with the first few
// described.
type Diff struct {
	Users, Groups, Memberships int
	// Apps counts the apps whose assignments differ.
	Apps int
	// Examples describes up to maxDiffExamples differences.
	Examples []string
}

const maxDiffExamples = 20

func (d *Diff) add(s string) {
	if len(d.Examples) < maxDiffExamples {
		d.Examples = append(d.Examples, s)
	}
}

// Total returns the number of differing users, groups and member lists.
func (d Diff) Total() int { return d.Users + d.Groups + d.Memberships + d.Apps }

// normalizeUser keeps what a catalog can use and an incremental sync can
// keep current: times in UTC; lastLogin and passwordChanged dropped, since
// they may change without lastUpdated.
func normalizeUser(u *okta.User) {
	u.Created = u.Created.UTC()
	u.Activated = u.Activated.UTC()
	u.StatusChanged = u.StatusChanged.UTC()
	u.LastUpdated = u.LastUpdated.UTC()
	u.LastLogin = time.Time{}
	u.PasswordChanged = time.Time{}
}

// normalizeGroup drops the embedded stats (the member count changes with
// membership, which the state keeps on its own) and puts times in UTC.
func normalizeGroup(g *okta.Group) {
	g.Embedded = nil
	g.Created = g.Created.UTC()
	g.LastUpdated = g.LastUpdated.UTC()
	g.LastMembershipUpdated = g.LastMembershipUpdated.UTC()
}

// groupStamp is the latest change of a group, profile or membership.
func groupStamp(g *okta.Group) time.Time {
	if g.LastMembershipUpdated.After(g.LastUpdated) {
		return g.LastMembershipUpdated
	}
	return g.LastUpdated
}

// sortByID sorts objects by id and keeps the last of any duplicates (a
// listing may return an object twice when it changes while being paged).
func sortByID[T any](xs []T, id func(*T) string) []T {
	sort.SliceStable(xs, func(i, j int) bool { return id(&xs[i]) < id(&xs[j]) })
	out := xs[:0]
	for i := range xs {
		if len(out) > 0 && id(&out[len(out)-1]) == id(&xs[i]) {
			out[len(out)-1] = xs[i]
			continue
		}
		out = append(out, xs[i])
	}
	return out
}

func userID(u *okta.User) string   { return u.ID }
func groupID(g *okta.Group) string { return g.ID }

// overlay is a copy-on-write view of an id-sorted slice: changes are kept
// aside and merged into a new slice only when there are any.
type overlay[T any] struct {
	base    []T
	id      func(*T) string
	find    func(id string) (*T, bool)
	put     map[string]T
	removed map[string]bool
}

func newOverlay[T any](base []T, id func(*T) string, find func(string) (*T, bool)) *overlay[T] {
	return &overlay[T]{base: base, id: id, find: find, put: map[string]T{}, removed: map[string]bool{}}
}

func (o *overlay[T]) get(id string) (T, bool) {
	if v, ok := o.put[id]; ok {
		return v, true
	}
	var zero T
	if o.removed[id] {
		return zero, false
	}
	if p, ok := o.find(id); ok {
		return *p, true
	}
	return zero, false
}

func (o *overlay[T]) set(v T) {
	id := o.id(&v)
	delete(o.removed, id)
	o.put[id] = v
}

// remove drops id and reports whether it was there.
func (o *overlay[T]) remove(id string) bool {
	_, had := o.get(id)
	delete(o.put, id)
	if _, inBase := o.find(id); inBase {
		o.removed[id] = true
	}
	return had
}

func (o *overlay[T]) changed() bool { return len(o.put) > 0 || len(o.removed) > 0 }

// result returns the merged, id-sorted slice; the base itself when nothing
// changed.
func (o *overlay[T]) result() []T {
	if !o.changed() {
		return o.base
	}
	added := make([]T, 0, len(o.put))
	for _, v := range o.put {
		added = append(added, v)
	}
	slices.SortFunc(added, func(a, b T) int { return cmp.Compare(o.id(&a), o.id(&b)) })
	out := make([]T, 0, len(o.base)+len(added))
	i := 0
	for _, v := range o.base {
		id := o.id(&v)
		for i < len(added) && o.id(&added[i]) < id {
			out = append(out, added[i])
			i++
		}
		if i < len(added) && o.id(&added[i]) == id {
			out = append(out, added[i])
			i++
			continue
		}
		if o.removed[id] {
			continue
		}
		out = append(out, v)
	}
	return append(out, added[i:]...)
}

// RemovedMemberships counts the memberships of s that next no longer has,
// among the groups and users both hold (removed users and groups are
// counted as such), and the memberships of s in all. Everyone's derived
// membership is not counted. The member lists are sorted, so it is one
// merge per group.
func (s *State) RemovedMemberships(next *State) (removed, of int) {
	s.once.Do(s.index)
	next.once.Do(next.index)
	for gid, old := range s.members {
		for _, id := range old {
			if _, ok := s.userIDs[id]; ok {
				of++
			}
		}
		if _, ok := next.group(gid); !ok {
			continue
		}
		cur := next.members[gid]
		j := 0
		for _, id := range old {
			for j < len(cur) && cur[j] < id {
				j++
			}
			if j < len(cur) && cur[j] == id {
				continue
			}
			_, inOld := s.userIDs[id]
			_, inNext := next.userIDs[id]
			if inOld && inNext {
				removed++
			}
		}
	}
	return removed, of
}
