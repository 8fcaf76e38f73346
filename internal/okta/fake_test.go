package okta_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

const prefix = "/okta-prefix"

// fakeOkta is the fake Okta server under a path prefix, wrapped so that the
// test sees every credential the client sent.
type fakeOkta struct {
	*oktafake.Server
	URL     string // the org URL, prefix included
	secrets *secretSet
	authz   *secretSet // Authorization schemes seen on API calls
}

func newFake(t *testing.T, org *oktafake.Org, opts oktafake.Options) *fakeOkta {
	t.Helper()
	opts.Prefix = prefix
	srv := oktafake.NewServer(org, opts)
	f := &fakeOkta{Server: srv, secrets: &secretSet{}, authz: &secretSet{}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			scheme, value, _ := strings.Cut(a, " ")
			f.secrets.add(value)
			f.authz.add(scheme)
		}
		f.secrets.add(r.Header.Get("DPoP"))
		if r.Method == http.MethodPost {
			body := new(bytes.Buffer)
			_, _ = body.ReadFrom(r.Body)
			form, _ := url.ParseQuery(body.String())
			f.secrets.add(form.Get("client_assertion"))
			r.Body = readCloser{bytes.NewReader(body.Bytes())}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	f.URL = ts.URL + prefix
	return f
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

type secretSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *secretSet) add(v string) {
	if len(v) < 8 {
		if v == "" {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	s.m[v] = true
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// recorder is an Observer that counts.
type recorder struct {
	mu                            sync.Mutex
	requests                      map[string]int // bucket/outcome
	retries, rateLimited, remains int
	waited                        time.Duration
}

func (r *recorder) Request(bucket, outcome string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.requests == nil {
		r.requests = map[string]int{}
	}
	r.requests[bucket+"/"+outcome]++
}
func (r *recorder) Retry(string)       { r.mu.Lock(); r.retries++; r.mu.Unlock() }
func (r *recorder) RateLimited(string) { r.mu.Lock(); r.rateLimited++; r.mu.Unlock() }
func (r *recorder) RateWait(_ string, d time.Duration) {
	r.mu.Lock()
	r.waited += d
	r.mu.Unlock()
}
func (r *recorder) Remaining(string, int, int) { r.mu.Lock(); r.remains++; r.mu.Unlock() }

// newClient returns a client of the fake with fast retries and a logger
// writing to the returned buffer at trace level; a nil auth is the fake's
// demo token.
func newClient(t *testing.T, orgURL string, auth okta.Authenticator, opts okta.Options) (*okta.Client, *asynctest.Buffer) {
	t.Helper()
	if auth == nil {
		auth = okta.NewTokenAuth("demo-token")
	}
	return okta.NewTestClient(t, orgURL, auth, opts)
}

// collect returns every item of a listing, as okta.Collect does, and fails
// the test on the listing's error.
func collect[T any](tb testing.TB, seq iter.Seq2[T, error]) []T {
	tb.Helper()
	items, err := okta.Collect(seq)
	if err != nil {
		tb.Fatal(err)
	}
	return items
}

// listMembers lists the members of every group, workers listings at a
// time, and returns how many memberships it read. It fails the test on a
// listing's error.
func listMembers(ctx context.Context, tb testing.TB, c *okta.Client, groups []okta.Group, workers int) int {
	tb.Helper()
	var mu sync.Mutex
	members := 0
	ch := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range ch {
				n := 0
				for _, err := range c.ListGroupMembers(ctx, id) {
					if err != nil {
						errs <- err
						return
					}
					n++
				}
				mu.Lock()
				members += n
				mu.Unlock()
			}
		})
	}
	for _, g := range groups {
		ch <- g.ID
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return members
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	slices.Sort(out)
	return out
}

func userID(u okta.User) string   { return u.ID }
func groupID(g okta.Group) string { return g.ID }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func TestFakeListsEveryPageAndItemOnce(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 430, Groups: 23, Seed: 7})
	f := newFake(t, org, oktafake.Options{})
	c, _ := newClient(t, f.URL, nil, okta.Options{UserPageSize: 50, GroupPageSize: 10, MemberPageSize: 40})
	ctx := context.Background()

	users := collect(t, c.ListUsers(ctx, okta.UserListOptions{}))
	var want []okta.User
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			want = append(want, u)
		}
	}
	if diff := cmp.Diff(ids(want, userID), ids(users, userID)); diff != "" {
		t.Fatalf("users (-want +got):\n%s", diff)
	}
	if len(users) != len(want) {
		t.Fatalf("got %d users, want %d: some came twice", len(users), len(want))
	}
	slices.SortFunc(users, func(a, b okta.User) int { return strings.Compare(a.ID, b.ID) })
	if diff := cmp.Diff(want, users); diff != "" {
		t.Errorf("user contents (-want +got):\n%s", diff)
	}

	groups := collect(t, c.ListGroups(ctx, okta.GroupListOptions{ExpandStats: true}))
	if diff := cmp.Diff(ids(org.Groups(), groupID), ids(groups, groupID)); diff != "" || len(groups) != 23 {
		t.Fatalf("groups (-want +got):\n%s", diff)
	}
	wantMemberCalls := 0
	for _, g := range groups {
		members := collect(t, c.ListGroupMembers(ctx, g.ID))
		wantIDs := org.Members(g.ID)
		if got := ids(members, userID); !slices.Equal(got, wantIDs) {
			t.Errorf("members of %s: got %d, want %d", g.Profile.Name, len(got), len(wantIDs))
		}
		if n, ok := g.UsersCount(); !ok || n != len(wantIDs) {
			t.Errorf("UsersCount of %s = %d, %v, want %d", g.Profile.Name, n, ok, len(wantIDs))
		}
		wantMemberCalls += max(1, ceilDiv(len(wantIDs), 40))
	}
	st := f.Stats()
	wantCalls := map[string]int64{
		"GET /api/v1/users":             int64(ceilDiv(len(want), 50)),
		"GET /api/v1/groups":            int64(ceilDiv(23, 10)),
		"GET /api/v1/groups/{id}/users": int64(wantMemberCalls),
	}
	if diff := cmp.Diff(wantCalls, st.ByEndpoint); diff != "" {
		t.Errorf("requests per endpoint (-want +got):\n%s", diff)
	}
	if c.Calls() != st.Calls {
		t.Errorf("Calls() = %d, server saw %d", c.Calls(), st.Calls)
	}
	rs := c.RateStatus()
	if rs[okta.BucketUsers].Limit == 0 || rs[okta.BucketGroups].Limit == 0 || len(rs) != 5 {
		t.Errorf("RateStatus() = %+v, want users and groups known, five buckets", rs)
	}
}

