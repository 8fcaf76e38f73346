package oktafake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a settable clock for rate-limit windows.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)}
	org := DemoOrg()
	srv, base := newTestServer(t, org, Options{
		RateLimits: map[string]int{"users": 3, "groups": 2},
		Now:        clock.Now,
	})
	group := org.Groups()[1].ID
	type want struct {
		status           int
		limit, remaining string
	}
	steps := []struct {
		path    string
		advance time.Duration
		want    want
	}{
		{"/api/v1/users", 0, want{200, "3", "2"}},
		{"/api/v1/users/" + org.Users()[0].ID + "/groups", 0, want{200, "3", "1"}},
		{"/api/v1/users", 0, want{200, "3", "0"}},
		{"/api/v1/users", 0, want{429, "3", "0"}},
		{"/api/v1/groups", 0, want{200, "2", "1"}},
		{"/api/v1/groups/" + group + "/users", 0, want{200, "2", "0"}},
		{"/api/v1/groups/" + group + "/users", 0, want{429, "2", "0"}},
		{"/api/v1/logs", 0, want{200, strconv.Itoa(unlimited), strconv.Itoa(unlimited - 1)}},
		{"/api/v1/users", 59 * time.Second, want{429, "3", "0"}},
		{"/api/v1/users", time.Second, want{200, "3", "2"}},
	}
	reset := clock.Now().Add(time.Minute).Unix()
	for i, st := range steps {
		clock.Add(st.advance)
		resp, body := get(t, base+st.path)
		got := want{resp.StatusCode, resp.Header.Get("X-Rate-Limit-Limit"), resp.Header.Get("X-Rate-Limit-Remaining")}
		if got != st.want {
			t.Errorf("step %d %s: got %+v, want %+v", i, st.path, got, st.want)
		}
		if st.want.status == 429 {
			if code := errorBody(t, body).ErrorCode; code != "E0000047" {
				t.Errorf("step %d: got errorCode %s, want E0000047", i, code)
			}
		}
		if i < 8 {
			if got := resp.Header.Get("X-Rate-Limit-Reset"); got != strconv.FormatInt(reset, 10) {
				t.Errorf("step %d: got X-Rate-Limit-Reset %s, want %d", i, got, reset)
			}
		}
		if got, want := resp.Header.Get("Date"), clock.Now().Format(http.TimeFormat); got != want {
			t.Errorf("step %d: got Date %q, want %q", i, got, want)
		}
		if resp.Header.Get("X-Okta-Request-Id") == "" {
			t.Errorf("step %d: no X-Okta-Request-Id", i)
		}
	}
	if got := srv.Stats().RateLimited; got != 3 {
		t.Errorf("got %d rate-limited responses counted, want 3", got)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	t.Parallel()
	srv, base := newTestServer(t, DemoOrg(), Options{ConcurrencyLimit: 2, Latency: 300 * time.Millisecond})
	const n = 6
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for range n {
		wg.Go(func() {
			resp, _ := get(t, base+"/api/v1/users?limit=1")
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode]++
			if resp.StatusCode == 429 {
				if l, r := resp.Header.Get("X-Rate-Limit-Limit"), resp.Header.Get("X-Rate-Limit-Remaining"); l != "0" || r != "0" {
					t.Errorf("concurrency 429: got Limit %q Remaining %q, want 0 and 0", l, r)
				}
			}
		})
	}
	wg.Wait()
	if statuses[200] < 1 || statuses[200] > 2 || statuses[429] != n-statuses[200] {
		t.Errorf("got statuses %v, want at most 2 successes and the rest 429", statuses)
	}
	st := srv.Stats()
	if st.MaxInFlight != n {
		t.Errorf("got MaxInFlight %d, want %d", st.MaxInFlight, n)
	}
	if st.RateLimited != int64(statuses[429]) {
		t.Errorf("got RateLimited %d, want %d", st.RateLimited, statuses[429])
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	org := DemoOrg()
	srv, base := newTestServer(t, org, Options{})
	groups := org.Groups()
	broken := "/api/v1/groups/" + groups[2].ID + "/users"
	srv.SetFaults(Faults{FailPathPrefix: broken})
	if resp, body := get(t, base+broken); resp.StatusCode != 500 || errorBody(t, body).ErrorCode != "E0000009" {
		t.Errorf("broken path: got %d %s, want 500 E0000009", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+"/api/v1/groups/"+groups[3].ID+"/users"); resp.StatusCode != 200 {
		t.Errorf("another group's members: got %d, want 200", resp.StatusCode)
	}

	// Faults through the admin API, as scripts set them.
	body, _ := json.Marshal(Faults{Down: true})
	resp, err := http.Post(base+"/_fake/faults", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, _ := get(t, base+"/api/v1/users"); resp.StatusCode != 503 {
		t.Errorf("down: got %d, want 503", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/_fake/truth"); resp.StatusCode != 200 {
		t.Errorf("admin API while down: got %d, want 200", resp.StatusCode)
	}
	srv.SetFaults(Faults{})
	if resp, _ := get(t, base+"/api/v1/users"); resp.StatusCode != 200 {
		t.Errorf("up again: got %d, want 200", resp.StatusCode)
	}

	st := srv.Stats()
	wantEndpoints := map[string]int64{
		"GET /api/v1/groups/{id}/users": 2,
		"GET /api/v1/users":             2,
	}
	if diff := cmp.Diff(wantEndpoints, st.ByEndpoint); diff != "" {
		t.Errorf("ByEndpoint (-want +got):\n%s", diff)
	}
	if st.Calls != 4 || st.ServerErrors != 2 {
		t.Errorf("got Calls %d ServerErrors %d, want 4 and 2", st.Calls, st.ServerErrors)
	}
	srv.ResetStats()
	if st := srv.Stats(); st.Calls != 0 || len(st.ByEndpoint) != 0 {
		t.Errorf("after ResetStats: got %+v, want zero", st)
	}
}

func TestErrorRateIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []int {
		_, base := newTestServer(t, DemoOrg(), Options{ErrorRate: 0.3, Seed: 99})
		var out []int
		for range 100 {
			resp, _ := get(t, base+"/api/v1/groups")
			out = append(out, resp.StatusCode)
		}
		return out
	}
	a, b := run(), run()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs with the same seed differ (-first +second):\n%s", diff)
	}
	fails := 0
	for _, s := range a {
		if s == 500 {
			fails++
		}
	}
	if fails < 15 || fails > 45 {
		t.Errorf("got %d of 100 requests failing, want about 30", fails)
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	_, base := newTestServer(t, DemoOrg(), Options{})
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"filter and search", `/api/v1/users?filter=status%20eq%20%22ACTIVE%22&search=status%20eq%20%22ACTIVE%22`, 400, "E0000033"},
		{"unsupported users filter", `/api/v1/users?filter=profile.department%20eq%20%22x%22`, 400, "E0000031"},
		{"malformed search", `/api/v1/users?search=status%20eq`, 400, "E0000031"},
		{"groups filter on name", `/api/v1/groups?filter=profile.name%20eq%20%22x%22`, 400, "E0000031"},
		{"logs filter", `/api/v1/logs?filter=foo%20eq%20%22x%22`, 400, "E0000053"},
		{"bad cursor", `/api/v1/users?after=!!!`, 400, "E0000001"},
		{"bad limit", `/api/v1/users?limit=ten`, 400, "E0000001"},
		{"unknown user", `/api/v1/users/00unope`, 404, "E0000007"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, base+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("got status %d, want %d: %.200s", resp.StatusCode, tt.status, body)
			}
			var e map[string]any
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error body %s has no %s", body, k)
				}
			}
			if e["errorCode"] != tt.code {
				t.Errorf("got errorCode %v, want %s", e["errorCode"], tt.code)
			}
		})
	}
}
