package oktafake

import (
	"bytes"
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

// setFaults posts faults to the admin API and returns its status.
func setFaults(t *testing.T, base, body string) int {
	t.Helper()
	resp, err := http.Post(base+"/_fake/faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestFaultVanishGroups(t *testing.T) {
	t.Parallel()
	org := DemoOrg()
	srv, base := newTestServer(t, org, Options{LogDelay: -1})
	groups := org.Groups()
	everyone, a, b := groups[0], groups[2], groups[3]
	if status := setFaults(t, base, `{"vanishGroups":1}`); status != 200 {
		t.Fatalf("POST /_fake/faults: got %d", status)
	}
	since := url.QueryEscape(srv.Now().Format(okta.TimeFormat))

	if resp, _ := get(t, base+"/api/v1/groups/"+everyone.ID+"/users"); resp.StatusCode != 200 {
		t.Errorf("Everyone's members: got %d, want 200 (BUILT_IN groups do not vanish)", resp.StatusCode)
	}
	resp, body := get(t, base+"/api/v1/groups/"+a.ID+"/users")
	if e := errorBody(t, body); resp.StatusCode != 404 || e.ErrorCode != "E0000007" || e.ErrorSummary != "Not found: Resource not found: "+a.ID+" (UserGroup)" {
		t.Errorf("a vanishing group's members: got %d %s, want 404 E0000007", resp.StatusCode, body)
	}
	if _, ok := org.Group(a.ID); ok {
		t.Error("the vanished group is still in the org")
	}
	if resp, _ := get(t, base+"/api/v1/groups/"+b.ID+"/users"); resp.StatusCode != 200 {
		t.Errorf("the next group's members: got %d, want 200 (one vanishing asked)", resp.StatusCode)
	}
	if f := srv.Faults(); f.VanishGroups != 0 {
		t.Errorf("got VanishGroups %d left, want 0", f.VanishGroups)
	}
	resp, body = get(t, base+"/api/v1/logs?since="+since+"&filter="+url.QueryEscape(`eventType eq "group.lifecycle.delete"`))
	var events []logEvent
	mustJSON(t, body, &events)
	if resp.StatusCode != 200 || len(events) != 1 || events[0].Target[0].ID != a.ID {
		t.Errorf("deletions logged: got %d %+v, want the vanished group's", resp.StatusCode, events)
	}
}

func TestFaultFullLastPageNext(t *testing.T) {
	t.Parallel()
	org := GenerateOrg(OrgOptions{Users: 120, Groups: 10, Seed: 6})
	_, base := newTestServer(t, org, Options{Faults: Faults{FullLastPageNext: true}})
	users := 0
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			users++
		}
	}
	group := org.Groups()[1].ID
	members := len(org.Members(group))
	tests := []struct {
		name string
		path string
		n    int // items, the limit of each listing
	}{
		{"users", "/api/v1/users", users},
		{"groups", "/api/v1/groups", len(org.Groups())},
		{"members", "/api/v1/groups/" + group + "/users", members},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.n == 0 || tt.n > 200 {
				t.Fatalf("%d items: want a listing of one page", tt.n)
			}
			resp, body := get(t, base+tt.path+"?limit="+strconv.Itoa(tt.n))
			var page []json.RawMessage
			mustJSON(t, body, &page)
			next := links(t, resp.Header)["next"]
			if len(page) != tt.n || next == "" {
				t.Fatalf("a full last page: got %d items and next link %q, want %d and a next link", len(page), next, tt.n)
			}
			resp, body = get(t, next)
			if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "[]" || links(t, resp.Header)["next"] != "" {
				t.Errorf("its next page: got %d %s and next link %q, want 200 [] and none", resp.StatusCode, body, links(t, resp.Header)["next"])
			}
			resp, _ = get(t, base+tt.path+"?limit="+strconv.Itoa(tt.n+1))
			if next := links(t, resp.Header)["next"]; next != "" {
				t.Errorf("a page that is not full: got next link %q, want none", next)
			}
		})
	}
}

