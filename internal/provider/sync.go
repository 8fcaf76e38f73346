package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// SyncOnce runs one sync now and publishes its snapshot when it succeeds and
// passes the deletion guard. It reports the outcome.
//
// The first sync of an org, and one every FullInterval, is a full sync;
// the others fetch only what changed since the last successful one. A
// full sync that follows an incremental state also brings that state up
// to date and compares the two: any difference is logged and counted as a
// mismatch.
//
// With several orgs, each syncs at the same time as the others; one whose
// sync fails keeps its last good entities in the merged catalog while the
// others' changes are served. The sync fails when every org's did, or
// when an org without a state yet failed: no catalog goes out without an
// org's entities.
//
// An incremental sync also checks with Okta the deletions that event
// hooks' hints named since the last sync.
func (p *Provider) SyncOnce(ctx context.Context) Outcome {
	p.syncSlot <- struct{}{}
	defer func() { <-p.syncSlot }()

	start := p.cfg.Now()
	hints := p.takePending()
	r := p.syncStep(ctx, start, hints)
	failed := func() Outcome {
		p.requeueStep(r, hints, false)
		p.requeue(0, orgsync.Suspects{}, hints.published)
		p.recordFailure(r)
		return OutcomeFailed
	}
	if r.err != nil {
		return failed()
	}
	before := p.snap.Load()
	outcome, err := p.guardAndPublish(ctx, r)
	if err != nil {
		r.err = err
		return failed()
	}
	p.requeueStep(r, hints, true)
	p.recordRecovery(r)
	if outcome == OutcomeOK {
		p.published(before, hints.published)
	} else {
		p.requeue(0, orgsync.Suspects{}, hints.published)
	}
	p.recordDone(r, outcome)
	if r.changed() {
		// Building and saving left garbage of about the state's size: give
		// it back before the service idles until the next sync.
		debug.FreeOSMemory()
	}
	return outcome
}

// syncResult is what one sync step brought: each org's state and the
// generation built from them, or the error that ended it.
type syncResult struct {
	log  zerolog.Logger
	orgs []*orgResult
	gen  *generation // nil when err is set
	err  error
	// finished is when the snapshot was built, or when the sync failed.
	start, finished time.Time
}

// mode is the mode that ran: full when any org's sync was.
func (r *syncResult) mode() orgsync.Mode {
	for _, o := range r.orgs {
		if !o.late && o.mode == orgsync.ModeFull {
			return orgsync.ModeFull
		}
	}
	return orgsync.ModeIncremental
}

// calls counts the Okta requests of every org.
func (r *syncResult) calls() int64 {
	var n int64
	for _, o := range r.orgs {
		n += o.calls
	}
	return n
}

// changed says whether anything a catalog is built from changed.
func (r *syncResult) changed() bool {
	for _, o := range r.orgs {
		if o.err == nil && o.stats.Changed {
			return true
		}
	}
	return false
}

// shortListings are every org's member listings that Okta's counts
// contradict.
func (r *syncResult) shortListings() []orgsync.Shortfall {
	var short []orgsync.Shortfall
	for _, o := range r.orgs {
		if o.err == nil {
			short = append(short, o.stats.ShortListings...)
		}
	}
	return short
}

