package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// A listing that once brings 10 of 50 users is held; the hold must not
// become the base of the next syncs, so it lifts by itself and a new user
// shows within two syncs, with nothing accepted.
func TestHeldSnapshotIsNeverTheBase(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(50, 5)
	p, _ := newTestProvider(t, f, func(c *Config) {
		c.FullInterval = 24 * time.Hour // incremental syncs
		c.DeletionCheckEvery = 1        // this fake's log is not readable: list every sync
	})
	ctx := context.Background()
	if got := p.SyncOnce(ctx); got != OutcomeOK {
		t.Fatalf("first sync: got %s", got)
	}
	f.mu.Lock()
	f.glitchUsers = 10
	f.mu.Unlock()
	if got := p.SyncOnce(ctx); got != OutcomeHeld {
		t.Fatalf("glitch: got %s, want held", got)
	}
	f.mu.Lock()
	f.users = append(f.users, okta.User{ID: "00u999", Status: okta.StatusActive, LastUpdated: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Profile: okta.UserProfile{Login: "new@example.com", Email: "new@example.com", FirstName: "New", LastName: "User"}})
	f.mu.Unlock()
	var outcomes []Outcome
	for range 2 {
		outcomes = append(outcomes, p.SyncOnce(ctx))
		if p.Snapshot().Users == 51 {
			break
		}
	}
	if got := p.Snapshot().Users; got != 51 {
		t.Fatalf("after recovery and a new user: got %d users served (outcomes %v), want 51", got, outcomes)
	}
	if st := p.status(); st.HeldBack != nil {
		t.Errorf("hold did not lift by itself: %+v", st.HeldBack)
	}
}

// Member listings that bring no one while Okta counts members are held,
// shown, and lift when the listings are right again.
func TestEmptyMemberListingsAreHeld(t *testing.T) {
	t.Parallel()
	eachBool(t, "incremental", func(t *testing.T, incremental bool) {
		f := newFakeOkta(50, 5)
		p, _ := newTestProvider(t, f, func(c *Config) {
			if incremental {
				c.FullInterval = 24 * time.Hour
			}
		})
		ctx := context.Background()
		p.SyncOnce(ctx)
		served := p.Snapshot()
		f.mu.Lock()
		f.emptyMembers = true
		for i := range f.groups {
			f.groups[i].LastMembershipUpdated = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // listed again
		}
		f.mu.Unlock()
		if got := p.SyncOnce(ctx); got != OutcomeHeld {
			t.Fatalf("empty member listings: got %s, want held", got)
		}
		if p.Snapshot() != served {
			t.Error("a snapshot without the memberships is served")
		}
		if r := p.status().HeldBack.Reason; !strings.Contains(r, "would remove 50 of 50 group memberships") {
			t.Errorf("reason: got %q", r)
		}
		f.mu.Lock()
		f.emptyMembers = false
		f.mu.Unlock()
		if got := p.SyncOnce(ctx); got != OutcomeOK || p.status().HeldBack != nil {
			t.Errorf("listings right again: got %s, held %+v, want ok and no hold", got, p.status().HeldBack)
		}
	})
}

// One short listing is held even when it removes few memberships.
func TestShortMemberListingIsHeld(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(400, 20) // 20 members a group
	p, _ := newTestProvider(t, f, func(c *Config) { c.MaxDeleteShare = 0.5 })
	ctx := context.Background()
	p.SyncOnce(ctx)
	f.mu.Lock()
	f.emptyMembers, f.emptyGroup = true, "00g003"
	f.mu.Unlock()
	if got := p.SyncOnce(ctx); got != OutcomeHeld {
		t.Fatalf("got %s, want held", got)
	}
	want := "1 member listings brought far fewer members than Okta counts (group 00g003 listed 0 members, Okta counts 20)"
	if r := p.status().HeldBack.Reason; r != want {
		t.Errorf("reason: got %q, want %q", r, want)
	}
}

func TestRequestTimeoutIsNotReportedAsSyncTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(10, 2)
	f.failUser = fmt.Errorf("%w: GET /api/v1/users failed after 5 attempts: %w", okta.ErrUnavailable, context.DeadlineExceeded)
	// The service names its settings through SettingName.
	names := map[string]string{"provider.Timeout": "SYNC_TIMEOUT", "okta.RequestTimeout": "OKTA_REQUEST_TIMEOUT"}
	p, _ := newTestProvider(t, f, func(c *Config) { c.SettingName = func(k string) string { return names[k] } })
	if got := p.SyncOnce(context.Background()); got != OutcomeFailed {
		t.Fatalf("got %s, want failed", got)
	}
	if err := p.lastSync.err; !errors.Is(err, ErrRequestTimeout) || errors.Is(err, ErrSyncTimeout) {
		t.Errorf("error %v: want ErrRequestTimeout, not ErrSyncTimeout", err)
	}
	e := p.status().LastSync.Error
	if strings.Contains(e, "SYNC_TIMEOUT") || !strings.Contains(e, "OKTA_REQUEST_TIMEOUT") {
		t.Errorf("error: got %q, want it to name OKTA_REQUEST_TIMEOUT, not SYNC_TIMEOUT", e)
	}
	if r := p.NotReady(); !strings.Contains(r, "raise OKTA_REQUEST_TIMEOUT") {
		t.Errorf("NotReady: got %q, want the fix", r)
	}
}