func TestFakeExpressions(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 300, Groups: 30, Seed: 11})
	// Events show in the System Log at once: the test reads its own changes.
	f := newFake(t, org, oktafake.Options{LogDelay: -1})
	c, _ := newClient(t, f.URL, nil, okta.Options{UserPageSize: 40})
	ctx := context.Background()
	all := org.Users()

	// A login with characters that need encoding.
	var tricky okta.User
	for _, u := range all {
		if strings.ContainsAny(u.Profile.Login, "+&'") || strings.ContainsFunc(u.Profile.Login, func(r rune) bool { return r > 127 }) {
			tricky = u
			break
		}
	}
	if tricky.ID == "" {
		t.Fatal("the generated org has no login that needs encoding")
	}
	var active, deprovisioned []okta.User
	for _, u := range all {
		switch u.Status {
		case okta.StatusActive:
			active = append(active, u)
		case okta.StatusDeprovisioned:
			deprovisioned = append(deprovisioned, u)
		}
	}
	tests := []struct {
		name string
		opts okta.UserListOptions
		want []okta.User
	}{
		{"filter status", okta.UserListOptions{Filter: `status eq "ACTIVE"`}, active},
		{"filter includes DEPROVISIONED", okta.UserListOptions{Filter: `status eq "DEPROVISIONED"`}, deprovisioned},
		{"filter login with + or non-ASCII", okta.UserListOptions{Filter: fmt.Sprintf("profile.login eq %q", tricky.Profile.Login)}, []okta.User{tricky}},
		{"search login", okta.UserListOptions{Search: fmt.Sprintf("profile.login eq %q and id eq %q", tricky.Profile.Login, tricky.ID)}, []okta.User{tricky}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(t, c.ListUsers(ctx, tt.opts))
			if diff := cmp.Diff(ids(tt.want, userID), ids(got, userID)); diff != "" || len(tt.want) == 0 {
				t.Errorf("users (-want +got):\n%s", diff)
			}
		})
	}

	apps := collect(t, c.ListGroups(ctx, okta.GroupListOptions{Filter: `type eq "APP_GROUP"`}))
	var wantApps []okta.Group
	for _, g := range org.Groups() {
		if g.Type == okta.GroupTypeApp {
			wantApps = append(wantApps, g)
		}
	}
	if diff := cmp.Diff(ids(wantApps, groupID), ids(apps, groupID)); diff != "" || len(apps) == 0 {
		t.Errorf("APP_GROUPs (-want +got):\n%s", diff)
	}

	// Changes after since. The fake's clock may stamp the next change in
	// the very millisecond Now returns; step back one.
	since := org.Now().Add(-time.Millisecond)
	var changedUser, goneUser okta.User
	for _, u := range active {
		switch {
		case changedUser.ID == "":
			changedUser = u
		case goneUser.ID == "":
			goneUser = u
		}
	}
	if err := org.UpdateUser(changedUser.ID, func(u *okta.User) { u.Profile.Title = "Changed" }); err != nil {
		t.Fatal(err)
	}
	if err := org.SetUserStatus(goneUser.ID, okta.StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	var renamed, joined okta.Group
	for _, g := range org.Groups() {
		if g.Type != okta.GroupTypeOkta {
			continue
		}
		switch {
		case renamed.ID == "":
			renamed = g
		case joined.ID == "":
			joined = g
		}
	}
	if err := org.RenameGroup(renamed.ID, "Renamed group"); err != nil {
		t.Fatal(err)
	}
	if err := org.AddMember(joined.ID, goneUser.ID); err != nil {
		t.Fatal(err)
	}

	userTests := []struct {
		name string
		opts okta.UserListOptions
		want []string
	}{
		{"users changed", okta.UserListOptions{}, []string{changedUser.ID, goneUser.ID}},
		{"users changed and filtered", okta.UserListOptions{Filter: `status eq "DEPROVISIONED" or status eq "SUSPENDED"`}, []string{goneUser.ID}},
		{"users changed and searched", okta.UserListOptions{Search: `profile.title eq "Changed"`}, []string{changedUser.ID}},
	}
	for _, tt := range userTests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(t, c.ListUsersChangedSince(ctx, since, tt.opts))
			slices.Sort(tt.want)
			if diff := cmp.Diff(tt.want, ids(got, userID)); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
		})
	}
	groupTests := []struct {
		name string
		opts okta.GroupListOptions
		want []string
	}{
		{"groups changed", okta.GroupListOptions{}, []string{renamed.ID, joined.ID}},
		{"groups changed and filtered", okta.GroupListOptions{Filter: fmt.Sprintf("id eq %q or id eq %q", joined.ID, "00gnone")}, []string{joined.ID}},
		{"groups changed and searched", okta.GroupListOptions{Search: `profile.name eq "Renamed group"`}, []string{renamed.ID}},
	}
	for _, tt := range groupTests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(t, c.ListGroupsChangedSince(ctx, since, tt.opts))
			slices.Sort(tt.want)
			if diff := cmp.Diff(tt.want, ids(got, groupID)); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}

	events := collect(t, c.ListLogEvents(ctx, since, `eventType eq "group.user_membership.add"`))
	if len(events) != 1 || len(events[0].Target) != 2 {
		t.Fatalf("membership events = %+v, want one with two targets", events)
	}
	all2 := collect(t, c.ListLogEvents(ctx, since, ""))
	if len(all2) < 4 {
		t.Errorf("got %d events since the changes, want at least 4", len(all2))
	}
}

