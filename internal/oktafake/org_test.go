package oktafake

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestGenerateOrgIsDeterministic(t *testing.T) {
	t.Parallel()
	opts := OrgOptions{Users: 700, Groups: 60, Seed: 11}
	a, b := GenerateOrg(opts), GenerateOrg(opts)
	if diff := cmp.Diff(a.Users(), b.Users()); diff != "" {
		t.Errorf("users differ between two runs (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(a.Groups(), b.Groups()); diff != "" {
		t.Errorf("groups differ between two runs (-first +second):\n%s", diff)
	}
	for _, g := range a.Groups() {
		if diff := cmp.Diff(a.Members(g.ID), b.Members(g.ID)); diff != "" {
			t.Fatalf("members of %s differ (-first +second):\n%s", g.Profile.Name, diff)
		}
	}
	c := GenerateOrg(OrgOptions{Users: 700, Groups: 60, Seed: 12})
	if cmp.Equal(userIDs(a.Users()), userIDs(c.Users())) {
		t.Error("another seed gave the same user ids")
	}
}

func TestGenerateOrgShape(t *testing.T) {
	t.Parallel()
	const nUsers, nGroups = 2000, 150
	org := GenerateOrg(OrgOptions{Users: nUsers, Groups: nGroups, Seed: 5, MembershipsPerUser: 4})
	users, groups := org.Users(), org.Groups()
	if len(users) != nUsers || len(groups) != nGroups {
		t.Fatalf("got %d users, %d groups; want %d, %d", len(users), len(groups), nUsers, nGroups)
	}

	statuses := map[string]int{}
	logins := map[string]bool{}
	for i, u := range users {
		statuses[u.Status]++
		if i > 0 && users[i-1].ID >= u.ID {
			t.Fatalf("users not sorted by id: %s before %s", users[i-1].ID, u.ID)
		}
		if len(u.ID) != 20 || !strings.HasPrefix(u.ID, "00u") {
			t.Errorf("user id %q does not look like Okta's", u.ID)
		}
		key := strings.ToLower(u.Profile.Login)
		if logins[key] {
			t.Errorf("login %q is not unique", u.Profile.Login)
		}
		logins[key] = true
		if u.Created.IsZero() || u.LastUpdated.Before(u.Created) || u.LastUpdated.After(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("user %s: created %v, lastUpdated %v out of order or after Start", u.ID, u.Created, u.LastUpdated)
		}
		if (u.Status == okta.StatusStaged) != u.Activated.IsZero() && u.Status != okta.StatusProvisioned {
			t.Errorf("user %s (%s): activated %v", u.ID, u.Status, u.Activated)
		}
	}
	for _, s := range []string{okta.StatusActive, okta.StatusStaged, okta.StatusProvisioned, okta.StatusSuspended,
		okta.StatusLockedOut, okta.StatusDeprovisioned, okta.StatusRecovery, okta.StatusPasswordExpired} {
		if statuses[s] == 0 {
			t.Errorf("no user is %s", s)
		}
	}
	if statuses[okta.StatusActive] < nUsers*3/4 {
		t.Errorf("got %d ACTIVE users of %d, want most", statuses[okta.StatusActive], nUsers)
	}

	types := map[string]int{}
	var everyone okta.Group
	memberships := 0
	empty := 0
	for _, g := range groups {
		types[g.Type]++
		if g.Type == okta.GroupTypeBuiltIn {
			everyone = g
			continue
		}
		if g.Type == okta.GroupTypeApp && (g.Source == nil || g.Source.ID == "") {
			t.Errorf("APP_GROUP %s has no source.id", g.Profile.Name)
		}
		n := len(org.Members(g.ID))
		memberships += n
		if n == 0 {
			empty++
		}
	}
	if types[okta.GroupTypeBuiltIn] != 1 || types[okta.GroupTypeApp] == 0 || types[okta.GroupTypeOkta] < types[okta.GroupTypeApp] {
		t.Errorf("got group types %v, want one BUILT_IN, some APP_GROUP, mostly OKTA_GROUP", types)
	}
	if everyone.Profile.Name != "Everyone" {
		t.Errorf("got BUILT_IN group %q, want Everyone", everyone.Profile.Name)
	}
	if diff := cmp.Diff(userIDs(users), org.Members(everyone.ID)); diff != "" {
		t.Errorf("Everyone does not hold every user (-users +members):\n%s", diff)
	}
	if avg := float64(memberships) / nUsers; avg < 3 || avg > 5 {
		t.Errorf("got %.2f memberships per user, want about 4", avg)
	}
	if empty == 0 {
		t.Error("no empty group")
	}
	if _, _, m := org.Counts(); m != memberships+nUsers {
		t.Errorf("Counts: got %d memberships, want %d", m, memberships+nUsers)
	}
}

func TestGenerateOrgNastyCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		org  *Org
		all  bool // every group case, not just the demo's few
	}{
		{"generated", GenerateOrg(OrgOptions{Users: minNastyUsers, Groups: minNastyGroups, Seed: 1}), true},
		{"generated larger", GenerateOrg(OrgOptions{Users: 5000, Groups: 300, Seed: 9}), true},
		{"demo", DemoOrg(), false},
	} {
		org := tc.org
		users, groups := org.Users(), org.Groups()
		has := func(pred func(okta.User) bool) bool { return slices.ContainsFunc(users, pred) }
		userCases := map[string]bool{
			"unicode name": has(func(u okta.User) bool { return u.Profile.FirstName == "José" && u.Profile.LastName == "Müller" }),
			"CJK name":     has(func(u okta.User) bool { return u.Profile.LastName == "山田" }),
			"email over 63 chars": has(func(u okta.User) bool {
				return len(u.Profile.Email) > 63 && len(strings.Split(u.Profile.Email, "@")[0]) > 63
			}),
			"plus in email":         has(func(u okta.User) bool { return strings.Contains(u.Profile.Email, "+") }),
			"upper case email":      has(func(u okta.User) bool { return u.Profile.Email != strings.ToLower(u.Profile.Email) }),
			"no email":              has(func(u okta.User) bool { return u.Profile.Email == "" }),
			"case-only collision":   collides(users, func(u okta.User) string { return strings.ToLower(u.Profile.Email) }, func(u okta.User) string { return u.Profile.Email }),
			"domain-only collision": collides(users, func(u okta.User) string { return strings.Split(u.Profile.Email, "@")[0] }, func(u okta.User) string { return u.Profile.Email }),
			"deprovisioned user":    has(func(u okta.User) bool { return u.Status == okta.StatusDeprovisioned }),
		}
		for name, ok := range userCases {
			if !ok {
				t.Errorf("%s: no user with %s", tc.name, name)
			}
		}

		byOrgID := map[string]okta.Group{}
		for _, g := range groups {
			if id, ok := g.Profile.Get(AttrOrgID); ok {
				byOrgID[id] = g
			}
		}
		hasGroup := func(pred func(okta.Group) bool) bool { return slices.ContainsFunc(groups, pred) }
		groupCases := map[string]bool{
			"group named ***": hasGroup(func(g okta.Group) bool { return g.Profile.Name == "***" }),
			"group without orgId": hasGroup(func(g okta.Group) bool {
				_, ok := g.Profile.Get(AttrOrgID)
				return g.Type == okta.GroupTypeOkta && !ok
			}),
			"missing parent": hasGroup(func(g okta.Group) bool {
				p, ok := g.Profile.Get(AttrParentOrgID)
				_, found := byOrgID[p]
				return ok && !found
			}),
			"parent/child": hasGroup(func(g okta.Group) bool {
				p, ok := g.Profile.Get(AttrParentOrgID)
				_, found := byOrgID[p]
				return ok && found
			}),
		}
		if tc.all {
			groupCases["self parent"] = hasGroup(func(g okta.Group) bool {
				p, _ := g.Profile.Get(AttrParentOrgID)
				id, _ := g.Profile.Get(AttrOrgID)
				return p != "" && p == id
			})
			groupCases["two-group cycle"] = hasGroup(func(g okta.Group) bool {
				p, _ := g.Profile.Get(AttrParentOrgID)
				id, _ := g.Profile.Get(AttrOrgID)
				parent, ok := byOrgID[p]
				pp, _ := parent.Profile.Get(AttrParentOrgID)
				return ok && p != id && pp == id
			})
			groupCases["case-insensitive name collision"] = groupNamesCollide(groups)
		}
		for name, ok := range groupCases {
			if !ok {
				t.Errorf("%s: no group with %s", tc.name, name)
			}
		}
	}
}

