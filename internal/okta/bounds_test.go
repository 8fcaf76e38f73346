package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hangGuard bounds a listing that should end quickly, so that a client
// that loops or waits for ever fails the test instead of hanging it.
func hangGuard(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pagedServer answers every request with the users page(after) returns for
// the request's after cursor, and a next link to the cursor it returns
// ("" for none).
func pagedServer(t *testing.T, page func(after string) (users []User, next string)) *testServer {
	t.Helper()
	var srv *testServer
	srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		users, next := page(r.URL.Query().Get("after"))
		if next != "" {
			q := r.URL.Query()
			q.Set("after", next)
			w.Header().Add("Link", "<"+srv.orgURL()+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
		}
		writeJSON(w, 200, users)
	})
	return srv
}

func TestListingRefusesLinksThatLoop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		next      func(after string) string
		wantCalls int64
		wantBack  string
	}{
		{"two pages linking to each other", func(after string) string {
			if after == "b" {
				return "a"
			}
			return "b"
		}, 3, "page 3 leads back to page 2"},
		{"back to the first page's cursor", func(after string) string {
			n, _ := strconv.Atoi(after)
			return strconv.Itoa((n + 1) % 4)
		}, 4, "page 4 leads back to page 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagedServer(t, func(after string) ([]User, string) {
				return testUsers("u" + after), tt.next(after)
			})
			c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
			first := c.endpoint("/api/v1/users", nil)
			first.RawQuery = "limit=200&after=0"
			if tt.name == tests[0].name {
				first.RawQuery = "limit=200"
			}
			_, err := collect(c.listUsers(hangGuard(t), first, expression{}, 0, nil))
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.wantBack) {
				t.Fatalf("error = %v, want ErrBadResponse saying the next link of %s", err, tt.wantBack)
			}
			if n := srv.calls.Load(); n != tt.wantCalls {
				t.Errorf("requests = %d, want %d", n, tt.wantCalls)
			}
		})
	}
	t.Run("same URL with the cursor moved", func(t *testing.T) {
		t.Parallel()
		// The after cursor repeats while another parameter changes.
		var srv *testServer
		srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			w.Header().Add("Link", fmt.Sprintf(`<%s/api/v1/users?after=x&n=%d>; rel="next"`, srv.orgURL(), n+1))
			writeJSON(w, 200, testUsers("u"+strconv.Itoa(n)))
		})
		c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
		_, err := collect(c.ListUsers(hangGuard(t), UserListOptions{}))
		if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "leads back to page 2") {
			t.Fatalf("error = %v, want the repeated cursor refused", err)
		}
		if n := srv.calls.Load(); n != 2 {
			t.Errorf("requests = %d, want 2", n)
		}
	})
}

// endlessPages hands out pages of size fresh users, each with a next link
// to a new cursor.
func endlessPages(size int) func(after string) ([]User, string) {
	return func(after string) ([]User, string) {
		n, _ := strconv.Atoi(after)
		ids := make([]string, size)
		for i := range ids {
			ids[i] = fmt.Sprintf("u%d-%d", n, i)
		}
		return testUsers(ids...), strconv.Itoa(n + 1)
	}
}

func TestListingPageBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      Options
		page      func(after string) ([]User, string)
		list      func(ctx context.Context, c *Client) ([]User, error)
		wantErr   string // "" for success
		wantCalls int64
		wantUsers int
	}{
		{
			"MaxListingPages", Options{MaxListingPages: 5}, endlessPages(2),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListUsers(ctx, UserListOptions{}))
			},
			"goes on past 5 pages (10 users so far), the most Options.MaxListingPages allows; raise it", 5, 10,
		},
		{
			"members beyond the expected count", Options{MemberPageSize: 10}, endlessPages(10),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListGroupMembersExpecting(ctx, "00g1", 30))
			},
			"goes on past 16 pages and 160 members where 30 were expected", 16, 160,
		},
		{
			"users beyond the expected count, one a page", Options{}, endlessPages(1),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListUsers(ctx, UserListOptions{ExpectedCount: 5}))
			},
			"goes on past 20 pages and 20 users where 5 were expected", 20, 20,
		},
		{
			"an empty group that pages on", Options{MemberPageSize: 10}, endlessPages(0),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListGroupMembersExpecting(ctx, "00g1", 0))
			},
			"goes on past 10 pages and 0 members where 0 were expected", 10, 0,
		},
		{
			"members as expected", Options{MemberPageSize: 10}, finitePages(25, 10),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListGroupMembersExpecting(ctx, "00g1", 25))
			},
			"", 3, 25,
		},
		{
			"a group that grew past its count", Options{MemberPageSize: 10}, finitePages(100, 10),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListGroupMembersExpecting(ctx, "00g1", 30))
			},
			"", 10, 100,
		},
		{
			"pages smaller than the limit asked for", Options{}, finitePages(1500, 200),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListGroupMembersExpecting(ctx, "00g1", 1500))
			},
			"", 8, 1500,
		},
		{
			"unknown count", Options{MemberPageSize: 10}, finitePages(300, 10),
			func(ctx context.Context, c *Client) ([]User, error) {
				return collect(c.ListGroupMembersExpecting(ctx, "00g1", -1))
			},
			"", 30, 300,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := pagedServer(t, tt.page)
			c, _ := newTestClient(t, srv.orgURL(), nil, tt.opts)
			users, err := tt.list(hangGuard(t), c)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error = %v, want none", err)
			case tt.wantErr != "" && (!errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want ErrBadResponse with %q", err, tt.wantErr)
			}
			if n := srv.calls.Load(); n != tt.wantCalls || len(users) != tt.wantUsers {
				t.Errorf("got %d users in %d requests, want %d in %d", len(users), n, tt.wantUsers, tt.wantCalls)
			}
		})
	}
	c, _ := newTestClient(t, "https://example.okta.com", nil, Options{})
	if c.opts.MaxListingPages != 10000 || c.opts.MaxResponseBytes != 32<<20 {
		t.Errorf("defaults: MaxListingPages %d, MaxResponseBytes %d, want 10000 and 32 MiB", c.opts.MaxListingPages, c.opts.MaxResponseBytes)
	}
}

