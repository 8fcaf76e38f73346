package oktafake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// newHostileServer serves org under testPrefix, misbehaving as mode says,
// and returns the server and its org URL.
func newHostileServer(t *testing.T, org *Org, mode HostileMode) (*Server, string) {
	t.Helper()
	srv := NewServer(org, Options{Prefix: testPrefix, LogDelay: -1})
	ts := httptest.NewServer(NewHostile(srv, mode))
	t.Cleanup(ts.Close)
	return srv, ts.URL + testPrefix
}

// openGet sends an authenticated GET with the client's own compression off
// (so that a gzip body is seen as sent) and returns the response unread.
func openGet(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "SSWS demo-token")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestParseHostileMode(t *testing.T) {
	t.Parallel()
	for _, m := range HostileModes() {
		if got, err := ParseHostileMode(string(m)); err != nil || got != m {
			t.Errorf("ParseHostileMode(%q) = %q, %v, want the mode", m, got, err)
		}
	}
	if _, err := ParseHostileMode("nice"); err == nil || !strings.Contains(err.Error(), "cycle, endless") {
		t.Errorf("ParseHostileMode(nice) error = %v, want one listing the modes", err)
	}
}

func TestHostileCycle(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	_, base := newHostileServer(t, org, HostileCycle)
	for _, path := range []string{"/api/v1/users?limit=10", "/api/v1/groups?limit=2", "/api/v1/groups/" + org.Groups()[0].ID + "/users?limit=10"} {
		url := base + path
		resp, first := get(t, url)
		var afters []string
		for range 4 {
			next := links(t, resp.Header)["next"]
			if next == "" {
				t.Fatalf("%s: a page without a next link", path)
			}
			afters = append(afters, next[strings.Index(next, "after=")+len("after="):][:len("hostile-a")])
			var body []byte
			resp, body = get(t, next)
			if !bytes.Equal(body, first) {
				t.Errorf("%s: the page after=%s is not the first page", path, afters[len(afters)-1])
			}
		}
		if got := strings.Join(afters, " "); got != "hostile-b hostile-a hostile-b hostile-a" {
			t.Errorf("%s: next cursors %s, want hostile-b and hostile-a in turn", path, got)
		}
	}
}

func TestHostileEndless(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	_, base := newHostileServer(t, org, HostileEndless)
	for _, path := range []string{"/api/v1/users?limit=20", "/api/v1/groups/" + org.Groups()[0].ID + "/users?limit=20"} {
		url, seen := base+path, map[string]bool{}
		for page := range 5 {
			resp, body := get(t, url)
			var users []okta.User
			if err := json.Unmarshal(body, &users); err != nil {
				t.Fatal(err)
			}
			if len(users) != 20 {
				t.Fatalf("%s page %d: %d users, want 20", path, page, len(users))
			}
			for _, u := range users {
				if seen[u.ID] || u.Profile.Login == "" {
					t.Fatalf("%s page %d: user %q seen before or without a login", path, page, u.ID)
				}
				seen[u.ID] = true
			}
			if url = links(t, resp.Header)["next"]; url == "" {
				t.Fatalf("%s page %d: no next link", path, page)
			}
		}
	}
	// The group listing behaves, so that a sync gets to the users.
	groups, _ := listAll[okta.Group](t, base+"/api/v1/groups")
	if len(groups) != 5 {
		t.Errorf("got %d groups, want 5", len(groups))
	}
}

// countingWriter counts what is written to it and keeps its last bytes.
type countingWriter struct {
	n    int64
	tail []byte
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	w.tail = append(w.tail[:0], b[max(0, len(b)-16):]...)
	return len(b), nil
}

