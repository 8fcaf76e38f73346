package provider

import (
	"context"
	"errors"
	"io/fs"
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

// keep saves the served state; a failure is logged and counted, and the
// snapshot is served all the same (only a restart would pay for it).
func (s fileStore) keep(_ context.Context, r *syncResult, _ HeldBack, ok bool) error {
	if ok {
		s.p.saveState(r.gen.state, r.stats.Changed)
	}
	return nil
}

func (s fileStore) accept(ctx context.Context, etag string) (string, error) {
	return s.p.acceptLocal(ctx, etag)
}

// saveEvery is how often the state is saved when nothing changed: only the
// watermarks moved, and a restart from older ones just re-reads a little.
const saveEvery = 10 * time.Minute

// LoadState serves the state saved by an earlier run, if Config.StatePath
// names one, so that a restarted instance serves before any Okta call and
// its next sync is incremental. The saved state is the one that was served, so it skips
// the deletion guard. A missing, corrupt, truncated or incompatible file
// is logged and ignored: the first sync is then a full one. It does
// nothing once a sync has run.
func (p *Provider) LoadState() {
	if p.cfg.StatePath == "" {
		return
	}
	p.syncSlot <- struct{}{}
	defer func() { <-p.syncSlot }()
	if p.latest != nil {
		return
	}
	log := p.log.With().Str("stateFile", p.cfg.StatePath).Logger()
	t0 := time.Now()
	st, err := orgsync.Load(p.cfg.StatePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info().Msg("no saved sync state; the first sync is a full one")
		return
	case errors.Is(err, orgsync.ErrCorrupt), errors.Is(err, orgsync.ErrIncompatible):
		log.Warn().Err(err).Msg("ignoring the saved sync state; the first sync is a full one and overwrites it")
		return
	case err != nil:
		log.Warn().Err(err).Msg("cannot read the saved sync state; the first sync is a full one (check the permissions of " + p.cfg.setting("provider.StatePath") + ")")
		return
	case len(st.Users()) == 0:
		// Served unguarded, a state without users would remove every user
		// from the catalog: only a sync that lists Okta may do that, and
		// the deletion guard sees it.
		log.Warn().Msg("ignoring the saved sync state: it holds no users; the first sync is a full one and overwrites it")
		return
	}
	gen := p.build(st)
	p.latest = st
	p.savedAt = p.cfg.Now()
	p.mu.Lock()
	p.changes = p.changeTracking(st)
	p.publish(gen)
	p.mu.Unlock()
	users, groups, _ := st.Watermarks()
	log.Info().Int("users", gen.snap.Users).Int("groups", gen.snap.Groups).Str("etag", gen.snap.All.ETag).
		Time("usersWatermark", users).Time("groupsWatermark", groups).Dur("took", time.Since(t0)).
		Msg("serving the saved snapshot; the next sync is incremental")
}

// saveState writes st, the served state, to Config.StatePath when it
// changed or the saved one is getting old. A failure is logged and counted;
// the service goes on, and only a restart would pay for it with a full
// sync. syncSlot must be held.
func (p *Provider) saveState(st *orgsync.State, changed bool) {
	if p.cfg.StatePath == "" {
		return
	}
	now := p.cfg.Now()
	if !changed && now.Sub(p.savedAt) < saveEvery {
		return
	}
	if err := orgsync.Save(p.cfg.StatePath, st); err != nil {
		p.obs.StateSaveFailed()
		p.log.Error().Err(err).Str("stateFile", p.cfg.StatePath).
			Msg("cannot save the sync state; a restart will run a full sync (check " + p.cfg.setting("provider.StatePath") + ": it must be writable)")
		return
	}
	p.savedAt = now
	p.log.Info().Str("stateFile", p.cfg.StatePath).Dur("took", p.cfg.Now().Sub(now)).Msg("sync state saved")
}