// finitePages lists total users in pages of size.
func finitePages(total, size int) func(after string) ([]User, string) {
	return func(after string) ([]User, string) {
		n, _ := strconv.Atoi(after)
		var ids []string
		for i := n; i < min(total, n+size); i++ {
			ids = append(ids, "u"+strconv.Itoa(i))
		}
		if n+size >= total {
			return testUsers(ids...), ""
		}
		return testUsers(ids...), strconv.Itoa(n + size)
	}
}

// allocatedDuring returns the bytes allocated while f ran, everything in
// the process counted: the test must run alone (not in parallel).
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestResponseBodyLimit is not parallel: it measures the memory a listing
// allocates.
func TestResponseBodyLimit(t *testing.T) {
	// huge streams a valid page of 300 MB, with its Content-Length or
	// without (chunked).
	huge := func(withLength bool) http.HandlerFunc {
		user := []byte(`{"id":"u","profile":{"login":"u@example.com","filler":"` + strings.Repeat("x", 1000) + `"}},`)
		last := []byte(`{"id":"last","profile":{"login":"last@example.com"}}]`)
		const count = 300 << 20 / 1050
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if withLength {
				w.Header().Set("Content-Length", strconv.Itoa(1+count*len(user)+len(last)))
			}
			w.WriteHeader(200)
			_, _ = w.Write([]byte("["))
			for range count {
				if _, err := w.Write(user); err != nil {
					return // the client hung up
				}
			}
			_, _ = w.Write(last)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		limit   int
		wantErr string
	}{
		{"300 MB page", huge(false), 1 << 20, "the body is larger than 1 MiB, the most Options.MaxResponseBytes allows"},
		{"300 MB page with its length", huge(true), 1 << 20, "the body is larger than 1 MiB"},
		{"300 MB page, default limit", huge(false), 0, "the body is larger than 32 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.handler)
			c, _ := newTestClient(t, srv.orgURL(), nil, Options{MaxResponseBytes: tt.limit})
			var (
				users []User
				err   error
			)
			alloc := allocatedDuring(func() { users, err = collect(c.ListUsers(hangGuard(t), UserListOptions{})) })
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "/api/v1/users") {
				t.Fatalf("error = %v, want ErrBadResponse naming the path and %q", err, tt.wantErr)
			}
			if len(users) != 0 {
				t.Errorf("got %d users, want none", len(users))
			}
			if n := srv.calls.Load(); n != 1 {
				t.Errorf("requests = %d, want 1: a body too large is not asked for again", n)
			}
			t.Logf("allocated %d MiB", alloc>>20)
			// A sanity check, not a measurement: reading up to the limit
			// allocates a few times the limit, never the whole body.
			if limit := max(tt.limit, 32<<20); alloc > 8*uint64(limit) {
				t.Errorf("the listing allocated %d MiB, want under %d MiB", alloc>>20, 8*limit>>20)
			}
		})
	}
	t.Run("a body under the limit", func(t *testing.T) {
		srv := pagedServer(t, finitePages(200, 200))
		c, _ := newTestClient(t, srv.orgURL(), nil, Options{MaxResponseBytes: 64 << 10})
		if users, err := collect(c.ListUsers(hangGuard(t), UserListOptions{})); err != nil || len(users) != 200 {
			t.Fatalf("got %d users, error %v, want 200 and none", len(users), err)
		}
	})
}