// TestHostileBodies is not parallel: it checks that the server streams the
// huge body rather than holding it.
func TestHostileBodies(t *testing.T) {
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	t.Run("huge body", func(t *testing.T) {
		_, base := newHostileServer(t, org, HostileHugeBody)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		resp := openGet(t, base+"/api/v1/users")
		head := make([]byte, 200)
		if _, err := io.ReadFull(resp.Body, head); err != nil {
			t.Fatal(err)
		}
		var w countingWriter
		if _, err := io.Copy(&w, resp.Body); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if size := w.n + int64(len(head)); size < HugeBodySize || links(t, resp.Header)["next"] != "" {
			t.Errorf("got %d bytes and next link %q, want at least %d and none", size, links(t, resp.Header)["next"], HugeBodySize)
		}
		if !bytes.HasPrefix(head, []byte(`[{"id":"00uhuge0","status":"ACTIVE"`)) || !bytes.HasSuffix(w.tail, []byte("}}]")) {
			t.Errorf("body = %.60s...%s, want a JSON array of users", head, w.tail)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("serving the body allocated %d MiB, want it streamed", alloc>>20)
		}
	})
	t.Run("gzip bomb", func(t *testing.T) {
		_, base := newHostileServer(t, org, HostileGzipBomb)
		resp := openGet(t, base+"/api/v1/groups")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > 8<<20 {
			t.Errorf("the bomb is %d MiB, want a few", len(raw)>>20)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		// Inflating all 4 GiB takes a while: the first 256 MiB show the
		// ratio, and the count of members the rest.
		head := make([]byte, 256<<20)
		if _, err := io.ReadFull(zr, head); err != nil {
			t.Fatal(err)
		}
		if head[0] != '[' || strings.Trim(string(head[1:1000]), " ") != "" {
			t.Errorf("the bomb starts %q, want [ and spaces", head[:20])
		}
		if members := bytes.Count(raw, []byte{0x1f, 0x8b, 8}); members < GzipBombSize/(16<<20) {
			t.Errorf("the bomb has %d gzip members, want %d of 16 MiB", members, GzipBombSize/(16<<20))
		}
	})
}

func TestHostileFarReset(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	_, base := newHostileServer(t, org, HostileFarReset)
	statuses := ""
	for i := range 2 * FarResetEvery {
		resp, body := get(t, base+"/api/v1/users?limit=5")
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatal(err)
		}
		reset, _ := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
		if time.Unix(reset, 0).Before(date.AddDate(99, 0, 0)) || resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
			t.Errorf("request %d: reset %d, remaining %s, want 100 years ahead of %v and 0", i+1, reset,
				resp.Header.Get("X-Rate-Limit-Remaining"), date)
		}
		if resp.StatusCode == http.StatusTooManyRequests && errorBody(t, body).ErrorCode != "E0000047" {
			t.Errorf("request %d: a 429 without E0000047", i+1)
		}
		statuses += strconv.Itoa(resp.StatusCode) + " "
	}
	if want := strings.Repeat(strings.Repeat("200 ", FarResetEvery-1)+"429 ", 2); statuses != want {
		t.Errorf("statuses %s, want %s", statuses, want)
	}
}

func TestHostileEmptyMembers(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	_, base := newHostileServer(t, org, HostileEmptyMembers)
	groups, _ := listAll[okta.Group](t, base+"/api/v1/groups?expand=stats")
	for _, g := range groups {
		n, ok := g.UsersCount()
		if !ok || n != len(org.Members(g.ID)) {
			t.Errorf("group %s: usersCount %d, %v, want the real %d", g.ID, n, ok, len(org.Members(g.ID)))
		}
		members, pages := listAll[okta.User](t, base+"/api/v1/groups/"+g.ID+"/users")
		if len(members) != 0 || pages != 1 {
			t.Errorf("group %s: %d members in %d pages, want none in one", g.ID, len(members), pages)
		}
	}
	if users, _ := listAll[okta.User](t, base+"/api/v1/users"); len(users) == 0 {
		t.Error("the user listing is empty, want it to behave")
	}
}

func TestHostileNoID(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	_, base := newHostileServer(t, org, HostileNoID)
	for _, path := range []string{"/api/v1/users?limit=20", "/api/v1/groups", "/api/v1/groups/" + org.Groups()[0].ID + "/users"} {
		var items []json.RawMessage
		pages := 0
		for url := base + path; url != ""; pages++ {
			resp, body := get(t, url)
			var page []json.RawMessage
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			items = append(items, page...)
			url = links(t, resp.Header)["next"]
		}
		var bad []string
		for _, it := range items {
			if s := string(it); s == "null" || s == "{}" || s == `{"id":""}` {
				bad = append(bad, s)
			}
		}
		if len(bad) != 3*pages || len(items) <= len(bad) {
			t.Errorf("%s: %d items of which %q in %d pages, want null, {} and {\"id\":\"\"} on each page among real ones",
				path, len(items), bad, pages)
		}
	}
}

func TestHostileLeavesTheRestAlone(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 50, Groups: 5, Seed: 1})
	for _, mode := range HostileModes() {
		_, base := newHostileServer(t, org, mode)
		resp, body := get(t, base+"/_fake/stats")
		if resp.StatusCode != http.StatusOK || !json.Valid(body) {
			t.Errorf("%s: /_fake/stats answered %d %.100s", mode, resp.StatusCode, body)
		}
		if resp, _ := do(t, base+"/api/v1/users", "SSWS wrong-token"); resp.StatusCode != http.StatusUnauthorized &&
			resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s: a wrong token got %d, want 401", mode, resp.StatusCode)
		}
	}
}
