package orgsync

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// epoch stands for "from the beginning" in a change listing, whose since
// cannot be zero.
var epoch = time.Unix(0, 0).UTC()

// Incremental brings prev up to date with what changed in Okta since it was
// made and returns the new state; prev is not modified. Without a previous
// state, or with one made under other selection options, it runs a full
// sync instead (Stats.Mode and Stats.Reason say so).
//
// A sync in which nothing changed costs one users page and one groups page
// (two each when an admin expression is set and a changed object is not
// yet known to be in or out of it) and one or two System Log pages. A
// change to K groups' memberships adds the member pages of those K groups.
func (s *Syncer) Incremental(ctx context.Context, prev *State) (*State, Stats, error) {
	return s.IncrementalConfirming(ctx, prev, Suspects{})
}

// Suspects are users and groups something (an event hook's deletion
// event) says were deleted. They are hints, never data: each one the
// state holds is read from Okta, and only a 404 removes it.
type Suspects struct {
	Users, Groups []string
}

// Empty reports whether there is nothing to check.
func (s Suspects) Empty() bool { return len(s.Users) == 0 && len(s.Groups) == 0 }

// IncrementalConfirming is Incremental that also checks the suspects with
// Okta directly, one request each for those the state holds, so that a
// deletion shows without the System Log or the periodic check. A check
// that fails otherwise than with a 404 leaves the object and lists it in
// Stats.Unconfirmed; it does not fail the sync.
func (s *Syncer) IncrementalConfirming(ctx context.Context, prev *State, suspects Suspects) (*State, Stats, error) {
	switch {
	case prev == nil:
		return s.fullBecause(ctx, "no previous state")
	case prev.selection != s.opts.selection():
		return s.fullBecause(ctx, "the selection options changed")
	}
	start := time.Now()
	st := Stats{Mode: ModeIncremental}
	b := newBuild(prev)
	s.opts.Progress.reset()
	s.opts.Progress.start(PhaseChanges, s.src.Calls())

	// Groups.
	p, t0 := s.phase(), time.Now()
	changed, counts, outside, maxStamp, err := s.changedGroups(ctx, b, since(prev.groupMark, s.opts.Overlap))
	if err != nil {
		return nil, st, err
	}
	b.groupMark = later(prev.groupMark, lower(maxStamp, time.Since(t0)))
	st.GroupCalls = p.calls()
	// Checked by Okta's clock, which the group listing just told.
	if reason := logPositionLost(prev, s.src.Now()); reason != "" {
		full, fst, err := s.fullBecause(ctx, reason)
		fst.Calls += st.GroupCalls
		fst.GroupCalls += st.GroupCalls
		return full, fst, err
	}
	var todo []string
	for _, g := range changed {
		if !s.opts.groupTypeSelected(g.Type) {
			outside = append(outside, g)
			continue
		}
		old, had := b.groups.get(g.ID)
		if had && reflect.DeepEqual(old, g) {
			continue
		}
		b.groups.set(g)
		st.GroupsChanged++
		switch n, ok := counts[g.ID]; {
		case b.derived(&g):
		case had && old.LastMembershipUpdated.Equal(g.LastMembershipUpdated):
		case ok && n == 0:
			if b.setMembers(g.ID, nil) {
				st.MembershipsChanged++
			}
		default:
			todo = append(todo, g.ID)
		}
	}
	for _, g := range outside {
		if b.removeGroup(g.ID) {
			st.GroupsRemoved++
		}
		if s.opts.hasGroupExpression() {
			b.setOutside("g"+g.ID, groupStamp(&g))
		}
	}

	// Users.
	p, t0 = s.phase(), time.Now()
	switch {
	case !prev.usersFromGroups:
		sel, out, maxUpdated, err := s.changedUsers(ctx, b, since(prev.userMark, s.opts.Overlap))
		if err != nil {
			return nil, st, err
		}
		b.userMark = later(prev.userMark, lower(maxUpdated, time.Since(t0)))
		for _, u := range sel {
			if !s.keepUser(prev, &u) {
				out = append(out, u)
				continue
			}
			if old, had := b.users.get(u.ID); !had || !reflect.DeepEqual(old, u) {
				b.users.set(u)
				st.UsersChanged++
			}
		}
		for _, u := range out {
			if b.users.remove(u.ID) {
				st.UsersRemoved++
			}
			if s.opts.hasUserExpression() {
				b.setOutside("u"+u.ID, u.LastUpdated)
			}
		}
	case !prev.userMark.IsZero():
		// Users from groups: refresh the users the state holds; new ones
		// come with the member listings.
		var maxUpdated time.Time
		for u, err := range s.src.ListUsersChangedSince(ctx, since(prev.userMark, s.opts.Overlap), okta.UserListOptions{}) {
			if err != nil {
				return nil, st, fmt.Errorf("list changed users: %w", err)
			}
			maxUpdated = later(maxUpdated, u.LastUpdated)
			normalizeUser(&u)
			if b.putNewer(u, false) {
				st.UsersChanged++
			}
		}
		b.userMark = later(prev.userMark, lower(maxUpdated, time.Since(t0)))
	}
	st.UserCalls = p.calls()

	// Members of the groups whose membership changed.
	p, t0 = s.phase(), time.Now()
	res, err := s.listMembers(ctx, todo, counts, b.intern, prev.usersFromGroups)
	if err != nil {
		return nil, st, err
	}
	st.MemberCalls, st.MemberListings, st.ShortListings = p.calls(), len(todo), res.short
	// Groups whose membership changed: members of a group assigned to an
	// app join or leave the app with it.
	var regrouped []string
	for _, id := range slices.Sorted(maps.Keys(res.members)) {
		if b.setMembers(id, res.members[id]) {
			st.MembershipsChanged++
			regrouped = append(regrouped, id)
		}
	}
	for _, id := range res.missing {
		if b.removeGroup(id) {
			st.GroupsRemoved++
		}
		regrouped = append(regrouped, id)
	}
	if prev.usersFromGroups {
		for _, u := range res.users {
			if b.putNewer(u, true) {
				st.UsersChanged++
			}
		}
		if prev.userMark.IsZero() {
			b.userMark = lower(res.maxUpdated, time.Since(t0))
		}
	}

	// Deletions, and app assignment changes.
	relist := map[string]bool{}
	for _, id := range appsOfGroups(b.apps, regrouped) {
		relist[id] = true
	}
	p = s.phase()
	if prev.logReadable {
		del, readAt, readable, err := s.readLog(ctx, prev.logMark.Add(-s.opts.Overlap), prev.appEvents)
		switch {
		case err != nil:
			// The log position stays where it was read last, so that the
			// deletions published meanwhile are read when it reads again.
			b.logErr = err.Error()
			st.LogError = b.logErr
		case !readable:
			s.log.Warn().Msg("the System Log can no longer be read; deleted groups will be found by listing the groups every few syncs until the next full sync")
			b.logReadable, b.logErr = false, ""
		default:
			b.logErr = ""
			b.logMark = later(prev.logMark, readAt)
			for id := range del.users {
				if b.users.remove(id) {
					st.UsersRemoved++
				}
			}
			for id := range del.groups {
				if b.removeGroup(id) {
					st.GroupsRemoved++
				}
			}
			for id := range del.apps {
				relist[id] = true
			}
			b.appEvents = seenEvents(b.appEvents, del.events, b.logMark, 2*s.opts.Overlap)
		}
	}
	if !b.deletionsFromLog() {
		b.syncsSinceCheck = prev.syncsSinceCheck + 1
		if b.syncsSinceCheck >= s.opts.DeletionCheckEvery {
			users, groups, err := s.checkDeleted(ctx, b)
			if err != nil {
				return nil, st, err
			}
			st.UsersRemoved += users
			st.GroupsRemoved += groups
			st.DeletionCheck = true
			b.syncsSinceCheck = 0
			// Without the log, assignment changes are found the same way.
			for _, id := range s.opts.appIDs() {
				relist[id] = true
			}
		}
	}
	if err := s.confirmDeleted(ctx, b, suspects, &st); err != nil {
		return nil, st, err
	}
	st.LogCalls = p.calls()
	if len(relist) > 0 {
		p := s.phase()
		listed, err := s.listApps(ctx, slices.Sorted(maps.Keys(relist)))
		if err != nil {
			return nil, st, err
		}
		st.AppsChanged = b.setApps(listed)
		st.AppCalls, st.AppListings = p.calls(), len(relist)
	}
	if prev.usersFromGroups && b.membersChanged {
		st.UsersRemoved += b.dropNonMembers()
	}

	next := b.finish(s.opts.Overlap)
	st.Calls = st.UserCalls + st.GroupCalls + st.MemberCalls + st.LogCalls + st.AppCalls
	st.Changed, st.LogReadable = b.users.changed() || b.groups.changed() || b.membersChanged || b.appsChanged, next.deletionsFromLog()
	st.Duration = time.Since(start)
	s.log.Debug().Int64("oktaCalls", st.Calls).Int("usersChanged", st.UsersChanged).Int("usersRemoved", st.UsersRemoved).
		Int("groupsChanged", st.GroupsChanged).Int("groupsRemoved", st.GroupsRemoved).Int("memberListings", st.MemberListings).
		Dur("took", st.Duration).Msg("incremental sync")
	return next, st, nil
}

