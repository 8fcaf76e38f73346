package provider

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// fakeOkta is an in-memory Okta org behind the provider's Okta interface.
type fakeOkta struct {
	mu       sync.Mutex
	users    []okta.User
	groups   []okta.Group
	members  map[string][]string
	failUser error            // ListUsers fails with it
	failMem  map[string]error // ListGroupMembers of these groups fails
	listed   []string         // groups whose members were listed
	delay    time.Duration    // per member listing
	// glitchUsers, when above 0, makes the next user listing bring only
	// that many users, once.
	glitchUsers int
	// emptyMembers makes member listings (of emptyGroup only, when set)
	// bring no one, whatever the groups' counts say.
	emptyMembers bool
	emptyGroup   string

	calls    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func newFakeOkta(users, groups int) *fakeOkta {
	f := &fakeOkta{members: make(map[string][]string), failMem: make(map[string]error)}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range users {
		f.users = append(f.users, okta.User{
			ID: fmt.Sprintf("00u%03d", i), Status: okta.StatusActive, LastUpdated: t0.Add(time.Duration(i) * time.Minute),
			Profile: okta.UserProfile{Login: fmt.Sprintf("user%d@example.com", i), Email: fmt.Sprintf("user%d@example.com", i),
				FirstName: "User", LastName: fmt.Sprint(i)},
		})
	}
	f.groups = append(f.groups, okta.Group{ID: "00g-everyone", Type: okta.GroupTypeBuiltIn, Profile: okta.GroupProfile{Name: "Everyone"}})
	for i := range groups {
		id := fmt.Sprintf("00g%03d", i)
		f.groups = append(f.groups, okta.Group{ID: id, Type: okta.GroupTypeOkta, LastUpdated: t0,
			Profile: okta.GroupProfile{Name: fmt.Sprintf("Team %d", i)}})
		for j := i; j < users; j += groups {
			f.members[id] = append(f.members[id], f.users[j].ID)
		}
	}
	return f
}

func (f *fakeOkta) ListUsers(ctx context.Context, _ okta.UserListOptions) iter.Seq2[okta.User, error] {
	return f.listUsers(true)
}

// listUsers lists the users; glitch applies glitchUsers.
func (f *fakeOkta) listUsers(glitch bool) iter.Seq2[okta.User, error] {
	return func(yield func(okta.User, error) bool) {
		f.calls.Add(1)
		f.mu.Lock()
		users, fail := slices.Clone(f.users), f.failUser
		if glitch && f.glitchUsers > 0 {
			users, f.glitchUsers = users[:f.glitchUsers], 0
		}
		f.mu.Unlock()
		yieldAll(yield, users, fail)
	}
}

func (f *fakeOkta) ListGroups(ctx context.Context, opts okta.GroupListOptions) iter.Seq2[okta.Group, error] {
	return func(yield func(okta.Group, error) bool) {
		f.calls.Add(1)
		f.mu.Lock()
		groups := slices.Clone(f.groups)
		counts := make(map[string]int)
		for id, m := range f.members {
			counts[id] = len(m)
		}
		everyone := len(f.users)
		f.mu.Unlock()
		for _, g := range groups {
			if opts.ExpandStats {
				n := counts[g.ID]
				if g.Type == okta.GroupTypeBuiltIn {
					n = everyone
				}
				g.Embedded = &okta.GroupEmbedded{Stats: &okta.GroupStats{UsersCount: n}}
			}
			if !yield(g, nil) {
				return
			}
		}
	}
}

func (f *fakeOkta) ListGroupMembersExpecting(ctx context.Context, id string, _ int) iter.Seq2[okta.User, error] {
	return func(yield func(okta.User, error) bool) {
		f.calls.Add(1)
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for {
			m := f.maxIn.Load()
			if n <= m || f.maxIn.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			yield(okta.User{}, ctx.Err())
			return
		}
		f.mu.Lock()
		f.listed = append(f.listed, id)
		fail := f.failMem[id]
		var users []okta.User
		for _, uid := range f.members[id] {
			if f.emptyMembers && (f.emptyGroup == "" || f.emptyGroup == id) {
				break
			}
			for _, u := range f.users {
				if u.ID == uid {
					users = append(users, u)
				}
			}
		}
		f.mu.Unlock()
		yieldAll(yield, users, fail)
	}
}

// ListUsersChangedSince lists the users updated after since.
func (f *fakeOkta) ListUsersChangedSince(ctx context.Context, since time.Time, opts okta.UserListOptions) iter.Seq2[okta.User, error] {
	return filtered(f.listUsers(false), func(u okta.User) bool { return u.LastUpdated.After(since) })
}

// ListGroupsChangedSince lists the groups updated after since.
func (f *fakeOkta) ListGroupsChangedSince(ctx context.Context, since time.Time, opts okta.GroupListOptions) iter.Seq2[okta.Group, error] {
	return filtered(f.ListGroups(ctx, opts), func(g okta.Group) bool {
		return g.LastUpdated.After(since) || g.LastMembershipUpdated.After(since)
	})
}

// yieldAll yields fail when it is set, else each of items.
func yieldAll[T any](yield func(T, error) bool, items []T, fail error) {
	if fail != nil {
		var zero T
		yield(zero, fail)
		return
	}
	for _, it := range items {
		if !yield(it, nil) {
			return
		}
	}
}

// filtered lists every error of seq, and the items keep reports true for.
func filtered[T any](seq iter.Seq2[T, error], keep func(T) bool) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err != nil || keep(v) {
				if !yield(v, err) {
					return
				}
			}
		}
	}
}

