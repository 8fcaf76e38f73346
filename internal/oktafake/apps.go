package oktafake

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Application assignments, as Okta pages them: app users 50 a page by
// default and at most 500, app groups 20 and at most 200.
const (
	appUserPageDefault, appUserPageMax   = 50, 500
	appGroupPageDefault, appGroupPageMax = 20, 200
)

// appRec is an app integration and its assignments: users assigned
// directly (user slot to when) and groups assigned (group slot to when).
// A user is assigned through a group while a member of an assigned group.
type appRec struct {
	id, label   string
	created     int64
	lastUpdated int64
	users       map[int32]int64
	groups      map[int32]int64
}

// AddApp adds an app integration with the given label and returns its id.
// Its assignments start empty.
func (o *Org) AddApp(label string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.stamp()
	o.nextApp++
	id := oktaID("0oa", o.seed, 'a', o.nextApp)
	if o.appByID == nil {
		o.appByID = map[string]int32{}
	}
	o.appByID[id] = int32(len(o.apps))
	o.apps = append(o.apps, appRec{id: id, label: label, created: now, lastUpdated: now, users: map[int32]int64{}, groups: map[int32]int64{}})
	o.log(now, "application.lifecycle.create", o.appTarget(int32(len(o.apps)-1)))
	return id
}

// AssignUser assigns a user to an app directly, logging
// application.user_membership.add when the user was not assigned yet
// (through a group they were: the assignment's scope becomes USER, with no
// event). Assigning again changes nothing.
func (o *Org) AssignUser(appID, userID string) error {
	return o.changeAssignment(appID, userID, "", true)
}

// UnassignUser removes a user's direct assignment, logging
// application.user_membership.remove unless the user stays assigned
// through a group. Removing a user not assigned directly changes nothing.
func (o *Org) UnassignUser(appID, userID string) error {
	return o.changeAssignment(appID, userID, "", false)
}

// AssignGroup assigns a group to an app, logging
// group.application_assignment.add and, as Okta does, one
// application.user_membership.add for each member not assigned yet.
func (o *Org) AssignGroup(appID, groupID string) error {
	return o.changeAssignment(appID, "", groupID, true)
}

// UnassignGroup removes a group's assignment, logging
// group.application_assignment.remove and an
// application.user_membership.remove for each member left with no
// assignment.
func (o *Org) UnassignGroup(appID, groupID string) error {
	return o.changeAssignment(appID, "", groupID, false)
}

func (o *Org) changeAssignment(appID, userID, groupID string, assign bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	aslot, ok := o.appByID[appID]
	if !ok {
		return fmt.Errorf("app %s: %w", appID, ErrNotFound)
	}
	a := &o.apps[aslot]
	// A user's assignment is in a.users, a group's in a.groups.
	assignments, slotOf, id := a.users, o.userSlot, userID
	if userID == "" {
		assignments, slotOf, id = a.groups, o.groupSlot, groupID
	}
	slot, err := slotOf(id)
	if err != nil {
		return err
	}
	if _, has := assignments[slot]; has == assign {
		return nil
	}
	now := o.stamp()
	if userID == "" {
		eventType := "group.application_assignment.remove"
		if assign {
			eventType = "group.application_assignment.add"
		}
		o.log(now, eventType, o.groupTarget(slot), o.appTarget(aslot))
	}
	o.reassign(now, []int32{aslot}, func() {
		if assign {
			assignments[slot] = now
		} else {
			delete(assignments, slot)
		}
	})
	return nil
}

// reassign runs change, which may change the assignments of the apps
// (directly, or through group memberships), and logs an
// application.user_membership.add or .remove for every user whose
// assignment to one of them began or ended, in user id order. Callers hold
// o.mu for writing.
func (o *Org) reassign(now int64, apps []int32, change func()) {
	before := make([]map[int32]string, len(apps))
	for i, aslot := range apps {
		before[i] = o.assigned(&o.apps[aslot])
	}
	change()
	for i, aslot := range apps {
		a := &o.apps[aslot]
		after := o.assigned(a)
		var added, removed []int32
		for u := range after {
			if _, ok := before[i][u]; !ok {
				added = append(added, u)
			}
		}
		for u := range before[i] {
			if _, ok := after[u]; !ok {
				removed = append(removed, u)
			}
		}
		byID := func(x, y int32) int { return strings.Compare(o.users[x].id, o.users[y].id) }
		slices.SortFunc(added, byID)
		slices.SortFunc(removed, byID)
		for _, u := range added {
			o.log(now, "application.user_membership.add", o.appUserTarget(aslot, u), o.appTarget(aslot), o.userTarget(u))
		}
		for _, u := range removed {
			o.log(now, "application.user_membership.remove", o.appUserTarget(aslot, u), o.appTarget(aslot), o.userTarget(u))
		}
		if len(added)+len(removed) > 0 {
			a.lastUpdated = now
		}
	}
}

