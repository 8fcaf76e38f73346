// Package provider owns time and state: it syncs Okta users and groups on a
// schedule, builds catalog snapshots from them and serves the last good one,
// holding back a snapshot that would delete too much of the catalog.
package provider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// Okta is what the provider needs of the Okta client: the listings a sync
// makes, and the rate-limit headroom for /status.
type Okta interface {
	orgsync.Source
	RateStatus() map[string]okta.RateState
}

// Observer receives the provider's events, for metrics. Implementations
// must be safe for concurrent use.
type Observer interface {
	// SyncDone reports a finished sync: mode "full" or "incremental",
	// outcome "ok", "failed" or "held".
	SyncDone(mode, outcome string, d time.Duration, oktaCalls int64)
	// Published reports a snapshot now being served.
	Published(users, groups int, builtAt time.Time)
	// Held reports whether a snapshot is held back by the deletion guard.
	Held(held bool)
	// Mismatch reports n differences of one kind (user, group, membership)
	// that a full reconciliation found against the incremental state.
	Mismatch(kind string, n int)
	// StateSaveFailed reports a failure to persist the sync state.
	StateSaveFailed()
	// LogReadFailed reports a sync that could not read the System Log
	// although the credentials may read it.
	LogReadFailed()
}

// Sync outcomes, as reported on /status and to the Observer.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
	OutcomeHeld   = "held"
)