// ListLogEvents answers as Okta does to credentials without okta.logs.read.
func (f *fakeOkta) ListLogEvents(ctx context.Context, _ time.Time, _ string) iter.Seq2[okta.LogEvent, error] {
	return func(yield func(okta.LogEvent, error) bool) {
		f.calls.Add(1)
		yield(okta.LogEvent{}, &okta.Error{StatusCode: 403, Code: okta.CodeForbidden, Summary: "You do not have permission to perform the requested action"})
	}
}

// GetUser reads one user; an unknown id is Okta's 404.
func (f *fakeOkta) GetUser(_ context.Context, id string) (okta.User, error) {
	return getOne(f, func() []okta.User { return f.users }, func(u okta.User) string { return u.ID }, id)
}

// GetGroup reads one group; an unknown id is Okta's 404.
func (f *fakeOkta) GetGroup(_ context.Context, id string) (okta.Group, error) {
	return getOne(f, func() []okta.Group { return f.groups }, func(g okta.Group) string { return g.ID }, id)
}

// getOne finds the item with the id among those items returns (called
// under f.mu), as one Okta call.
func getOne[T any](f *fakeOkta, items func() []T, idOf func(T) string, id string) (T, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range items() {
		if idOf(it) == id {
			return it, nil
		}
	}
	var zero T
	return zero, &okta.Error{StatusCode: 404, Code: okta.CodeNotFound}
}

// ListAppUsers answers as Okta does for an app id the org does not have:
// the tests of this fake select no app.
func (f *fakeOkta) ListAppUsers(ctx context.Context, appID string) iter.Seq2[okta.AppUser, error] {
	return func(yield func(okta.AppUser, error) bool) {
		f.calls.Add(1)
		yield(okta.AppUser{}, &okta.Error{StatusCode: 404, Code: okta.CodeNotFound, Summary: "Not found: Resource not found: " + appID + " (AppInstance)"})
	}
}

// ListAppGroups answers as ListAppUsers does.
func (f *fakeOkta) ListAppGroups(ctx context.Context, appID string) iter.Seq2[okta.AppGroup, error] {
	return func(yield func(okta.AppGroup, error) bool) {
		f.calls.Add(1)
		yield(okta.AppGroup{}, &okta.Error{StatusCode: 404, Code: okta.CodeNotFound, Summary: "Not found: Resource not found: " + appID + " (AppInstance)"})
	}
}

func (f *fakeOkta) Calls() int64 { return f.calls.Load() }

func (f *fakeOkta) Now() time.Time { return time.Now() }

func (f *fakeOkta) RateStatus() map[string]okta.RateState {
	return map[string]okta.RateState{"groups": {Limit: 500, Remaining: 480}}
}

// removeUsers deletes the first n users.
func (f *fakeOkta) removeUsers(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gone := make(map[string]bool)
	for _, u := range f.users[:n] {
		gone[u.ID] = true
	}
	f.users = f.users[n:]
	for id, m := range f.members {
		f.members[id] = slices.DeleteFunc(slices.Clone(m), func(uid string) bool { return gone[uid] })
	}
}

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu        sync.Mutex
	outcomes  []string
	held      bool
	users     int
	hookSyncs int
	latencies []time.Duration
	calls     int64    // Okta requests of the finished syncs
	resumed   []string // the orgs resumed from a state, in order
}

