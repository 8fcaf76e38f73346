package okta_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// newHostileFake serves org under the prefix, misbehaving as mode says, and
// returns the fake and its org URL.
func newHostileFake(t *testing.T, org *oktafake.Org, mode oktafake.HostileMode) (*oktafake.Server, string) {
	t.Helper()
	srv := oktafake.NewServer(org, oktafake.Options{Prefix: prefix, LogDelay: -1})
	ts := httptest.NewServer(oktafake.NewHostile(srv, mode))
	t.Cleanup(ts.Close)
	return srv, ts.URL + prefix
}

// listedOrg is what a sync lists: the groups with their stats, the users
// (expecting the Everyone group's count) and every group's members
// (expecting its count).
type listedOrg struct {
	groups  []okta.Group
	users   []okta.User
	members map[string][]okta.User
}

func listOrg(ctx context.Context, c *okta.Client) (*listedOrg, error) {
	var (
		o   = &listedOrg{members: map[string][]okta.User{}}
		err error
	)
	if o.groups, err = okta.Collect(c.ListGroups(ctx, okta.GroupListOptions{ExpandStats: true})); err != nil {
		return o, err
	}
	everyone := 0
	for _, g := range o.groups {
		if n, ok := g.UsersCount(); ok && g.Type == okta.GroupTypeBuiltIn {
			everyone = n
		}
	}
	if o.users, err = okta.Collect(c.ListUsers(ctx, okta.UserListOptions{ExpectedCount: everyone})); err != nil {
		return o, err
	}
	for _, g := range o.groups {
		n, ok := g.UsersCount()
		if !ok {
			n = -1
		}
		if o.members[g.ID], err = okta.Collect(c.ListGroupMembersExpecting(ctx, g.ID, n)); err != nil {
			return o, err
		}
	}
	return o, nil
}

// hostileOrg returns the org of the hostile tests and the count of its
// users a listing returns (all but the deprovisioned).
func hostileOrg() (*oktafake.Org, int) {
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 300, Groups: 12, Seed: 3})
	listed := 0
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			listed++
		}
	}
	return org, listed
}