// Sync modes.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// Config is the provider's configuration.
type Config struct {
	// Interval is the time between syncs; each wait is jittered by ±10 %.
	Interval time.Duration
	// Timeout bounds one sync.
	Timeout time.Duration
	// FullInterval is how often a full reconciliation runs instead of an
	// incremental sync; 0 means every sync is a full one.
	FullInterval time.Duration
	// Users and Groups are the admin's list expressions.
	Users  okta.UserListOptions
	Groups okta.GroupListOptions
	// Catalog holds the mapping and selection options.
	Catalog catalog.Options
	// Shards is the number of entity shards (0 = off).
	Shards int
	// MemberConcurrency is how many group member listings run at once; the
	// client caps in-flight requests on its own as well. 0 takes orgsync's
	// default.
	MemberConcurrency int
	// DeletionCheckEvery is how often, when the System Log cannot be read,
	// an incremental sync lists the users and groups to find deleted ones:
	// every Nth sync. Default 10.
	DeletionCheckEvery int
	// StatePath is the file the sync state is kept in across restarts; ""
	// keeps it in memory only.
	StatePath string
	// MaxDeleteShare is the share of the served users or groups a new
	// snapshot may remove before it is held back; 0 holds back every removal.
	MaxDeleteShare float64
	// AcceptDeletions serves snapshots whatever they remove (the guard only
	// logs).
	AcceptDeletions bool
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// syncOptions returns what the Syncer copies from Okta: the admin's
// expressions, and the catalog's group type and "users from groups"
// selection, so that what the catalog would drop is never listed.
func (c *Config) syncOptions() orgsync.Options {
	exclude := c.Catalog.ExcludeGroupTypes
	if exclude == nil {
		exclude = []string{okta.GroupTypeBuiltIn} // the catalog's default
	}
	return orgsync.Options{
		UserFilter:         c.Users.Filter,
		UserSearch:         c.Users.Search,
		GroupFilter:        c.Groups.Filter,
		GroupSearch:        c.Groups.Search,
		IncludeGroupTypes:  c.Catalog.IncludeGroupTypes,
		ExcludeGroupTypes:  exclude,
		UsersFromGroups:    c.Catalog.UsersFromGroups,
		Concurrency:        c.MemberConcurrency,
		DeletionCheckEvery: c.DeletionCheckEvery,
	}
}

// Provider syncs Okta into catalog snapshots. It implements the source the
// HTTP API serves from: Snapshot, Status and AcceptHeld.
type Provider struct {
	log    zerolog.Logger
	client Okta
	syncer *orgsync.Syncer
	cfg    Config
	obs    Observer

	snap atomic.Pointer[catalog.Snapshot]

	// syncMu serialises syncs and acceptance of a held snapshot.
	syncMu sync.Mutex
	// latest is the state of the served snapshot: the next incremental
	// sync starts from it. A held snapshot's state never becomes it, so
	// that a hold lifts by itself when Okta shows again what it would
	// remove, and new changes keep flowing meanwhile. Guarded by syncMu.
	latest *orgsync.State
	// failureKey is the cause of the last failed sync, "" after a good
	// one; logFailureKey likewise for reading the System Log. Each is
	// logged when it changes, not on every sync. Guarded by syncMu.
	failureKey, logFailureKey string
	failures                  int
	// savedAt is when the served state was last written to StatePath.
	// Guarded by syncMu.
	savedAt time.Time

	mu        sync.Mutex // guards the fields below
	served    *generation
	held      *heldSnapshot
	completed int64
	failed    int64
	lastSync  *SyncInfo
	lastOK    time.Time
	changes   *ChangeTracking // of the last successful sync
	running   time.Time       // when the sync in progress started; zero when none
}

// generation is a snapshot with the state it was built from, until the
// state is saved: the served generation keeps only its snapshot, so that
// while the next snapshot is built the previous state is not held too (at
// 100,000 users its user list alone is over 40 MiB).
type generation struct {
	snap  *catalog.Snapshot
	state *orgsync.State
}

type heldSnapshot struct {
	gen    *generation
	info   HeldBack
	heldAt time.Time
}

// New returns a provider; it does nothing until Run. obs may be nil.
func New(log zerolog.Logger, client Okta, cfg Config, obs Observer) *Provider {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if obs == nil {
		obs = nopObserver{}
	}
	return &Provider{
		log:    log,
		client: client,
		syncer: orgsync.New(client, cfg.syncOptions(), log),
		cfg:    cfg,
		obs:    obs,
	}
}

// Snapshot returns the snapshot being served, nil before the first good
// sync.
func (p *Provider) Snapshot() *catalog.Snapshot { return p.snap.Load() }

// Run serves the saved state, if there is one, then syncs at once and every
// interval (with jitter) until ctx is cancelled. A failed sync is logged
// and reported; Run keeps going. It returns nil when ctx is cancelled.
func (p *Provider) Run(ctx context.Context) error {
	p.LoadState()
	for {
		p.SyncOnce(ctx)
		wait := jitter(p.cfg.Interval)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// jitter returns d moved by a random amount within ±10 %.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

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

// generationFor returns the generation for st: the served one with st as
// its state when nothing a catalog is built from changed since the served
// state (no rebuild, no re-encoding), else a new build.
func (p *Provider) generationFor(st *orgsync.State, changed bool) *generation {
	p.mu.Lock()
	base := p.served
	p.mu.Unlock()
	if !changed && base != nil {
		g := *base
		g.state = st
		return &g
	}
	return p.build(st)
}

// AcceptHeld serves the snapshot held back by the deletion guard. It
// returns catalog.ErrNothingHeld when none is held.
func (p *Provider) AcceptHeld(ctx context.Context) error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	p.mu.Lock()
	h := p.held
	if h == nil {
		p.mu.Unlock()
		return catalog.ErrNothingHeld
	}
	p.publish(h.gen)
	p.latest = h.gen.state
	p.lastOK = p.cfg.Now()
	p.mu.Unlock()
	p.log.Warn().Int("users", h.info.Users).Int("groups", h.info.Groups).
		Int("removedUsers", h.info.removedUsers).Int("removedGroups", h.info.removedGroups).
		Msg("held snapshot accepted by an operator; now serving it")
	p.saveState(h.gen.state, true)
	return nil
}

// publish serves gen and clears any hold. p.mu must be held.
func (p *Provider) publish(gen *generation) {
	p.served = &generation{snap: gen.snap}
	p.snap.Store(gen.snap)
	if p.held != nil {
		p.held = nil
		p.obs.Held(false)
	}
	p.obs.Published(gen.snap.Users, gen.snap.Groups, gen.snap.BuiltAt)
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
		return fmt.Sprintf("would remove %d of %d %s (%.1f%%, limit %g%% by MAX_DELETE_SHARE)",
			n, of, what, 100*float64(n)/float64(of), 100*p.cfg.MaxDeleteShare)
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
			Msg("serving a snapshot that " + h.Reason + ", because ACCEPT_DELETIONS is set")
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

type nopObserver struct{}

func (nopObserver) SyncDone(string, string, time.Duration, int64) {}
func (nopObserver) Published(int, int, time.Time)                 {}
func (nopObserver) Held(bool)                                     {}
func (nopObserver) Mismatch(string, int)                          {}
func (nopObserver) StateSaveFailed()                              {}
func (nopObserver) LogReadFailed()                                {}
