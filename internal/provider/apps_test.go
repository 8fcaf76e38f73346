package provider

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// emitted returns the Okta ids of the User and of the Group entities the
// provider serves, sorted.
func emitted(t *testing.T, p *Provider) (users, groups []string) {
	t.Helper()
	for _, e := range catalog.Build(p.cfg.Catalog, CatalogInput(p.orgs[0].latest)).Entities {
		if e.Kind == catalog.KindUser {
			users = append(users, e.OktaID)
		} else {
			groups = append(groups, e.OktaID)
		}
	}
	slices.Sort(users)
	slices.Sort(groups)
	return users, groups
}

// assignedTruth returns, from the fake org itself, the users the apps are
// assigned to (directly, or as members of an assigned group) that the
// catalog emits by default (not DEPROVISIONED), and the groups assigned
// that it emits (not BUILT_IN).
func assignedTruth(t *testing.T, org *oktafake.Org, apps ...string) (users, groups []string) {
	t.Helper()
	status := map[string]string{}
	for _, u := range org.Users() {
		status[u.ID] = u.Status
	}
	for _, app := range apps {
		a, err := org.AppAssignment(app)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range a.Users {
			if status[id] != okta.StatusDeprovisioned {
				users = append(users, id)
			}
		}
		for _, id := range a.Groups {
			if g, ok := org.Group(id); ok && g.Type != okta.GroupTypeBuiltIn {
				groups = append(groups, id)
			}
		}
	}
	slices.Sort(users)
	slices.Sort(groups)
	return slices.Compact(users), slices.Compact(groups)
}

// appFixture returns the ids of the org's OKTA_GROUP groups with members,
// and of its users not DEPROVISIONED, sorted by id.
func appFixture(t *testing.T, org *oktafake.Org) (groups, users []string) {
	t.Helper()
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeOkta && len(org.Members(g.ID)) > 0 {
			groups = append(groups, g.ID)
		}
	}
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			users = append(users, u.ID)
		}
	}
	if len(groups) < 4 || len(users) < 20 {
		t.Fatalf("the generated org has %d groups with members and %d users, want at least 4 and 20", len(groups), len(users))
	}
	return groups, users
}

// notMembers returns the users of users in none of the groups.
func notMembers(org *oktafake.Org, users []string, groups ...string) []string {
	var out []string
	for _, u := range users {
		in := false
		for _, g := range groups {
			in = in || slices.Contains(org.Members(g), u)
		}
		if !in {
			out = append(out, u)
		}
	}
	return out
}

