package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

func TestBudgetTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// 500 a minute at half share: 250 per window; 50 used, 20 s left.
	rs := okta.RateState{Limit: 500, Remaining: 450, ResetAt: now.Add(20 * time.Second), Allowance: 250, Window: time.Minute}
	for _, tc := range []struct {
		name string
		n    int64
		rs   okta.RateState
		want time.Duration
	}{
		{"within the window's allowance", 200, rs, 0},
		{"one more window", 201, rs, 20 * time.Second},
		{"three more windows", 200 + 2*250 + 1, rs, 20*time.Second + 2*61*time.Second},
		{"window already reset", 250, okta.RateState{Limit: 500, Remaining: 0, ResetAt: now.Add(-time.Second), Allowance: 250, Window: time.Minute}, 0},
		{"unknown budget", 10000, okta.RateState{Window: time.Minute}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := budgetTime(tc.n, tc.rs, now); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestEstimateAddsThePhases(t *testing.T) {
	t.Parallel()
	now := time.Now()
	rates := map[string]okta.RateState{
		okta.BucketGroups: {Limit: 500, Remaining: 500, ResetAt: now.Add(time.Minute), Allowance: 250, Window: time.Minute},
	}
	// The users phase: 50 pages done in 10 s, 50 left (10 s at that
	// pace); then 1,000 member calls: 250 now and in each of the three
	// windows after this one, however fast or slow the sync's pace so far.
	r := orgsync.ProgressReport{Phase: orgsync.PhaseUsers, PhaseStartedAt: time.Now().Add(-10 * time.Second), PhaseCalls: 50,
		Remaining: map[string]int64{okta.BucketUsers: 50, okta.BucketGroups: 1000}}
	got := estimate(r, rates, now, 2, 11*time.Second)
	want := 10*time.Second + time.Minute + 2*61*time.Second
	if got < want-time.Second || got > want+time.Second {
		t.Errorf("got %s, want about %s", got, want)
	}
}

func TestProgressWhileSyncing(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(40, 8)
	f.delay = 20 * time.Millisecond
	logs := &asynctest.Buffer{}
	p := New(zerolog.New(logs), f, Config{Interval: time.Hour, Timeout: time.Minute, MaxDeleteShare: 0.1,
		MemberConcurrency: 1, ProgressEvery: 30 * time.Millisecond}, nil)
	if p.status().Progress != nil {
		t.Fatal("progress before any sync: got one, want null")
	}
	done := make(chan Outcome, 1)
	go func() { done <- p.SyncOnce(context.Background()) }()
	var seen []*Progress
	for len(done) == 0 {
		if pr := p.status().Progress; pr != nil {
			seen = append(seen, pr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := <-done; got != OutcomeOK {
		t.Fatalf("sync: got %s, want ok", got)
	}
	if p.status().Progress != nil {
		t.Error("progress after the sync: got one, want null")
	}
	var members *Progress
	for i, pr := range seen {
		if i > 0 && (pr.ListingsDone < seen[i-1].ListingsDone || pr.OktaCalls < seen[i-1].OktaCalls) {
			t.Errorf("progress went back: %+v after %+v", pr, seen[i-1])
		}
		if pr.Phase == orgsync.PhaseMembers && pr.Percent != nil {
			members = pr
		}
	}
	if members == nil {
		t.Fatalf("no progress seen in the members phase among %d samples", len(seen))
	}
	if members.ListingsTotal != 8 || members.ETASeconds == nil || members.CallsRemaining == nil || *members.Percent <= 0 || *members.Percent >= 100 {
		t.Errorf("members phase: got %+v, want 8 listings, a percentage below 100 and an ETA", members)
	}
	if !strings.Contains(logs.String(), `"message":"sync progress"`) || !strings.Contains(logs.String(), `"phase":"members"`) {
		t.Errorf("log: no sync progress line for the members phase:\n%s", logs.String())
	}
}

func TestNotReadySaysHowFar(t *testing.T) {
	t.Parallel()
	p, stop := stuckSync(t)
	got := p.NotReady()
	stop()
	for _, want := range []string{"a full sync has been running for", "phase members", "0 of 3 member listings done", "Okta calls made", "left"} {
		if !strings.Contains(got, want) {
			t.Errorf("NotReady: got %q, want it to contain %q", got, want)
		}
	}
}

// The deletion guard logs a held snapshot once, not on every sync that
// holds it again.
func TestGuardLogsOncePerHeldSnapshot(t *testing.T) {
	t.Parallel()
	f := newFakeOkta(50, 5)
	logs := &asynctest.Buffer{}
	p := New(zerolog.New(logs), f, Config{Interval: time.Hour, Timeout: time.Minute, MaxDeleteShare: 0.1}, nil)
	ctx := context.Background()
	p.SyncOnce(ctx)
	f.removeUsers(20)
	for range 3 {
		if got := p.SyncOnce(ctx); got != OutcomeHeld {
			t.Fatalf("got %s, want held", got)
		}
	}
	if n := strings.Count(logs.String(), "DELETION GUARD"); n != 1 {
		t.Errorf("got %d DELETION GUARD lines for one held snapshot over three syncs, want 1", n)
	}
	f.removeUsers(1) // another snapshot: logged again
	p.SyncOnce(ctx)
	if n := strings.Count(logs.String(), "DELETION GUARD"); n != 2 {
		t.Errorf("got %d DELETION GUARD lines after a second held snapshot, want 2", n)
	}
}
