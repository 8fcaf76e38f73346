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

// pending is what hints asked for that no sync has done yet: the
// deletions to check, by the index of their org, and the events'
// publication times.
type pending struct {
	suspects  []orgsync.Suspects
	published []time.Time
}

// of returns the deletions to check in the org of index i.
func (pd *pending) of(i int) orgsync.Suspects {
	if i < len(pd.suspects) {
		return pd.suspects[i]
	}
	return orgsync.Suspects{}
}

// Hint takes an event hook's hint for the first (or only) org: it
// schedules a coalesced incremental sync that also checks the deletions
// the hint names with Okta. It never blocks. It implements
// eventhook.Target.
func (p *Provider) Hint(h eventhook.Hint) { p.hint(0, h) }

// OrgHints returns the target of the event hook of the org named name,
// and false when there is no such org.
func (p *Provider) OrgHints(name string) (eventhook.Target, bool) {
	i := p.orgIndex(name)
	if i < 0 {
		return nil, false
	}
	return orgHints{p, i}, true
}

// orgHints takes the hints of one org's event hook.
type orgHints struct {
	p   *Provider
	org int
}

func (t orgHints) Hint(h eventhook.Hint) { t.p.hint(t.org, h) }

// hint takes a hint for the org of index org.
func (p *Provider) hint(org int, h eventhook.Hint) {
	if h.Events == 0 {
		return
	}
	p.addPending(org, orgsync.Suspects{Users: h.DeletedUsers, Groups: h.DeletedGroups}, h.Published)
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
	poke(ch) // a sync asked for already takes this hint too
}

// addPending adds suspects of the org of index org and publication times
// to what the next sync takes, keeping at most maxPendingLatencies times.
func (p *Provider) addPending(org int, s orgsync.Suspects, published []time.Time) {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	if !s.Empty() {
		for len(p.pend.suspects) <= org {
			p.pend.suspects = append(p.pend.suspects, orgsync.Suspects{})
		}
		ps := &p.pend.suspects[org]
		ps.Users = append(ps.Users, s.Users...)
		ps.Groups = append(ps.Groups, s.Groups...)
	}
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

// requeue gives back what a sync did not do: the suspects of the org of
// index org it could not check (or all, when it failed) and, when it
// published nothing new, the publication times, so that a later sync
// measures them. It does not ask for a sync: the next one, scheduled or
// hinted, takes them.
func (p *Provider) requeue(org int, s orgsync.Suspects, published []time.Time) {
	if !s.Empty() || len(published) > 0 {
		p.addPending(org, s, published)
	}
}

// requeueStep gives back the suspects a sync step did not check: those
// of the orgs it did not sync (whose sync started by an earlier step
// still runs, or ended before it), and of each org's sync it took the
// result of, the ones left unconfirmed, or all when that sync failed or
// ok is false (the step's result is not served).
func (p *Provider) requeueStep(r *syncResult, hints pending, ok bool) {
	for i, o := range r.orgs {
		if o.late || o.earlier {
			p.requeue(i, hints.of(i), nil)
		}
		if o.late {
			continue
		}
		if !ok || o.err != nil {
			p.requeue(i, o.suspects, nil)
		} else {
			p.requeue(i, o.stats.Unconfirmed, nil)
		}
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