func (s *Syncer) fullBecause(ctx context.Context, reason string) (*State, Stats, error) {
	s.log.Info().Str("reason", reason).Msg("running a full sync instead of an incremental one")
	next, st, err := s.Full(ctx)
	st.Reason = reason
	return next, st, err
}

// since returns where a change listing starts: the watermark less the
// overlap, or the epoch when nothing was seen yet.
func since(mark time.Time, overlap time.Duration) time.Time {
	if mark.IsZero() {
		return epoch
	}
	return mark.Add(-overlap)
}

// changedGroups lists the groups changed after from. Without a group
// expression that is one listing. With one, a group can also leave the
// selection (a rename out of a search), which the expression's own listing
// cannot show: the changes are listed without it, and only when one of them
// is not already known in or out, a second listing with the expression
// tells which are in. It returns the selected changed groups (normalized),
// their member counts, the changed groups left out, and the latest change
// stamp seen.
func (s *Syncer) changedGroups(ctx context.Context, b *build, from time.Time) (sel []okta.Group, counts map[string]int, out []okta.Group, maxStamp time.Time, err error) {
	counts = map[string]int{}
	list := func(opts okta.GroupListOptions) ([]okta.Group, error) {
		opts.ExpandStats = true
		var gs []okta.Group
		for g, err := range s.src.ListGroupsChangedSince(ctx, from, opts) {
			if err != nil {
				return nil, fmt.Errorf("list changed groups: %w", err)
			}
			maxStamp = later(maxStamp, groupStamp(&g))
			if n, ok := g.UsersCount(); ok {
				counts[g.ID] = n
			}
			normalizeGroup(&g)
			gs = append(gs, g)
		}
		return gs, nil
	}
	all, err := list(okta.GroupListOptions{})
	if err != nil || !s.opts.hasGroupExpression() {
		return all, counts, nil, maxStamp, err
	}
	if !slices.ContainsFunc(all, func(g okta.Group) bool { return !b.knownGroup(&g) }) {
		return nil, counts, nil, maxStamp, nil
	}
	sel, err = list(s.opts.groupExpression())
	if err != nil {
		return nil, nil, nil, maxStamp, err
	}
	return sel, counts, leftOut(all, sel, func(g *okta.Group) string { return g.ID }), maxStamp, nil
}