// appsWithGroup returns the slots of the apps the group is assigned to.
// Callers hold o.mu.
func (o *Org) appsWithGroup(gslot int32) []int32 {
	var out []int32
	for i := range o.apps {
		if _, ok := o.apps[i].groups[gslot]; ok {
			out = append(out, int32(i))
		}
	}
	return out
}

// appsWithUser returns the slots of the apps the user is assigned to,
// directly or through a group. Callers hold o.mu.
func (o *Org) appsWithUser(uslot int32) []int32 {
	var out []int32
	for i := range o.apps {
		if _, ok := o.assigned(&o.apps[i])[uslot]; ok {
			out = append(out, int32(i))
		}
	}
	return out
}

// assigned returns every user assigned to the app with the assignment's
// scope: USER when assigned directly (whether or not also through a
// group), else GROUP. Callers hold o.mu.
func (o *Org) assigned(a *appRec) map[int32]string {
	out := make(map[int32]string, len(a.users))
	for gslot := range a.groups {
		for _, u := range o.groups[gslot].members {
			out[u] = okta.AppScopeGroup
		}
	}
	for u := range a.users {
		out[u] = okta.AppScopeUser
	}
	return out
}

// AppAssignment is the truth of one app's assignments.
type AppAssignment struct {
	// Direct holds the users assigned directly, Groups the groups
	// assigned, and Users every user assigned, directly or as a member of
	// an assigned group: what Okta's app users listing returns. All sorted.
	Direct, Groups, Users []string
}

// AppAssignment returns the app's assignments, computed from the direct
// assignments and the assigned groups' members.
func (o *Org) AppAssignment(appID string) (AppAssignment, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	aslot, ok := o.appByID[appID]
	if !ok {
		return AppAssignment{}, fmt.Errorf("app %s: %w", appID, ErrNotFound)
	}
	a := &o.apps[aslot]
	var out AppAssignment
	for u := range a.users {
		out.Direct = append(out.Direct, o.users[u].id)
	}
	for g := range a.groups {
		out.Groups = append(out.Groups, o.groups[g].id)
	}
	all := map[string]bool{}
	for _, id := range out.Direct {
		all[id] = true
	}
	for g := range a.groups {
		for _, u := range o.groups[g].members {
			all[o.users[u].id] = true
		}
	}
	out.Users = slices.Sorted(maps.Keys(all))
	slices.Sort(out.Direct)
	slices.Sort(out.Groups)
	return out, nil
}

func (o *Org) appTarget(aslot int32) eventTarget {
	a := &o.apps[aslot]
	return eventTarget{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label}
}

func (o *Org) appUserTarget(aslot, uslot int32) eventTarget {
	u := &o.users[uslot]
	return eventTarget{id: appUserID(o.apps[aslot].id, u.id), typ: "AppUser", alternateID: u.profile.Login, displayName: u.profile.Login}
}

// appUserID is an id for a user's assignment to an app, as the System Log's
// AppUser targets carry: stable for the pair.
func appUserID(appID, userID string) string {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(appID + "/" + userID) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return oktaID("0ua", h, 'a', 1)
}