func (r *recorder) SyncDone(_ string, mode orgsync.Mode, outcome Outcome, _ time.Duration, calls int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, string(mode)+":"+string(outcome))
	r.calls += calls
}
func (r *recorder) Published(users, _ int, _ time.Time) { r.mu.Lock(); r.users = users; r.mu.Unlock() }
func (r *recorder) Resumed(org string) {
	r.mu.Lock()
	r.resumed = append(r.resumed, org)
	r.mu.Unlock()
}
func (r *recorder) Held(h bool)                  { r.mu.Lock(); r.held = h; r.mu.Unlock() }
func (r *recorder) Mismatch(string, string, int) {}
func (r *recorder) StateSaveFailed()             {}
func (r *recorder) LogReadFailed(string)         {}
func (r *recorder) HookSync()                    { r.mu.Lock(); r.hookSyncs++; r.mu.Unlock() }
func (r *recorder) HintForwarded(string)         {}
func (r *recorder) HintsReceived(int)            {}
func (r *recorder) ChangeLatency(d time.Duration) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
}
func (r *recorder) Replica(bool, int64, bool, float64, int) {}

func newTestProvider(t *testing.T, f *fakeOkta, mod func(*Config)) (*Provider, *recorder) {
	t.Helper()
	// Every sync is a full one: this fake changes without the timestamps and
	// System Log events incremental syncs follow (see sync_test.go for those).
	cfg := Config{Interval: time.Hour, Timeout: time.Minute, Catalog: catalog.DefaultOptions(), MaxDeleteShare: 0.1, MemberConcurrency: 4}
	if mod != nil {
		mod(&cfg)
	}
	rec := &recorder{}
	return New(zerolog.Nop(), f, cfg, rec), rec
}

func TestFirstSyncPublishes(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(20, 4)
	p, rec := newTestProvider(t, f, nil)
	if p.Snapshot() != nil {
		t.Fatal("snapshot before the first sync: got one, want nil")
	}
	st := p.status()
	if st.Snapshot != nil || st.LastSync != nil || st.SnapshotAgeSeconds != nil {
		t.Errorf("status before the first sync: got %+v, want no snapshot and no last sync", st)
	}
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("outcome: got %q, want ok", got)
	}
	snap := p.Snapshot()
	if snap == nil {
		t.Fatal("snapshot after a good sync: got nil")
	}
	if snap.Users != 20 || snap.Groups != 4 {
		t.Errorf("snapshot: got %d users, %d groups, want 20, 4 (Everyone left out by default)", snap.Users, snap.Groups)
	}
	st = p.status()
	if st.Syncs != (SyncCounts{Completed: 1}) || st.LastSync == nil || st.LastSync.Outcome != OutcomeOK {
		t.Errorf("status: got syncs %+v, last %+v, want 1 completed and outcome ok", st.Syncs, st.LastSync)
	}
	if st.LastSync.OktaCalls != 2+4+1 {
		t.Errorf("oktaCalls: got %d, want 7 (users, groups, 4 member listings, System Log)", st.LastSync.OktaCalls)
	}
	if st.Snapshot == nil || st.Snapshot.ETag != snap.All.ETag || st.Report == nil || st.RateLimits["groups"].Limit != 500 {
		t.Errorf("status snapshot: got %+v, report %v, rates %v", st.Snapshot, st.Report, st.RateLimits)
	}
	if rec.users != 20 || !slices.Equal(rec.outcomes, []string{"full:ok"}) {
		t.Errorf("observer: got users %d, outcomes %v, want 20 and [full:ok]", rec.users, rec.outcomes)
	}
}

func TestMembershipListingsAreSaved(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(10, 5)
	// An empty group is never paged.
	f.groups = append(f.groups, okta.Group{ID: "00g-empty", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "Empty"}})
	p, _ := newTestProvider(t, f, func(c *Config) { c.Catalog.ExcludeGroupTypes = []string{} })
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("outcome: got %q, want ok", got)
	}
	slices.Sort(f.listed)
	want := []string{"00g000", "00g001", "00g002", "00g003", "00g004"}
	if !slices.Equal(f.listed, want) {
		t.Errorf("member listings: got %v, want %v (no Everyone, no empty group)", f.listed, want)
	}
	// Everyone is emitted with every user as a member, derived locally.
	if got := len(p.orgs[0].latest.Members()["00g-everyone"]); got != 10 {
		t.Errorf("Everyone members: got %d, want 10", got)
	}
}

