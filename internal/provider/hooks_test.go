package provider

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// TestHintBurst sends 1,000 hints within a second, a few naming a deleted
// user and others forged (naming users that exist), to a provider whose
// schedule would not sync for an hour and that cannot read the System
// Log. It checks that the burst costs at most 3 syncs and no Okta call
// beyond theirs, that the deletion is served, and that the forged hints
// removed nothing.
func TestHintBurst(t *testing.T) {
	t.Parallel()
	fake, client := fakeOrg(t, 200, 20, oktafake.Options{TokensWithoutLogs: []string{"no-logs"}})
	rec := &recorder{}
	var changed sync.WaitGroup
	changed.Add(1)
	var once sync.Once
	p := New(zerolog.Nop(), client, syncConfig(func(c *Config) {
		c.DeletionCheckEvery = 10000
		c.Changed = func() { once.Do(changed.Done) }
	}), rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	changed.Wait() // the first snapshot
	// Its calls are reported after the snapshot is served.
	asynctest.WaitFor(t, 30*time.Second, "the first sync's report", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.outcomes) == 1
	})

	var active []string
	for _, u := range fake.Org().Users() {
		if u.Status == "ACTIVE" {
			active = append(active, u.ID)
		}
	}
	gone, forged := active[3], active[4]
	served := p.Snapshot().Users
	if err := fake.Org().DeleteUser(gone); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	callsBefore := rec.calls
	rec.mu.Unlock()
	fakeBefore := fake.Stats().Calls

	start := time.Now()
	for i := range 1000 {
		h := eventhook.Hint{Events: 1, Published: []time.Time{time.Now()}}
		switch i % 100 {
		case 0:
			h.DeletedUsers = []string{gone}
		case 50:
			h.DeletedUsers = []string{forged, fmt.Sprintf("00unknown%d", i)}
			h.DeletedGroups = []string{"00gunknown"}
		}
		p.Hint(h)
		// Spread over one second.
		if wait := time.Until(start.Add(time.Duration(i+1) * time.Millisecond)); wait > 0 {
			time.Sleep(wait)
		}
	}
	// Settle and the gap between hook syncs are 0.5s and 1s: every sync
	// the burst asks for has started and finished long before this.
	time.Sleep(3 * time.Second)
	asynctest.WaitFor(t, 30*time.Second, "the hinted syncs' reports", func() bool {
		st := p.status()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return st.Syncs.HookTriggered > 0 && int64(len(rec.outcomes)) == 1+st.Syncs.HookTriggered
	})

	st := p.status()
	if st.Syncs.HookTriggered < 1 || st.Syncs.HookTriggered > 3 {
		t.Errorf("got %d syncs for 1,000 hints in a second, want 1 to 3", st.Syncs.HookTriggered)
	}
	if st.Syncs.Completed != 1+st.Syncs.HookTriggered || st.Syncs.Failed != 0 {
		t.Errorf("got %d completed and %d failed syncs, want the first and the %d hinted ones", st.Syncs.Completed, st.Syncs.Failed, st.Syncs.HookTriggered)
	}
	rec.mu.Lock()
	syncCalls, latencies := rec.calls-callsBefore, len(rec.latencies)
	rec.mu.Unlock()
	if got := fake.Stats().Calls - fakeBefore; got != syncCalls {
		t.Errorf("got %d Okta calls since the burst began, want %d: only the syncs' own", got, syncCalls)
	}
	snap := p.Snapshot()
	if snap.Users != served-1 {
		t.Errorf("got %d users served, want %d: the deleted one gone, the forged hint's kept", snap.Users, served-1)
	}
	if latencies == 0 {
		t.Errorf("got no change-to-publish latency observed for the hinted deletion")
	}
}
