package okta_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

func TestListAppAssignments(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 1500, Groups: 12, Seed: 4})
	f := newFake(t, org, oktafake.Options{})
	app := org.AddApp("Backstage")
	var groups []string
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeOkta && len(org.Members(g.ID)) > 0 && len(groups) < 3 {
			groups = append(groups, g.ID)
			if err := org.AssignGroup(app, g.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	users := org.Users()
	for _, u := range users[:700] {
		if err := org.AssignUser(app, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	truth, err := org.AppAssignment(app)
	if err != nil {
		t.Fatal(err)
	}

	c, _ := newClient(t, f.URL, nil, okta.Options{})
	ctx := context.Background()
	f.ResetStats()
	listed := collect(t, c.ListAppUsers(ctx, app))
	got := ids(listed, func(u okta.AppUser) string { return u.ID })
	if diff := cmp.Diff(truth.Users, got); diff != "" {
		t.Errorf("app users differ from the org's assignments (-want +got):\n%s", diff)
	}
	for _, u := range listed {
		want := okta.AppScopeGroup
		if _, direct := slices.BinarySearch(truth.Direct, u.ID); direct {
			want = okta.AppScopeUser
		}
		if u.Scope != want {
			t.Fatalf("app user %s: scope %s, want %s", u.ID, u.Scope, want)
		}
	}
	// 500 a page, Okta's maximum.
	if want := int64((len(truth.Users) + 499) / 500); f.Stats().ByEndpoint["GET /api/v1/apps/{id}/users"] != want {
		t.Errorf("app user pages: got %d, want %d for %d users", f.Stats().ByEndpoint["GET /api/v1/apps/{id}/users"], want, len(truth.Users))
	}

	c2, _ := newClient(t, f.URL, nil, okta.Options{AppGroupPageSize: 2})
	gs := collect(t, c2.ListAppGroups(ctx, app))
	if diff := cmp.Diff(truth.Groups, ids(gs, func(g okta.AppGroup) string { return g.ID })); diff != "" {
		t.Errorf("app groups (-want +got):\n%s", diff)
	}
	if rs := c.RateStatus()[okta.BucketApps]; rs.Limit == 0 {
		t.Errorf("rate status of the apps bucket: got %+v, want the fake's limit", rs)
	}

	_, err = okta.Collect(c.ListAppUsers(ctx, "0oaUnknown"))
	var oe *okta.Error
	if !errors.As(err, &oe) || oe.StatusCode != 404 || oe.Code != okta.CodeNotFound {
		t.Errorf("unknown app: got %v, want a 404 E0000007", err)
	}
	if _, err := okta.Collect(c.ListAppUsers(ctx, "0oa/../users")); err == nil || !strings.Contains(err.Error(), "invalid app ID") {
		t.Errorf("bad app id: got %v, want an invalid app ID error sent nowhere", err)
	}
}

func TestAppsNeedTheAppsScope(t *testing.T) {
	t.Parallel()
	rsaKey, _ := testKeyPairs(t)
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 20, Groups: 3, Seed: 5})
	f := newFake(t, org, oktafake.Options{})
	f.RegisterOAuthClient("0oa-noapps", rsaKey.pub, false)
	f.SetOAuthClientScopes("0oa-noapps", []string{"okta.users.read", "okta.groups.read"})
	app := org.AddApp("Backstage")
	auth, err := okta.NewOAuth(okta.OAuthConfig{ClientID: "0oa-noapps", PrivateKey: rsaKey.data, Scopes: []string{"okta.users.read", "okta.groups.read"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, f.URL, auth, okta.Options{})
	_, err = okta.Collect(c.ListAppUsers(context.Background(), app))
	if !okta.IsForbidden(err) || !strings.Contains(err.Error(), "okta.apps.read") {
		t.Errorf("got %v, want a 403 naming the scope okta.apps.read", err)
	}
}