func TestMemberListingsRunConcurrentlyWithinTheCap(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(40, 20)
	f.delay = 20 * time.Millisecond
	p, _ := newTestProvider(t, f, func(c *Config) { c.MemberConcurrency = 5 })
	if got := p.SyncOnce(context.Background()); got != OutcomeOK {
		t.Fatalf("outcome: got %q, want ok", got)
	}
	if got := f.maxIn.Load(); got < 2 || got > 5 {
		t.Errorf("member listings in flight: got at most %d, want 2..5", got)
	}
}

func TestFailedSyncKeepsLastGoodSnapshot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breakIt func(f *fakeOkta)
		want    string
	}{
		{"one group's members", func(f *fakeOkta) { f.failMem["00g002"] = errors.New("okta: 500 Internal Server Error") },
			`list members of group 00g002: okta: 500 Internal Server Error`},
		{"users", func(f *fakeOkta) { f.failUser = errors.New("okta: 401 invalid token") },
			"list users: okta: 401 invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeOkta(30, 6)
			p, rec := newTestProvider(t, f, nil)
			p.SyncOnce(context.Background())
			good := p.Snapshot()

			f.mu.Lock()
			tt.breakIt(f)
			f.mu.Unlock()
			f.removeUsers(1) // a change that must not show
			if got := p.SyncOnce(context.Background()); got != OutcomeFailed {
				t.Fatalf("outcome: got %q, want failed", got)
			}
			if p.Snapshot() != good {
				t.Error("snapshot after a failed sync: got a new one, want the last good one")
			}
			st := p.status()
			if st.Syncs != (SyncCounts{Completed: 1, Failed: 1}) {
				t.Errorf("syncs: got %+v, want 1 completed, 1 failed", st.Syncs)
			}
			if st.LastSync.Outcome != OutcomeFailed || st.LastSync.Error != tt.want {
				t.Errorf("last sync: got %q %q, want failed %q", st.LastSync.Outcome, st.LastSync.Error, tt.want)
			}
			if !slices.Equal(rec.outcomes, []string{"full:ok", "full:failed"}) {
				t.Errorf("observer outcomes: got %v", rec.outcomes)
			}
		})
	}
}