func TestFaultPastReset(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)}
	_, base := newTestServer(t, DemoOrg(), Options{Now: clock.Now, RateLimits: map[string]int{"users": 1}, Faults: Faults{PastReset: true}})
	for _, want := range []int{200, 429} {
		resp, _ := get(t, base+"/api/v1/users")
		reset, err := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
		date, derr := http.ParseTime(resp.Header.Get("Date"))
		if resp.StatusCode != want || err != nil || derr != nil || reset >= date.Unix() {
			t.Errorf("got %d, Reset %q, Date %q; want %d and Reset before Date", resp.StatusCode, resp.Header.Get("X-Rate-Limit-Reset"), resp.Header.Get("Date"), want)
		}
	}
}

func TestFaultConcurrencyBurst(t *testing.T) {
	t.Parallel()
	srv, base := newTestServer(t, DemoOrg(), Options{})
	if status := setFaults(t, base, `{"concurrencyBurst":2}`); status != 200 {
		t.Fatalf("POST /_fake/faults: got %d", status)
	}
	for i, want := range []int{429, 429, 200} {
		resp, body := get(t, base+"/api/v1/groups")
		if resp.StatusCode != want {
			t.Fatalf("request %d: got %d, want %d", i, resp.StatusCode, want)
		}
		var headers []string
		for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
			if resp.Header.Get(h) != "" {
				headers = append(headers, h)
			}
		}
		switch {
		case want == 429 && (len(headers) != 0 || errorBody(t, body).ErrorCode != "E0000047"):
			t.Errorf("request %d: got %s with %v, want E0000047 without rate-limit headers", i, body, headers)
		case want == 200 && len(headers) != 3:
			t.Errorf("request %d: got rate-limit headers %v, want all three", i, headers)
		}
	}
	if st := srv.Stats(); st.RateLimited != 2 {
		t.Errorf("got RateLimited %d, want 2", st.RateLimited)
	}
}

func TestFaultBadBodies(t *testing.T) {
	t.Parallel()
	org := DemoOrg()
	user := org.Users()[0].ID
	tests := []struct {
		name   string
		faults string
		path   string
		want   func(full []byte) []byte
	}{
		{"truncated list", `{"badBodies":1}`, "/api/v1/users", func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated object", `{"badBodies":1,"badBodyKind":"truncated"}`, "/api/v1/users/" + user, func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", `{"badBodies":1,"badBodyKind":"empty"}`, "/api/v1/groups", func([]byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, base := newTestServer(t, org, Options{})
			_, want := get(t, base+tt.path)
			if status := setFaults(t, base, tt.faults); status != 200 {
				t.Fatalf("POST /_fake/faults: got %d", status)
			}
			// An error response is left alone and not counted.
			if resp, body := get(t, base+"/api/v1/users/00unope"); resp.StatusCode != 404 || errorBody(t, body).ErrorCode != "E0000007" {
				t.Errorf("a 404: got %d %s", resp.StatusCode, body)
			}
			resp, body := get(t, base+tt.path)
			if resp.StatusCode != 200 || !bytes.Equal(body, tt.want(want)) || json.Valid(body) {
				t.Errorf("a broken 200: got %d and %d bytes (%.40q...), want 200 and %d bytes", resp.StatusCode, len(body), body, len(tt.want(want)))
			}
			if resp, body := get(t, base+tt.path); resp.StatusCode != 200 || !bytes.Equal(body, want) {
				t.Errorf("the next 200: got %d %.80s, want the whole body", resp.StatusCode, body)
			}
			if f := srv.Faults(); f.BadBodies != 0 {
				t.Errorf("got BadBodies %d left, want 0", f.BadBodies)
			}
		})
	}
	t.Run("rate", func(t *testing.T) {
		t.Parallel()
		_, base := newTestServer(t, org, Options{Seed: 5, Faults: Faults{BadBodyRate: 0.5}})
		bad := 0
		for range 100 {
			if _, body := get(t, base+"/api/v1/groups"); !json.Valid(body) {
				bad++
			}
		}
		if bad < 30 || bad > 70 {
			t.Errorf("got %d of 100 bodies broken, want about 50", bad)
		}
	})
}

