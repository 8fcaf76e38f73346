package oktafake

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestPaginationReturnsEveryItemOnce(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 1200, Groups: 90, Seed: 7})
	_, base := newTestServer(t, org, Options{})

	var wantActive, wantAll []string
	for _, u := range org.Users() {
		wantAll = append(wantAll, u.ID)
		if u.Status != okta.StatusDeprovisioned {
			wantActive = append(wantActive, u.ID)
		}
	}
	var wantGroups []string
	for _, g := range org.Groups() {
		wantGroups = append(wantGroups, g.ID)
	}
	big := ""
	for _, g := range org.Groups() {
		if g.Type != okta.GroupTypeBuiltIn && len(org.Members(g.ID)) > len(org.Members(big)) {
			big = g.ID
		}
	}

	tests := []struct {
		name      string
		url       string
		want      []string
		wantPages int
	}{
		{"users default page", base + "/api/v1/users", wantActive, (len(wantActive) + 199) / 200},
		{"users limit 37", base + "/api/v1/users?limit=37", wantActive, (len(wantActive) + 36) / 37},
		{"users limit over max is capped", base + "/api/v1/users?limit=1000", wantActive, (len(wantActive) + 199) / 200},
		{"users filter keeps deprovisioned", base + "/api/v1/users?limit=200&filter=" + url.QueryEscape(`lastUpdated gt "2000-01-01T00:00:00.000Z"`), wantAll, (len(wantAll) + 199) / 200},
		{"groups limit 7", base + "/api/v1/groups?limit=7", wantGroups, (len(wantGroups) + 6) / 7},
		{"groups default", base + "/api/v1/groups", wantGroups, 1},
		{"members default", base + "/api/v1/groups/" + big + "/users", org.Members(big), (len(org.Members(big)) + 999) / 1000},
		{"members limit 13", base + "/api/v1/groups/" + big + "/users?limit=13", org.Members(big), (len(org.Members(big)) + 12) / 13},
		{"everyone", base + "/api/v1/groups/" + org.Groups()[0].ID + "/users", wantAll, (len(wantAll) + 999) / 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			pages := 0
			if strings.Contains(tt.url, "/api/v1/groups?") || strings.HasSuffix(tt.url, "/api/v1/groups") {
				gs, n := listAll[okta.Group](t, tt.url)
				for _, g := range gs {
					got = append(got, g.ID)
				}
				pages = n
			} else {
				us, n := listAll[okta.User](t, tt.url)
				got, pages = userIDs(us), n
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if pages != tt.wantPages {
				t.Errorf("got %d pages, want %d", pages, tt.wantPages)
			}
		})
	}
}

func TestNextLinkKeepsParametersAndPrefix(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 300, Groups: 40, Seed: 3})
	_, base := newTestServer(t, org, Options{})
	q := url.Values{"search": {`profile.email sw "a" or status eq "ACTIVE"`}, "limit": {"5"}}
	resp, body := get(t, base+"/api/v1/users?"+q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200: %s", resp.StatusCode, body)
	}
	if n := len(resp.Header.Values("Link")); n != 2 {
		t.Fatalf("got %d Link header lines, want 2 (self and next)", n)
	}
	next, err := url.Parse(links(t, resp.Header)["next"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(next.Path, testPrefix+"/api/v1/users") {
		t.Errorf("got next path %q, want it under %s", next.Path, testPrefix)
	}
	if got, want := next.Query().Get("search"), q.Get("search"); got != want {
		t.Errorf("got next search %q, want %q", got, want)
	}
	if got := next.Query().Get("limit"); got != "5" {
		t.Errorf("got next limit %q, want 5", got)
	}
	if next.Query().Get("after") == "" {
		t.Error("next link has no after cursor")
	}
	if strings.Contains(next.RawQuery, "+") {
		t.Errorf("next link query %q encodes spaces as +, want %%20", next.RawQuery)
	}
}

func TestExpandStats(t *testing.T) {
	t.Parallel()
	org := DemoOrg()
	_, base := newTestServer(t, org, Options{})
	groups, _ := listAll[okta.Group](t, base+"/api/v1/groups?limit=200&expand=stats")
	for _, g := range groups {
		got, ok := g.UsersCount()
		if !ok {
			t.Fatalf("group %s has no _embedded.stats", g.Profile.Name)
		}
		if want := len(org.Members(g.ID)); got != want {
			t.Errorf("group %s: got usersCount %d, want %d", g.Profile.Name, got, want)
		}
	}
	plain, _ := listAll[okta.Group](t, base+"/api/v1/groups?limit=200")
	for _, g := range plain {
		if _, ok := g.UsersCount(); ok {
			t.Errorf("group %s has stats without expand=stats", g.Profile.Name)
		}
	}
}

func TestUnknownResources(t *testing.T) {
	t.Parallel()
	_, base := newTestServer(t, DemoOrg(), Options{})
	for _, path := range []string{"/api/v1/groups/00gnope/users", "/api/v1/users/00unope/groups", "/api/v1/nothing"} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, base+path)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("got status %d, want 404", resp.StatusCode)
			}
			if e := errorBody(t, body); e.ErrorCode != "E0000007" {
				t.Errorf("got errorCode %q, want E0000007", e.ErrorCode)
			}
		})
	}
}

func ExampleGenerateOrg() {
	org := GenerateOrg(OrgOptions{Users: 500, Groups: 50, Seed: 1})
	users, groups, _ := org.Counts()
	fmt.Println(users, groups)
	// Output: 500 50
}
