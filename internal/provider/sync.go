package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// SyncOnce runs one sync now and publishes its snapshot when it succeeds and
// passes the deletion guard. It reports the outcome ("ok", "failed", "held").
//
// The first sync, and one every FullInterval, is a full sync; the others
// fetch only what changed since the last successful one. A full sync that
// follows an incremental state also brings that state up to date and
// compares the two: any difference is logged and counted as a mismatch.
func (p *Provider) SyncOnce(ctx context.Context) string {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()

	start := p.cfg.Now()
	calls0 := p.client.Calls()
	prev := p.latest
	mode := ModeIncremental
	if prev == nil || p.cfg.FullInterval <= 0 || start.Sub(prev.FullSyncAt()) >= p.cfg.FullInterval {
		mode = ModeFull
	}
	log := p.log.With().Str("mode", mode).Logger()
	log.Info().Msg("sync started")
	p.mu.Lock()
	p.running = start
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running = time.Time{}
		p.mu.Unlock()
	}()

	sctx := ctx
	if p.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, p.cfg.Timeout)
		defer cancel()
	}
	next, stats, err := p.sync(sctx, log, mode, prev)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil {
		mode = stats.Mode // an incremental sync may have run a full one
	}
	finished := p.cfg.Now()
	calls := p.client.Calls() - calls0
	info := &SyncInfo{
		Mode:            mode,
		Reason:          stats.Reason,
		StartedAt:       start.UTC(),
		FinishedAt:      finished.UTC(),
		DurationSeconds: finished.Sub(start).Seconds(),
		OktaCalls:       calls,
	}
	if err != nil {
		err = explain(err, ctx, sctx, p.cfg.Timeout)
		info.Outcome, info.Error, info.err = OutcomeFailed, err.Error(), err
		p.mu.Lock()
		p.failed++
		p.lastSync = info
		p.mu.Unlock()
		p.failures++
		ev := log.Debug()
		if key := failureKey(err); key != p.failureKey {
			p.failureKey = key
			ev = log.Error()
		}
		ev.Err(err).Int64("oktaCalls", calls).Dur("took", finished.Sub(start)).Int("failuresInARow", p.failures).
			Msg("sync failed; still serving the last good snapshot (logged again only when the cause changes)")
		p.obs.SyncDone(mode, info.Outcome, finished.Sub(start), calls)
		return info.Outcome
	}
	if p.failureKey != "" {
		log.Info().Int("failedSyncs", p.failures).Msg("sync succeeded again")
		p.failureKey, p.failures = "", 0
	}
	p.noteLog(log, next, stats)
	gen := p.generationFor(next, stats.Changed)
	// A sync is done when its snapshot is built: at 100,000 users that
	// takes longer than an incremental sync's Okta calls.
	finished = p.cfg.Now()
	info.FinishedAt, info.DurationSeconds = finished.UTC(), finished.Sub(start).Seconds()

	p.mu.Lock()
	p.changes = p.changeTracking(next)
	p.completed++
	info.Outcome = OutcomeOK
	held, ok := p.guard(gen, prev, stats.ShortListings)
	if !ok {
		info.Outcome = OutcomeHeld
		info.Error = held.Reason
		heldAt := finished
		again := p.held != nil && p.held.gen.snap.All.ETag == gen.snap.All.ETag
		if p.held != nil {
			heldAt = p.held.heldAt // still held: since the first hold
		} else {
			p.obs.Held(true)
		}
		p.held = &heldSnapshot{gen: gen, info: held, heldAt: heldAt}
		ev := log.Error()
		if again {
			ev = log.Debug() // the same snapshot: logged when it was first held
		}
		ev.Int("users", held.Users).Int("groups", held.Groups).
			Int("removedUsers", held.removedUsers).Int("removedGroups", held.removedGroups).
			Int("removedMemberships", held.removedMemberships).Str("etag", gen.snap.All.ETag).
			Msg("DELETION GUARD: new snapshot held back, still serving the previous one; " + held.Reason +
				"; it lifts by itself when Okta shows the removed entities again; accept it with POST /admin/accept or ACCEPT_DELETIONS=true if the removal is intended")
	} else {
		p.publish(gen)
		p.latest = next
		p.lastOK = finished
	}
	p.lastSync = info
	p.mu.Unlock()

	if info.Outcome == OutcomeOK {
		p.saveState(gen.state, stats.Changed)
	}
	if stats.Changed {
		// Building and saving left garbage of about the state's size: give
		// it back before the service idles until the next sync.
		debug.FreeOSMemory()
	}
	p.obs.SyncDone(mode, info.Outcome, finished.Sub(start), calls)
	log.Info().Str("outcome", info.Outcome).Int("users", gen.snap.Users).Int("groups", gen.snap.Groups).
		Int64("oktaCalls", calls).Bool("changed", stats.Changed).Int("usersChanged", stats.UsersChanged).
		Int("usersRemoved", stats.UsersRemoved).Int("groupsChanged", stats.GroupsChanged).
		Int("groupsRemoved", stats.GroupsRemoved).Int("memberListings", stats.MemberListings).
		Bool("systemLog", stats.LogReadable).Dur("took", finished.Sub(start)).Msg("sync finished")
	return info.Outcome
}

