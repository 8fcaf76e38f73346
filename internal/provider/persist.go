package provider

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// store keeps what a restart, or another replica, resumes from: the state
// file (fileStore, one replica) or the shared database (sharedStore, in
// shared mode). The provider calls it at the points where they differ,
// and nowhere else.
type store interface {
	// run runs the sync loop: serving what was kept, then syncing on the
	// schedule (the state file), or following and leading (shared).
	run(ctx context.Context) error
	// keep writes a sync's verdict (ok: r.gen is served; else it is
	// held back as h describes) before it is served. An error means it
	// must not be served: the sync counts as failed.
	keep(ctx context.Context, r *syncResult, h HeldBack, ok bool) error
	// accept serves the held snapshot if its ETag is etag, and returns
	// the held snapshot's ETag ("" when none is held): as AcceptHeld.
	accept(ctx context.Context, etag string) (held string, err error)
}

// fileStore is the store of one replica: the state file at
// Config.StatePath, or nothing when it is empty.
type fileStore struct{ p *Provider }

func (s fileStore) run(ctx context.Context) error { return s.p.runLocal(ctx) }

// keep saves the served states; a failure is logged and counted, and the
// snapshot is served all the same (only a restart would pay for it).
func (s fileStore) keep(_ context.Context, r *syncResult, _ HeldBack, ok bool) error {
	if ok {
		changed := make([]bool, len(r.orgs))
		for i, o := range r.orgs {
			changed[i] = o.err == nil && o.stats.Changed
		}
		s.p.saveStates(r.gen.states, changed)
	}
	return nil
}

func (s fileStore) accept(ctx context.Context, etag string) (string, error) {
	return s.p.acceptLocal(ctx, etag)
}

// saveEvery is how often the state is saved when nothing changed: only the
// watermarks moved, and a restart from older ones just re-reads a little.
const saveEvery = 10 * time.Minute

// LoadState serves the states saved by an earlier run, if the orgs'
// StatePaths name them, so that a restarted instance serves before any
// Okta call and its next sync is incremental. The saved states are the
// ones that were served, so they skip the deletion guard. A missing,
// corrupt, truncated or incompatible file is logged and ignored: that
// org's first sync is then a full one. With several orgs, the catalog is
// served once every org has a state; the orgs that have one resume from
// it. It does nothing once a sync has run.
func (p *Provider) LoadState() {
	p.syncSlot <- struct{}{}
	defer func() { <-p.syncSlot }()
	if p.orgs[0].latest != nil || p.snap.Load() != nil {
		return
	}
	t0 := time.Now()
	sts := make([]*orgsync.State, len(p.orgs))
	all := true
	for i, o := range p.orgs {
		sts[i] = p.loadState(o)
		all = all && sts[i] != nil
		if sts[i] != nil {
			p.obs.Resumed(o.Name)
		}
	}
	if !all {
		for i, o := range p.orgs {
			o.latest = sts[i]
		}
		if p.multiOrg() && slices.ContainsFunc(sts, func(st *orgsync.State) bool { return st != nil }) {
			p.log.Info().Msg("some orgs have no saved sync state: the catalog is served once they have synced; the others resume from theirs")
		}
		return
	}
	gen := p.build(sts)
	p.mu.Lock()
	for i, o := range p.orgs {
		o.latest = sts[i]
		o.savedAt = p.cfg.Now()
		o.changes = p.changeTracking(sts[i])
	}
	p.publish(gen)
	p.mu.Unlock()
	ev := p.log.Info().Int("users", gen.snap.Users).Int("groups", gen.snap.Groups).Str("etag", gen.snap.All.ETag).
		Dur("took", time.Since(t0))
	if !p.multiOrg() {
		users, groups, _ := sts[0].Watermarks()
		ev = ev.Str("stateFile", p.orgs[0].StatePath).Time("usersWatermark", users).Time("groupsWatermark", groups)
	}
	ev.Msg("serving the saved snapshot; the next sync is incremental")
}

// loadState reads o's saved state; nil when there is none to serve.
func (p *Provider) loadState(o *orgRun) *orgsync.State {
	if o.StatePath == "" {
		return nil
	}
	log := o.log.With().Str("stateFile", o.StatePath).Logger()
	st, err := orgsync.Load(o.StatePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info().Msg("no saved sync state; the first sync is a full one")
		return nil
	case errors.Is(err, orgsync.ErrCorrupt), errors.Is(err, orgsync.ErrIncompatible):
		log.Warn().Err(err).Msg("ignoring the saved sync state; the first sync is a full one and overwrites it")
		return nil
	case err != nil:
		log.Warn().Err(err).Msg("cannot read the saved sync state; the first sync is a full one (check the permissions of " + p.cfg.setting("provider.StatePath") + ")")
		return nil
	case len(st.Users()) == 0:
		// Served unguarded, a state without users would remove every user
		// from the catalog: only a sync that lists Okta may do that, and
		// the deletion guard sees it.
		log.Warn().Msg("ignoring the saved sync state: it holds no users; the first sync is a full one and overwrites it")
		return nil
	}
	if p.multiOrg() {
		users, groups, _ := st.Watermarks()
		log.Info().Time("usersWatermark", users).Time("groupsWatermark", groups).Msg("resuming from the saved sync state")
	}
	return st
}

// saveStates writes each org's served state (sts, in the orgs' order)
// to its StatePath when it changed (changed[i]; nil: every one) or the
// saved one is getting old. A failure is logged and counted; the service
// goes on, and only a restart would pay for it with a full sync.
// syncSlot must be held.
func (p *Provider) saveStates(sts []*orgsync.State, changed []bool) {
	for i, o := range p.orgs {
		p.saveState(o, sts[i], changed == nil || changed[i])
	}
}

func (p *Provider) saveState(o *orgRun, st *orgsync.State, changed bool) {
	if o.StatePath == "" {
		return
	}
	now := p.cfg.Now()
	if !changed && now.Sub(o.savedAt) < saveEvery {
		return
	}
	if err := orgsync.Save(o.StatePath, st); err != nil {
		p.obs.StateSaveFailed()
		o.log.Error().Err(err).Str("stateFile", o.StatePath).
			Msg("cannot save the sync state; a restart will run a full sync (check " + p.cfg.setting("provider.StatePath") + ": it must be writable)")
		return
	}
	o.savedAt = now
	o.log.Info().Str("stateFile", o.StatePath).Dur("took", p.cfg.Now().Sub(now)).Msg("sync state saved")
}