// collides reports whether two users share key but differ in full.
func collides(users []okta.User, key, full func(okta.User) string) bool {
	seen := map[string]string{}
	for _, u := range users {
		if full(u) == "" {
			continue
		}
		k := key(u)
		if prev, ok := seen[k]; ok && prev != full(u) {
			return true
		}
		seen[k] = full(u)
	}
	return false
}

func groupNamesCollide(groups []okta.Group) bool {
	seen := map[string]string{}
	for _, g := range groups {
		k := strings.ToLower(g.Profile.Name)
		if prev, ok := seen[k]; ok && prev != g.Profile.Name {
			return true
		}
		seen[k] = g.Profile.Name
	}
	return false
}

func TestDemoOrg(t *testing.T) {
	t.Parallel()
	org := DemoOrg()
	u, g, _ := org.Counts()
	if u < 50 || u > 70 || g < 12 || g > 20 {
		t.Errorf("got %d users and %d groups, want about 60 and 15", u, g)
	}
	if diff := cmp.Diff(DemoOrg().Users(), org.Users()); diff != "" {
		t.Errorf("DemoOrg differs between calls (-second +first):\n%s", diff)
	}
	parents := map[string]string{}
	for _, grp := range org.Groups() {
		id, _ := grp.Profile.Get(AttrOrgID)
		parent, _ := grp.Profile.Get(AttrParentOrgID)
		parents[id] = parent
	}
	if parents["eng-platform"] != "eng" || parents["eng"] != "acme" {
		t.Errorf("got parents %v, want eng-platform > eng > acme", parents)
	}
}

