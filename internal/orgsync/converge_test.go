package orgsync

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

var (
	convergeRounds = flag.Int("converge-rounds", 10, "incremental syncs per change sequence in TestIncrementalConverges")
	convergeSeeds  = flag.Int("converge-seeds", 2, "change sequences per case in TestIncrementalConverges")
)

// mutate applies one random change to the org, as an admin would.
func mutate(t *testing.T, rng *rand.Rand, org *oktafake.Org, n int) string {
	t.Helper()
	users, groups := org.Users(), org.Groups()
	user := func() okta.User { return users[rng.IntN(len(users))] }
	var deletable []okta.Group
	for _, g := range groups {
		if g.Type != okta.GroupTypeBuiltIn {
			deletable = append(deletable, g)
		}
	}
	group := func() okta.Group {
		if len(deletable) == 0 {
			return groups[0]
		}
		return deletable[rng.IntN(len(deletable))]
	}
	var err error
	var what string
	switch k := rng.IntN(12); {
	case k == 0 || len(users) < 5:
		name := fmt.Sprintf("new%d", n)
		u := org.AddUser(okta.User{Profile: okta.UserProfile{
			Login: name + "@example.com", Email: name + "@example.com", FirstName: "New", LastName: fmt.Sprintf("User %d", n),
		}})
		what = "add user " + u.ID
	case k == 1:
		u := user()
		what = "update user " + u.ID
		err = org.UpdateUser(u.ID, func(u *okta.User) {
			u.Profile.Title = fmt.Sprintf("Title %d", n)
			u.Profile.FirstName = []string{"Ada", "Jo", "Max"}[rng.IntN(3)]
		})
	case 2 <= k && k <= 4:
		u := user()
		change := [...]struct{ verb, status string }{
			{"deactivate", okta.StatusDeprovisioned}, {"activate", okta.StatusActive}, {"suspend", okta.StatusSuspended},
		}[k-2]
		what = change.verb + " user " + u.ID
		err = org.SetUserStatus(u.ID, change.status)
	case k == 5:
		u := user()
		what = "delete user " + u.ID
		err = org.DeleteUser(u.ID)
	case k == 6:
		g := org.AddGroup(okta.Group{Profile: okta.GroupProfile{Name: fmt.Sprintf("Group %d %s", n, []string{"alpha", "beta"}[rng.IntN(2)])}})
		what = "add group " + g.ID
	case k == 7:
		g := group()
		what = "rename group " + g.ID
		err = org.RenameGroup(g.ID, fmt.Sprintf("Renamed %d %s", n, []string{"alpha", "beta"}[rng.IntN(2)]))
	case k == 8 && len(deletable) > 3:
		g := group()
		what = "delete group " + g.ID
		err = org.DeleteGroup(g.ID)
	case k <= 10:
		g, u := group(), user()
		what = "add member " + u.ID + " to " + g.ID
		err = org.AddMember(g.ID, u.ID)
	default:
		g := group()
		members := org.Members(g.ID)
		if len(members) == 0 {
			return "nothing"
		}
		id := members[rng.IntN(len(members))]
		what = "remove member " + id + " from " + g.ID
		err = org.RemoveMember(g.ID, id)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return what
}

// hookSuspects is what hook deliveries of events ask to check: the targets
// of their deletion events, some of them twice, and forged ones naming a
// user and a group that exist.
func hookSuspects(rng *rand.Rand, events []okta.LogEvent, org *oktafake.Org) Suspects {
	var s Suspects
	for _, e := range events {
		for _, t := range e.Target {
			switch {
			case e.EventType == "user.lifecycle.delete.initiated" && t.Type == "User":
				s.Users = append(s.Users, t.ID)
			case e.EventType == "group.lifecycle.delete" && t.Type == "UserGroup":
				s.Groups = append(s.Groups, t.ID)
			}
		}
	}
	if len(s.Users) > 0 && rng.IntN(2) == 0 {
		s.Users = append(s.Users, s.Users[0])
	}
	if users := org.Users(); len(users) > 0 {
		s.Users = append(s.Users, users[rng.IntN(len(users))].ID)
	}
	if groups := org.Groups(); len(groups) > 0 {
		s.Groups = append(s.Groups, groups[rng.IntN(len(groups))].ID)
	}
	return s
}

// listedInput is the input the service builds the catalog from: the member
// lists as stored, members outside the state left in for the catalog to
// skip, and Everyone holding every user.
func listedInput(st *State) catalog.Input {
	members := make(map[string][]string)
	for i := range st.Groups() {
		g := &st.Groups()[i]
		if st.DerivedMembers(g) {
			for _, u := range st.Users() {
				members[g.ID] = append(members[g.ID], u.ID)
			}
		} else if ids := st.MemberLists()[g.ID]; len(ids) > 0 {
			members[g.ID] = ids
		}
	}
	return catalog.Input{Users: st.Users(), Groups: st.Groups(), Members: members, SkipUnknownMembers: true}
}

// entitiesYAML is the catalog body a state maps to, as the service builds
// it (from the member lists as stored). It fails t unless that is what Build makes of the
// state's users, groups and Members, with its report: skipping the members
// outside the state in the catalog must be the same as leaving them out.
func entitiesYAML(t *testing.T, opts catalog.Options, st *State) []byte {
	t.Helper()
	res := catalog.Build(opts, catalog.Input{Users: st.Users(), Groups: st.Groups(), Members: st.Members()})
	var b []byte
	for i := range res.Entities {
		b = append(b, "---\n"...)
		b = catalog.AppendYAML(b, &res.Entities[i])
	}
	var got []byte
	rep := catalog.Map(opts, listedInput(st)).EachReport(func(e *catalog.Entity) {
		got = append(got, "---\n"...)
		got = catalog.AppendYAML(got, e)
	})
	if !bytes.Equal(got, b) {
		t.Fatalf("the catalog built from the member lists differs from the one built from Members:\n%s", cmp.Diff(string(b), string(got)))
	}
	if diff := cmp.Diff(res.Report, rep); diff != "" {
		t.Fatalf("report from the member lists (-Members +lists):\n%s", diff)
	}
	return b
}

// TestIncrementalConverges applies random change sequences to a fake org
// and checks after every incremental sync that the state, and the catalog
// built from it, equal those of a fresh full sync, byte for byte.
func TestIncrementalConverges(t *testing.T) {
	t.Parallel()
	rounds, seeds := *convergeRounds, int64(*convergeSeeds)
	if testing.Short() || raceEnabled {
		rounds, seeds = min(rounds, 5), 1
	}
	catalogOpts := catalog.DefaultOptions()
	fromGroupsOpts := catalog.DefaultOptions()
	fromGroupsOpts.UsersFromGroups = true
	for _, tc := range []struct {
		name    string
		opts    Options
		noLogs  bool
		catalog catalog.Options
		// clockOffset runs Okta's clock this far from the org's.
		clockOffset time.Duration
		// logOutage makes every other round's System Log reads fail.
		logOutage bool
		// hooks makes some rounds (every round with allHooks) hook-triggered:
		// they check the deletion events of the round, replays of older
		// ones and forged ones naming users and groups that exist.
		hooks, allHooks bool
	}{
		{name: "whole org", opts: Options{}, catalog: catalogOpts},
		{name: "user filter", opts: Options{UserFilter: `status eq "ACTIVE" or status eq "SUSPENDED"`}, catalog: catalogOpts},
		{name: "user search", opts: Options{UserSearch: `profile.firstName eq "Ada" or profile.firstName eq "Max"`}, catalog: catalogOpts},
		{name: "group search", opts: Options{GroupSearch: `profile.name co "alpha"`}, catalog: catalogOpts},
		{name: "group types", opts: Options{GroupFilter: `type eq "OKTA_GROUP"`, ExcludeGroupTypes: []string{okta.GroupTypeApp}}, catalog: catalogOpts},
		{name: "users from groups", opts: Options{UsersFromGroups: true, ExcludeGroupTypes: []string{okta.GroupTypeBuiltIn}}, catalog: fromGroupsOpts},
		{name: "without the system log", opts: Options{DeletionCheckEvery: 1}, noLogs: true, catalog: catalogOpts},
		{name: "okta's clock ahead", opts: Options{}, catalog: catalogOpts, clockOffset: 10 * time.Minute},
		{name: "okta's clock behind", opts: Options{}, catalog: catalogOpts, clockOffset: -10 * time.Minute},
		{name: "without the system log, clock behind", opts: Options{DeletionCheckEvery: 1}, noLogs: true, catalog: catalogOpts, clockOffset: -10 * time.Minute},
		{name: "system log outages", opts: Options{DeletionCheckEvery: 1}, catalog: catalogOpts, logOutage: true},
		{name: "hook syncs between scheduled ones", opts: Options{}, catalog: catalogOpts, hooks: true},
		{name: "hook syncs, users from groups", opts: Options{UsersFromGroups: true, ExcludeGroupTypes: []string{okta.GroupTypeBuiltIn}}, catalog: fromGroupsOpts, hooks: true},
		{name: "hooks alone find deletions, without the system log", opts: Options{DeletionCheckEvery: 1_000_000}, noLogs: true, catalog: catalogOpts, hooks: true, allHooks: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := int64(1); seed <= seeds; seed++ {
				f := newFixture(t, fixtureOptions{users: 50, groups: 12, seed: seed, noLogs: tc.noLogs,
					server: oktafake.Options{ClockOffset: tc.clockOffset}})
				rng := rand.New(rand.NewPCG(uint64(seed), 99))
				s := f.syncer(tc.opts)
				ctx := context.Background()
				st, _, err := s.Full(ctx)
				if err != nil {
					t.Fatalf("full sync: %v", err)
				}
				if st.LogReadable() == tc.noLogs {
					t.Fatalf("got LogReadable %v with noLogs %v", st.LogReadable(), tc.noLogs)
				}
				var history []string
				_, seen := f.org.Events(0)
				var delivered []okta.LogEvent
				for round := range rounds {
					for range rng.IntN(6) {
						history = append(history, mutate(t, rng, f.org, len(history)))
						// Mostly inside the overlap window, sometimes past it.
						f.clock.Advance(time.Duration(rng.IntN(90)) * time.Second)
					}
					outage := tc.logOutage && round%2 == 1
					if outage {
						f.srv.SetFaults(oktafake.Faults{LogError: oktafake.ErrorResponse{Status: 500}})
					}
					var events []okta.LogEvent
					events, seen = f.org.Events(seen)
					var next *State
					var stats Stats
					if tc.hooks && (tc.allHooks || rng.IntN(2) == 0) {
						delivered = append(delivered, events...)
						next, stats, err = s.IncrementalConfirming(ctx, st, hookSuspects(rng, delivered, f.org))
						delivered = nil
					} else {
						// A scheduled sync; the events' hook delivery is
						// still to come.
						delivered = append(delivered, events...)
						next, stats, err = s.Incremental(ctx, st)
					}
					if err != nil {
						t.Fatalf("seed %d round %d: incremental sync: %v", seed, round, err)
					}
					if outage != (stats.LogError != "") || stats.LogReadable != (!outage && !tc.noLogs) {
						t.Fatalf("seed %d round %d: log outage %v: got LogError %q, LogReadable %v", seed, round, outage, stats.LogError, stats.LogReadable)
					}
					f.srv.SetFaults(oktafake.Faults{})
					if stats.Mode != ModeIncremental {
						t.Fatalf("seed %d round %d: got mode %q (%s), want incremental", seed, round, stats.Mode, stats.Reason)
					}
					full, _, err := s.Full(ctx)
					if err != nil {
						t.Fatalf("full sync: %v", err)
					}
					if d := next.Diff(full); d.Total() != 0 {
						t.Fatalf("seed %d round %d: incremental state differs from a full sync: %v\nchanges: %v", seed, round, d.Examples, history)
					}
					got, want := entitiesYAML(t, tc.catalog, next), entitiesYAML(t, tc.catalog, full)
					if !bytes.Equal(got, want) {
						t.Fatalf("seed %d round %d: catalog YAML differs from a full sync's (%d vs %d bytes)\nchanges: %v", seed, round, len(got), len(want), history)
					}
					st = next
				}
			}
		})
	}
}
