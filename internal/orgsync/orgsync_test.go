package orgsync

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// truth is what a state should hold, read from the fake org directly.
type truth struct {
	users   []string            // user ids
	groups  []string            // group ids
	members map[string][]string // group id -> member ids among users
}

func orgTruth(org *oktafake.Org, keepUser func(okta.User) bool, keepGroup func(okta.Group) bool) truth {
	var tr truth
	in := map[string]bool{}
	for _, u := range org.Users() {
		if keepUser(u) {
			tr.users = append(tr.users, u.ID)
			in[u.ID] = true
		}
	}
	tr.members = map[string][]string{}
	for _, g := range org.Groups() {
		if !keepGroup(g) {
			continue
		}
		tr.groups = append(tr.groups, g.ID)
		var ids []string
		for _, id := range org.Members(g.ID) {
			if in[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			tr.members[g.ID] = ids
		}
	}
	return tr
}

func stateTruth(st *State) truth {
	tr := truth{members: st.Members()}
	for _, u := range st.Users() {
		tr.users = append(tr.users, u.ID)
	}
	for _, g := range st.Groups() {
		tr.groups = append(tr.groups, g.ID)
	}
	return tr
}

func notDeprovisioned(u okta.User) bool { return u.Status != okta.StatusDeprovisioned }
func anyGroup(okta.Group) bool          { return true }

func TestFullMatchesOrg(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 120, groups: 20, seed: 1})
	st, stats, err := f.syncer(Options{}).Full(context.Background())
	if err != nil {
		t.Fatalf("full sync: %v", err)
	}
	want := orgTruth(f.org, notDeprovisioned, anyGroup)
	if diff := cmp.Diff(want, stateTruth(st), cmp.AllowUnexported(truth{})); diff != "" {
		t.Errorf("state differs from the org (-want +got):\n%s", diff)
	}
	if !stats.LogReadable || !st.LogReadable() {
		t.Errorf("got LogReadable %v, want true", stats.LogReadable)
	}
	for _, u := range st.Users() {
		if !u.LastLogin.IsZero() || !u.PasswordChanged.IsZero() {
			t.Fatalf("user %s keeps lastLogin or passwordChanged", u.ID)
		}
	}
	for _, g := range st.Groups() {
		if g.Embedded != nil {
			t.Fatalf("group %s keeps embedded stats", g.ID)
		}
	}
}

// wantFullCalls is the number of calls a full sync of the org needs: the
// user and group pages, one member listing per non-empty group but
// Everyone, and one System Log page.
func wantFullCalls(org *oktafake.Org, users bool) int64 {
	pages := func(n, size int) int64 { return int64(max(1, (n+size-1)/size)) }
	var n int64
	var nUsers int
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			nUsers++
		}
	}
	if users {
		n += pages(nUsers, 200)
	}
	groups := org.Groups()
	n += pages(len(groups), 200)
	for _, g := range groups {
		if m := len(org.Members(g.ID)); m > 0 && g.Type != okta.GroupTypeBuiltIn {
			n += pages(m, 1000)
		}
	}
	return n + 1
}

func TestFullCalls(t *testing.T) {
	t.Parallel()
	eachSize(t, []orgSize{{50, 12}, {250, 205}, {1600, 15}}, func(t *testing.T, _ orgSize, f *fixture) {
		_, stats, err := f.syncer(Options{}).Full(context.Background())
		if err != nil {
			t.Fatalf("full sync: %v", err)
		}
		want := wantFullCalls(f.org, true)
		if stats.Calls != want || f.srv.Stats().Calls != want {
			t.Errorf("got %d calls (server saw %d), want %d; by endpoint: %v", stats.Calls, f.srv.Stats().Calls, want, f.srv.Stats().ByEndpoint)
		}
	})
}