// changedUsers lists the users changed after from, as changedGroups does
// for groups: it returns the changed users the expression selects and the
// changed users it leaves out (normalized), and the latest lastUpdated seen.
func (s *Syncer) changedUsers(ctx context.Context, b *build, from time.Time) (sel, out []okta.User, maxUpdated time.Time, err error) {
	list := func(opts okta.UserListOptions) ([]okta.User, error) {
		var us []okta.User
		for u, err := range s.src.ListUsersChangedSince(ctx, from, opts) {
			if err != nil {
				return nil, fmt.Errorf("list changed users: %w", err)
			}
			maxUpdated = later(maxUpdated, u.LastUpdated)
			normalizeUser(&u)
			us = append(us, u)
		}
		return us, nil
	}
	all, err := list(okta.UserListOptions{})
	if err != nil || !s.opts.hasUserExpression() {
		return all, nil, maxUpdated, err
	}
	if !slices.ContainsFunc(all, func(u okta.User) bool { return !b.knownUser(&u) }) {
		return nil, nil, maxUpdated, nil
	}
	sel, err = list(s.opts.userExpression())
	if err != nil {
		return nil, nil, maxUpdated, err
	}
	return sel, leftOut(all, sel, func(u *okta.User) string { return u.ID }), maxUpdated, nil
}

