package oktafake

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestAppListingsPageAsOkta(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 300, Groups: 10, Seed: 3})
	_, url := newTestServer(t, org, Options{})
	app := org.AddApp("Backstage")
	users := org.Users()
	for _, u := range users[:120] {
		if err := org.AssignUser(app, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	var assigned []string
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeOkta {
			if err := org.AssignGroup(app, g.ID); err != nil {
				t.Fatal(err)
			}
			assigned = append(assigned, g.ID)
		}
	}
	truth, err := org.AppAssignment(app)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Users) <= 120 || len(assigned) < 3 {
		t.Fatalf("got %d users and %d groups assigned, want more than 120 and at least 3", len(truth.Users), len(assigned))
	}

	tests := []struct {
		path      string
		limit     string
		perPage   int
		wantItems int
	}{
		{"/users", "", appUserPageDefault, len(truth.Users)},
		{"/users", "?limit=10000", appUserPageMax, len(truth.Users)},
		{"/groups", "", appGroupPageDefault, len(assigned)},
		{"/groups", "?limit=2", 2, len(assigned)},
	}
	for _, tt := range tests {
		items, pages := listAll[map[string]any](t, url+"/api/v1/apps/"+app+tt.path+tt.limit)
		if len(items) != tt.wantItems {
			t.Errorf("%s%s: got %d items, want %d", tt.path, tt.limit, len(items), tt.wantItems)
		}
		if want := (tt.wantItems + tt.perPage - 1) / tt.perPage; pages != want {
			t.Errorf("%s%s: got %d pages, want %d (%d a page)", tt.path, tt.limit, pages, want, tt.perPage)
		}
	}

	appUsers, _ := listAll[okta.AppUser](t, url+"/api/v1/apps/"+app+"/users?limit=500")
	var got, direct []string
	for _, u := range appUsers {
		got = append(got, u.ID)
		if u.Scope == okta.AppScopeUser {
			direct = append(direct, u.ID)
		}
	}
	if diff := cmp.Diff(truth.Users, got); diff != "" {
		t.Errorf("app users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(truth.Direct, direct); diff != "" {
		t.Errorf("app users with scope USER (-want +got):\n%s", diff)
	}

	resp, body := get(t, url+"/api/v1/apps/0oaNoSuchApp/users")
	if resp.StatusCode != http.StatusNotFound || errorBody(t, body).ErrorCode != "E0000007" {
		t.Errorf("unknown app: got %d %s, want 404 E0000007", resp.StatusCode, body)
	}
}

func TestAppAssignmentEvents(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 8, Start: start})
	app := org.AddApp("Backstage")
	var group string
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeOkta && len(org.Members(g.ID)) >= 2 {
			group = g.ID
			break
		}
	}
	members := org.Members(group)
	var outsider string
	for _, u := range org.Users() {
		if !slices.Contains(members, u.ID) {
			outsider = u.ID
			break
		}
	}
	from := len(org.events)
	steps := []struct {
		name   string
		change func() error
		want   []string // event types, in order
	}{
		{"assign a member directly", func() error { return org.AssignUser(app, members[0]) },
			[]string{"application.user_membership.add"}},
		{"assign the group", func() error { return org.AssignGroup(app, group) },
			append([]string{"group.application_assignment.add"}, repeat("application.user_membership.add", len(members)-1)...)},
		{"add a member", func() error { return org.AddMember(group, outsider) },
			[]string{"group.user_membership.add", "application.user_membership.add"}},
		{"unassign the direct member, still assigned through the group", func() error { return org.UnassignUser(app, members[0]) }, nil},
		{"remove a member", func() error { return org.RemoveMember(group, outsider) },
			[]string{"group.user_membership.remove", "application.user_membership.remove"}},
		{"delete the group", func() error { return org.DeleteGroup(group) },
			append(append([]string{"group.application_assignment.remove"}, repeat("application.user_membership.remove", len(members))...), "group.lifecycle.delete")},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var got []string
		for _, e := range org.events[from:] {
			got = append(got, e.eventType)
			if e.eventType == "application.user_membership.add" || e.eventType == "application.user_membership.remove" {
				if len(e.targets) != 3 || e.targets[0].typ != "AppUser" || e.targets[1].typ != "AppInstance" || e.targets[1].id != app || e.targets[2].typ != "User" {
					t.Errorf("%s: %s targets %+v, want AppUser, AppInstance %s, User", s.name, e.eventType, e.targets, app)
				}
			}
		}
		from = len(org.events)
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", s.name, diff)
		}
	}
	if a, _ := org.AppAssignment(app); len(a.Users) != 0 || len(a.Groups) != 0 {
		t.Errorf("after the group's deletion: got %+v, want nothing assigned", a)
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