func TestIncrementalCalls(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 300, groups: 40, seed: 3})
	ctx := context.Background()
	s, st := f.fullSynced(ctx, t, Options{})
	step := func(t *testing.T, change func(), want int64) *State {
		t.Helper()
		f.clock.Advance(10 * time.Minute)
		change()
		before := f.srv.Stats().Calls
		next, stats, err := s.Incremental(ctx, st)
		if err != nil {
			t.Fatalf("incremental sync: %v", err)
		}
		if got := f.srv.Stats().Calls - before; got != want || stats.Calls != want {
			t.Errorf("got %d calls (stats say %d), want %d; stats %+v", got, stats.Calls, want, stats)
		}
		if stats.Mode != ModeIncremental {
			t.Errorf("got mode %q, want %q", stats.Mode, ModeIncremental)
		}
		st = next
		return next
	}

	// Nothing changed: one users page, one groups page, one log page.
	step(t, func() {}, 3)
	step(t, func() {}, 3)

	// Memberships of K groups changed: their member pages on top.
	var changed []string
	for _, g := range f.org.Groups() {
		if g.Type == okta.GroupTypeOkta && len(changed) < 4 {
			changed = append(changed, g.ID)
		}
	}
	users := f.org.Users()
	step(t, func() {
		for i, id := range changed {
			if err := f.org.AddMember(id, users[i].ID); err != nil {
				t.Fatal(err)
			}
		}
	}, 3+int64(len(changed)))
	// The same changes re-read in the overlap window cost nothing more.
	f.clock.Advance(-10 * time.Minute)
	step(t, func() {}, 3)

	// A deleted group: the log page has an event, so a second (empty)
	// page is read.
	next := step(t, func() {
		if err := f.org.DeleteGroup(changed[0]); err != nil {
			t.Fatal(err)
		}
	}, 4)
	if _, ok := next.group(changed[0]); ok {
		t.Errorf("deleted group %s is still in the state", changed[0])
	}
	assertConverged(t, s, next)
}

func assertConverged(t *testing.T, s *Syncer, st *State) {
	t.Helper()
	full, _, err := s.Full(context.Background())
	if err != nil {
		t.Fatalf("full sync: %v", err)
	}
	if d := st.Diff(full); d.Total() != 0 {
		t.Fatalf("incremental state differs from a full sync: %d users, %d groups, %d member lists: %v", d.Users, d.Groups, d.Memberships, d.Examples)
	}
}

func TestIncrementalRunsFullWhenNeeded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 40, groups: 10, seed: 4})
	ctx := context.Background()
	st, stats, err := f.syncer(Options{}).Incremental(ctx, nil)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if stats.Mode != ModeFull || stats.Reason == "" {
		t.Errorf("without a previous state: got mode %q reason %q, want a full sync with a reason", stats.Mode, stats.Reason)
	}
	_, stats, err = f.syncer(Options{UserFilter: `status eq "ACTIVE"`}).Incremental(ctx, st)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if stats.Mode != ModeFull || stats.Reason == "" {
		t.Errorf("with other options: got mode %q reason %q, want a full sync with a reason", stats.Mode, stats.Reason)
	}
}

func TestIncrementalLeavesPreviousStateAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{users: 80, groups: 12, seed: 5})
	ctx := context.Background()
	s, prev := f.fullSynced(ctx, t, Options{})
	snapshot := copyState(prev)
	users, groups := f.org.Users(), f.org.Groups()
	f.clock.Advance(time.Hour)
	_ = f.org.UpdateUser(users[0].ID, func(u *okta.User) { u.Profile.Title = "Changed" })
	_ = f.org.SetUserStatus(users[1].ID, okta.StatusDeprovisioned)
	_ = f.org.AddMember(groups[1].ID, users[2].ID)
	_ = f.org.RemoveMember(groups[2].ID, f.org.Members(groups[2].ID)[0])
	_ = f.org.RenameGroup(groups[3].ID, "Renamed")
	_ = f.org.DeleteGroup(groups[4].ID)
	next, stats, err := s.Incremental(ctx, prev)
	if err != nil {
		t.Fatalf("incremental sync: %v", err)
	}
	if !stats.Changed {
		t.Errorf("got Changed false, want true")
	}
	if d := prev.Diff(snapshot); d.Total() != 0 {
		t.Errorf("the previous state changed: %v", d.Examples)
	}
	if d := prev.Diff(next); d.Total() == 0 {
		t.Errorf("the new state equals the previous one")
	}
}

// copyState returns a deep copy, made independent of st.
func copyState(st *State) *State {
	members := map[string][]string{}
	for id, ids := range st.members {
		members[id] = slices.Clone(ids)
	}
	return &State{users: slices.Clone(st.users), groups: slices.Clone(st.groups), members: members, usersFromGroups: st.usersFromGroups}
}