// TestHostileServers runs a sync's listings against each hostile mode of
// the fake: the client ends each with an error, or lists the org as it is,
// and never returns an inflated listing.
func TestHostileServers(t *testing.T) {
	t.Parallel()
	org, wantUsers := hostileOrg()
	tests := []struct {
		mode    oktafake.HostileMode
		wantErr string // "" for a listing of the org as it is
	}{
		{oktafake.HostileCycle, "leads back to page"},
		{oktafake.HostileEndless, "where 300 were expected"},
		{oktafake.HostileNoID, "without an id"},
		{oktafake.HostileFarReset, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			_, url := newHostileFake(t, org, tt.mode)
			c, _ := newClient(t, url, nil, okta.Options{UserPageSize: 50, GroupPageSize: 5, MemberPageSize: 40})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			o, err := listOrg(ctx, c)
			if tt.wantErr != "" {
				if !errors.Is(err, okta.ErrBadResponse) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ErrBadResponse with %q", err, tt.wantErr)
				}
				// Everyone counts every user: twice that and 10 pages.
				if bound := 2*len(org.Users()) + 10*50; len(o.users) > bound {
					t.Errorf("listed %d users before the error, want at most %d", len(o.users), bound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(o.users) != wantUsers || len(o.groups) != 12 {
				t.Errorf("listed %d users and %d groups, want %d and 12", len(o.users), len(o.groups), wantUsers)
			}
			for _, g := range o.groups {
				if got, want := len(o.members[g.ID]), len(org.Members(g.ID)); got != want {
					t.Errorf("group %s: %d members, want %d", g.ID, got, want)
				}
			}
		})
	}
	t.Run("endless without an expected count", func(t *testing.T) {
		t.Parallel()
		_, url := newHostileFake(t, org, oktafake.HostileEndless)
		c, _ := newClient(t, url, nil, okta.Options{UserPageSize: 50, MaxListingPages: 40})
		users, err := okta.Collect(c.ListUsers(context.Background(), okta.UserListOptions{}))
		if !errors.Is(err, okta.ErrBadResponse) || !strings.Contains(err.Error(), "past 40 pages (2000 users so far), the most Options.MaxListingPages allows") {
			t.Fatalf("error = %v, want the page bound", err)
		}
		if len(users) != 2000 || c.Calls() != 40 {
			t.Errorf("listed %d users in %d calls, want 2000 in 40", len(users), c.Calls())
		}
	})
	t.Run(string(oktafake.HostileEmptyMembers), func(t *testing.T) {
		t.Parallel()
		// The client cannot tell an empty page from an empty group: it
		// lists no members, and the sync compares with UsersCount.
		_, url := newHostileFake(t, org, oktafake.HostileEmptyMembers)
		c, _ := newClient(t, url, nil, okta.Options{})
		o, err := listOrg(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		counted := 0
		for _, g := range o.groups {
			n, _ := g.UsersCount()
			counted += n
			if len(o.members[g.ID]) != 0 {
				t.Errorf("group %s: %d members, want the fake's empty answer", g.ID, len(o.members[g.ID]))
			}
		}
		if counted == 0 || len(o.users) != wantUsers {
			t.Errorf("usersCount sum %d, %d users: want the real counts", counted, len(o.users))
		}
	})
}

// TestHostileBodiesAreBounded is not parallel: it measures what the
// listings allocate. Each hostile body is refused at a limit set and at
// the default one.
func TestHostileBodiesAreBounded(t *testing.T) {
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 300, Groups: 12, Seed: 3})
	for _, mode := range []oktafake.HostileMode{oktafake.HostileHugeBody, oktafake.HostileGzipBomb} {
		for _, limit := range []struct {
			bytes int // Options.MaxResponseBytes; 0 is the default, 32 MiB
			text  string
		}{{4 << 20, "4 MiB"}, {0, "32 MiB"}} {
			t.Run(string(mode)+" at "+limit.text, func(t *testing.T) {
				_, url := newHostileFake(t, org, mode)
				c, _ := newClient(t, url, nil, okta.Options{MaxResponseBytes: limit.bytes})
				var (
					o             *listedOrg
					err           error
					before, after runtime.MemStats
				)
				runtime.GC()
				runtime.ReadMemStats(&before)
				o, err = listOrg(context.Background(), c)
				runtime.ReadMemStats(&after)
				if !errors.Is(err, okta.ErrBadResponse) || !strings.Contains(err.Error(), "the body is larger than "+limit.text) {
					t.Fatalf("error = %v, want the body refused", err)
				}
				if len(o.groups) != 0 || c.Calls() != 1 {
					t.Errorf("listed %d groups in %d calls, want none in 1", len(o.groups), c.Calls())
				}
				// A sanity check: both ends of the connection in this
				// process allocate a few times the limit, far less than
				// the body (300 MB, or 4 GiB inflated).
				if alloc, most := after.TotalAlloc-before.TotalAlloc, uint64(8*max(limit.bytes, 32<<20)); alloc > most {
					t.Errorf("the listing allocated %d MiB, want under %d MiB", alloc>>20, most>>20)
				}
			})
		}
	}
}

// TestFakeBrokenBodiesAndBursts runs listings against the fake's faults of
// broken 200 bodies and of 429 bursts without rate headers: each is asked
// for again until it succeeds, or fails clearly once the retries are spent.
func TestFakeBrokenBodiesAndBursts(t *testing.T) {
	t.Parallel()
	org, want := hostileOrg()
	tests := []struct {
		name    string
		faults  oktafake.Faults
		wantErr string
	}{
		{"bodies cut short", oktafake.Faults{BadBodies: 3}, ""},
		{"empty bodies", oktafake.Faults{BadBodies: 3, BadBodyKind: oktafake.BadBodyEmpty}, ""},
		{"429s without rate headers", oktafake.Faults{ConcurrencyBurst: 5}, ""},
		{"every body cut short", oktafake.Faults{BadBodyRate: 1}, "answered 200 with a body that is not valid JSON, 5 times"},
		{"every body empty", oktafake.Faults{BadBodyRate: 1, BadBodyKind: oktafake.BadBodyEmpty}, "answered 200 with an empty body, 5 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, org, oktafake.Options{Faults: tt.faults})
			c, _ := newClient(t, f.URL, nil, okta.Options{UserPageSize: 50})
			users, err := okta.Collect(c.ListUsers(context.Background(), okta.UserListOptions{}))
			if tt.wantErr != "" {
				if !errors.Is(err, okta.ErrBadResponse) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want ErrBadResponse with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(users) != want {
				t.Fatalf("got %d users, error %v, want %d and none", len(users), err, want)
			}
		})
	}
}
