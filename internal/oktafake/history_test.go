package oktafake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// newest returns the newest change and the oldest creation of the org's
// users and groups.
func newest(org *Org) (newest, oldest time.Time) {
	oldest = time.Now()
	see := func(created time.Time, changes ...time.Time) {
		if created.Before(oldest) {
			oldest = created
		}
		for _, c := range append(changes, created) {
			if c.After(newest) {
				newest = c
			}
		}
	}
	for _, u := range org.Users() {
		see(u.Created, u.Activated, u.StatusChanged, u.LastLogin, u.LastUpdated, u.PasswordChanged)
	}
	for _, g := range org.Groups() {
		see(g.Created, g.LastUpdated, g.LastMembershipUpdated)
	}
	return newest, oldest
}

func TestGeneratedOrgsHaveHistory(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		org       *Org
		quiet     time.Duration
		wantCount bool // events in the System Log
	}{
		{"generated", GenerateOrg(OrgOptions{Users: 500, Groups: 40, Seed: 3}), DefaultQuietPeriod, false},
		{"demo", DemoOrg(), DefaultQuietPeriod, false},
		{"short quiet period", GenerateOrg(OrgOptions{Users: 500, Groups: 40, Seed: 3, QuietPeriod: 20 * 24 * time.Hour}), 20 * 24 * time.Hour, true},
		{"no quiet period", GenerateOrg(OrgOptions{Users: 500, Groups: 40, Seed: 3, QuietPeriod: -1}), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			end := start.Add(-tt.quiet)
			last, first := newest(tt.org)
			if last.After(end) {
				t.Errorf("newest change %v, want at or before %v", last, end)
			}
			if last.Before(end.Add(-30 * 24 * time.Hour)) {
				t.Errorf("newest change %v, want within 30 days of %v", last, end)
			}
			if first.After(end.Add(-3 * 365 * 24 * time.Hour)) {
				t.Errorf("oldest creation %v, want years before %v", first, end)
			}
			tt.org.mu.RLock()
			events := append([]event(nil), tt.org.events...)
			tt.org.mu.RUnlock()
			if got := len(events) > 0; got != tt.wantCount {
				t.Fatalf("got %d generated events, want some: %v", len(events), tt.wantCount)
			}
			from := start.Add(-LogRetention).UnixMilli()
			for i, e := range events {
				if e.published < from || e.published > end.UnixMilli() || i > 0 && e.published < events[i-1].published {
					t.Fatalf("event %d (%s) at %v: want in order within [%v, %v]", i, e.eventType, msTime(e.published), msTime(from), end)
				}
			}
		})
	}
	// The same options make the same history.
	a := GenerateOrg(OrgOptions{Users: 300, Groups: 20, Seed: 9, QuietPeriod: 10 * 24 * time.Hour})
	b := GenerateOrg(OrgOptions{Users: 300, Groups: 20, Seed: 9, QuietPeriod: 10 * 24 * time.Hour})
	if diff := cmp.Diff(eventKeys(a), eventKeys(b)); diff != "" {
		t.Errorf("two generations differ in their events (-first +second):\n%s", diff)
	}
}

func eventKeys(org *Org) []string {
	org.mu.RLock()
	defer org.mu.RUnlock()
	var out []string
	for _, e := range org.events {
		out = append(out, e.uuid+" "+e.eventType+" "+strconv.FormatInt(e.published, 10)+" "+e.targets[0].id)
	}
	return out
}

// logOrg returns an org on a clock with events 120, 60 and 1 days before
// now, and the clock at now.
func logOrg(t *testing.T) (*Org, *fakeClock, []okta.Group) {
	t.Helper()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: now.Add(-120 * 24 * time.Hour)}
	org := GenerateOrg(OrgOptions{Users: 60, Groups: 5, Seed: 4, Now: clock.Now})
	var added []okta.Group
	for _, back := range []time.Duration{120, 60, 1} {
		clock.t = now.Add(-back * 24 * time.Hour)
		added = append(added, org.AddGroup(okta.Group{Profile: okta.GroupProfile{Name: "Added " + strconv.Itoa(int(back)) + " days back"}}))
	}
	clock.t = now
	return org, clock, added
}