func TestFaultSystemLogOutages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, faults  string
		status        int
		code, summary string
	}{
		{"log path failing", `{"failPathPrefix":"/api/v1/logs"}`, 500, "E0000009", "Internal Server Error"},
		{"since refused", `{"logError":{"status":400,"code":"E0000053"}}`, 400, "E0000053", "Invalid parameter: The since parameter is over 180 days prior to the current day."},
		{"status only", `{"logError":{"status":400}}`, 400, "E0000053", "Invalid parameter: The since parameter is over 180 days prior to the current day."},
		{"internal error", `{"logError":{"status":500}}`, 500, "E0000053", "Sorry, there's been an error. We aren't sure what caused it, but we've logged this and will work to address it. Please try your request again."},
		{"timeout", `{"logError":{"status":500,"code":"E0000009"}}`, 500, "E0000009", "Your last request took too long to complete. This is likely due to a load issue on our side. We've logged this and will work to address it. Please either simplify your query or wait a few minutes and try again."},
		{"own summary", `{"logError":{"status":503,"code":"E0000010","summary":"Service is temporarily unavailable"}}`, 503, "E0000010", "Service is temporarily unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			org := DemoOrg()
			_, base := newTestServer(t, org, Options{})
			if status := setFaults(t, base, tt.faults); status != 200 {
				t.Fatalf("POST /_fake/faults: got %d", status)
			}
			resp, body := get(t, base+"/api/v1/logs")
			e := errorBody(t, body)
			if got, want := []any{resp.StatusCode, e.ErrorCode, e.ErrorSummary}, []any{tt.status, tt.code, tt.summary}; !cmp.Equal(got, want) {
				t.Errorf("GET /api/v1/logs: got %v, want %v", got, want)
			}
			for _, path := range []string{"/api/v1/users", "/api/v1/groups", "/api/v1/groups/" + org.Groups()[1].ID + "/users"} {
				if resp, _ := get(t, base+path); resp.StatusCode != 200 {
					t.Errorf("GET %s: got %d, want 200", path, resp.StatusCode)
				}
			}
		})
	}
}

func TestAdminFaults(t *testing.T) {
	t.Parallel()
	srv, base := newTestServer(t, DemoOrg(), Options{ErrorRate: 0.1})
	if f := srv.Faults(); f.ErrorRate != 0.1 {
		t.Errorf("Options.ErrorRate: got Faults().ErrorRate %v, want 0.1", f.ErrorRate)
	}
	for _, bad := range []string{`{"badBodyKind":"garbled"}`, `{"vanishGroups":-1}`, `{"badBodyRate":2}`, `{"logError":{"status":200}}`} {
		if status := setFaults(t, base, bad); status != 400 {
			t.Errorf("POST /_fake/faults %s: got %d, want 400", bad, status)
		}
	}
	body := `{"vanishGroups":2,"fullLastPageNext":true,"pastReset":true,"concurrencyBurst":3,"badBodies":1,"badBodyRate":0.2,"badBodyKind":"empty","logError":{"status":500}}`
	if status := setFaults(t, base, body); status != 200 {
		t.Fatalf("POST /_fake/faults: got %d", status)
	}
	want := Faults{VanishGroups: 2, FullLastPageNext: true, PastReset: true, ConcurrencyBurst: 3, BadBodies: 1, BadBodyRate: 0.2,
		BadBodyKind: BadBodyEmpty, LogError: ErrorResponse{Status: 500}}
	resp, got := get(t, base+"/_fake/faults")
	var f Faults
	mustJSON(t, got, &f)
	if diff := cmp.Diff(want, f); resp.StatusCode != 200 || diff != "" {
		t.Errorf("GET /_fake/faults: got %d (-want +got):\n%s", resp.StatusCode, diff)
	}
	// Replacing the faults clears those not given, as scripts expect.
	if status := setFaults(t, base, `{"down":false}`); status != 200 || !cmp.Equal(srv.Faults(), Faults{}) {
		t.Errorf("after {\"down\":false}: got %d %+v, want no faults", status, srv.Faults())
	}
}