// appListing serves a page of an app's assignments: it reads the limit
// (def by default, at most maxLimit) and the cursor, and calls page with the
// app under the org's read lock for the items after the cursor (at most
// limit) and whether more follow. It answers a bad request or an unknown app
// itself. Each item is written by write, up to the empty profile and the
// links to the app and to the item, which kind ("user" or "group") and id
// (an item's id, also the cursor of the next page) name.
func appListing[T any](s *Server, w http.ResponseWriter, r *http.Request, def, maxLimit int, kind string,
	page func(a *appRec, after string, limit int) ([]T, bool), id func(*T) string, write func(b []byte, it *T) []byte) {
	q := r.URL.Query()
	limit, after, ok := pageCursor(w, q, def, maxLimit)
	if !ok {
		return
	}
	appID := r.PathValue("id")
	o := s.org
	var items []T
	next := ""
	o.mu.RLock()
	aslot, found := o.appByID[appID]
	if found {
		var more bool
		items, more = page(&o.apps[aslot], after, limit)
		if s.nextPage(more, len(items), limit) {
			next = encodeCursor(id(&items[len(items)-1]))
		}
	}
	o.mu.RUnlock()
	if !found {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+appID+" (AppInstance)")
		return
	}
	s.setLinks(w, r, next)
	base := s.baseURL(r)
	appURL := base + "/api/v1/apps/" + appID
	pw := newPageWriter(w)
	for i := range items {
		b := write(pw.next(), &items[i])
		b = appendStringAt(b, `,"profile":{},"_links":{"app":{"href":`, appURL)
		b = appendStringAt(b, `},"`+kind+`":{"href":`, base+"/api/v1/"+kind+"s/"+id(&items[i]))
		pw.done(append(b, `}}}`...))
	}
	pw.close()
}

// handleAppUsers serves GET /api/v1/apps/{id}/users: the users assigned
// to the app, directly (scope USER) or through a group (scope GROUP), in
// user id order.
func (s *Server) handleAppUsers(w http.ResponseWriter, r *http.Request) {
	type appUser struct {
		u     userRec
		scope string
		at    int64
	}
	o := s.org
	appListing(s, w, r, appUserPageDefault, appUserPageMax, "user", func(a *appRec, after string, limit int) ([]appUser, bool) {
		assigned := o.assigned(a)
		slots := slices.Collect(maps.Keys(assigned))
		slices.SortFunc(slots, func(x, y int32) int { return strings.Compare(o.users[x].id, o.users[y].id) })
		slots, more := pageAfter(slots, func(u int32) string { return o.users[u].id }, after, limit)
		var page []appUser
		for _, u := range slots {
			// A user assigned through groups only: since the latest
			// assignment of one of their groups.
			at := a.users[u]
			if at == 0 {
				at = a.created
				for g, gat := range a.groups {
					if _, member := o.memberIndex(&o.groups[g], u); member {
						at = max(at, gat)
					}
				}
			}
			page = append(page, appUser{o.users[u], assigned[u], at})
		}
		return page, more
	}, func(p *appUser) string { return p.u.id }, func(b []byte, p *appUser) []byte {
		b = openObject(b, "id", p.u.id)
		b = appendTimeAt(b, `,"externalId":null,"created":`, p.at)
		b = appendTimeAt(b, `,"lastUpdated":`, p.at)
		b = appendStringAt(b, `,"scope":`, p.scope)
		b = appendTimeAt(b, `,"status":"ACTIVE","statusChanged":`, p.at)
		b = appendStringAt(b, `,"passwordChanged":null,"syncState":"DISABLED","credentials":{"userName":`, p.u.profile.Login)
		return append(b, '}')
	})
}

// handleAppGroups serves GET /api/v1/apps/{id}/groups: the groups assigned
// to the app, in group id order.
func (s *Server) handleAppGroups(w http.ResponseWriter, r *http.Request) {
	type appGroup struct {
		id       string
		at       int64
		priority int
	}
	o := s.org
	appListing(s, w, r, appGroupPageDefault, appGroupPageMax, "group", func(a *appRec, after string, limit int) ([]appGroup, bool) {
		var all []appGroup
		for g, at := range a.groups {
			all = append(all, appGroup{id: o.groups[g].id, at: at})
		}
		// Priority by assignment, the earliest first, as Okta numbers them.
		slices.SortFunc(all, func(x, y appGroup) int { return cmp.Or(cmp.Compare(x.at, y.at), strings.Compare(x.id, y.id)) })
		for i := range all {
			all[i].priority = i
		}
		slices.SortFunc(all, func(x, y appGroup) int { return strings.Compare(x.id, y.id) })
		return pageAfter(all, func(g appGroup) string { return g.id }, after, limit)
	}, func(g *appGroup) string { return g.id }, func(b []byte, g *appGroup) []byte {
		b = openObject(b, "id", g.id)
		b = appendTimeAt(b, `,"lastUpdated":`, g.at)
		b = append(b, `,"priority":`...)
		return strconv.AppendInt(b, int64(g.priority), 10)
	})
}