// info describes r for /status, without its outcome. With several orgs
// the reasons for full syncs, and the errors of the orgs that failed
// while the others' sync went on, name their org.
func (r *syncResult) info() *SyncInfo {
	info := &SyncInfo{
		Mode:            r.mode(),
		StartedAt:       r.start.UTC(),
		FinishedAt:      r.finished.UTC(),
		DurationSeconds: r.took().Seconds(),
		OktaCalls:       r.calls(),
	}
	if len(r.orgs) == 1 {
		info.Reason = r.orgs[0].stats.Reason
		return info
	}
	var reasons, errs []string
	for _, o := range r.orgs {
		if o.stats.Reason != "" {
			reasons = append(reasons, o.o.Name+": "+o.stats.Reason)
		}
		switch {
		case r.err != nil:
		case o.err != nil:
			errs = append(errs, o.err.Error())
		case o.late && o.o.failures > 0:
			errs = append(errs, fmt.Sprintf("org %s: its sync started at %s, after %d failed, is still running",
				o.o.Name, o.o.behindSince.UTC().Format(time.RFC3339), o.o.failures))
		case o.late:
			errs = append(errs, fmt.Sprintf("org %s: its sync started at %s is still running, longer than it usually takes",
				o.o.Name, o.o.behindSince.UTC().Format(time.RFC3339)))
		}
	}
	info.Reason = strings.Join(reasons, "; ")
	if len(errs) > 0 {
		info.Error = fmt.Sprintf("%d of %d orgs failed or are still retrying, their last good entities are still served: %s",
			len(errs), len(r.orgs), strings.Join(errs, "; "))
	}
	return info
}

func (r *syncResult) took() time.Duration { return r.finished.Sub(r.start) }

// syncStep brings every org's served state up to date from Okta within
// the sync timeout and builds the generation to serve from them. It
// changes nothing served or reported. syncSlot must be held.
func (p *Provider) syncStep(ctx context.Context, start time.Time, hints pending) *syncResult {
	r := &syncResult{start: start, log: p.log, orgs: make([]*orgResult, len(p.orgs))}
	for i, o := range p.orgs {
		r.orgs[i] = p.startOrg(o, start)
		if !r.orgs[i].late {
			r.orgs[i].suspects = hints.of(i)
		}
	}
	if len(r.orgs) == 1 {
		r.log = r.orgs[0].log
	}
	stop := make(chan struct{})
	var logged sync.WaitGroup
	for _, o := range r.orgs {
		logged.Go(func() { p.logProgress(o.o, o.log, stop) })
	}
	defer func() {
		close(stop)
		logged.Wait()
		for _, o := range r.orgs {
			if !o.late {
				p.setRunning(o.o, nil)
			}
		}
	}()

	sctx := ctx
	if p.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, p.cfg.Timeout)
		defer cancel()
	}
	p.syncOrgs(ctx, sctx, r.orgs)
	if r.err = unready(r.orgs); r.err != nil {
		r.finished = p.cfg.Now()
		return r
	}
	p.mu.Lock()
	buildAt := p.cfg.Now()
	for _, o := range r.orgs {
		if !o.late && o.o.run != nil {
			o.o.run.buildAt = buildAt
		}
	}
	p.mu.Unlock()
	r.gen = p.generationFor(states(r.orgs), r.changed())
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
	oktaNow := p.orgs[0].Client.Now()
	for _, t := range hinted {
		p.obs.ChangeLatency(max(oktaNow.Sub(t), 0))
	}
}

// setRunning records o's sync in progress; nil when none.
func (p *Provider) setRunning(o *orgRun, run *running) {
	p.mu.Lock()
	o.run = run
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
	ev.Err(r.err).Int64("oktaCalls", r.calls()).Dur("took", r.took()).Int("failuresInARow", p.failures).
		Msg("sync failed; still serving the last good snapshot (logged again only when the cause changes)")
	p.recordOrgs(r, OutcomeFailed)
}

// recordRecovery logs a good sync that follows failed ones, and a change
// in whether the System Log reads. syncSlot must be held.
func (p *Provider) recordRecovery(r *syncResult) {
	if p.failureKey != "" {
		r.log.Info().Int("failedSyncs", p.failures).Msg("sync succeeded again")
		p.failureKey, p.failures = "", 0
	}
	for _, o := range r.orgs {
		if o.err == nil && !o.late {
			p.noteLog(o.o, o.log, o.next, o.stats)
		}
	}
}