func TestFakeTypedErrorsWithoutRetries(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 20, Groups: 3, Seed: 1})
	f := newFake(t, org, oktafake.Options{Tokens: []string{"good-token"}, TokensWithoutLogs: []string{"no-logs-token"}})
	ctx := context.Background()
	since := time.Now().Add(-time.Hour)
	tests := []struct {
		name   string
		token  string
		list   func(*okta.Client) error
		is     func(error) bool
		status int
		expr   string
	}{
		{"bad token", "wrong-token", func(c *okta.Client) error {
			_, err := okta.Collect(c.ListUsers(ctx, okta.UserListOptions{}))
			return err
		}, okta.IsInvalidToken, 401, ""},
		{"no permission", "no-logs-token", func(c *okta.Client) error { _, err := okta.Collect(c.ListLogEvents(ctx, since, "")); return err }, okta.IsForbidden, 403, ""},
		{"bad filter", "good-token", func(c *okta.Client) error {
			_, err := okta.Collect(c.ListUsers(ctx, okta.UserListOptions{Filter: `profile.title eq "x"`}))
			return err
		}, okta.IsBadExpression, 400, `profile.title eq "x"`},
		{"bad search in changed-since", "good-token", func(c *okta.Client) error {
			_, err := okta.Collect(c.ListGroupsChangedSince(ctx, since, okta.GroupListOptions{Search: `profile.name zz "x"`}))
			return err
		}, okta.IsBadExpression, 400, `(profile.name zz "x") and (lastUpdated gt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, f.URL, okta.NewTokenAuth(tt.token), okta.Options{})
			err := tt.list(c)
			if !tt.is(err) {
				t.Fatalf("error = %v, not the kind wanted", err)
			}
			var e *okta.Error
			if !errors.As(err, &e) || e.StatusCode != tt.status || !strings.HasPrefix(e.Expression, tt.expr) {
				t.Fatalf("error = %#v, want status %d and expression %q", e, tt.status, tt.expr)
			}
			if tt.expr != "" && !strings.Contains(err.Error(), tt.expr) {
				t.Errorf("message %q does not name the expression", err)
			}
			if c.Calls() != 1 {
				t.Errorf("Calls() = %d, want 1 (no retries)", c.Calls())
			}
		})
	}
}

func TestFakeRateLimitIsWaitedOut(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 60, Groups: 3, Seed: 2})
	f := newFake(t, org, oktafake.Options{RateLimits: map[string]int{"users": 2}, RateWindow: 2 * time.Second, Now: time.Now})
	// Another integration uses up the users bucket.
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/api/v1/users?limit=1", nil)
		req.Header.Set("Authorization", "SSWS demo-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rec := &recorder{}
	c, _ := newClient(t, f.URL, nil, okta.Options{Observer: rec})
	users := collect(t, c.ListUsers(context.Background(), okta.UserListOptions{}))
	if len(users) == 0 {
		t.Fatal("no users")
	}
	if got := f.Stats().RateLimited; got != 1 {
		t.Errorf("429s = %d, want 1", got)
	}
	if rec.rateLimited != 1 || rec.waited <= 0 || rec.requests["users/rate_limited"] != 1 || rec.requests["users/ok"] != 1 {
		t.Errorf("observer = %+v, want one 429 waited out then one success", rec)
	}
}

func TestFakeServerErrors(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 400, Groups: 6, Seed: 3})
	ctx := context.Background()

	t.Run("retried until success", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, org, oktafake.Options{ErrorRate: 0.3, Seed: 5})
		rec := &recorder{}
		c, _ := newClient(t, f.URL, nil, okta.Options{UserPageSize: 20, Observer: rec})
		users := collect(t, c.ListUsers(ctx, okta.UserListOptions{}))
		want := 0
		for _, u := range org.Users() {
			if u.Status != okta.StatusDeprovisioned {
				want++
			}
		}
		if len(users) != want {
			t.Errorf("got %d users, want %d", len(users), want)
		}
		st := f.Stats()
		if st.ServerErrors == 0 || int64(rec.retries) != st.ServerErrors {
			t.Errorf("server errors %d, retries %d: want some, all retried", st.ServerErrors, rec.retries)
		}
	})
	t.Run("clear error after the budget", func(t *testing.T) {
		t.Parallel()
		g := org.Groups()[1]
		f := newFake(t, org, oktafake.Options{})
		f.SetFaults(oktafake.Faults{FailPathPrefix: "/api/v1/groups/" + g.ID + "/users"})
		c, _ := newClient(t, f.URL, nil, okta.Options{MaxRetries: 3})
		_, err := okta.Collect(c.ListGroupMembers(ctx, g.ID))
		if !okta.IsUnavailable(err) || !strings.Contains(err.Error(), "okta unavailable") || !strings.Contains(err.Error(), "after 4 attempts") {
			t.Fatalf("error = %v, want okta unavailable after 4 attempts", err)
		}
		if c.Calls() != 4 {
			t.Errorf("Calls() = %d, want 4", c.Calls())
		}
	})
}

func TestFakeConcurrencyCap(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 200, Groups: 40, Seed: 4})
	const limit = 4
	f := newFake(t, org, oktafake.Options{Latency: 5 * time.Millisecond, ConcurrencyLimit: limit})
	c, _ := newClient(t, f.URL, nil, okta.Options{MaxConcurrency: limit, MemberPageSize: 5})
	groups := collect(t, c.ListGroups(context.Background(), okta.GroupListOptions{}))
	listMembers(context.Background(), t, c, groups, 12)
	st := f.Stats()
	if st.MaxInFlight > limit || st.RateLimited != 0 {
		t.Errorf("max in flight %d, 429s %d: want at most %d and none", st.MaxInFlight, st.RateLimited, limit)
	}
	if st.MaxInFlight < 2 {
		t.Errorf("max in flight %d: the member listings did not run concurrently", st.MaxInFlight)
	}
}

func TestFakeCancellation(t *testing.T) {
	t.Parallel()
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 300, Groups: 3, Seed: 5})

	t.Run("stops a listing", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, org, oktafake.Options{Latency: 10 * time.Millisecond})
		c, _ := newClient(t, f.URL, nil, okta.Options{UserPageSize: 20})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		var err error
		for _, e := range c.ListUsers(ctx, okta.UserListOptions{}) {
			if e != nil {
				err = e
				break
			}
			if n++; n == 30 {
				cancel()
			}
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if n != 40 || c.Calls() != 2 {
			t.Errorf("read %d users in %d calls, want the 2 pages fetched before the cancel", n, c.Calls())
		}
	})
	t.Run("stops a wait", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, org, oktafake.Options{})
		f.SetFaults(oktafake.Faults{Down: true})
		c, _ := newClient(t, f.URL, nil, okta.Options{RetryBaseDelay: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := okta.Collect(c.ListGroups(ctx, okta.GroupListOptions{}))
			done <- err
		}()
		for c.Calls() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the backoff wait ignored the cancellation")
		}
	})
}

type keyPair struct {
	pub  any
	data []byte
	name string
}

// testKeyPairs returns the package's test keys (okta.TestKeys) as an RSA
// key in PKCS#8 PEM and an EC key as a JWK.
func testKeyPairs(t *testing.T) (rsaPKCS8, ecJWK keyPair) {
	t.Helper()
	r, e := okta.TestKeys()
	der, err := x509.MarshalPKCS8PrivateKey(r)
	if err != nil {
		t.Fatal(err)
	}
	d := e.D.FillBytes(make([]byte, 32))
	x, y := e.X.FillBytes(make([]byte, 32)), e.Y.FillBytes(make([]byte, 32))
	b64 := func(b []byte) string { return strings.TrimRight(base64URL(b), "=") }
	jwk, _ := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "d": b64(d), "kid": "ec-key-1"})
	return keyPair{&r.PublicKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "RSA PKCS#8"},
		keyPair{&e.PublicKey, jwk, "EC JWK"}
}

// TestFakeOAuthAndSecrets runs both OAuth flows and an API-token run against
// the fake, which verifies the assertion and the DPoP proofs, and checks
// that no credential appears in anything logged at trace level or in any
// error.
func TestFakeOAuthAndSecrets(t *testing.T) {
	t.Parallel()
	rsaKey, ecKey := testKeyPairs(t)
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 120, Groups: 5, Seed: 6})
	const apiToken = "00aVeryS3cretApiTokenValue"
	f := newFake(t, org, oktafake.Options{Tokens: []string{apiToken}, Seed: 9})
	f.RegisterOAuthClient("0oa-plain", rsaKey.pub, false)
	f.RegisterOAuthClient("0oa-dpop", ecKey.pub, true)

	tests := []struct {
		name       string
		auth       func() (okta.Authenticator, error)
		wantScheme string
		wantTokens int64 // token requests
	}{
		{"api token", func() (okta.Authenticator, error) { return okta.NewTokenAuth(apiToken), nil }, "SSWS", 0},
		{"private-key JWT", func() (okta.Authenticator, error) {
			return okta.NewOAuth(okta.OAuthConfig{ClientID: "0oa-plain", PrivateKey: rsaKey.data, Scopes: []string{"okta.users.read okta.groups.read okta.logs.read"}})
		}, "Bearer", 1},
		{"private-key JWT with DPoP and nonce", func() (okta.Authenticator, error) {
			return okta.NewOAuth(okta.OAuthConfig{ClientID: "0oa-dpop", PrivateKey: ecKey.data, Scopes: []string{"okta.users.read", "okta.groups.read", "okta.logs.read"}})
		}, "DPoP", 3},
	}
	var allLogs, allErrors strings.Builder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := tt.auth()
			if err != nil {
				t.Fatal(err)
			}
			f.ResetStats()
			f.authz = &secretSet{}
			c, logs := newClient(t, f.URL, auth, okta.Options{UserPageSize: 30})
			ctx := context.Background()
			users := collect(t, c.ListUsers(ctx, okta.UserListOptions{}))
			groups := collect(t, c.ListGroups(ctx, okta.GroupListOptions{ExpandStats: true}))
			for _, g := range groups {
				collect(t, c.ListGroupMembers(ctx, g.ID))
			}
			collect(t, c.ListLogEvents(ctx, time.Now().Add(-time.Hour), ""))
			if len(users) < 100 || len(groups) != 5 {
				t.Errorf("got %d users and %d groups", len(users), len(groups))
			}
			// Errors are logged and returned too: a filter Okta rejects.
			_, err = okta.Collect(c.ListUsers(ctx, okta.UserListOptions{Filter: `nickName eq "x"`}))
			if !okta.IsBadExpression(err) {
				t.Errorf("error = %v, want a bad expression", err)
			}
			fmt.Fprintln(&allErrors, err)
			// Retries are logged too.
			f.SetFaults(oktafake.Faults{ErrorRate: 0.3})
			collect(t, c.ListUsers(ctx, okta.UserListOptions{}))
			f.SetFaults(oktafake.Faults{})
			if got := f.authz.list(); !slices.Equal(got, []string{tt.wantScheme}) {
				t.Errorf("Authorization schemes = %v, want %s", got, tt.wantScheme)
			}
			if got := f.Stats().ByEndpoint["POST /oauth2/v1/token"]; got != tt.wantTokens {
				t.Errorf("token requests = %d, want %d", got, tt.wantTokens)
			}
			allLogs.WriteString(logs.String())
		})
	}
	// A wrong key and a wrong token fail with errors that name the problem
	// and quote no secret.
	wrong, err := okta.NewOAuth(okta.OAuthConfig{ClientID: "0oa-plain", PrivateKey: ecKey.data})
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []okta.Authenticator{wrong, okta.NewTokenAuth(apiToken + "x")} {
		c, logs := newClient(t, f.URL, auth, okta.Options{})
		_, err := okta.Collect(c.ListUsers(context.Background(), okta.UserListOptions{}))
		if !okta.IsInvalidToken(err) {
			t.Errorf("error = %v, want an invalid token", err)
		}
		fmt.Fprintln(&allErrors, err, fmt.Sprintf("%v %+v %#v", auth, auth, auth))
		allLogs.WriteString(logs.String())
	}

	secrets := append(f.secrets.list(), apiToken, apiToken+"x")
	for _, k := range [][]byte{rsaKey.data, ecKey.data} {
		for _, line := range strings.Split(string(k), "\n") {
			if len(line) > 20 && !strings.HasPrefix(line, "-----") {
				secrets = append(secrets, line)
			}
		}
	}
	var jwk map[string]string
	_ = json.Unmarshal(ecKey.data, &jwk)
	secrets = append(secrets, jwk["d"])
	if len(secrets) < 10 || !strings.Contains(allLogs.String(), `"level":"trace"`) {
		t.Fatalf("the test saw %d secrets and these logs: %.500s", len(secrets), allLogs.String())
	}
	for _, s := range secrets {
		if strings.Contains(allLogs.String(), s) {
			t.Errorf("a secret (%.6s...) appears in the logs", s)
		}
		if strings.Contains(allErrors.String(), s) {
			t.Errorf("a secret (%.6s...) appears in an error", s)
		}
	}
}

func base64URL(b []byte) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var sb strings.Builder
	for i := 0; i < len(b); i += 3 {
		var n uint32
		rem := min(3, len(b)-i)
		for j := range 3 {
			n <<= 8
			if j < rem {
				n |= uint32(b[i+j])
			}
		}
		for j := range rem + 1 {
			sb.WriteByte(enc[(n>>(18-6*j))&63])
		}
	}
	return sb.String()
}
