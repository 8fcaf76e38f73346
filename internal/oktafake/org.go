package oktafake

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// ErrNotFound is returned by Org methods for an unknown user or group id.
var ErrNotFound = errors.New("not found")

// ErrForbidden is returned by Org methods for a change Okta refuses, such
// as deleting the BUILT_IN Everyone group.
var ErrForbidden = errors.New("forbidden")

// attr is one custom profile attribute.
type attr struct {
	name  string
	value any // string, float64, bool or []any
}

// userRec is a user as the org stores it: times in Unix milliseconds (0 is
// null) and custom attributes as a sorted slice, to keep large orgs small.
type userRec struct {
	id, status, typeID string
	created            int64
	activated          int64
	statusChanged      int64
	lastLogin          int64
	lastUpdated        int64
	passwordChanged    int64
	profile            okta.UserProfile // Custom is always nil; see custom
	custom             []attr
	deleted            bool
}

// groupRec is a group as the org stores it. members holds user slots sorted
// by user id.
type groupRec struct {
	id, typ, sourceID     string
	created               int64
	lastUpdated           int64
	lastMembershipUpdated int64
	name, description     string
	custom                []attr
	members               []int32
	deleted               bool
}

// event is one System Log event.
type event struct {
	uuid      string
	published int64
	eventType string
	targets   []eventTarget
}

type eventTarget struct {
	id, typ, alternateID, displayName string
}

// Org is an Okta org held in memory: users, groups, memberships and the
// System Log. It is safe for concurrent use.
//
// Every mutation stamps the changed objects with the org's clock, which is
// strictly increasing (at least one millisecond per mutation) and never
// earlier than OrgOptions.Start, and appends System Log events as Okta does.
// A Server serving the org moves its clock by Options.ClockOffset.
type Org struct {
	mu     sync.RWMutex
	now    func() time.Time
	offset atomic.Int64 // time.Duration added to now, the serving Server's ClockOffset
	start  int64        // ms
	last   int64        // ms, the latest stamp handed out
	seed   uint64

	nextUser, nextGroup, nextEvent, nextApp uint64

	users     []userRec // slots, in creation order; deleted ones stay as tombstones
	userByID  map[string]int32
	userOrder []int32 // live user slots sorted by id

	groups     []groupRec
	groupByID  map[string]int32
	groupOrder []int32
	everyone   int32 // slot of the BUILT_IN Everyone group, -1 if none

	events []event

	apps    []appRec // app integrations and their assignments
	appByID map[string]int32
}

func newOrg(opts OrgOptions) *Org {
	opts = opts.withDefaults()
	o := &Org{
		now:       opts.Now,
		start:     opts.Start.UnixMilli(),
		seed:      uint64(opts.Seed),
		userByID:  make(map[string]int32, opts.Users),
		groupByID: make(map[string]int32, opts.Groups),
		everyone:  -1,
	}
	o.last = o.start
	return o
}

// Now returns the org's current time: its clock, but never earlier than the
// latest timestamp it handed out.
func (o *Org) Now() time.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return time.UnixMilli(o.nowMS()).UTC()
}

// nowMS is Now in Unix milliseconds. Callers hold o.mu.
func (o *Org) nowMS() int64 {
	return max(o.clock().UnixMilli(), o.last)
}

// clock is the org's clock moved by its offset.
func (o *Org) clock() time.Time {
	return o.now().Add(time.Duration(o.offset.Load()))
}

// stamp returns a new timestamp, strictly after every earlier one. Callers
// hold o.mu for writing.
func (o *Org) stamp() int64 {
	t := max(o.clock().UnixMilli(), o.start, o.last+1)
	o.last = t
	return t
}

// Users returns every user (DEPROVISIONED ones too), sorted by id.
func (o *Org) Users() []okta.User {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return copyOut(o.users, o.userOrder, (*userRec).okta)
}

// User returns the user with the given id.
func (o *Org) User(id string) (okta.User, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return lookupOut(o.users, o.userByID, id, (*userRec).okta)
}

// Groups returns every group, sorted by id. Embedded stats are not set.
func (o *Org) Groups() []okta.Group {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return copyOut(o.groups, o.groupOrder, (*groupRec).okta)
}