// recordDone reports a sync that brought a snapshot, served or held.
func (p *Provider) recordDone(r *syncResult, outcome Outcome) {
	p.recordOrgs(r, outcome)
	if len(r.orgs) > 1 {
		r.log.Info().Str("outcome", string(outcome)).Int("users", r.gen.snap.Users).Int("groups", r.gen.snap.Groups).
			Int64("oktaCalls", r.calls()).Bool("changed", r.changed()).Strs("failedOrgs", failedOrgs(r.orgs)).
			Dur("took", r.took()).Msg("sync finished")
		return
	}
	o := r.orgs[0]
	st := o.stats
	r.log.Info().Str("outcome", string(outcome)).Int("users", r.gen.snap.Users).Int("groups", r.gen.snap.Groups).
		Int64("oktaCalls", o.calls).Bool("changed", st.Changed).Int("usersChanged", st.UsersChanged).
		Int("usersRemoved", st.UsersRemoved).Int("groupsChanged", st.GroupsChanged).
		Int("groupsRemoved", st.GroupsRemoved).Int("memberListings", st.MemberListings).
		Bool("systemLog", st.LogReadable).Dur("took", r.took()).Msg("sync finished")
}

// recordOrgs reports each org's part of a sync whose snapshot had
// outcome: to the Observer and, with several orgs, on /status and in the
// log. An org's outcome is failed when its own sync failed; else the
// snapshot's, or ok when no snapshot was built for another org's failure.
// syncSlot must be held.
func (p *Provider) recordOrgs(r *syncResult, outcome Outcome) {
	for _, o := range r.orgs {
		if o.late {
			continue // reported by the step that takes its result
		}
		oc := outcome
		switch {
		case o.err != nil:
			oc = OutcomeFailed
		case oc == OutcomeFailed && r.gen == nil:
			oc = OutcomeOK // its sync went well; another org's did not
		}
		took := o.finished.Sub(o.start)
		if o.err == nil {
			o.o.took[o.mode] = took
		}
		if len(r.orgs) == 1 {
			took = r.took() // the build included, as for the snapshot
		}
		p.obs.SyncDone(o.o.Name, o.mode, oc, took, o.calls)
		info := o.info()
		info.Outcome = oc
		if o.err != nil {
			info.Error, info.err = o.err.Error(), o.err
		}
		p.mu.Lock()
		o.o.lastSync = info
		if oc != OutcomeFailed {
			o.o.lastOK = o.finished
		}
		p.mu.Unlock()
		if len(r.orgs) > 1 {
			p.logOrg(o)
		}
	}
}

// logOrg logs how one of several orgs' sync went: a failure once per
// cause, a recovery, and each good sync's figures.
func (p *Provider) logOrg(r *orgResult) {
	o := r.o
	if r.err != nil {
		p.mu.Lock()
		o.failures++
		p.mu.Unlock()
		ev := r.log.Debug()
		if key := failureKey(r.err); key != o.failureKey {
			o.failureKey = key
			ev = r.log.Error()
		}
		ev.Err(r.err).Int64("oktaCalls", r.calls).Int("failuresInARow", o.failures).
			Msg("org sync failed; its last good entities stay served while the other orgs sync (logged again only when the cause changes)")
		return
	}
	if o.failureKey != "" {
		r.log.Info().Int("failedSyncs", o.failures).Msg("org sync succeeded again")
		p.mu.Lock()
		o.failureKey, o.failures = "", 0
		p.mu.Unlock()
	}
	st := r.stats
	r.log.Info().Int64("oktaCalls", r.calls).Bool("changed", st.Changed).Int("usersChanged", st.UsersChanged).
		Int("usersRemoved", st.UsersRemoved).Int("groupsChanged", st.GroupsChanged).
		Int("groupsRemoved", st.GroupsRemoved).Int("memberListings", st.MemberListings).
		Bool("systemLog", st.LogReadable).Dur("took", r.finished.Sub(r.start)).Msg("org sync finished")
}