func TestMalformedBodiesAreRetried(t *testing.T) {
	t.Parallel()
	good := `[{"id":"u1","profile":{"login":"u1@example.com"}}]`
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "an empty body"},
		{"blank", " \n", "an empty body"},
		{"cut short", good[:len(good)-5], "a body that is not valid JSON"},
		{"null", "null", "a body that is not a JSON array"},
		{"an object", `{"id":"u1"}`, "a body that is not a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, badTimes := range []int{1, 100} {
				n := 0
				srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
					n++
					w.Header().Set("Content-Type", "application/json")
					body := good
					if n <= badTimes {
						body = tt.body
					}
					_, _ = w.Write([]byte(body))
				})
				c, _ := newTestClient(t, srv.orgURL(), nil, Options{MaxRetries: 3})
				users, err := collect(c.ListUsers(hangGuard(t), UserListOptions{}))
				if badTimes == 1 {
					if err != nil || len(users) != 1 || srv.calls.Load() != 2 {
						t.Fatalf("bad once: got %d users in %d requests, error %v, want 1 user in 2", len(users), srv.calls.Load(), err)
					}
					continue
				}
				want := "GET /okta-prefix/api/v1/users answered 200 with " + tt.want + ", 4 times"
				if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), want) {
					t.Fatalf("always bad: error = %v, want ErrBadResponse with %q", err, want)
				}
				if len(users) != 0 || srv.calls.Load() != 4 {
					t.Errorf("always bad: got %d users in %d requests, want none in 4", len(users), srv.calls.Load())
				}
			}
		})
	}
}