func TestSystemLogLimits(t *testing.T) {
	t.Parallel()
	org, clock, added := logOrg(t)
	_, base := newTestServer(t, org, Options{Now: clock.Now})
	now := clock.Now()
	at := func(d time.Duration) string { return url.QueryEscape(now.Add(d).Format(okta.TimeFormat)) }
	tests := []struct {
		name    string
		query   string
		status  int
		code    string
		summary string   // a prefix of the errorSummary
		want    []string // ids of the groups created, for a 200
	}{
		{"since within the retention", "since=" + at(-70*24*time.Hour), 200, "", "", []string{added[1].ID, added[2].ID}},
		{"since past the retention", "since=" + at(-170*24*time.Hour), 200, "", "", []string{added[1].ID, added[2].ID}},
		{"default since is a week back", "", 200, "", "", []string{added[2].ID}},
		{"bounded", "since=" + at(-70*24*time.Hour) + "&until=" + at(-30*24*time.Hour), 200, "", "", []string{added[1].ID}},
		{"since over 180 days back", "since=" + at(-181*24*time.Hour), 400, "E0000053",
			"Invalid parameter: The since parameter is over 180 days prior to the current day.", nil},
		{"since not a date", "since=yesterday", 400, "E0000001", "Api validation failed: 'since': The date format in your query is not recognized.", nil},
		{"until not a date", "until=2024-13-01", 400, "E0000001", "Api validation failed: 'until': The date format in your query is not recognized.", nil},
		{"since and after", "since=" + at(-time.Hour) + "&after=" + encodeCursor("0"), 400, "E0000053", "Invalid parameter: The since and after parameters are mutually exclusive.", nil},
		{"bad filter", "filter=" + url.QueryEscape(`nope eq "x"`), 400, "E0000053", "Invalid filter 'nope eq \"x\"'", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			query := "filter=" + url.QueryEscape(`eventType eq "group.lifecycle.create"`) + "&" + tt.query
			if strings.HasPrefix(tt.query, "filter=") {
				query = tt.query
			}
			resp, body := get(t, base+"/api/v1/logs?"+query)
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				e := errorBody(t, body)
				if e.ErrorCode != tt.code || !strings.HasPrefix(e.ErrorSummary, tt.summary) {
					t.Errorf("got %s %q, want %s %q", e.ErrorCode, e.ErrorSummary, tt.code, tt.summary)
				}
				return
			}
			var page []logEvent
			mustJSON(t, body, &page)
			var got []string
			for _, e := range page {
				got = append(got, e.Target[0].ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("groups created (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSystemLogPollingNextLinks(t *testing.T) {
	t.Parallel()
	org, clock, added := logOrg(t)
	_, base := newTestServer(t, org, Options{Now: clock.Now})
	since := clock.Now().Add(-90 * time.Minute)
	filter := `eventType eq "group.lifecycle.create" or eventType eq "group.lifecycle.delete"`
	first := base + "/api/v1/logs?limit=1&sortOrder=ASCENDING&since=" + url.QueryEscape(since.Format(okta.TimeFormat)) + "&filter=" + url.QueryEscape(filter)

	// page reads one page and checks its next link: always there, with
	// after but not since, keeping the rest of the query.
	page := func(u string) ([]logEvent, string) {
		t.Helper()
		resp, body := get(t, u)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: got status %d: %s", u, resp.StatusCode, body)
		}
		var events []logEvent
		mustJSON(t, body, &events)
		next := links(t, resp.Header)["next"]
		if next == "" {
			t.Fatalf("GET %s: a polling page has no next link", u)
		}
		nu, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		q := nu.Query()
		if q.Has("since") || q.Get("after") == "" || q.Get("filter") != filter || q.Get("limit") != "1" || q.Get("sortOrder") != "ASCENDING" {
			t.Errorf("next link %s: want after, no since, and the filter, limit and sortOrder kept", next)
		}
		return events, next
	}

	events, next := page(first)
	if len(events) != 0 {
		t.Fatalf("got %d events since %v, want none", len(events), since)
	}
	early := next
	// Events are visible only after the log delay, and the next link
	// waits for them.
	must(t, org.DeleteGroup(added[2].ID))
	g := org.AddGroup(okta.Group{Profile: okta.GroupProfile{Name: "Later"}})
	if events, next = page(next); len(events) != 0 {
		t.Errorf("events at once: got %d, want none before the log delay", len(events))
	}
	clock.Add(DefaultLogDelay + time.Second)
	var got []string
	for range 4 {
		events, next = page(next)
		for _, e := range events {
			got = append(got, e.EventType+" "+e.Target[0].ID)
		}
	}
	want := []string{"group.lifecycle.delete " + added[2].ID, "group.lifecycle.create " + g.ID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// A next link whose position has aged out of the retention skips the
	// events that did.
	clock.Add(LogRetention)
	if events, _ = page(early); len(events) != 0 {
		t.Errorf("after the retention: got %d events, want none", len(events))
	}
	clock.Add(LogSinceLimit - LogRetention)
	resp, body := get(t, first)
	if resp.StatusCode != 400 || errorBody(t, body).ErrorCode != "E0000053" {
		t.Errorf("the first since, now over 180 days old: got %d %s, want 400 E0000053", resp.StatusCode, body)
	}
}

func TestSystemLogWithoutDelay(t *testing.T) {
	t.Parallel()
	org, clock := testOrg(t)
	srv, base := newTestServer(t, org, Options{LogDelay: -1})
	if srv.LogDelay() != 0 {
		t.Fatalf("got LogDelay %v, want 0", srv.LogDelay())
	}
	since := url.QueryEscape(clock.Now().Format(okta.TimeFormat))
	org.AddGroup(okta.Group{Profile: okta.GroupProfile{Name: "Seen at once"}})
	resp, body := get(t, base+"/api/v1/logs?since="+since)
	var events []logEvent
	mustJSON(t, body, &events)
	if resp.StatusCode != 200 || len(events) != 1 {
		t.Errorf("got status %d and %d events, want 200 and the group's creation at once", resp.StatusCode, len(events))
	}
}

func mustDecode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

func TestClockOffset(t *testing.T) {
	t.Parallel()
	wall := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		offset time.Duration
		server bool // the clock is Options.Now rather than the org's
	}{
		{"ahead", 10 * time.Minute, false},
		{"behind", -10 * time.Minute, false},
		{"ahead of Options.Now", 10 * time.Minute, true},
		{"behind Options.Now", -10 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: wall}
			org := GenerateOrg(OrgOptions{Users: 20, Groups: 3, Seed: 1, Now: clock.Now})
			opts := Options{ClockOffset: tt.offset, RateLimits: map[string]int{"users": 10}}
			if tt.server {
				opts.Now = clock.Now
			}
			srv, base := newTestServer(t, org, opts)
			want := wall.Add(tt.offset)
			if !srv.Now().Equal(want) {
				t.Errorf("Now: got %v, want %v", srv.Now(), want)
			}
			resp, _ := get(t, base+"/api/v1/users")
			if got := resp.Header.Get("Date"); got != want.Format(http.TimeFormat) {
				t.Errorf("Date: got %q, want %q", got, want.Format(http.TimeFormat))
			}
			if got, wantReset := resp.Header.Get("X-Rate-Limit-Reset"), strconv.FormatInt(want.Add(time.Minute).Unix(), 10); got != wantReset {
				t.Errorf("X-Rate-Limit-Reset: got %s, want %s", got, wantReset)
			}
			u := org.AddUser(okta.User{Profile: okta.UserProfile{Login: "late@example.com"}})
			if !u.Created.Equal(want) {
				t.Errorf("a new user's created: got %v, want %v", u.Created, want)
			}
		})
	}
}

func TestAdminClock(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
	org := GenerateOrg(OrgOptions{Users: 20, Groups: 3, Seed: 1, Now: clock.Now})
	srv, base := newTestServer(t, org, Options{})
	type clockBody struct{ Now, Offset, LogDelay string }
	post := func(body string) (int, clockBody) {
		t.Helper()
		resp, err := http.Post(base+"/_fake/clock", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var cb clockBody
		if resp.StatusCode == 200 {
			mustDecode(t, resp, &cb)
		}
		return resp.StatusCode, cb
	}
	status, cb := post(`{"offset":"-10m"}`)
	if want := (clockBody{"2025-03-01T07:50:00.000Z", "-10m0s", "2s"}); status != 200 || cb != want {
		t.Errorf("set offset: got %d %+v, want 200 %+v", status, cb, want)
	}
	if resp, _ := get(t, base+"/api/v1/groups"); resp.Header.Get("Date") != "Sat, 01 Mar 2025 07:50:00 GMT" {
		t.Errorf("Date after the offset: got %q", resp.Header.Get("Date"))
	}
	if status, cb = post(`{"logDelay":"0s"}`); status != 200 || cb.Offset != "-10m0s" || srv.LogDelay() != 0 {
		t.Errorf("set log delay: got %d %+v, LogDelay %v", status, cb, srv.LogDelay())
	}
	for _, bad := range []string{`{"offset":"soon"}`, `{"logDelay":"-1s"}`, `nope`} {
		if status, _ := post(bad); status != 400 {
			t.Errorf("POST /_fake/clock %s: got %d, want 400", bad, status)
		}
	}
	resp, body := get(t, base+"/_fake/clock")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"offset":"-10m0s"`) {
		t.Errorf("GET /_fake/clock: got %d %s", resp.StatusCode, body)
	}
}