// noteLog logs a change in whether o's System Log reads, once per change
// of cause, and counts every failed read.
func (p *Provider) noteLog(o *orgRun, log zerolog.Logger, next *orgsync.State, stats orgsync.Stats) {
	if stats.LogError != "" {
		p.obs.LogReadFailed(o.Name)
	}
	key := next.LogError()
	if key != "" {
		key = failureKey(errors.New(key))
	}
	if key == o.logFailureKey {
		return
	}
	_, _, mark := next.Watermarks()
	switch {
	case key != "":
		log.Warn().Str("error", next.LogError()).Time("logPosition", mark).
			Msg("cannot read the System Log; syncs go on, deleted users and groups are found by listing them every " +
				p.cfg.setting("provider.DeletionCheckEvery") + " syncs, and the log is read from this position when it reads again (logged again only when the cause changes)")
	case o.logFailureKey != "" && next.DeletionsFromLog():
		log.Info().Time("logPosition", mark).Msg("the System Log reads again; deletions come from it")
	}
	o.logFailureKey = key
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

// sync brings o's state up to date: a full listing in mode full
// (compared with prev brought up to date, when there is a prev), else an
// incremental sync from prev.
func (p *Provider) sync(ctx context.Context, log zerolog.Logger, o *orgRun, mode orgsync.Mode, prev *orgsync.State, suspects orgsync.Suspects) (*orgsync.State, orgsync.Stats, error) {
	if mode == orgsync.ModeIncremental {
		return o.syncer.IncrementalConfirming(ctx, prev, suspects)
	}
	var inc *orgsync.State
	if prev != nil && p.cfg.FullInterval > 0 {
		// Reconciliation: bring the incremental state up to date first, so
		// that the full listing right after should find it equal.
		st, _, err := o.syncer.Incremental(ctx, prev)
		if err != nil {
			return nil, orgsync.Stats{}, fmt.Errorf("incremental sync before the full reconciliation: %w", err)
		}
		inc = st
	}
	next, stats, err := o.syncer.Full(ctx)
	if err != nil {
		return nil, stats, err
	}
	if inc != nil {
		p.reconcile(log, o.Name, inc, next)
	}
	return next, stats, nil
}

// reconcile compares org's incrementally kept state with a fresh full one
// and reports every difference: there should be none, and any is a bug.
func (p *Provider) reconcile(log zerolog.Logger, org string, inc, full *orgsync.State) {
	d := inc.Diff(full)
	p.obs.Mismatch(org, "user", d.Users)
	p.obs.Mismatch(org, "group", d.Groups)
	p.obs.Mismatch(org, "membership", d.Memberships)
	p.obs.Mismatch(org, "app", d.Apps)
	if d.Total() == 0 {
		log.Info().Msg("full reconciliation: the incremental state matched the full listing")
		return
	}
	log.Error().Int("users", d.Users).Int("groups", d.Groups).Int("memberships", d.Memberships).Int("apps", d.Apps).
		Strs("examples", d.Examples).
		Msg("full reconciliation: the incremental state differed from the full listing (a change made while the two listings ran counts too); serving the full one")
}

// build maps the orgs' states, one per org in order, into a snapshot
// generation. The entities are made as they are encoded, never all held
// at once.
func (p *Provider) build(sts []*orgsync.State) *generation {
	// The sync just made garbage of much of the previous state, but the
	// collector paces itself by what was live at its last cycle, which may
	// have been mid-sync with both states live. Collecting now bases the
	// build's headroom on what is live now, and returning the freed pages
	// keeps them from adding to the build's own: together that lowers the
	// peak by tens of MiB at 100,000 users, for a few tens of milliseconds
	// per build.
	debug.FreeOSMemory()
	m := catalog.MapOrgs(p.orgInputs(sts))
	return &generation{
		snap:   snapshot.Build(p.snap.Load(), m, p.cfg.Now().UTC(), p.cfg.Shards),
		states: sts,
	}
}
