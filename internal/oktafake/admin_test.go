package oktafake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestApplyChanges(t *testing.T) {
	t.Parallel()
	newOrg := func() *Org {
		clock := &fakeClock{}
		return GenerateOrg(OrgOptions{Users: 400, Groups: 40, Seed: 8, Now: clock.Now})
	}
	c := Changes{Seed: 3, UserAdds: 2, UserUpdates: 10, UserDeactivations: 3, UserDeletions: 2, GroupAdds: 1, GroupRenames: 2, GroupDeletions: 1, MemberAdds: 5, MemberRemoves: 5}
	a, b := newOrg(), newOrg()
	u0, g0, _ := a.Counts()
	appliedA, err := a.ApplyChanges(c)
	must(t, err)
	appliedB, err := b.ApplyChanges(c)
	must(t, err)
	if diff := cmp.Diff(appliedA, appliedB); diff != "" {
		t.Errorf("same seed, different changes (-a +b):\n%s", diff)
	}
	if diff := cmp.Diff(a.Users(), b.Users()); diff != "" {
		t.Errorf("same seed, different users (-a +b):\n%s", diff)
	}
	u1, g1, _ := a.Counts()
	if u1 != u0+2-2 || g1 != g0+1-1 {
		t.Errorf("got %d users %d groups, want %d and %d", u1, g1, u0, g0)
	}
	if got, want := len(appliedA.Users), 2+10+3+2+5+5; got != want {
		t.Errorf("got %d user changes, want %d", got, want)
	}
	for _, g := range a.Groups() {
		if g.Type == okta.GroupTypeBuiltIn && slices.Contains(appliedA.Groups, g.ID) {
			t.Error("ApplyChanges picked Everyone")
		}
	}
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	org := DemoOrg()
	_, base := newTestServer(t, org, Options{})
	users, groups := org.Users(), org.Groups()
	post := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/_fake/users/" + users[3].ID + "/deactivate", "", 204},
		{"DELETE", "/_fake/users/" + users[4].ID, "", 204},
		{"DELETE", "/_fake/users/00unope", "", 404},
		{"POST", "/_fake/groups/" + groups[2].ID + "/rename", `{"name":"Engineering (renamed)"}`, 204},
		{"POST", "/_fake/groups/" + groups[2].ID + "/rename", `{"name":""}`, 400},
		{"DELETE", "/_fake/groups/" + groups[0].ID, "", 403},
		{"PUT", "/_fake/groups/" + groups[3].ID + "/users/" + users[5].ID, "", 204},
		{"POST", "/_fake/users/" + users[6].ID + "/profile", `{"title":"Chief","githubUsername":"chief"}`, 204},
		{"POST", "/_fake/changes", `{"seed":1,"memberAdds":2}`, 200},
		{"POST", "/_fake/faults", `{"errorRate":0}`, 200},
		{"POST", "/_fake/latency", `{"latency":"1ms"}`, 204},
		{"POST", "/_fake/latency", `{"latency":"soon"}`, 400},
		{"POST", "/_fake/stats/reset", "", 204},
	}
	for _, st := range steps {
		if got := post(st.method, st.path, st.body); got != st.want {
			t.Errorf("%s %s: got status %d, want %d", st.method, st.path, got, st.want)
		}
	}
	if u, _ := org.User(users[3].ID); u.Status != okta.StatusDeprovisioned {
		t.Errorf("deactivated user: got status %s", u.Status)
	}
	if u, _ := org.User(users[6].ID); u.Profile.Title != "Chief" || u.Profile.Custom.Map()["githubUsername"] != "chief" || u.Profile.Login != users[6].Profile.Login {
		t.Errorf("profile update: got %+v", u.Profile)
	}
	if !slices.Contains(org.Members(groups[3].ID), users[5].ID) {
		t.Error("member not added")
	}

	resp, body := get(t, base+"/_fake/truth?members=1")
	if resp.StatusCode != 200 {
		t.Fatalf("truth: got status %d", resp.StatusCode)
	}
	var truth struct {
		Users, Groups, Memberships int
		UserList                   []struct{ ID, Login, Email, Status string }
		GroupList                  []struct {
			ID, Name, Type string
			UsersCount     int
			Members        []string
		}
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&truth); err != nil {
		t.Fatal(err)
	}
	nu, ng, nm := org.Counts()
	if truth.Users != nu || truth.Groups != ng || truth.Memberships != nm || len(truth.UserList) != nu || len(truth.GroupList) != ng {
		t.Errorf("truth counts %d/%d/%d lists %d/%d, want %d/%d/%d", truth.Users, truth.Groups, truth.Memberships, len(truth.UserList), len(truth.GroupList), nu, ng, nm)
	}
	for _, g := range truth.GroupList {
		if diff := cmp.Diff(org.Members(g.ID), g.Members, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) || len(a)+len(b) == 0 })); diff != "" || g.UsersCount != len(g.Members) {
			t.Errorf("truth members of %s (-org +truth):\n%s", g.Name, diff)
		}
	}
}
