package provider

import (
	"context"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgstore"
)

// Okta delivers each event hook to any replica behind a Service, and only
// the leader syncs: a follower forwards its hints to the leader through a
// table of the shared database (pgstore.ForwardHint), which notifies the
// leader; the leader drains the table on each notification and when its
// term starts, and feeds the hints into its own coalescing (addPending and
// the schedule's trigger). A row outlives a leader change, so a hint that
// arrives during a failover reaches the next leader. Hints are hints: one
// lost (the table full, the database down) costs at most the time until
// the next scheduled sync, whose deletion check is the net.

// Outcomes of a hint a follower forwards, as the Observer gets them.
const (
	// HintStored is a hint written for the leader.
	HintStored = "stored"
	// HintDropped is a hint not written because the table is full: the
	// hints there ask for a sync already.
	HintDropped = "dropped"
	// HintFailed is a hint that could not be written (the database is
	// down); it is kept, and forwarded again or synced when this replica
	// leads.
	HintFailed = "failed"
)

// forwardSettle is how long a follower gathers a burst's hints before it
// forwards them in one row.
const forwardSettle = 100 * time.Millisecond

// HintCounts counts the hints forwarded between replicas, for /status.
type HintCounts struct {
	// Forwarded, Dropped and Failed count this replica's hints as a
	// follower, by outcome; Received the followers' hints it took up as
	// the leader.
	Forwarded int64 `json:"forwarded"`
	Dropped   int64 `json:"dropped"`
	Failed    int64 `json:"failed"`
	Received  int64 `json:"received"`
}

// forwardHints forwards pending hints to the leader each time a hint
// arrives while this replica follows, until ctx ends.
func (p *Provider) forwardHints(ctx context.Context) {
	sh := p.shared
	retry := time.NewTimer(0)
	<-retry.C
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sh.forward:
		case <-retry.C:
		}
		if !sleep(ctx, forwardSettle) {
			return
		}
		if role, _, _ := sh.snapshot(); role == RoleLeader {
			p.wake() // led meanwhile: this replica's schedule takes them
			continue
		}
		pd := p.takePending()
		h := pgstore.Hint{Published: pd.published}
		for i := range p.orgs {
			h.Users = append(h.Users, p.hintIDs(i, pd.of(i).Users)...)
			h.Groups = append(h.Groups, p.hintIDs(i, pd.of(i).Groups)...)
		}
		stored, err := sh.store.ForwardHint(ctx, h)
		outcome := HintStored
		switch {
		case err != nil:
			outcome = HintFailed
			for i := range p.orgs {
				p.requeue(i, pd.of(i), nil)
			}
			p.requeue(0, orgsync.Suspects{}, pd.published)
			retry.Reset(pollEvery)
			if ctx.Err() == nil {
				p.log.Warn().Err(err).Msg("cannot forward an event hook's hint to the leader; retrying (the next scheduled sync takes the change anyway)")
			}
		case !stored:
			outcome = HintDropped
		}
		sh.mu.Lock()
		switch outcome {
		case HintStored:
			sh.hints.Forwarded++
		case HintDropped:
			sh.hints.Dropped++
		default:
			sh.hints.Failed++
		}
		sh.mu.Unlock()
		p.obs.HintForwarded(outcome)
	}
}

// drainHints takes up the hints followers forwarded; with wake, it asks
// for the sync they want (at a term's start, its first sync takes them).
func (p *Provider) drainHints(ctx context.Context, wake bool) {
	sh := p.shared
	h, n, err := sh.store.DrainHints(ctx)
	if err != nil || n == 0 {
		return // a failure is the database's, seen by its health
	}
	p.addHintIDs(h.Users, h.Groups)
	p.requeue(0, orgsync.Suspects{}, h.Published)
	sh.mu.Lock()
	sh.hints.Received += int64(n)
	sh.mu.Unlock()
	p.obs.HintsReceived(n)
	p.log.Debug().Int("hints", n).Int("users", len(h.Users)).Int("groups", len(h.Groups)).Bool("truncated", h.Truncated).
		Msg("took up the hints followers forwarded")
	if wake {
		p.wake()
	}
}

// sleep waits d; it reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