// testOrg returns a small generated org on a fake clock.
func testOrg(t *testing.T) (*Org, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
	return GenerateOrg(OrgOptions{Users: 100, Groups: 20, Seed: 2, Now: clock.Now}), clock
}

func TestMutationsStampAndLog(t *testing.T) {
	t.Parallel()
	org, clock := testOrg(t)
	start := clock.Now()
	groups := org.Groups()
	everyone, g1, g2 := groups[0], groups[3], groups[4]
	users := org.Users()
	u1 := users[10]

	created := org.AddUser(okta.User{Profile: okta.UserProfile{Login: "new@example.com", Email: "new@example.com", FirstName: "New", LastName: "Person",
		Custom: okta.AttrsOf(map[string]any{"githubUsername": "newp"})}})
	if created.ID == "" || created.Status != okta.StatusActive || !created.Created.Equal(start) || !created.LastUpdated.Equal(start) {
		t.Errorf("AddUser: got id %q status %s created %v lastUpdated %v; want an id, ACTIVE, %v", created.ID, created.Status, created.Created, created.LastUpdated, start)
	}
	if got, _ := org.User(created.ID); got.Profile.Custom.Map()["githubUsername"] != "newp" {
		t.Errorf("custom attribute lost: %v", got.Profile.Custom)
	}
	if !slices.Contains(org.Members(everyone.ID), created.ID) {
		t.Error("new user is not in Everyone")
	}
	// The clock does not move: each stamp is still strictly later.
	must(t, org.AddMember(g1.ID, created.ID))
	must(t, org.AddMember(g1.ID, created.ID)) // again: no change, no event
	must(t, org.RemoveMember(g2.ID, created.ID))
	must(t, org.RenameGroup(g2.ID, "Renamed"))
	must(t, org.UpdateUser(u1.ID, func(u *okta.User) { u.Profile.Title = "Boss" }))
	must(t, org.SetUserStatus(u1.ID, okta.StatusSuspended))
	clock.Add(time.Hour)
	ng := org.AddGroup(okta.Group{Profile: okta.GroupProfile{Name: "New Group", Custom: okta.AttrsOf(map[string]any{AttrOrgID: "org-new"})}})
	must(t, org.DeleteGroup(ng.ID))
	must(t, org.DeleteUser(created.ID))

	if err := org.DeleteGroup(everyone.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("deleting Everyone: got %v, want ErrForbidden", err)
	}
	if err := org.AddMember(g1.ID, "00unope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("adding an unknown user: got %v, want ErrNotFound", err)
	}
	if err := org.SetUserStatus(u1.ID, "HAPPY"); err == nil {
		t.Error("SetUserStatus with a bad status: got no error")
	}

	var gotEvents []string
	var prev int64
	org.mu.RLock()
	for _, e := range org.events {
		if e.published <= prev {
			t.Errorf("event %s at %d not after %d", e.eventType, e.published, prev)
		}
		prev = e.published
		ids := []string{}
		for _, tg := range e.targets {
			ids = append(ids, tg.id)
		}
		gotEvents = append(gotEvents, e.eventType+" "+strings.Join(ids, ","))
	}
	org.mu.RUnlock()
	want := []string{
		"user.lifecycle.create " + created.ID,
		"group.user_membership.add " + created.ID + "," + g1.ID,
		"group.profile.update " + g2.ID,
		"user.account.update_profile " + u1.ID,
		"user.lifecycle.suspend " + u1.ID,
		"group.lifecycle.create " + ng.ID,
		"group.lifecycle.delete " + ng.ID,
		"user.lifecycle.deactivate " + created.ID,
		"user.lifecycle.delete.initiated " + created.ID,
	}
	if diff := cmp.Diff(want, gotEvents); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	g1now, _ := org.Group(g1.ID)
	if !g1now.LastMembershipUpdated.After(start.Add(time.Hour)) || !g1now.LastUpdated.Equal(g1.LastUpdated) {
		t.Errorf("g1 after add and the user's deletion: lastMembershipUpdated %v lastUpdated %v (was %v)", g1now.LastMembershipUpdated, g1now.LastUpdated, g1.LastUpdated)
	}
	if slices.Contains(org.Members(g1.ID), created.ID) || slices.Contains(org.Members(everyone.ID), created.ID) {
		t.Error("deleted user is still a member")
	}
	if _, ok := org.User(created.ID); ok {
		t.Error("deleted user still exists")
	}
	g2now, _ := org.Group(g2.ID)
	if g2now.Profile.Name != "Renamed" || !g2now.LastUpdated.After(start) || !g2now.LastMembershipUpdated.Equal(g2.LastMembershipUpdated) {
		t.Errorf("g2: got name %q lastUpdated %v lastMembershipUpdated %v", g2now.Profile.Name, g2now.LastUpdated, g2now.LastMembershipUpdated)
	}
	u1now, _ := org.User(u1.ID)
	if u1now.Status != okta.StatusSuspended || u1now.Profile.Title != "Boss" || !u1now.StatusChanged.After(start) || !u1now.LastUpdated.Equal(u1now.StatusChanged) {
		t.Errorf("u1: got %s %q statusChanged %v lastUpdated %v", u1now.Status, u1now.Profile.Title, u1now.StatusChanged, u1now.LastUpdated)
	}
}

func mustJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %.200s: %v", body, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestIncrementalFiltersSeeChanges(t *testing.T) {
	t.Parallel()
	org, clock := testOrg(t)
	_, base := newTestServer(t, org, Options{})
	watermark := clock.Now().Add(-time.Millisecond).UTC().Format(okta.TimeFormat)
	users := org.Users()
	groups := org.Groups()
	must(t, org.SetUserStatus(users[5].ID, okta.StatusDeprovisioned))
	must(t, org.AddMember(groups[6].ID, users[7].ID))
	must(t, org.RenameGroup(groups[8].ID, "New name"))

	changedUsers, _ := listAll[okta.User](t, base+"/api/v1/users?filter="+url.QueryEscape(`lastUpdated gt "`+watermark+`"`))
	if diff := cmp.Diff([]string{users[5].ID}, userIDs(changedUsers)); diff != "" {
		t.Errorf("users changed (-want +got):\n%s", diff)
	}
	changedGroups, _ := listAll[okta.Group](t, base+"/api/v1/groups?filter="+url.QueryEscape(`lastUpdated gt "`+watermark+`" or lastMembershipUpdated gt "`+watermark+`"`))
	var got []string
	for _, g := range changedGroups {
		got = append(got, g.ID)
	}
	if diff := cmp.Diff([]string{groups[6].ID, groups[8].ID}, got); diff != "" {
		t.Errorf("groups changed (-want +got):\n%s", diff)
	}
	plain, _ := listAll[okta.User](t, base+"/api/v1/users")
	if slices.Contains(userIDs(plain), users[5].ID) {
		t.Error("the plain user list includes a DEPROVISIONED user")
	}
}

