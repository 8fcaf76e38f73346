package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// SyncOnce runs one sync now and publishes its snapshot when it succeeds and
// passes the deletion guard. It reports the outcome.
//
// The first sync, and one every FullInterval, is a full sync; the others
// fetch only what changed since the last successful one. A full sync that
// follows an incremental state also brings that state up to date and
// compares the two: any difference is logged and counted as a mismatch.
//
// An incremental sync also checks with Okta the deletions that event
// hooks' hints named since the last sync.
func (p *Provider) SyncOnce(ctx context.Context) Outcome {
	p.syncSlot <- struct{}{}
	defer func() { <-p.syncSlot }()

	start := p.cfg.Now()
	hints := p.takePending()
	r := p.syncStep(ctx, start, hints.suspects)
	if r.err != nil {
		p.requeue(hints.suspects, hints.published)
		p.recordFailure(r)
		return OutcomeFailed
	}
	p.requeue(r.stats.Unconfirmed, nil)
	before := p.snap.Load()
	outcome, err := p.guardAndPublish(ctx, r)
	if err != nil {
		r.err = err
		p.requeue(hints.suspects, hints.published)
		p.recordFailure(r)
		return OutcomeFailed
	}
	p.recordRecovery(r)
	if outcome == OutcomeOK {
		p.published(before, hints.published)
	} else {
		p.requeue(orgsync.Suspects{}, hints.published)
	}
	if r.stats.Changed {
		// Building and saving left garbage of about the state's size: give
		// it back before the service idles until the next sync.
		debug.FreeOSMemory()
	}
	p.recordDone(r, outcome)
	return outcome
}

// syncResult is what one sync step brought: the state and the generation
// built from it, or the error that ended it.
type syncResult struct {
	log zerolog.Logger
	// mode is the mode that ran: an incremental sync may have run a full
	// one.
	mode orgsync.Mode
	// prev is the state the sync started from, next the one it made.
	prev, next *orgsync.State
	stats      orgsync.Stats
	gen        *generation // nil when err is set
	err        error
	// finished is when the snapshot was built, or when the sync failed.
	start, finished time.Time
	calls           int64
}

// info describes r for /status, without its outcome.
func (r *syncResult) info() *SyncInfo {
	return &SyncInfo{
		Mode:            r.mode,
		Reason:          r.stats.Reason,
		StartedAt:       r.start.UTC(),
		FinishedAt:      r.finished.UTC(),
		DurationSeconds: r.took().Seconds(),
		OktaCalls:       r.calls,
	}
}

func (r *syncResult) took() time.Duration { return r.finished.Sub(r.start) }

// syncStep brings the served state up to date from Okta within the sync
// timeout and builds the generation to serve from it. It changes nothing
// served or reported. syncSlot must be held.
func (p *Provider) syncStep(ctx context.Context, start time.Time, suspects orgsync.Suspects) *syncResult {
	calls0 := p.client.Calls()
	r := &syncResult{prev: p.latest, start: start, mode: orgsync.ModeIncremental}
	if r.prev == nil || p.cfg.FullInterval <= 0 || start.Sub(r.prev.FullSyncAt()) >= p.cfg.FullInterval {
		r.mode = orgsync.ModeFull
	}
	r.log = p.log.With().Str("mode", string(r.mode)).Logger()
	r.log.Info().Msg("sync started")
	p.setRunning(&running{mode: r.mode, start: start, calls0: calls0, paced0: pacedTotal(p.client.RateStatus())})
	defer p.setRunning(nil)
	stop := make(chan struct{})
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		p.logProgress(r.log, stop)
	}()
	defer func() {
		close(stop)
		<-logged
	}()

	sctx := ctx
	if p.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, p.cfg.Timeout)
		defer cancel()
	}
	r.next, r.stats, r.err = p.sync(sctx, r.log, r.mode, r.prev, suspects)
	if r.err == nil && ctx.Err() != nil {
		r.err = ctx.Err()
	}
	r.calls = p.client.Calls() - calls0
	if r.err != nil {
		r.err = p.cfg.explain(ctx, sctx, r.err)
		r.finished = p.cfg.Now()
		return r
	}
	r.mode = r.stats.Mode
	p.mu.Lock()
	p.run.buildAt = p.cfg.Now()
	p.mu.Unlock()
	r.gen = p.generationFor(r.next, r.stats.Changed)
	// A sync is done when its snapshot is built: at 100,000 users that
	// takes longer than an incremental sync's Okta calls.
	r.finished = p.cfg.Now()
	return r
}

// published reports a served snapshot that differs from before: to
// Changed, and the latency from each hinted change to now by Okta's clock.
func (p *Provider) published(before *snapshot.Snapshot, hinted []time.Time) {
	now := p.snap.Load()
	if now == nil || (before != nil && before.All.ETag == now.All.ETag) {
		return
	}
	if p.cfg.Changed != nil {
		p.cfg.Changed()
	}
	oktaNow := p.client.Now()
	for _, t := range hinted {
		p.obs.ChangeLatency(max(oktaNow.Sub(t), 0))
	}
}

// setRunning records the sync in progress; nil when none.
func (p *Provider) setRunning(run *running) {
	p.mu.Lock()
	p.run = run
	p.mu.Unlock()
}