// Group returns the group with the given id.
func (o *Org) Group(id string) (okta.Group, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return lookupOut(o.groups, o.groupByID, id, (*groupRec).okta)
}

// copyOut converts the records at the slots in order. Callers hold o.mu.
func copyOut[R, T any](recs []R, order []int32, conv func(*R) T) []T {
	out := make([]T, 0, len(order))
	for _, slot := range order {
		out = append(out, conv(&recs[slot]))
	}
	return out
}

// lookupOut converts the record of id, if there is one. Callers hold o.mu.
func lookupOut[R, T any](recs []R, byID map[string]int32, id string, conv func(*R) T) (T, bool) {
	slot, ok := byID[id]
	if !ok {
		var zero T
		return zero, false
	}
	return conv(&recs[slot]), true
}

// Members returns the ids of the group's members, sorted by id, or nil for
// an unknown group.
func (o *Org) Members(groupID string) []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	slot, ok := o.groupByID[groupID]
	if !ok {
		return nil
	}
	members := o.groups[slot].members
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = o.users[m].id
	}
	return out
}

// Counts returns the number of users, groups and memberships (Everyone's
// included).
func (o *Org) Counts() (users, groups, memberships int) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, slot := range o.groupOrder {
		memberships += len(o.groups[slot].members)
	}
	return len(o.userOrder), len(o.groupOrder), memberships
}

// AddUser adds a user and returns it as stored. An empty ID gets an
// Okta-style one, an empty Status becomes ACTIVE, and the timestamps are set
// from the org's clock. The user joins Everyone, and a user.lifecycle.create
// event is logged.
func (o *Org) AddUser(u okta.User) okta.User {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.stamp()
	if u.ID == "" {
		u.ID = o.newUserID()
	}
	if u.Status == "" {
		u.Status = okta.StatusActive
	}
	rec := userFromOkta(u)
	rec.created, rec.lastUpdated, rec.statusChanged = now, now, now
	rec.activated, rec.lastLogin, rec.passwordChanged = 0, 0, 0
	if rec.status != okta.StatusStaged && rec.status != okta.StatusProvisioned {
		rec.activated = now
	}
	if rec.typeID == "" {
		rec.typeID = o.userTypeID()
	}
	slot := o.insertUser(rec)
	o.log(now, "user.lifecycle.create", o.userTarget(slot))
	if o.everyone >= 0 {
		o.addMember(o.everyone, slot, now)
	}
	return o.users[slot].okta()
}

// insertUser stores a new user record and returns its slot. Callers hold
// o.mu for writing.
func (o *Org) insertUser(rec userRec) int32 {
	slot := int32(len(o.users))
	if old, ok := o.userByID[rec.id]; ok {
		// Re-adding an id replaces the old user, as a restore would.
		o.removeUser(old)
	}
	o.users = append(o.users, rec)
	o.userByID[rec.id] = slot
	o.userOrder = insertOrdered(o.userOrder, slot, rec.id, func(s int32) string { return o.users[s].id })
	return slot
}

// UpdateUser changes a user through f, which sees a copy. The id cannot
// change. lastUpdated is bumped (and statusChanged when the status changed),
// and a user.account.update_profile event is logged.
func (o *Org) UpdateUser(id string, f func(*okta.User)) error {
	return o.edit(o.userSlot, id, func(slot int32) error {
		u := o.users[slot].okta()
		f(&u)
		u.ID = id
		now := o.stamp()
		rec := userFromOkta(u)
		old := &o.users[slot]
		rec.created, rec.activated, rec.lastLogin, rec.passwordChanged = old.created, old.activated, old.lastLogin, old.passwordChanged
		rec.statusChanged = old.statusChanged
		if rec.typeID == "" {
			rec.typeID = old.typeID
		}
		if rec.status == "" {
			rec.status = old.status
		}
		if rec.status != old.status {
			rec.statusChanged = now
		}
		rec.lastUpdated = now
		*old = rec
		o.log(now, "user.account.update_profile", o.userTarget(slot))
		return nil
	})
}

// SetUserStatus changes a user's status, bumping statusChanged and
// lastUpdated and logging the matching lifecycle event
// (user.lifecycle.deactivate for DEPROVISIONED). Memberships are kept, as
// Okta keeps them for deactivated users.
func (o *Org) SetUserStatus(id, status string) error {
	if !validUserStatus(status) {
		return fmt.Errorf("user status %q: not an Okta user status", status)
	}
	return o.edit(o.userSlot, id, func(slot int32) error {
		o.setStatus(slot, status)
		return nil
	})
}

