package orgsync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Full lists everything the options select and returns a new state. It
// makes only the calls it needs: the group pages (with expand=stats), the
// user pages (none in "users from groups" mode, where the member listings
// bring the users), one listing per non-empty group other than Everyone,
// and one System Log read (two pages when it has events), which also tells
// whether later syncs can take deletions from it.
//
// Any failure fails the whole sync: a partial state is never returned.
func (s *Syncer) Full(ctx context.Context) (*State, Stats, error) {
	start := time.Now()
	st := Stats{Mode: ModeFull}
	next := &State{selection: s.opts.selection(), fullAt: start, appGroupsOnly: s.opts.AppGroupsOnly}
	prog := s.opts.Progress
	prog.reset()
	prog.start(PhaseGroups, s.src.Calls())

	// Groups first: whether Everyone is among them decides where the users
	// come from.
	p, t0 := s.phase(), time.Now()
	var (
		groups   []okta.Group
		counts   = map[string]int{}
		maxStamp time.Time
		everyone = -1 // the org's user count, from Everyone's usersCount
	)
	gopts := s.opts.groupExpression()
	gopts.ExpandStats = true
	for g, err := range s.src.ListGroups(ctx, gopts) {
		if err != nil {
			return nil, st, fmt.Errorf("list groups: %w", err)
		}
		maxStamp = later(maxStamp, groupStamp(&g))
		n, counted := g.UsersCount()
		if counted && g.Type == okta.GroupTypeBuiltIn {
			everyone = n
		}
		if !s.opts.groupTypeSelected(g.Type) {
			continue
		}
		if counted {
			counts[g.ID] = n
		}
		normalizeGroup(&g)
		groups = append(groups, g)
	}
	groups = sortByID(groups, groupID)
	next.groupMark = lower(maxStamp, time.Since(t0))
	st.GroupCalls = p.calls()
	// Okta's time at the start of the listings, from the Date of its
	// responses less the local duration since then.
	logFrom := s.src.Now().Add(-time.Since(t0))

	next.usersFromGroups = s.opts.UsersFromGroups && !s.opts.hasUserExpression() &&
		!slices.ContainsFunc(groups, func(g okta.Group) bool { return g.Type == okta.GroupTypeBuiltIn })

	// The member listings to make are known now: with the user count
	// they make the estimate of the calls left.
	var todo []string
	for i := range groups {
		g := &groups[i]
		if next.derived(g) {
			continue
		}
		if n, ok := counts[g.ID]; ok && n == 0 {
			continue
		}
		todo = append(todo, g.ID)
	}
	if next.usersFromGroups {
		prog.planFull(-1, false, todo, counts)
	} else {
		prog.planFull(everyone, true, todo, counts)
	}
	prog.planApps(len(s.opts.appIDs()))

	var users []okta.User
	if !next.usersFromGroups {
		prog.start(PhaseUsers, s.src.Calls())
		p, t0 := s.phase(), time.Now()
		var maxUpdated time.Time
		uopts := s.opts.userExpression()
		if everyone >= 0 && !s.opts.hasUserExpression() {
			// A plain listing holds at most the org's users: a server
			// handing out pages without end is stopped near that count.
			// (An expression may select DEPROVISIONED users, which
			// Everyone's count may leave out, so it keeps the page limit.)
			uopts.ExpectedCount = max(everyone, 1)
		}
		for u, err := range s.src.ListUsers(ctx, uopts) {
			if err != nil {
				return nil, st, fmt.Errorf("list users: %w", err)
			}
			maxUpdated = later(maxUpdated, u.LastUpdated)
			prog.userListed()
			if !s.keepUser(next, &u) {
				continue
			}
			normalizeUser(&u)
			users = append(users, u)
		}
		users = sortByID(users, userID)
		next.userMark = lower(maxUpdated, time.Since(t0))
		st.UserCalls = p.calls()
	}

	prog.start(PhaseMembers, s.src.Calls())
	p, t0 = s.phase(), time.Now()
	res, err := s.listMembers(ctx, todo, counts, sortedIntern(users), next.usersFromGroups)
	if err != nil {
		return nil, st, err
	}
	st.MemberCalls, st.MemberListings, st.ShortListings = p.calls(), len(todo), res.short
	next.members = res.members
	if len(res.missing) > 0 {
		// Deleted since the group listing.
		groups = slices.DeleteFunc(groups, func(g okta.Group) bool { return slices.Contains(res.missing, g.ID) })
	}
	if next.usersFromGroups {
		users = res.sortedUsers()
		next.userMark = lower(res.maxUpdated, time.Since(t0))
	}
	next.users, next.groups = users, groups

	// App assignments after the member listings, so that a user who joined
	// an assigned group while they ran is in the app's listing too.
	var appsFrom time.Time
	if ids := s.opts.appIDs(); len(ids) > 0 {
		prog.start(PhaseApps, s.src.Calls())
		p, t0 := s.phase(), time.Now()
		if next.apps, err = s.listApps(ctx, ids); err != nil {
			return nil, st, err
		}
		st.AppCalls, st.AppListings = p.calls(), len(ids)
		appsFrom = s.src.Now().Add(-time.Since(t0))
	}

	// Read the System Log from Okta's time when the listings started: it
	// tells whether it can be read, and catches what was deleted while the
	// listings ran. Data timestamps never set this position: a quiet org's
	// newest change can be older than the log keeps.
	prog.start(PhaseLog, s.src.Calls())
	p = s.phase()
	del, readAt, readable, err := s.readLog(ctx, logFrom.Add(-s.opts.Overlap), nil)
	st.LogCalls = p.calls()
	switch {
	case err != nil:
		// The sync goes on: deletions come from the periodic check until
		// the log reads again, from this position on.
		next.logReadable, next.logMark, next.logErr = true, logFrom, err.Error()
		st.LogError = next.logErr
	case readable:
		next.logReadable, next.logMark = true, later(logFrom, readAt)
		next.users = slices.DeleteFunc(next.users, func(u okta.User) bool { return del.users[u.ID] })
		next.groups = slices.DeleteFunc(next.groups, func(g okta.Group) bool { return del.groups[g.ID] })
		for id := range del.groups {
			delete(next.members, id)
		}
		// An assignment change published while the apps were listed may
		// be missing from their listings: those apps are listed again.
		var again []string
		for id, at := range del.apps {
			if !at.Before(appsFrom) {
				again = append(again, id)
			}
		}
		if len(again) > 0 {
			slices.Sort(again)
			p := s.phase()
			listed, err := s.listApps(ctx, again)
			if err != nil {
				return nil, st, err
			}
			maps.Copy(next.apps, listed)
			st.AppCalls += p.calls()
			st.AppListings += len(again)
		}
		next.appEvents = seenEvents(nil, del.events, next.logMark, 2*s.opts.Overlap)
	}

	st.Calls = st.UserCalls + st.GroupCalls + st.MemberCalls + st.LogCalls + st.AppCalls
	st.UsersChanged, st.GroupsChanged, st.MembershipsChanged = len(next.users), len(next.groups), len(next.members)
	st.Changed, st.LogReadable = true, next.deletionsFromLog()
	st.Duration = time.Since(start)
	s.log.Debug().Int("users", len(next.users)).Int("groups", len(next.groups)).
		Int64("oktaCalls", st.Calls).Bool("logReadable", next.logReadable).Bool("usersFromGroups", next.usersFromGroups).
		Dur("took", st.Duration).Msg("full sync")
	return next, st, nil
}

