package orgsync

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// quietFixture is an org whose newest change is a year older than Okta's
// clock: the System Log refuses a since that old, and keeps no event of it.
func quietFixture(t *testing.T, so oktafake.Options) *fixture {
	t.Helper()
	f := newFixture(t, fixtureOptions{users: 40, groups: 8, seed: 3, server: so})
	f.clock.Advance(365 * 24 * time.Hour)
	return f
}

func TestQuietOrgReadsTheLogFromOktasClock(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{0, 10 * time.Minute, -10 * time.Minute} {
		t.Run(offset.String(), func(t *testing.T) {
			t.Parallel()
			f := quietFixture(t, oktafake.Options{ClockOffset: offset})
			s := f.syncer(Options{})
			ctx := context.Background()
			st, stats, err := s.Full(ctx)
			if err != nil {
				t.Fatalf("full sync: %v", err)
			}
			if !stats.LogReadable || stats.LogError != "" {
				t.Fatalf("got LogReadable %v, LogError %q; want the log read", stats.LogReadable, stats.LogError)
			}
			okta := f.srv.Now()
			_, _, mark := st.Watermarks()
			if d := okta.Sub(mark); d < -2*time.Second || d > time.Minute {
				t.Errorf("got log position %s, want Okta's time %s (less the listing time)", mark, okta)
			}
			for round := range 10 {
				f.clock.Advance(time.Minute)
				next, stats, err := s.Incremental(ctx, st)
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if stats.Mode != ModeIncremental || !stats.LogReadable {
					t.Fatalf("round %d: got mode %s (%s), log readable %v", round, stats.Mode, stats.Reason, stats.LogReadable)
				}
				if stats.Calls != 3 {
					t.Errorf("round %d: got %d calls for a sync with no change, want 3", round, stats.Calls)
				}
				st = next
			}
			// A deletion is found in the log, a year after the last change.
			victim := f.deleteLastGroup(t, st)
			f.clock.Advance(time.Minute)
			next := mustIncremental(ctx, t, s, st)
			if _, ok := next.group(victim); ok {
				t.Errorf("deleted group %s still in the state", victim)
			}
			assertConverged(t, s, next)
		})
	}
}

func TestOldLogPositionRunsAFullSync(t *testing.T) {
	t.Parallel()
	f := quietFixture(t, oktafake.Options{})
	ctx := context.Background()
	s, st := f.fullSynced(ctx, t, Options{})
	// The service was stopped for 100 days.
	f.clock.Advance(100 * 24 * time.Hour)
	next, stats, err := s.Incremental(ctx, st)
	if err != nil {
		t.Fatalf("incremental sync: %v", err)
	}
	if stats.Mode != ModeFull || !strings.Contains(stats.Reason, "older than Okta's 90-day retention") {
		t.Errorf("got mode %q, reason %q; want a full sync because of the retention", stats.Mode, stats.Reason)
	}
	if _, _, mark := next.Watermarks(); f.srv.Now().Sub(mark) > time.Minute {
		t.Errorf("got log position %s after the full sync, want about %s", mark, f.srv.Now())
	}
}

func TestLogFailureDoesNotFailTheSync(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		faults oktafake.Faults
	}{
		{"400 E0000053", oktafake.Faults{LogError: oktafake.ErrorResponse{Status: 400, Code: "E0000053"}}},
		{"5xx storm", oktafake.Faults{LogError: oktafake.ErrorResponse{Status: 503}}},
		{"outage by path", oktafake.Faults{FailPathPrefix: "/api/v1/logs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := quietFixture(t, oktafake.Options{})
			s := f.syncer(Options{DeletionCheckEvery: 2})
			ctx := context.Background()
			f.srv.SetFaults(tc.faults)
			st, stats, err := s.Full(ctx)
			if err != nil {
				t.Fatalf("full sync failed with the log failing: %v", err)
			}
			if stats.LogError == "" || stats.LogReadable || st.DeletionsFromLog() || !st.LogReadable() {
				t.Fatalf("got LogError %q, LogReadable %v, DeletionsFromLog %v, state LogReadable %v",
					stats.LogError, stats.LogReadable, st.DeletionsFromLog(), st.LogReadable())
			}
			_, _, failedAt := st.Watermarks()

			// Deletions during the outage come from the periodic check.
			victim := st.Users()[0].ID
			if err := f.org.DeleteUser(victim); err != nil {
				t.Fatal(err)
			}
			checked := false
			for range 2 {
				f.clock.Advance(time.Minute)
				next, stats, err := s.Incremental(ctx, st)
				if err != nil {
					t.Fatalf("incremental sync failed with the log failing: %v", err)
				}
				checked = checked || stats.DeletionCheck
				st = next
			}
			if _, ok := st.user(victim); ok || !checked {
				t.Errorf("deleted user still in the state after the periodic check (check ran: %v)", checked)
			}
			if _, _, mark := st.Watermarks(); !mark.Equal(failedAt) {
				t.Errorf("log position moved to %s while the log failed, want it kept at %s", mark, failedAt)
			}

			// The log reads again: it resumes from where it stopped, so a
			// group deleted during the outage is found at once.
			victimGroup := f.deleteLastGroup(t, st)
			f.srv.SetFaults(oktafake.Faults{})
			f.clock.Advance(time.Minute)
			next, stats, err := s.Incremental(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if !stats.LogReadable || stats.LogError != "" || stats.DeletionCheck {
				t.Errorf("got LogReadable %v, LogError %q, DeletionCheck %v after recovery", stats.LogReadable, stats.LogError, stats.DeletionCheck)
			}
			if _, ok := next.group(victimGroup); ok {
				t.Errorf("group deleted during the outage still in the state after the log read again")
			}
			assertConverged(t, s, next)
		})
	}
}

// Okta's log shows an event seconds after it happened: a sync right after
// a deletion misses it, and the next one, reading back over the overlap,
// finds it.
func TestLogDelayIsCoveredByTheOverlap(t *testing.T) {
	t.Parallel()
	f := quietFixture(t, oktafake.Options{LogDelay: 3 * time.Second})
	ctx := context.Background()
	s, st := f.fullSynced(ctx, t, Options{})
	victim := f.deleteLastGroup(t, st)
	f.clock.Advance(time.Second)
	next := mustIncremental(ctx, t, s, st)
	if _, ok := next.group(victim); !ok {
		t.Fatal("the deletion was seen before the log showed it: the fake's delay is not in effect")
	}
	f.clock.Advance(30 * time.Second)
	next = mustIncremental(ctx, t, s, next)
	if _, ok := next.group(victim); ok {
		t.Errorf("deleted group %s still in the state once the log shows its deletion", victim)
	}
	assertConverged(t, s, next)
}