// checkDeleted lists the selected groups and (unless the users come from
// the member listings, which show deleted users leaving their groups) the
// selected users, and removes those that are gone: the fallback for
// deletions when the System Log cannot be read. It returns the numbers of
// users and groups removed.
func (s *Syncer) checkDeleted(ctx context.Context, b *build) (users, groups int, err error) {
	present := map[string]bool{}
	for g, err := range s.src.ListGroups(ctx, s.opts.groupExpression()) {
		if err != nil {
			return 0, 0, fmt.Errorf("list groups for deletions: %w", err)
		}
		present[g.ID] = true
	}
	for _, g := range b.groups.result() {
		if !present[g.ID] && b.removeGroup(g.ID) {
			groups++
		}
	}
	if b.prev.usersFromGroups {
		return 0, groups, nil
	}
	clear(present)
	for u, err := range s.src.ListUsers(ctx, s.opts.userExpression()) {
		if err != nil {
			return 0, 0, fmt.Errorf("list users for deletions: %w", err)
		}
		present[u.ID] = true
	}
	for _, u := range b.users.result() {
		if !present[u.ID] && b.users.remove(u.ID) {
			users++
		}
	}
	return users, groups, nil
}

// leftOut returns the items of all whose id is not among those of sel, in
// all's order.
func leftOut[T any](all, sel []T, id func(*T) string) []T {
	in := make(map[string]bool, len(sel))
	for i := range sel {
		in[id(&sel[i])] = true
	}
	var out []T
	for i := range all {
		if !in[id(&all[i])] {
			out = append(out, all[i])
		}
	}
	return out
}

// confirmDeleted reads each suspect the state holds from Okta and removes
// those Okta answers 404 for. Only a cancelled ctx fails the sync.
func (s *Syncer) confirmDeleted(ctx context.Context, b *build, suspects Suspects, st *Stats) error {
	// confirm checks each held id with exists; an id Okta answers 404 for
	// is removed (remove reports whether it was there), and an error other
	// than a 404 lists it in unconfirmed.
	confirm := func(ids []string, held func(string) bool, exists func(string) error, remove func(string) bool, unconfirmed *[]string, removed *int) error {
		for _, id := range dedupe(ids) {
			if !held(id) {
				continue
			}
			switch err := exists(id); {
			case err == nil:
				continue
			case okta.IsNotFound(err):
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				s.log.Debug().Err(err).Str("id", id).Msg("could not check a suspected deletion; a later sync will")
				*unconfirmed = append(*unconfirmed, id)
				continue
			}
			if remove(id) {
				*removed++
				st.Confirmed++
			}
		}
		return nil
	}
	err := confirm(suspects.Users,
		func(id string) bool { _, held := b.users.get(id); return held },
		func(id string) error { _, err := s.src.GetUser(ctx, id); return err },
		b.users.remove, &st.Unconfirmed.Users, &st.UsersRemoved)
	if err != nil {
		return err
	}
	return confirm(suspects.Groups,
		func(id string) bool { _, held := b.groups.get(id); return held },
		func(id string) error { _, err := s.src.GetGroup(ctx, id); return err },
		b.removeGroup, &st.Unconfirmed.Groups, &st.GroupsRemoved)
}

// dedupe returns ids sorted, without repeats.
func dedupe(ids []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(ids)))
}