func TestAppAssignmentsSelectUsers(t *testing.T) {
	t.Parallel()
	eachLogMode(t, 400, 30, func(t *testing.T, logs bool, fake *oktafake.Server, client *okta.Client) {
		org := fake.Org()
		groups, users := appFixture(t, org)
		appA, appB := org.AddApp("Backstage"), org.AddApp("Backstage staging")
		// Users in none of the groups the test assigns, so that their
		// direct assignment is their only one.
		outsiders := notMembers(org, users, groups[:4]...)
		if len(outsiders) < 6 {
			t.Fatalf("only %d users are in none of the first groups, want 6", len(outsiders))
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range outsiders[:3] {
			must(org.AssignUser(appA, u))
		}
		must(org.AssignGroup(appA, groups[0]))
		must(org.AssignGroup(appA, groups[1]))
		must(org.AssignUser(appB, outsiders[3]))
		must(org.AssignGroup(appB, groups[2]))

		const checkEvery = 3
		cfg := syncConfig(func(c *Config) {
			c.AppIDs = []string{appA, appB}
			c.DeletionCheckEvery = checkEvery
		})
		obs := &mismatches{}
		p := New(zerolog.Nop(), client, cfg, obs)
		check := func(what string) {
			t.Helper()
			wantUsers, _ := assignedTruth(t, org, appA, appB)
			gotUsers, _ := emitted(t, p)
			if diff := cmp.Diff(wantUsers, gotUsers); diff != "" {
				t.Fatalf("%s: emitted users differ from those the fake org assigns (-want +got):\n%s", what, diff)
			}
			if want := freshBody(t, client, cfg); !bytes.Equal(p.Snapshot().All.Data(), want) {
				t.Fatalf("%s: the incrementally kept entities differ from a fresh full sync's", what)
			}
		}

		full := mustSync(t, p, "first sync")
		check("first sync")
		if n, _ := assignedTruth(t, org, appA, appB); len(n) >= len(users) || len(n) < 5 {
			t.Fatalf("the apps are assigned to %d of %d users, want a few", len(n), len(users))
		}
		t.Logf("full sync: %d Okta calls", full.OktaCalls)

		// Nothing changed: no app is listed.
		quiet := mustSync(t, p, "no-change sync")
		if quiet.Mode != orgsync.ModeIncremental || quiet.OktaCalls > 3+2 {
			t.Errorf("no-change sync: got mode %s with %d Okta calls, want incremental with at most 5 (3, plus at most one per app)", quiet.Mode, quiet.OktaCalls)
		}
		t.Logf("no-change sync: %d Okta calls", quiet.OktaCalls)

		// Each change, then the syncs that follow it until the emitted
		// users are right: one with the System Log; without it, one for
		// a membership change of an assigned group (the group listing
		// shows it) and at most DeletionCheckEvery for the others.
		member := org.Members(groups[0])[0]
		changes := []struct {
			name       string
			change     func() error
			membership bool
		}{
			{"a user assigned directly", func() error { return org.AssignUser(appA, outsiders[4]) }, false},
			{"a user unassigned", func() error { return org.UnassignUser(appA, outsiders[0]) }, false},
			{"a member added to an assigned group", func() error { return org.AddMember(groups[1], outsiders[5]) }, true},
			{"a member removed from an assigned group", func() error { return org.RemoveMember(groups[0], member) }, true},
			{"a group assigned", func() error { return org.AssignGroup(appB, groups[3]) }, false},
			{"a group unassigned", func() error { return org.UnassignGroup(appA, groups[1]) }, false},
			{"an assigned group deleted", func() error { return org.DeleteGroup(groups[2]) }, false},
		}
		for _, c := range changes {
			before, _ := emitted(t, p)
			must(c.change())
			want, _ := assignedTruth(t, org, appA, appB)
			if slices.Equal(before, want) {
				t.Fatalf("%s: the change leaves the assigned users as they were", c.name)
			}
			syncs := 1
			if !logs && !c.membership {
				syncs = checkEvery
			}
			var calls []int64
			for i := range syncs {
				got, _ := emitted(t, p)
				if slices.Equal(got, want) {
					break
				}
				calls = append(calls, mustSync(t, p, c.name).OktaCalls)
				if i == 0 && p.status().LastSync.Mode != orgsync.ModeIncremental {
					t.Errorf("%s: got a %s sync, want incremental", c.name, p.status().LastSync.Mode)
				}
			}
			check(c.name)
			t.Logf("%s: %d syncs with %v Okta calls", c.name, len(calls), calls)
		}

		// A full reconciliation finds the incremental state right.
		p.cfg.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		mustSync(t, p, "reconciliation")
		if obs.total != 0 {
			t.Errorf("reconciliation: got %d mismatches, want 0", obs.total)
		}
	})
}

func TestAppGroupsOnly(t *testing.T) {
	t.Parallel()
	fake, client := fakeOrg(t, 200, 20, oktafake.Options{})
	org := fake.Org()
	groups, users := appFixture(t, org)
	app := org.AddApp("Backstage")
	for _, err := range []error{org.AssignGroup(app, groups[0]), org.AssignGroup(app, groups[1]), org.AssignUser(app, users[0])} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg := syncConfig(func(c *Config) {
		c.AppIDs = []string{app}
		c.AppGroupsOnly = true
		c.Catalog.UsersFromGroups = true
	})
	p := New(zerolog.Nop(), client, cfg, nil)
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("sync: got %s: %s", got, p.status().LastSync.Error)
	}
	gotUsers, gotGroups := emitted(t, p)
	// Users from groups: only the assigned users who are members of an
	// emitted group; users[0], assigned directly, only if a member.
	var wantUsers []string
	assigned, wantGroups := assignedTruth(t, org, app)
	for _, u := range assigned {
		if slices.Contains(org.Members(groups[0]), u) || slices.Contains(org.Members(groups[1]), u) {
			wantUsers = append(wantUsers, u)
		}
	}
	if diff := cmp.Diff(wantGroups, gotGroups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantUsers, gotUsers); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if r := p.status().Report; r == nil || r.SkippedGroupsNotAssigned == 0 || r.SkippedUsersNotAssigned == 0 {
		t.Errorf("report: got %+v, want groups and users skipped for not being assigned", r)
	}
}