// setStatus changes the status of the user in slot as SetUserStatus does.
// Callers hold o.mu for writing.
func (o *Org) setStatus(slot int32, status string) {
	u := &o.users[slot]
	if u.status == status {
		return
	}
	now := o.stamp()
	from := u.status
	u.status, u.statusChanged, u.lastUpdated = status, now, now
	if status == okta.StatusActive && u.activated == 0 {
		u.activated = now
	}
	o.log(now, statusEventType(from, status), o.userTarget(slot))
}

func statusEventType(from, to string) string {
	switch to {
	case okta.StatusDeprovisioned:
		return "user.lifecycle.deactivate"
	case okta.StatusSuspended:
		return "user.lifecycle.suspend"
	case okta.StatusLockedOut:
		return "user.account.lock"
	case okta.StatusPasswordExpired:
		return "user.lifecycle.password_mass_expiry"
	case okta.StatusRecovery:
		return "user.account.reset_password"
	case okta.StatusActive:
		switch from {
		case okta.StatusSuspended:
			return "user.lifecycle.unsuspend"
		case okta.StatusDeprovisioned:
			return "user.lifecycle.reactivate"
		case okta.StatusLockedOut:
			return "user.account.unlock"
		}
		return "user.lifecycle.activate"
	}
	return "user.lifecycle.update"
}

func validUserStatus(s string) bool {
	switch s {
	case okta.StatusStaged, okta.StatusProvisioned, okta.StatusActive, okta.StatusRecovery,
		okta.StatusLockedOut, okta.StatusPasswordExpired, okta.StatusSuspended, okta.StatusDeprovisioned:
		return true
	}
	return false
}

// DeleteUser deletes a user as Okta's two-step delete does: a user that is
// not yet DEPROVISIONED is deactivated first (user.lifecycle.deactivate),
// then deleted (user.lifecycle.delete.initiated). The user leaves every
// group, which bumps those groups' lastMembershipUpdated.
func (o *Org) DeleteUser(id string) error {
	return o.edit(o.userSlot, id, func(slot int32) error {
		target := o.userTarget(slot)
		o.setStatus(slot, okta.StatusDeprovisioned)
		now := o.stamp()
		o.reassign(now, o.appsWithUser(slot), func() {
			for _, gslot := range o.groupOrder {
				g := &o.groups[gslot]
				if i, found := o.memberIndex(g, slot); found {
					g.members = slices.Delete(g.members, i, i+1)
					g.lastMembershipUpdated = now
				}
			}
			for i := range o.apps {
				delete(o.apps[i].users, slot)
			}
		})
		o.removeUser(slot)
		o.log(now, "user.lifecycle.delete.initiated", target)
		return nil
	})
}

// removeUser drops a user from the indexes, leaving a tombstone slot.
func (o *Org) removeUser(slot int32) {
	u := &o.users[slot]
	o.userOrder = dropOrdered(o.userOrder, slot, u.id, func(s int32) string { return o.users[s].id })
	delete(o.userByID, u.id)
	u.deleted = true
	u.custom = nil
	u.profile = okta.UserProfile{}
}

// AddGroup adds a group and returns it as stored. An empty ID gets an
// Okta-style one and an empty Type becomes OKTA_GROUP; the timestamps are
// set from the org's clock, and a group.lifecycle.create event is logged.
func (o *Org) AddGroup(g okta.Group) okta.Group {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.stamp()
	if g.ID == "" {
		g.ID = o.newGroupID()
	}
	if g.Type == "" {
		g.Type = okta.GroupTypeOkta
	}
	rec := groupFromOkta(g)
	rec.created, rec.lastUpdated, rec.lastMembershipUpdated = now, now, now
	slot := o.insertGroup(rec)
	o.log(now, "group.lifecycle.create", o.groupTarget(slot))
	return o.groups[slot].okta()
}

