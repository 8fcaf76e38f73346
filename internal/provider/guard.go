package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// AcceptHeld serves the snapshot held back by the deletion guard if its
// ETag is etag: the one the operator reviewed. It returns the ETag of the
// snapshot held when it got its turn ("" when none): the held snapshot
// was accepted exactly when that is etag. It waits for a sync in progress,
// since that sync may replace the held snapshot.
//
// In shared mode any replica accepts, through the database, and every
// replica serves the accepted snapshot.
func (p *Provider) AcceptHeld(ctx context.Context, etag string) (held string, err error) {
	return p.store.accept(ctx, etag)
}

// acceptLocal is AcceptHeld with the state file.
func (p *Provider) acceptLocal(ctx context.Context, etag string) (held string, err error) {
	select {
	case p.syncSlot <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the sync in progress: %w", ctx.Err())
	}
	defer func() { <-p.syncSlot }()
	p.mu.Lock()
	h := p.held
	if h == nil || h.etag != etag {
		p.mu.Unlock()
		if h == nil {
			return "", nil
		}
		return h.etag, nil
	}
	p.serve(h.gen, p.cfg.Now())
	p.mu.Unlock()
	p.log.Warn().Int("users", h.info.Users).Int("groups", h.info.Groups).
		Int("removedUsers", h.info.RemovedUsers).Int("removedGroups", h.info.RemovedGroups).
		Str("etag", etag).Msg("held snapshot accepted by an operator; now serving it")
	p.saveStates(h.gen.states, nil)
	return etag, nil
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
	h, ok := p.guard(r.gen, r.orgs, r.shortListings())
	p.mu.Unlock()
	if err := p.store.keep(ctx, r, h, ok); err != nil {
		return OutcomeFailed, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range r.orgs {
		if o.err == nil {
			o.o.changes = p.changeTracking(o.next)
		}
	}
	p.completed++
	if ok {
		p.serve(r.gen, r.finished)
	} else {
		info.Outcome, info.Error = OutcomeHeld, h.Reason
		p.hold(r.log, r.gen, h, r.finished)
	}
	p.recordSync(info)
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
	h.ETag = gen.snap.All.ETag
	held := &heldSnapshot{gen: gen, etag: h.ETag, info: h, heldAt: at}
	if again {
		held.removed, held.added = p.held.removed, p.held.added
	} else {
		var served *snapshot.Snapshot
		if p.served != nil {
			served = p.served.snap
		}
		held.removed, held.added = gen.snap.Diff(served)
	}
	held.info.RemovedTotal, held.info.AddedTotal = len(held.removed), len(held.added)
	p.held = held
	if again {
		// The same snapshot: logged when it was first held.
		log.Debug().Str("etag", h.ETag).Msg("the held snapshot is still held back")
		return
	}
	log.Error().Int("users", h.Users).Int("groups", h.Groups).
		Int("removedUsers", h.RemovedUsers).Int("removedGroups", h.RemovedGroups).
		Int("removedMemberships", h.RemovedMemberships).Str("etag", h.ETag).
		Msg("DELETION GUARD: new snapshot held back, still serving the previous one; " + h.Reason +
			"; it lifts by itself when Okta shows the removed entities again; review it on the status page or /status's heldBack and accept it there, or with POST /admin/accept and If-Match: <heldBack.etag>, or " + p.cfg.setting("provider.AcceptDeletions") + " if the removal is intended (logged once per held snapshot)")
}

// guard compares gen with the served generation, and each org's new state
// with the one it started from (the served one). It returns ok=false and
// a description when gen removes more than the allowed share of users,
// groups or memberships, or when it was built on member listings far
// shorter than Okta's counts. p.mu must be held.
func (p *Provider) guard(gen *generation, orgs []*orgResult, short []orgsync.Shortfall) (HeldBack, bool) {
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
	for i, o := range orgs {
		if o.prev != nil {
			n, of := o.prev.RemovedMemberships(gen.states[i])
			rm, servedMemberships = rm+n, servedMemberships+of
		}
	}
	h := HeldBack{
		Users: gen.snap.Users, Groups: gen.snap.Groups,
		RemovedUsers: ru, RemovedGroups: rg, RemovedMemberships: rm,
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