func TestFailureIsLoggedOncePerCause(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(10, 2)
	var buf bytes.Buffer
	cfg := Config{Interval: time.Hour, Timeout: time.Minute, MaxDeleteShare: 0.1}
	p := New(zerolog.New(&buf).Level(zerolog.InfoLevel), f, cfg, nil)
	fail := func(err error) {
		f.mu.Lock()
		f.failUser = err
		f.mu.Unlock()
		p.SyncOnce(context.Background())
	}
	for i := range 3 {
		fail(&okta.Error{StatusCode: 503, Method: "GET", Path: "/api/v1/users", ID: fmt.Sprint("oae", i)})
	}
	fail(&okta.Error{StatusCode: 401, Code: okta.CodeInvalidToken, Method: "GET", Path: "/api/v1/users"})
	fail(&okta.Error{StatusCode: 401, Code: okta.CodeInvalidToken, Method: "GET", Path: "/api/v1/users"})
	if n := strings.Count(buf.String(), `"message":"sync failed`); n != 2 {
		t.Errorf("got %d failure lines for 5 failures of 2 causes, want 2:\n%s", n, buf.String())
	}
	if r := p.NotReady(); !strings.Contains(r, "5 failed") || !strings.Contains(r, "credentials") {
		t.Errorf("NotReady: got %q", r)
	}
	fail(nil)
	if r := p.NotReady(); r != "" {
		t.Errorf("NotReady once serving: got %q, want empty", r)
	}
}

// A saved state without users is never served: unguarded, it would remove
// every user from the catalog.
func TestSavedStateWithoutUsersIsIgnored(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sync-state.bin")
	empty := newFakeOkta(0, 3)
	p, _ := newTestProvider(t, empty, func(c *Config) { c.StatePath = path })
	p.SyncOnce(context.Background())
	if st, err := orgsync.Load(path); err != nil || len(st.Users()) != 0 {
		t.Fatalf("saved state: %v (want a valid state without users)", err)
	}
	f := newFakeOkta(20, 3)
	p2, _ := newTestProvider(t, f, func(c *Config) { c.StatePath = path })
	p2.LoadState()
	if p2.Snapshot() != nil {
		t.Fatal("a saved state without users is served")
	}
	if got := p2.SyncOnce(context.Background()); got != OutcomeOK || p2.Snapshot().Users != 20 {
		t.Errorf("first sync: got %s with %d users, want ok with 20", got, p2.Snapshot().Users)
	}
}

// A first snapshot built on member listings Okta's counts contradict is
// not served: it would be a partial catalog.
func TestFirstSnapshotOnShortListingsIsHeld(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(50, 5)
	f.emptyMembers = true
	p, _ := newTestProvider(t, f, nil)
	ctx := context.Background()
	if got := p.SyncOnce(ctx); got != OutcomeHeld || p.Snapshot() != nil {
		t.Fatalf("got %s, snapshot %v; want held and nothing served", got, p.Snapshot())
	}
	if r := p.NotReady(); !strings.Contains(r, "held back by the deletion guard") || !strings.Contains(r, "Okta counts 10") {
		t.Errorf("NotReady: got %q", r)
	}
	f.mu.Lock()
	f.emptyMembers = false
	f.mu.Unlock()
	if got := p.SyncOnce(ctx); got != OutcomeOK || p.Snapshot() == nil || p.status().HeldBack != nil {
		t.Errorf("listings right again: got %s, held %+v", got, p.status().HeldBack)
	}
}

// POST /admin/accept does not wait out a sync in progress: AcceptHeld gives
// up when its context ends.
func TestAcceptHeldGivesUpWaitingForASync(t *testing.T) {
	t.Parallel()
	p, stop := stuckSync(t)
	actx, acancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer acancel()
	if _, err := p.AcceptHeld(actx, `"any"`); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("AcceptHeld during a sync: got %v, want context.DeadlineExceeded", err)
	}
	if got := stop(); got != OutcomeFailed {
		t.Errorf("cancelled sync: got %s, want failed", got)
	}
}

// stuckSync starts a first sync of 10 users in 3 groups that waits on a
// member listing until stop cancels it; stop returns its outcome.
func stuckSync(t *testing.T) (p *Provider, stop func() Outcome) {
	t.Helper()
	f := newFakeOkta(10, 3)
	f.delay = time.Hour
	p, _ = newTestProvider(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome, 1)
	go func() { done <- p.SyncOnce(ctx) }()
	for f.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond) // until the sync waits on a member listing
	}
	return p, func() Outcome {
		cancel()
		return <-done
	}
}