func (o *Org) insertGroup(rec groupRec) int32 {
	if old, ok := o.groupByID[rec.id]; ok {
		o.removeGroup(old)
	}
	slot := int32(len(o.groups))
	o.groups = append(o.groups, rec)
	o.groupByID[rec.id] = slot
	o.groupOrder = insertOrdered(o.groupOrder, slot, rec.id, func(s int32) string { return o.groups[s].id })
	if rec.typ == okta.GroupTypeBuiltIn && rec.name == "Everyone" {
		o.everyone = slot
	}
	return slot
}

// RenameGroup changes a group's profile.name, bumping lastUpdated and
// logging group.profile.update.
func (o *Org) RenameGroup(id, name string) error {
	return o.UpdateGroup(id, func(g *okta.Group) { g.Profile.Name = name })
}

// UpdateGroup changes a group's profile through f, which sees a copy. Only
// the profile is taken from it (Okta lets nothing else change). lastUpdated
// is bumped and group.profile.update logged.
func (o *Org) UpdateGroup(id string, f func(*okta.Group)) error {
	return o.edit(o.groupSlot, id, func(slot int32) error {
		g := o.groups[slot].okta()
		f(&g)
		upd := groupFromOkta(g)
		now := o.stamp()
		rec := &o.groups[slot]
		rec.name, rec.description, rec.custom = upd.name, upd.description, upd.custom
		rec.lastUpdated = now
		o.log(now, "group.profile.update", o.groupTarget(slot))
		return nil
	})
}

// DeleteGroup deletes a group and logs group.lifecycle.delete. The BUILT_IN
// Everyone group cannot be deleted (ErrForbidden).
func (o *Org) DeleteGroup(id string) error {
	return o.edit(o.groupSlot, id, func(slot int32) error {
		if o.groups[slot].typ == okta.GroupTypeBuiltIn {
			return fmt.Errorf("group %s is BUILT_IN: %w", id, ErrForbidden)
		}
		now := o.stamp()
		target := o.groupTarget(slot)
		apps := o.appsWithGroup(slot)
		for _, aslot := range apps {
			o.log(now, "group.application_assignment.remove", target, o.appTarget(aslot))
		}
		o.reassign(now, apps, func() {
			for _, aslot := range apps {
				delete(o.apps[aslot].groups, slot)
			}
		})
		o.removeGroup(slot)
		o.log(now, "group.lifecycle.delete", target)
		return nil
	})
}

// insertOrdered inserts slot into order, a list of slots sorted by id,
// where id is the slot's id and idOf gives the id of a slot.
func insertOrdered(order []int32, slot int32, id string, idOf func(int32) string) []int32 {
	i := sort.Search(len(order), func(i int) bool { return idOf(order[i]) >= id })
	return slices.Insert(order, i, slot)
}

// dropOrdered removes slot from order, a list of slots sorted by id, where
// id is the slot's id and idOf gives the id of a slot.
func dropOrdered(order []int32, slot int32, id string, idOf func(int32) string) []int32 {
	i := sort.Search(len(order), func(i int) bool { return idOf(order[i]) >= id })
	if i < len(order) && order[i] == slot {
		order = slices.Delete(order, i, i+1)
	}
	return order
}

func (o *Org) removeGroup(slot int32) {
	g := &o.groups[slot]
	o.groupOrder = dropOrdered(o.groupOrder, slot, g.id, func(s int32) string { return o.groups[s].id })
	delete(o.groupByID, g.id)
	if o.everyone == slot {
		o.everyone = -1
	}
	g.deleted = true
	g.members = nil
	g.custom = nil
}

// AddMember adds a user to a group, bumping the group's
// lastMembershipUpdated and logging group.user_membership.add. Adding a
// member again changes nothing, as Okta's PUT does.
func (o *Org) AddMember(groupID, userID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	gslot, uslot, err := o.lookupMembership(groupID, userID)
	if err != nil {
		return err
	}
	if _, found := o.memberIndex(&o.groups[gslot], uslot); found {
		return nil
	}
	now := o.stamp()
	o.log(now, "group.user_membership.add", o.userTarget(uslot), o.groupTarget(gslot))
	o.reassign(now, o.appsWithGroup(gslot), func() { o.addMember(gslot, uslot, now) })
	return nil
}