func TestPagesWithObjectsWithoutIDsAreRefused(t *testing.T) {
	t.Parallel()
	u := `{"id":"u1","profile":{"login":"u1@example.com"}}`
	g := `{"id":"g1","profile":{"name":"Group one"}}`
	users := func(c *Client, ctx context.Context) ([]string, error) {
		list, err := collect(c.ListUsers(ctx, UserListOptions{}))
		return idsOf(list, func(u User) string { return u.ID }), err
	}
	members := func(c *Client, ctx context.Context) ([]string, error) {
		list, err := collect(c.ListGroupMembers(ctx, "g1"))
		return idsOf(list, func(u User) string { return u.ID }), err
	}
	groups := func(c *Client, ctx context.Context) ([]string, error) {
		list, err := collect(c.ListGroups(ctx, GroupListOptions{}))
		return idsOf(list, func(g Group) string { return g.ID }), err
	}
	tests := []struct {
		name string
		page string
		list func(*Client, context.Context) ([]string, error)
		want string
	}{
		{"user null", "[" + u + ",null]", users, "item 2 of the 2 users on the page is a user without an id"},
		{"user {}", "[{}," + u + "]", users, "item 1 of the 2 users on the page is a user without an id"},
		{"user empty id", `[` + u + `,{"id":"","profile":{"login":"x@example.com"}}]`, users, "item 2 of the 2 users"},
		{"user without a login", `[{"id":"u2","profile":{"email":"x@example.com"}}]`, users, `user "u2" without a profile.login`},
		{"member null", "[null]", members, "item 1 of the 1 members on the page is a user without an id"},
		{"group null", "[" + g + ",null]", groups, "item 2 of the 2 groups on the page is a group without an id"},
		{"group empty id", `[{"id":"","profile":{"name":"x"}}]`, groups, "a group without an id"},
		{"group without a name", `[{"id":"g2","profile":{"description":"x"}}]`, groups, `group "g2" without a profile.name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.page))
			})
			c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
			got, err := tt.list(c, hangGuard(t))
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "refused whole") {
				t.Fatalf("error = %v, want ErrBadResponse with %q", err, tt.want)
			}
			if len(got) != 0 {
				t.Errorf("listed %q from a refused page, want nothing", got)
			}
			if n := srv.calls.Load(); n != 1 {
				t.Errorf("requests = %d, want 1: a refused page is not asked for again", n)
			}
		})
	}
}

func idsOf[T any](items []T, id func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

// farReset writes rate-limit headers with a reset 100 years after Date and
// nothing remaining.
func farReset(w http.ResponseWriter) {
	now := time.Now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	w.Header().Set("X-Rate-Limit-Limit", "600")
	w.Header().Set("X-Rate-Limit-Remaining", "0")
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(now.AddDate(100, 0, 0).Unix(), 10))
}

func TestAFarResetDoesNotStopTheClient(t *testing.T) {
	t.Parallel()
	var (
		mu sync.Mutex
		n  int
	)
	page := finitePages(5, 1)
	var srv *testServer
	srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		seq := n
		mu.Unlock()
		farReset(w)
		if seq%3 == 0 {
			oktaError(w, http.StatusTooManyRequests, CodeRateLimitExceeded, "API call exceeded rate limit due to too many requests.")
			return
		}
		users, next := page(r.URL.Query().Get("after"))
		if next != "" {
			w.Header().Add("Link", "<"+srv.orgURL()+"/api/v1/users?after="+next+`>; rel="next"`)
		}
		writeJSON(w, 200, users)
	})
	rec := &testObserver{}
	c, logs := newTestClient(t, srv.orgURL(), nil, Options{Observer: rec})
	users, err := collect(c.ListUsers(hangGuard(t), UserListOptions{}))
	if err != nil || len(users) != 5 {
		t.Fatalf("got %d users, error %v, want 5 and none", len(users), err)
	}
	if got := c.RateStatus()[BucketUsers]; got.Limit != 0 || !got.Reset.IsZero() || !got.ResetAt.IsZero() || got.Window != windowEstimate {
		t.Errorf("users bucket = %+v, want the far resets ignored", got)
	}
	// What the client meant to wait, not how long the test took.
	if w := rec.waited(); w > 10*time.Second {
		t.Errorf("the client waited %v in all, want only backoffs", w)
	}
	if !strings.Contains(logs.String(), "reset more than two windows ahead") {
		t.Error("the ignored headers were not logged")
	}
}

func TestRateLimitEdgesAreWaitedOut(t *testing.T) {
	t.Parallel()
	t.Run("concurrency 429 without rate headers", func(t *testing.T) {
		t.Parallel()
		n := 0
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if n++; n <= 2 {
				oktaError(w, http.StatusTooManyRequests, CodeRateLimitExceeded, "API call exceeded rate limit due to too many requests.")
				return
			}
			writeJSON(w, 200, testUsers("u1"))
		})
		rec := &testObserver{}
		c, _ := newTestClient(t, srv.orgURL(), nil, Options{Observer: rec})
		users, err := collect(c.ListUsers(hangGuard(t), UserListOptions{}))
		if err != nil || len(users) != 1 || srv.calls.Load() != 3 {
			t.Fatalf("got %d users in %d requests, error %v, want 1 in 3", len(users), srv.calls.Load(), err)
		}
		if rec.rateWaits() != 2 {
			t.Errorf("rate waits = %d, want 2: one backoff per 429", rec.rateWaits())
		}
	})
	pastReset := func(w http.ResponseWriter) {
		now := time.Now()
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		w.Header().Set("X-Rate-Limit-Limit", "600")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(-30*time.Second).Unix(), 10))
	}
	t.Run("a reset in the past on 200s", func(t *testing.T) {
		t.Parallel()
		page := finitePages(20, 1)
		var srv *testServer
		srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			pastReset(w)
			users, next := page(r.URL.Query().Get("after"))
			if next != "" {
				w.Header().Add("Link", "<"+srv.orgURL()+"/api/v1/users?after="+next+`>; rel="next"`)
			}
			writeJSON(w, 200, users)
		})
		c, _ := newTestClient(t, srv.orgURL(), nil, Options{})
		users, err := collect(c.ListUsers(hangGuard(t), UserListOptions{}))
		if err != nil || len(users) != 20 || srv.calls.Load() != 20 {
			t.Fatalf("got %d users in %d requests, error %v, want 20 in 20", len(users), srv.calls.Load(), err)
		}
	})
	t.Run("a reset in the past on 429s", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			pastReset(w)
			oktaError(w, http.StatusTooManyRequests, CodeRateLimitExceeded, "API call exceeded rate limit due to too many requests.")
		})
		rec := &testObserver{}
		c, _ := newTestClient(t, srv.orgURL(), nil, Options{Observer: rec, MaxRateLimitWaits: 3})
		_, err := collect(c.ListUsers(hangGuard(t), UserListOptions{}))
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != http.StatusTooManyRequests || e.Attempts != 4 {
			t.Fatalf("error = %v, want the 429 after 4 attempts", err)
		}
		if srv.calls.Load() != 4 || rec.rateWaits() != 3 {
			t.Errorf("%d requests, %d waits, want 4 requests with a backoff between each", srv.calls.Load(), rec.rateWaits())
		}
	})
}

// testObserver counts the waits of the client.
type testObserver struct {
	mu    sync.Mutex
	waits int
	total time.Duration
}

func (o *testObserver) Request(string, string, time.Duration) {}
func (o *testObserver) Retry(string)                          {}
func (o *testObserver) RateLimited(string)                    {}
func (o *testObserver) Remaining(string, int, int)            {}
func (o *testObserver) RateWait(_ string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits++
	o.total += d
}

func (o *testObserver) rateWaits() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.waits
}

func (o *testObserver) waited() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total
}