// logEvent is the part of a System Log event the tests read.
type logEvent struct {
	UUID      string    `json:"uuid"`
	Published time.Time `json:"published"`
	EventType string    `json:"eventType"`
	Target    []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"target"`
}

func TestSystemLogPolling(t *testing.T) {
	t.Parallel()
	org, clock := testOrg(t)
	_, base := newTestServer(t, org, Options{})
	since := clock.Now().UTC().Format(okta.TimeFormat)
	users := org.Users()
	for i := range 5 {
		must(t, org.SetUserStatus(users[i].ID, okta.StatusDeprovisioned))
	}
	must(t, org.DeleteUser(users[0].ID))
	must(t, org.DeleteGroup(org.Groups()[3].ID))
	clock.Add(time.Minute) // past the log delay: the events are visible

	filter := `eventType eq "user.lifecycle.delete.initiated" or eventType eq "group.lifecycle.delete" or eventType eq "user.lifecycle.deactivate"`
	next := base + "/api/v1/logs?limit=2&since=" + url.QueryEscape(since) + "&filter=" + url.QueryEscape(filter)
	var events []logEvent
	for range 10 {
		resp, body := get(t, next)
		if resp.StatusCode != 200 {
			t.Fatalf("got status %d: %s", resp.StatusCode, body)
		}
		var page []logEvent
		mustJSON(t, body, &page)
		events = append(events, page...)
		next = links(t, resp.Header)["next"]
		if next == "" {
			t.Fatal("a polling page has no next link")
		}
		if len(page) == 0 {
			break
		}
	}
	var got []string
	for _, e := range events {
		got = append(got, e.EventType)
	}
	want := []string{"user.lifecycle.deactivate", "user.lifecycle.deactivate", "user.lifecycle.deactivate", "user.lifecycle.deactivate", "user.lifecycle.deactivate",
		"user.lifecycle.delete.initiated", "group.lifecycle.delete"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// The last next link resumes after the events seen.
	must(t, org.DeleteUser(users[1].ID))
	clock.Add(time.Minute)
	resp, body := get(t, next)
	var page []logEvent
	mustJSON(t, body, &page)
	if len(page) != 1 || page[0].EventType != "user.lifecycle.delete.initiated" || page[0].Target[0].ID != users[1].ID {
		t.Errorf("after a new deletion: got %+v, want one delete of %s", page, users[1].ID)
	}
	if links(t, resp.Header)["next"] == "" {
		t.Error("no next link")
	}
	// A bounded request (until) has no next link once read.
	resp, _ = get(t, base+"/api/v1/logs?since="+url.QueryEscape(since)+"&until="+url.QueryEscape(clock.Now().Add(time.Hour).Format(okta.TimeFormat)))
	if links(t, resp.Header)["next"] != "" {
		t.Error("a bounded request has a next link")
	}
}