// RemoveMember removes a user from a group, bumping the group's
// lastMembershipUpdated and logging group.user_membership.remove. Removing a
// non-member changes nothing.
func (o *Org) RemoveMember(groupID, userID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	gslot, uslot, err := o.lookupMembership(groupID, userID)
	if err != nil {
		return err
	}
	g := &o.groups[gslot]
	i, found := o.memberIndex(g, uslot)
	if !found {
		return nil
	}
	now := o.stamp()
	o.log(now, "group.user_membership.remove", o.userTarget(uslot), o.groupTarget(gslot))
	o.reassign(now, o.appsWithGroup(gslot), func() {
		g.members = slices.Delete(g.members, i, i+1)
		g.lastMembershipUpdated = now
	})
	return nil
}

// edit runs change on the slot that slotOf (userSlot or groupSlot) finds
// for id, holding o.mu for writing. It returns slotOf's error
// (ErrNotFound), else change's.
func (o *Org) edit(slotOf func(id string) (int32, error), id string, change func(slot int32) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	slot, err := slotOf(id)
	if err != nil {
		return err
	}
	return change(slot)
}

func (o *Org) lookupMembership(groupID, userID string) (int32, int32, error) {
	gslot, err := o.groupSlot(groupID)
	if err != nil {
		return 0, 0, err
	}
	uslot, err := o.userSlot(userID)
	if err != nil {
		return 0, 0, err
	}
	return gslot, uslot, nil
}

// userSlot is the slot of the user id, or ErrNotFound. Callers hold o.mu.
func (o *Org) userSlot(id string) (int32, error) {
	slot, ok := o.userByID[id]
	if !ok {
		return 0, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	return slot, nil
}

// groupSlot is the slot of the group id, or ErrNotFound. Callers hold o.mu.
func (o *Org) groupSlot(id string) (int32, error) {
	slot, ok := o.groupByID[id]
	if !ok {
		return 0, fmt.Errorf("group %s: %w", id, ErrNotFound)
	}
	return slot, nil
}

func (o *Org) addMember(gslot, uslot int32, now int64) {
	g := &o.groups[gslot]
	i, found := o.memberIndex(g, uslot)
	if found {
		return
	}
	g.members = slices.Insert(g.members, i, uslot)
	g.lastMembershipUpdated = now
}

// memberIndex finds a user slot in a group's members, sorted by user id.
func (o *Org) memberIndex(g *groupRec, uslot int32) (int, bool) {
	id := o.users[uslot].id
	i := sort.Search(len(g.members), func(i int) bool { return o.users[g.members[i]].id >= id })
	return i, i < len(g.members) && g.members[i] == uslot
}

// userGroups returns the slots of the groups a user belongs to, in group id
// order. Callers hold o.mu.
func (o *Org) userGroups(uslot int32) []int32 {
	var out []int32
	for _, gslot := range o.groupOrder {
		if _, found := o.memberIndex(&o.groups[gslot], uslot); found {
			out = append(out, gslot)
		}
	}
	return out
}

func (o *Org) log(now int64, eventType string, targets ...eventTarget) {
	o.nextEvent++
	o.events = append(o.events, event{
		uuid:      eventUUID(o.seed, o.nextEvent),
		published: now,
		eventType: eventType,
		targets:   targets,
	})
}

func (o *Org) userTarget(slot int32) eventTarget {
	u := &o.users[slot]
	return eventTarget{
		id:          u.id,
		typ:         "User",
		alternateID: u.profile.Login,
		displayName: strings.TrimSpace(u.profile.FirstName + " " + u.profile.LastName),
	}
}

func (o *Org) groupTarget(slot int32) eventTarget {
	g := &o.groups[slot]
	return eventTarget{id: g.id, typ: "UserGroup", alternateID: g.name, displayName: g.name}
}

func (o *Org) newUserID() string {
	o.nextUser++
	return oktaID("00u", o.seed, 'u', o.nextUser)
}

func (o *Org) newGroupID() string {
	o.nextGroup++
	return oktaID("00g", o.seed, 'g', o.nextGroup)
}

func (o *Org) userTypeID() string { return oktaID("oty", o.seed, 't', 1) }

// okta converts a stored user to the shared type.
func (u *userRec) okta() okta.User {
	out := okta.User{
		ID:              u.id,
		Status:          u.status,
		Created:         msTime(u.created),
		Activated:       msTime(u.activated),
		StatusChanged:   msTime(u.statusChanged),
		LastLogin:       msTime(u.lastLogin),
		LastUpdated:     msTime(u.lastUpdated),
		PasswordChanged: msTime(u.passwordChanged),
		Profile:         u.profile,
	}
	if u.typeID != "" {
		out.Type = &okta.TypeRef{ID: u.typeID}
	}
	out.Profile.Custom = customAttrs(u.custom)
	return out
}

func userFromOkta(u okta.User) userRec {
	rec := userRec{
		id:              u.ID,
		status:          u.Status,
		created:         timeMS(u.Created),
		activated:       timeMS(u.Activated),
		statusChanged:   timeMS(u.StatusChanged),
		lastLogin:       timeMS(u.LastLogin),
		lastUpdated:     timeMS(u.LastUpdated),
		passwordChanged: timeMS(u.PasswordChanged),
		profile:         u.Profile,
		custom:          customSlice(u.Profile.Custom),
	}
	rec.profile.Custom = nil
	if u.Type != nil {
		rec.typeID = u.Type.ID
	}
	return rec
}

func (g *groupRec) okta() okta.Group {
	out := okta.Group{
		ID:                    g.id,
		Created:               msTime(g.created),
		LastUpdated:           msTime(g.lastUpdated),
		LastMembershipUpdated: msTime(g.lastMembershipUpdated),
		ObjectClass:           []string{g.objectClass()},
		Type:                  g.typ,
		Profile:               okta.GroupProfile{Name: g.name, Description: g.description, Custom: customAttrs(g.custom)},
	}
	if g.sourceID != "" {
		out.Source = &okta.TypeRef{ID: g.sourceID}
	}
	return out
}

func (g *groupRec) objectClass() string {
	if g.typ == okta.GroupTypeApp && g.attr("samAccountName") != nil {
		return "okta:windows_security_principal"
	}
	return "okta:user_group"
}

func (g *groupRec) attr(name string) any {
	for _, a := range g.custom {
		if a.name == name {
			return a.value
		}
	}
	return nil
}

func groupFromOkta(g okta.Group) groupRec {
	rec := groupRec{
		id:                    g.ID,
		typ:                   g.Type,
		created:               timeMS(g.Created),
		lastUpdated:           timeMS(g.LastUpdated),
		lastMembershipUpdated: timeMS(g.LastMembershipUpdated),
		name:                  g.Profile.Name,
		description:           g.Profile.Description,
		custom:                customSlice(g.Profile.Custom),
	}
	if g.Source != nil {
		rec.sourceID = g.Source.ID
	}
	return rec
}

func customAttrs(attrs []attr) okta.Attrs {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]any, len(attrs))
	for _, a := range attrs {
		m[a.name] = a.value
	}
	return okta.AttrsOf(m)
}