// recordFailure reports a failed sync: on /status, to the Observer, and
// in the log once per cause. syncSlot must be held.
func (p *Provider) recordFailure(r *syncResult) {
	info := r.info()
	info.Outcome, info.Error, info.err = OutcomeFailed, r.err.Error(), r.err
	p.mu.Lock()
	p.failed++
	p.recordSync(info)
	p.mu.Unlock()
	p.failures++
	ev := r.log.Debug()
	if key := failureKey(r.err); key != p.failureKey {
		p.failureKey = key
		ev = r.log.Error()
	}
	ev.Err(r.err).Int64("oktaCalls", r.calls).Dur("took", r.took()).Int("failuresInARow", p.failures).
		Msg("sync failed; still serving the last good snapshot (logged again only when the cause changes)")
	p.obs.SyncDone("", r.mode, OutcomeFailed, r.took(), r.calls)
}

// recordRecovery logs a good sync that follows failed ones, and a change
// in whether the System Log reads. syncSlot must be held.
func (p *Provider) recordRecovery(r *syncResult) {
	if p.failureKey != "" {
		r.log.Info().Int("failedSyncs", p.failures).Msg("sync succeeded again")
		p.failureKey, p.failures = "", 0
	}
	p.noteLog(r.log, r.next, r.stats)
}

// recordDone reports a sync that brought a snapshot, served or held.
func (p *Provider) recordDone(r *syncResult, outcome Outcome) {
	p.obs.SyncDone("", r.mode, outcome, r.took(), r.calls)
	st := r.stats
	r.log.Info().Str("outcome", string(outcome)).Int("users", r.gen.snap.Users).Int("groups", r.gen.snap.Groups).
		Int64("oktaCalls", r.calls).Bool("changed", st.Changed).Int("usersChanged", st.UsersChanged).
		Int("usersRemoved", st.UsersRemoved).Int("groupsChanged", st.GroupsChanged).
		Int("groupsRemoved", st.GroupsRemoved).Int("memberListings", st.MemberListings).
		Bool("systemLog", st.LogReadable).Dur("took", r.took()).Msg("sync finished")
}

// noteLog logs a change in whether the System Log reads, once per change
// of cause, and counts every failed read.
func (p *Provider) noteLog(log zerolog.Logger, next *orgsync.State, stats orgsync.Stats) {
	if stats.LogError != "" {
		p.obs.LogReadFailed("")
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
			Msg("cannot read the System Log; syncs go on, deleted users and groups are found by listing them every " +
				p.cfg.setting("provider.DeletionCheckEvery") + " syncs, and the log is read from this position when it reads again (logged again only when the cause changes)")
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

// Errors a sync's error wraps when a deadline ended it, told apart by
// explain.
var (
	// ErrSyncTimeout: the sync's own deadline (Config.Timeout) passed.
	ErrSyncTimeout = errors.New("sync timed out")
	// ErrRequestTimeout: an Okta request timed out on its own, after retries.
	ErrRequestTimeout = errors.New("an Okta request timed out")
)

// deadlineError says which deadline ended a sync: it wraps both the kind
// (ErrSyncTimeout or ErrRequestTimeout) and the error itself.
type deadlineError struct {
	kind error
	msg  string
	err  error
}

func (e *deadlineError) Error() string   { return e.msg + ": " + e.err.Error() }
func (e *deadlineError) Unwrap() []error { return []error{e.kind, e.err} }

// explain rewrites a sync's error so that it names its real cause: the
// sync timeout only when the sync's own deadline passed (sctx), never for
// an Okta request that timed out on its own.
func (c *Config) explain(ctx, sctx context.Context, err error) error {
	switch {
	case !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return err
	case sctx.Err() != nil:
		return &deadlineError{ErrSyncTimeout,
			fmt.Sprintf("sync did not finish within %s (%s)", c.setting("provider.Timeout"), c.Timeout), err}
	default:
		return &deadlineError{ErrRequestTimeout,
			"an Okta request did not answer within " + c.setting("okta.RequestTimeout") +
				", even after retries (raise it if Okta is slow to answer large pages)", err}
	}
}

// sync brings the state up to date: a full listing in mode full (compared
// with prev brought up to date, when there is a prev), else an incremental
// sync from prev.
func (p *Provider) sync(ctx context.Context, log zerolog.Logger, mode orgsync.Mode, prev *orgsync.State, suspects orgsync.Suspects) (*orgsync.State, orgsync.Stats, error) {
	if mode == orgsync.ModeIncremental {
		return p.syncer.IncrementalConfirming(ctx, prev, suspects)
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
	p.obs.Mismatch("", "user", d.Users)
	p.obs.Mismatch("", "group", d.Groups)
	p.obs.Mismatch("", "membership", d.Memberships)
	p.obs.Mismatch("", "app", d.Apps)
	if d.Total() == 0 {
		log.Info().Msg("full reconciliation: the incremental state matched the full listing")
		return
	}
	log.Error().Int("users", d.Users).Int("groups", d.Groups).Int("memberships", d.Memberships).Int("apps", d.Apps).
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
	in := CatalogInput(st)
	return &generation{
		snap:  snapshot.Build(p.snap.Load(), p.cfg.Catalog, in, p.cfg.Now().UTC(), p.cfg.Shards),
		state: st,
	}
}
