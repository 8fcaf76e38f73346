package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// AcceptHeld serves the snapshot held back by the deletion guard. It
// returns accepted false, and no error, when none is held.
//
// In shared mode any replica accepts, through the database, and every
// replica serves the accepted snapshot.
func (p *Provider) AcceptHeld(ctx context.Context) (accepted bool, err error) {
	return p.store.accept(ctx)
}

// acceptLocal is AcceptHeld with the state file.
func (p *Provider) acceptLocal(ctx context.Context) (accepted bool, err error) {
	select {
	case p.syncSlot <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("waiting for the sync in progress: %w", ctx.Err())
	}
	defer func() { <-p.syncSlot }()
	p.mu.Lock()
	h := p.held
	if h == nil {
		p.mu.Unlock()
		return false, nil
	}
	p.serve(h.gen, p.cfg.Now())
	p.mu.Unlock()
	p.log.Warn().Int("users", h.info.Users).Int("groups", h.info.Groups).
		Int("removedUsers", h.info.removedUsers).Int("removedGroups", h.info.removedGroups).
		Msg("held snapshot accepted by an operator; now serving it")
	p.saveState(h.gen.state, true)
	return true, nil
}

// guardAndPublish passes r's generation through the deletion guard: it is
// served, or held back in place of any snapshot held before. It records
// the sync on /status. The store keeps the verdict first, and nothing
// changes here when it cannot (shared mode): the error is returned.
// syncSlot must be held.
func (p *Provider) guardAndPublish(ctx context.Context, r *syncResult) (Outcome, error) {
	info := r.info()
	info.Outcome = OutcomeOK
	p.mu.Lock()
	h, ok := p.guard(r.gen, r.prev, r.stats.ShortListings)
	p.mu.Unlock()
	if err := p.store.keep(ctx, r, h, ok); err != nil {
		return OutcomeFailed, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changes = p.changeTracking(r.next)
	p.completed++
	if ok {
		p.serve(r.gen, r.finished)
	} else {
		info.Outcome, info.Error = OutcomeHeld, h.Reason
		p.hold(r.log, r.gen, h, r.finished)
	}
	p.lastSync = info
	return info.Outcome, nil
}

// hold keeps gen, described by h, back from being served, in place of any
// snapshot held before: the hold dates from the first one, and is logged
// when the held snapshot changes. p.mu must be held.
func (p *Provider) hold(log zerolog.Logger, gen *generation, h HeldBack, at time.Time) {
	again := p.held != nil && p.held.etag == gen.snap.All.ETag
	if p.held != nil {
		at = p.held.heldAt // still held: since the first hold
	} else {
		p.obs.Held(true)
	}
	p.held = &heldSnapshot{gen: gen, etag: gen.snap.All.ETag, info: h, heldAt: at}
	ev := log.Error()
	if again {
		ev = log.Debug() // the same snapshot: logged when it was first held
	}
	ev.Int("users", h.Users).Int("groups", h.Groups).
		Int("removedUsers", h.removedUsers).Int("removedGroups", h.removedGroups).
		Int("removedMemberships", h.removedMemberships).Str("etag", gen.snap.All.ETag).
		Msg("DELETION GUARD: new snapshot held back, still serving the previous one; " + h.Reason +
			"; it lifts by itself when Okta shows the removed entities again; accept it with POST /admin/accept or " + p.cfg.setting("provider.AcceptDeletions") + " if the removal is intended")
}

// guard compares gen with the served generation, and next (its state)
// with base (the served one). It returns ok=false and a description when
// gen removes more than the allowed share of users, groups or memberships,
// or when it was built on member listings far shorter than Okta's counts.
// p.mu must be held.
func (p *Provider) guard(gen *generation, base *orgsync.State, short []orgsync.Shortfall) (HeldBack, bool) {
	if p.served == nil {
		// Nothing served yet, nothing to remove; but a first snapshot
		// built on listings Okta's counts contradict is partial.
		h := HeldBack{Users: gen.snap.Users, Groups: gen.snap.Groups}
		if len(short) == 0 {
			return h, true
		}
		h.Reason = shortReason(short)
		return h, p.cfg.AcceptDeletions
	}
	ru, rg := gen.snap.Removed(p.served.snap)
	servedUsers, servedGroups := p.served.snap.Users, p.served.snap.Groups
	var rm, servedMemberships int
	if base != nil {
		rm, servedMemberships = base.RemovedMemberships(gen.state)
	}
	h := HeldBack{
		Users: gen.snap.Users, Groups: gen.snap.Groups,
		removedUsers: ru, removedGroups: rg, removedMemberships: rm,
	}
	over := func(n, of int) bool { return n > 0 && float64(n) > p.cfg.MaxDeleteShare*float64(of) }
	share := func(n, of int, what string) string {
		return fmt.Sprintf("would remove %d of %d %s (%.1f%%, limit %g%% by %s)",
			n, of, what, 100*float64(n)/float64(of), 100*p.cfg.MaxDeleteShare, p.cfg.setting("provider.MaxDeleteShare"))
	}
	switch {
	case over(ru, servedUsers):
		h.Reason = share(ru, servedUsers, "users")
	case over(rg, servedGroups):
		h.Reason = share(rg, servedGroups, "groups")
	case over(rm, servedMemberships):
		h.Reason = share(rm, servedMemberships, "group memberships")
	case len(short) > 0:
		h.Reason = shortReason(short)
	default:
		return h, true
	}
	if p.cfg.AcceptDeletions {
		p.log.Warn().Int("removedUsers", ru).Int("removedGroups", rg).Int("removedMemberships", rm).
			Msg("serving a snapshot that " + h.Reason + ", because " + p.cfg.setting("provider.AcceptDeletions") + " is set")
		return h, true
	}
	return h, false
}

// shortReason describes member listings that Okta's counts contradict.
func shortReason(short []orgsync.Shortfall) string {
	r := fmt.Sprintf("%d member listings brought far fewer members than Okta counts (%s", len(short), short[0])
	if len(short) > 1 {
		r += ", …"
	}
	return r + ")"
}