func customSlice(custom okta.Attrs) []attr {
	if len(custom) == 0 {
		return nil
	}
	out := make([]attr, 0, len(custom))
	for _, a := range custom {
		out = append(out, attr{a.Name, a.Value})
	}
	return out
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func timeMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// oktaID builds a 20-character Okta-style id: a 3-character prefix, six
// characters that sort in creation order, and eleven pseudo-random ones.
func oktaID(prefix string, seed uint64, kind byte, n uint64) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" // ASCII order
	var b [20]byte
	copy(b[:], prefix)
	// Offset the counter so ids do not all start with zeros; 62^6 leaves
	// room for billions of objects above the offset.
	v := splitmix(seed^uint64(kind))%1_000_000_000 + 1_000_000_000 + n
	for i := 8; i >= 3; i-- {
		b[i] = alphabet[v%62]
		v /= 62
	}
	h := splitmix(seed ^ uint64(kind)<<56 ^ n*0x9E3779B97F4A7C15)
	for i := 9; i < 20; i++ {
		if i == 15 {
			h = splitmix(h)
		}
		b[i] = alphabet[h%62]
		h /= 62
	}
	return string(b[:])
}

func eventUUID(seed, n uint64) string {
	const hex = "0123456789abcdef"
	a, b := splitmix(seed^0xE7E7^n), splitmix(n*0x9E3779B97F4A7C15^seed)
	var buf [36]byte
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			buf[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = a >> (4 * uint(i)) & 0xf
		} else {
			nib = b >> (4 * uint(i-16)) & 0xf
		}
		buf[j] = hex[nib]
		j++
	}
	return string(buf[:])
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}
