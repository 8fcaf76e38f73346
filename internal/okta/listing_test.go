package okta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestForeignNextLinkIsRefused(t *testing.T) {
	t.Parallel()
	var foreign []string
	evil := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		foreign = append(foreign, r.Header.Get("Authorization"))
		writeJSON(w, 200, testUsers("stolen"))
	})
	evilURL, _ := url.Parse(evil.URL)
	var ts *testServer
	tests := []struct {
		name string
		next func() string
	}{
		{"other host", func() string { return evil.orgURL() + "/api/v1/users?after=x" }},
		{"other port", func() string {
			u, _ := url.Parse(ts.orgURL())
			return "http://" + u.Hostname() + ":" + evilURL.Port() + ts.prefix + "/api/v1/users?after=x"
		}},
		{"other scheme", func() string { return strings.Replace(ts.orgURL(), "http://", "https://", 1) + "/api/v1/users?after=x" }},
		{"outside the org path", func() string { return ts.URL + "/elsewhere/api/v1/users?after=x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			foreign = nil
			ts = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Link", "<"+tt.next()+`>; rel="next"`)
				writeJSON(w, 200, testUsers("u1"))
			})
			c, logs := newTestClient(t, ts.orgURL(), NewTokenAuth("secret-token"), Options{})
			users, err := collect(c.ListUsers(context.Background(), UserListOptions{}))
			if err == nil || !strings.Contains(err.Error(), "next link refused") {
				t.Fatalf("error = %v, want the next link refused", err)
			}
			if len(users) != 1 || users[0].ID != "u1" {
				t.Errorf("users = %v, want the first page only", users)
			}
			if len(foreign) != 0 {
				t.Errorf("the foreign server got %d requests, want none", len(foreign))
			}
			if c.Calls() != 1 {
				t.Errorf("Calls() = %d, want 1", c.Calls())
			}
			if strings.Contains(logs.String(), "secret-token") || strings.Contains(err.Error(), "secret-token") {
				t.Error("the token appears in the logs or the error")
			}
		})
	}
}