// keepUser reports whether a listed user belongs in the state. A plain
// listing of the org omits DEPROVISIONED users, so without an admin
// expression they are dropped, including when a change listing (which
// returns them) shows a user being deprovisioned. Member listings return
// them, so "users from groups" keeps them.
func (s *Syncer) keepUser(st *State, u *okta.User) bool {
	return st.usersFromGroups || s.opts.hasUserExpression() || u.Status != okta.StatusDeprovisioned
}

// sortedIntern returns a function that maps a user id to the string the
// (id-sorted) users hold, so that member lists share it.
func sortedIntern(users []okta.User) func(string) string {
	return func(id string) string {
		// By index: a comparison function taking okta.User by value would
		// copy a user per step, 20 steps for each of a million members.
		i, ok := sort.Find(len(users), func(i int) int { return strings.Compare(id, users[i].ID) })
		if !ok {
			return id
		}
		return users[i].ID
	}
}

// later returns the latest of the given instants.
func later(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// lower returns mark moved back by d, the time the listing that saw it
// took: a change made while a listing ran may be missing from it, so the
// next sync must look again from the listing's start. Zero stays zero.
func lower(mark time.Time, d time.Duration) time.Time {
	if mark.IsZero() {
		return mark
	}
	return mark.Add(-d)
}
