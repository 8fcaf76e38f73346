package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// TestRunSelectsByAppAssignment runs the service with OKTA_APP_IDS against
// the fake and checks the users it serves against the fake's assignments,
// before and after an assignment made through the fake's admin API.
func TestRunSelectsByAppAssignment(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 120, Groups: 10, Seed: 17})
	_, orgURL := startFake(t, org, oktafake.Options{LogDelay: -1})
	app := org.AddApp("Backstage")
	var group string
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeOkta && len(org.Members(g.ID)) > 0 {
			group = g.ID
			break
		}
	}
	users := org.Users()
	for _, err := range []error{org.AssignGroup(app, group), org.AssignUser(app, users[0].ID), org.AssignUser(app, users[1].ID)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := startService(t, map[string]string{
		"OKTA_ORG_URL":  orgURL,
		"OKTA_TOKEN":    "demo-token",
		"OKTA_APP_IDS":  app,
		"USER_NAMING":   "id",
		"SYNC_INTERVAL": "1s",
	})
	want := func() []string {
		a, err := org.AppAssignment(app)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, id := range a.Users {
			if u, ok := org.User(id); ok && u.Status != okta.StatusDeprovisioned {
				ids = append(ids, "user:default/"+strings.ToLower(id))
			}
		}
		slices.Sort(ids)
		return ids
	}
	served := func() []string {
		r := s.get(t, "/entities/users")
		if r.status != http.StatusOK {
			return nil
		}
		refs := entityRefs(t, r.body)
		slices.Sort(refs)
		return refs
	}
	asynctest.WaitFor(t, 20*time.Second, "the first snapshot", func() bool { return served() != nil })
	if got, w := served(), want(); !slices.Equal(got, w) {
		t.Fatalf("served users:\n%v\nwant the assigned ones:\n%v", got, w)
	}
	if n := len(want()); n < 3 || n >= len(users) {
		t.Fatalf("%d of %d users assigned, want a few", n, len(users))
	}

	// An assignment through the fake's admin API reaches the catalog.
	var extra string
	for _, u := range users[2:] {
		if !slices.Contains(org.Members(group), u.ID) && u.Status != okta.StatusDeprovisioned {
			extra = u.ID
			break
		}
	}
	req, err := http.NewRequest(http.MethodPut, orgURL+"/_fake/apps/"+app+"/users/"+extra, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /_fake/apps/%s/users/%s: got %d, want 204", app, extra, resp.StatusCode)
	}
	asynctest.WaitFor(t, 20*time.Second, "the newly assigned user", func() bool {
		return slices.Contains(served(), "user:default/"+strings.ToLower(extra)) && slices.Equal(served(), want())
	})
	if st := s.status(t); st.Report == nil || st.Report.SkippedUsersNotAssigned == 0 {
		t.Errorf("status report: got %+v, want users skipped for not being assigned", st.Report)
	}
}
