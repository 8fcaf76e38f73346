package provider

import (
	"context"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// Defaults of the hook-triggered syncs' pacing.
const (
	// defaultHookSettle is how long a hint waits for the rest of its burst
	// before the sync it asks for starts, so that a burst costs one sync.
	defaultHookSettle = 500 * time.Millisecond
	// defaultHookMinGap is the least time between the starts of two
	// hook-triggered syncs: hints arriving during a sync and after it
	// cost one more sync, not one each.
	defaultHookMinGap = time.Second
	// maxPendingLatencies bounds the publication times kept for the
	// change-to-publish latency between two syncs.
	maxPendingLatencies = 1000
)

// pending is what hints asked for that no sync has done yet.
type pending struct {
	suspects  orgsync.Suspects
	published []time.Time
}

// Hint takes an event hook's hint: it schedules a coalesced incremental
// sync that also checks the deletions the hint names with Okta. It never
// blocks. It implements eventhook.Target.
func (p *Provider) Hint(h eventhook.Hint) {
	if h.Events == 0 {
		return
	}
	p.addPending(orgsync.Suspects{Users: h.DeletedUsers, Groups: h.DeletedGroups}, h.Published)
	p.wake()
}

// wake asks for the sync pending hints want: of the schedule when this
// replica syncs, of the forwarder to the leader when it follows.
func (p *Provider) wake() {
	ch := p.trigger
	if sh := p.shared; sh != nil {
		if role, _, _ := sh.snapshot(); role != RoleLeader {
			ch = sh.forward
		}
	}
	select {
	case ch <- struct{}{}:
	default: // a sync is asked for already; this hint joins it
	}
}

// addPending adds suspects and publication times to what the next sync
// takes, keeping at most maxPendingLatencies times.
func (p *Provider) addPending(s orgsync.Suspects, published []time.Time) {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	p.pend.suspects.Users = append(p.pend.suspects.Users, s.Users...)
	p.pend.suspects.Groups = append(p.pend.suspects.Groups, s.Groups...)
	n := min(len(published), maxPendingLatencies-len(p.pend.published))
	p.pend.published = append(p.pend.published, published[:max(n, 0)]...)
}

// takePending returns and clears what hints asked for.
func (p *Provider) takePending() pending {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	out := p.pend
	p.pend = pending{}
	return out
}

// requeue gives back what a sync did not do: the suspects it could not
// check (or all, when it failed) and, when it published nothing new, the
// publication times, so that a later sync measures them. It does not ask
// for a sync: the next one, scheduled or hinted, takes them.
func (p *Provider) requeue(s orgsync.Suspects, published []time.Time) {
	if !s.Empty() || len(published) > 0 {
		p.addPending(s, published)
	}
}

// waitForHints waits out the settle time and the gap since the last
// hook-triggered sync started. It reports false when ctx ended.
func (p *Provider) waitForHints(ctx context.Context, lastStart time.Time) bool {
	wait := p.cfg.HookSettle
	if gap := time.Until(lastStart.Add(p.cfg.HookMinGap)); gap > wait {
		wait = gap
	}
	return sleep(ctx, wait)
}