// noteLog logs a change in whether the System Log reads, once per change
// of cause, and counts every failed read.
func (p *Provider) noteLog(log zerolog.Logger, next *orgsync.State, stats orgsync.Stats) {
	if stats.LogError != "" {
		p.obs.LogReadFailed()
	}
	key := next.LogError()
	if key != "" {
		key = failureKey(errors.New(key))
	}
	if key == p.logFailureKey {
		return
	}
	_, _, mark := next.Watermarks()
	switch {
	case key != "":
		log.Warn().Str("error", next.LogError()).Time("logPosition", mark).
			Msg("cannot read the System Log; syncs go on, deleted users and groups are found by listing them every DELETION_CHECK_EVERY syncs, and the log is read from this position when it reads again (logged again only when the cause changes)")
	case p.logFailureKey != "" && next.DeletionsFromLog():
		log.Info().Time("logPosition", mark).Msg("the System Log reads again; deletions come from it")
	}
	p.logFailureKey = key
}

// errorID matches the request-specific part of an Okta error message.
var errorID = regexp.MustCompile(` \[errorId [^\]]*\]`)

// failureKey identifies the cause of a failure, without what differs
// from one try to the next.
func failureKey(err error) string {
	return errorID.ReplaceAllString(err.Error(), "")
}

// explain rewrites a sync's error so that it names its real cause: the
// SYNC_TIMEOUT only when the sync's own deadline passed (sctx), never for
// an Okta request that timed out on its own.
func explain(err error, ctx, sctx context.Context, timeout time.Duration) error {
	switch {
	case !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return err
	case sctx.Err() != nil:
		return fmt.Errorf("sync did not finish within SYNC_TIMEOUT (%s): %w", timeout, err)
	default:
		return fmt.Errorf("an Okta request did not answer within OKTA_REQUEST_TIMEOUT, even after retries (raise it if Okta is slow to answer large pages): %w", err)
	}
}

// sync brings the state up to date: a full listing in mode full (compared
// with prev brought up to date, when there is a prev), else an incremental
// sync from prev.
func (p *Provider) sync(ctx context.Context, log zerolog.Logger, mode string, prev *orgsync.State) (*orgsync.State, orgsync.Stats, error) {
	if mode == ModeIncremental {
		return p.syncer.Incremental(ctx, prev)
	}
	var inc *orgsync.State
	if prev != nil && p.cfg.FullInterval > 0 {
		// Reconciliation: bring the incremental state up to date first, so
		// that the full listing right after should find it equal.
		st, _, err := p.syncer.Incremental(ctx, prev)
		if err != nil {
			return nil, orgsync.Stats{}, fmt.Errorf("incremental sync before the full reconciliation: %w", err)
		}
		inc = st
	}
	next, stats, err := p.syncer.Full(ctx)
	if err != nil {
		return nil, stats, err
	}
	if inc != nil {
		p.reconcile(log, inc, next)
	}
	return next, stats, nil
}

// reconcile compares the incrementally kept state with a fresh full one
// and reports every difference: there should be none, and any is a bug.
func (p *Provider) reconcile(log zerolog.Logger, inc, full *orgsync.State) {
	d := inc.Diff(full)
	p.obs.Mismatch("user", d.Users)
	p.obs.Mismatch("group", d.Groups)
	p.obs.Mismatch("membership", d.Memberships)
	if d.Total() == 0 {
		log.Info().Msg("full reconciliation: the incremental state matched the full listing")
		return
	}
	log.Error().Int("users", d.Users).Int("groups", d.Groups).Int("memberships", d.Memberships).
		Strs("examples", d.Examples).
		Msg("full reconciliation: the incremental state differed from the full listing (a change made while the two listings ran counts too); serving the full one")
}

// build maps st into a snapshot generation. The entities are made as they
// are encoded, never all held at once.
func (p *Provider) build(st *orgsync.State) *generation {
	// The sync just made garbage of much of the previous state, but the
	// collector paces itself by what was live at its last cycle, which may
	// have been mid-sync with both states live. Collecting now bases the
	// build's headroom on what is live now, and returning the freed pages
	// keeps them from adding to the build's own: together that lowers the
	// peak by tens of MiB at 100,000 users, for a few tens of milliseconds
	// per build.
	debug.FreeOSMemory()
	in := st.CatalogInput()
	return &generation{
		snap:  catalog.BuildSnapshot(p.snap.Load(), p.cfg.Catalog, in, p.cfg.Now().UTC(), p.cfg.Shards),
		state: st,
	}
}