func TestListingRequests(t *testing.T) {
	t.Parallel()
	since := time.Date(2024, 3, 4, 5, 6, 7, 891_000_000, time.FixedZone("CET", 3600))
	const ts = `"2024-03-04T04:06:07.891Z"`
	tests := []struct {
		name      string
		list      func(*Client) error
		wantPath  string
		wantQuery url.Values
	}{
		{
			"plain users", func(c *Client) error { return drain(c.ListUsers(context.Background(), UserListOptions{})) },
			"/api/v1/users", url.Values{"limit": {"200"}},
		},
		{
			"users changed since", func(c *Client) error {
				return drain(c.ListUsersChangedSince(context.Background(), since, UserListOptions{}))
			},
			"/api/v1/users", url.Values{"limit": {"200"}, "filter": {"lastUpdated gt " + ts}},
		},
		{
			"users changed since with a filter", func(c *Client) error {
				return drain(c.ListUsersChangedSince(context.Background(), since, UserListOptions{Filter: `status eq "ACTIVE" or status eq "STAGED"`}))
			},
			"/api/v1/users", url.Values{"limit": {"200"}, "filter": {`(status eq "ACTIVE" or status eq "STAGED") and lastUpdated gt ` + ts}},
		},
		{
			"users changed since with a search", func(c *Client) error {
				return drain(c.ListUsersChangedSince(context.Background(), since, UserListOptions{Search: ` profile.department eq "Eng" `}))
			},
			"/api/v1/users", url.Values{"limit": {"200"}, "search": {`(profile.department eq "Eng") and lastUpdated gt ` + ts}},
		},
		{
			"groups with stats", func(c *Client) error {
				return drain(c.ListGroups(context.Background(), GroupListOptions{Filter: `type eq "OKTA_GROUP"`, ExpandStats: true}))
			},
			"/api/v1/groups", url.Values{"limit": {"200"}, "expand": {"stats"}, "filter": {`type eq "OKTA_GROUP"`}},
		},
		{
			"groups changed since", func(c *Client) error {
				return drain(c.ListGroupsChangedSince(context.Background(), since, GroupListOptions{}))
			},
			"/api/v1/groups", url.Values{"limit": {"200"}, "filter": {"lastUpdated gt " + ts + " or lastMembershipUpdated gt " + ts}},
		},
		{
			"groups changed since with a search", func(c *Client) error {
				return drain(c.ListGroupsChangedSince(context.Background(), since, GroupListOptions{Search: `profile.name sw "eng" or profile.name sw "ops"`, ExpandStats: true}))
			},
			"/api/v1/groups", url.Values{"limit": {"200"}, "expand": {"stats"},
				"search": {`(profile.name sw "eng" or profile.name sw "ops") and (lastUpdated gt ` + ts + " or lastMembershipUpdated gt " + ts + ")"}},
		},
		{
			"groups changed since with a filter", func(c *Client) error {
				return drain(c.ListGroupsChangedSince(context.Background(), since, GroupListOptions{Filter: `type eq "OKTA_GROUP"`}))
			},
			"/api/v1/groups", url.Values{"limit": {"200"},
				"filter": {`(type eq "OKTA_GROUP") and (lastUpdated gt ` + ts + " or lastMembershipUpdated gt " + ts + ")"}},
		},
		{
			"group members", func(c *Client) error { return drain(c.ListGroupMembers(context.Background(), "00g1abc")) },
			"/api/v1/groups/00g1abc/users", url.Values{"limit": {"1000"}},
		},
		{
			"log events", func(c *Client) error {
				return drain(c.ListLogEvents(context.Background(), since, `eventType eq "user.lifecycle.delete.initiated"`))
			},
			"/api/v1/logs", url.Values{"limit": {"1000"}, "sortOrder": {"ASCENDING"}, "since": {strings.Trim(ts, `"`)},
				"filter": {`eventType eq "user.lifecycle.delete.initiated"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var gotPath, gotRaw string
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				gotPath, gotRaw = r.URL.Path, r.URL.RawQuery
				writeJSON(w, 200, []any{})
			})
			c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
			if err := tt.list(c); err != nil {
				t.Fatal(err)
			}
			if gotPath != tt.wantPath {
				t.Errorf("path = %q, want %q", gotPath, tt.wantPath)
			}
			got, err := url.ParseQuery(gotRaw)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := got.Encode(), tt.wantQuery.Encode(); g != w {
				t.Errorf("query = %s\nwant    %s", g, w)
			}
			if strings.Contains(gotRaw, "+") {
				t.Errorf("raw query %q encodes spaces as '+', want %%20", gotRaw)
			}
		})
	}
}

func drain[T any](seq func(func(T, error) bool)) error {
	_, err := collect(seq)
	return err
}

func TestListingRejectsBadOptionsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []any{}) })
	c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
	ctx := context.Background()
	both := UserListOptions{Filter: `status eq "ACTIVE"`, Search: `profile.title eq "x"`}
	tests := map[string]error{
		"users filter and search":         drain(c.ListUsers(ctx, both)),
		"users changed filter and search": drain(c.ListUsersChangedSince(ctx, time.Now(), both)),
		"groups filter and search":        drain(c.ListGroups(ctx, GroupListOptions{Filter: "a", Search: "b"})),
		"users changed since zero":        drain(c.ListUsersChangedSince(ctx, time.Time{}, UserListOptions{})),
		"groups changed since zero":       drain(c.ListGroupsChangedSince(ctx, time.Time{}, GroupListOptions{})),
		"logs since zero":                 drain(c.ListLogEvents(ctx, time.Time{}, "")),
		"members of no group":             drain(c.ListGroupMembers(ctx, "")),
		"members of a path":               drain(c.ListGroupMembers(ctx, "../users")),
	}
	for name, err := range tests {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := srv.calls.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestLogListingStopsAtAnEmptyPage(t *testing.T) {
	t.Parallel()
	var srv *testServer
	srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("after")
		// Okta always sends a next link when polling the System Log.
		w.Header().Add("Link", fmt.Sprintf(`<%s/api/v1/logs?after=%s1&limit=1000>; rel="next"`, srv.orgURL(), page))
		if len(page) >= 2 {
			writeJSON(w, 200, []any{})
			return
		}
		writeJSON(w, 200, []LogEvent{{UUID: "e" + page, EventType: "group.lifecycle.delete"}})
	})
	c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
	events, err := collect(c.ListLogEvents(context.Background(), time.Now().Add(-time.Hour), ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].UUID != "e" || events[1].UUID != "e1" {
		t.Errorf("events = %+v, want e and e1", events)
	}
	if n := srv.calls.Load(); n != 3 {
		t.Errorf("requests = %d, want 3 (two pages and the empty one)", n)
	}
}

func TestRetriesAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		statuses  []int // answered in turn; 200 after the list
		code      string
		wantErr   func(error) bool
		wantCalls int64
	}{
		{"5xx then success", []int{500, 502, 503}, "E0000009", nil, 4},
		{"5xx past the budget", []int{500, 500, 500, 500, 500, 500}, "E0000009", IsUnavailable, 5},
		{"401 is not retried with a token", []int{401}, "E0000011", IsInvalidToken, 1},
		{"403 is not retried", []int{403}, "E0000006", IsForbidden, 1},
		{"400 is not retried", []int{400}, "E0000031", IsBadExpression, 1},
		{"404 is not retried", []int{404}, "E0000007", func(err error) bool { return err != nil && !IsUnavailable(err) }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n int
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				n++
				if n <= len(tt.statuses) {
					oktaError(w, tt.statuses[n-1], tt.code, "failed")
					return
				}
				writeJSON(w, 200, testUsers("u1"))
			})
			c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
			users, err := collect(c.ListUsers(context.Background(), UserListOptions{Filter: `status eq "ACTIVE"`}))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("error = %v, want success", err)
			case tt.wantErr == nil && len(users) != 1:
				t.Fatalf("users = %v, want one", users)
			case tt.wantErr != nil && !tt.wantErr(err):
				t.Fatalf("error = %v, not the kind wanted", err)
			}
			if c.Calls() != tt.wantCalls {
				t.Errorf("Calls() = %d, want %d", c.Calls(), tt.wantCalls)
			}
		})
	}
}

func TestConnectionErrorsAreRetriedThenUnavailable(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {})
	org := srv.orgURL()
	srv.Close()
	c, _ := newTestClient(t, org, nil, Options{MaxRetries: 2})
	err := drain(c.ListUsers(context.Background(), UserListOptions{}))
	if !IsUnavailable(err) || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("error = %v, want unavailable after 3 attempts", err)
	}
}

func TestRequestTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	var n int
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, 200, testUsers("u1"))
	})
	c, _ := newTestClient(t, srv.orgURL(), nil, Options{RequestTimeout: 100 * time.Millisecond})
	users, err := collect(c.ListUsers(context.Background(), UserListOptions{}))
	if err != nil || len(users) != 1 {
		t.Fatalf("users = %v, error = %v, want one user after a retry", users, err)
	}
	if c.Calls() != 2 {
		t.Errorf("Calls() = %d, want 2", c.Calls())
	}
}