func TestDeletionGuard(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(50, 5)
	p, rec := newTestProvider(t, f, nil)
	ctx := context.Background()
	p.SyncOnce(ctx)
	first := p.Snapshot()

	if held, err := p.AcceptHeld(ctx, first.All.ETag); held != "" || err != nil {
		t.Errorf("accept with nothing held: got %q, %v; want \"\", nil", held, err)
	}

	// 5 of 50 users (10 %) is within the limit.
	f.removeUsers(5)
	if got := p.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("removing 10%%: got %q, want ok", got)
	}
	second := p.Snapshot()
	if second == first || second.Users != 45 {
		t.Fatalf("removing 10%%: got %d users served, want 45", second.Users)
	}

	// 10 of 45 (22 %) is held.
	f.removeUsers(10)
	if got := p.SyncOnce(ctx); got != OutcomeHeld {
		t.Fatalf("removing 22%%: got %q, want held", got)
	}
	if p.Snapshot() != second {
		t.Error("held snapshot is served")
	}
	st := p.status()
	wantReason := "would remove 10 of 45 users (22.2%, limit 10% by the maximum delete share)"
	if st.HeldBack == nil || st.HeldBack.Users != 35 || st.HeldBack.Reason != wantReason {
		t.Fatalf("heldBack: got %+v, want 35 users and reason %q", st.HeldBack, wantReason)
	}
	if st.LastSync.Outcome != OutcomeHeld || st.LastSync.Error != wantReason || !rec.held {
		t.Errorf("last sync: got %+v (observer held %v), want held with the reason", st.LastSync, rec.held)
	}

	var wantRemoved []string
	for _, n := range []int{10, 11, 12, 13, 14, 5, 6, 7, 8, 9} {
		wantRemoved = append(wantRemoved, fmt.Sprintf("user:default/user%d", n))
	}
	h := st.HeldBack
	if diff := cmp.Diff(wantRemoved, h.Removed); diff != "" || h.RemovedTotal != 10 || h.RemovedUsers != 10 || h.AddedTotal != 0 {
		t.Errorf("heldBack removed (-want +got):\n%s\ntotals: got removed %d (users %d), added %d; want 10, 10, 0", diff, h.RemovedTotal, h.RemovedUsers, h.AddedTotal)
	}
	if etag, removed, _ := p.HeldChanges(); etag != h.ETag || etag == second.All.ETag || len(removed) != 10 {
		t.Errorf("HeldChanges: got etag %s and %d removed; want the held %s (not the served one) and 10", etag, len(removed), h.ETag)
	}
	if held, err := p.AcceptHeld(ctx, second.All.ETag); held != h.ETag || err != nil || p.Snapshot() != second {
		t.Fatalf("accept with a stale etag: got %q, %v; want the held %q, nil, and nothing accepted", held, err, h.ETag)
	}
	if held, err := p.AcceptHeld(ctx, h.ETag); held != h.ETag || err != nil {
		t.Fatalf("accept: got %q, %v; want %q, nil", held, err, h.ETag)
	}
	if got := p.Snapshot(); got.Users != 35 {
		t.Errorf("after accept: got %d users served, want 35", got.Users)
	}
	if st := p.status(); st.HeldBack != nil || rec.held {
		t.Errorf("after accept: heldBack %+v, observer held %v, want none", st.HeldBack, rec.held)
	}

	// A later sync that no longer shrinks clears a hold.
	f.removeUsers(20)
	if got := p.SyncOnce(ctx); got != OutcomeHeld {
		t.Fatalf("removing 20 of 35: got %q, want held", got)
	}
	f2 := newFakeOkta(50, 5) // Okta recovers: everyone is back
	f.mu.Lock()
	f.users, f.members = f2.users, f2.members
	f.mu.Unlock()
	if got := p.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("after recovery: got %q, want ok", got)
	}
	if st := p.status(); st.HeldBack != nil || p.Snapshot().Users != 50 {
		t.Errorf("after recovery: heldBack %+v, %d users, want none and 50", st.HeldBack, p.Snapshot().Users)
	}
}

// eachBool runs f as a parallel subtest "name=false" and then
// "name=true" with that value.
func eachBool(t *testing.T, name string, f func(t *testing.T, v bool)) {
	t.Helper()
	for _, v := range []bool{false, true} {
		t.Run(fmt.Sprint(name, "=", v), func(t *testing.T) {
			t.Parallel()
			f(t, v)
		})
	}
}

func TestDeletionGuardGroupsAndAcceptDeletions(t *testing.T) {
	t.Parallel()
	eachBool(t, "accept", func(t *testing.T, accept bool) {
		f := newFakeOkta(20, 10)
		p, _ := newTestProvider(t, f, func(c *Config) { c.AcceptDeletions = accept })
		p.SyncOnce(context.Background())
		f.mu.Lock()
		f.groups = f.groups[:6] // Everyone and 5 of 10 groups
		f.mu.Unlock()
		got := p.SyncOnce(context.Background())
		want := OutcomeHeld
		if accept {
			want = OutcomeOK
		}
		if got != want {
			t.Fatalf("outcome: got %q, want %q", got, want)
		}
		if !accept && !strings.Contains(p.status().HeldBack.Reason, "would remove 5 of 10 groups") {
			t.Errorf("reason: got %q", p.status().HeldBack.Reason)
		}
	})
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(5, 2)
	p, _ := newTestProvider(t, f, func(c *Config) { c.Interval = 10 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	asynctest.WaitFor(t, 10*time.Second, "Run's third sync", func() bool { return p.status().Syncs.Completed >= 3 })
	asynctest.Stop(t, 10*time.Second, "Run", cancel, done)
}

func TestSyncTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(10, 3)
	f.delay = time.Second
	p, _ := newTestProvider(t, f, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	if got := p.SyncOnce(context.Background()); got != OutcomeFailed {
		t.Fatalf("outcome: got %q, want failed", got)
	}
	if e := p.status().LastSync.Error; !strings.HasPrefix(e, "sync did not finish within the sync timeout (50ms)") {
		t.Errorf("error: got %q", e)
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	for range 1000 {
		if d := jitter(time.Minute); d < 54*time.Second || d > 66*time.Second {
			t.Fatalf("jitter(1m): got %s, want within ±10%%", d)
		}
	}
}
