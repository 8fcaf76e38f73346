package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgstore"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// Shared mode: replicas share one PostgreSQL database (pgstore). One of
// them, the leader, holds the lease and is the only one to sync; it
// publishes each generation (the state, the snapshot, a held one) in one
// transaction fenced by its lease's epoch, and serves it only once it is
// written. Every replica serves the latest generation from the database,
// learning of it by notification, or by polling when notifications are
// lost.
//
// With the database unavailable, every replica keeps serving what it
// serves, and syncing pauses: the leader cannot renew its lease, steps
// down before it expires, and no replica can take the lease until the
// database is back. A sync that could not be written would make the
// leader's bodies (and ETags) differ from the followers', behind one
// Service; paused, all replicas serve the same generation, and the next
// leader resumes incrementally from the state written last.

// sharedStore is the store of replicas sharing a database.
type sharedStore struct{ p *Provider }

func (s sharedStore) run(ctx context.Context) error { return s.p.runShared(ctx) }

func (s sharedStore) keep(ctx context.Context, r *syncResult, h HeldBack, ok bool) error {
	return s.p.share(ctx, r, h, ok)
}

func (s sharedStore) accept(ctx context.Context, etag string) (string, error) {
	return s.p.acceptShared(ctx, etag)
}

// Role is a replica's part in shared mode.
type Role string

// Roles, as /status reports them.
const (
	RoleLeader   Role = "leader"
	RoleFollower Role = "follower"
)

// pollEvery is how often a replica checks for a new generation and an
// expired lease; notifications usually come first.
const pollEvery = time.Second

// replica is the provider's state in shared mode.
type replica struct {
	store *pgstore.Store
	// notify is signalled by the store's Watch; forward by a hint that
	// arrives while following.
	notify, forward chan struct{}

	mu sync.Mutex // guards the fields below
	// role, epoch and changedAt are this replica's part; leader is the
	// lease holder last seen.
	role      Role
	epoch     int64
	leader    string
	changedAt time.Time
	// generation is the one served; latest the newest seen.
	generation, latest int64
	// migrated is whether the schema is known to be up to date.
	migrated bool
	// loadFailure is the cause of the last failed load, logged once.
	loadFailure string
	// savedAt is when the state was last written.
	savedAt time.Time
	// stepDown ends the leader's term (nil when following).
	stepDown context.CancelFunc
	// hints counts the hints forwarded between replicas.
	hints HintCounts
}

func (r *replica) snapshot() (role Role, epoch, gen int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.role, r.epoch, r.generation
}

// heldInfo is a HeldBack as the database keeps it, with the held
// snapshot's ETag.
type heldInfo struct {
	Users              int    `json:"users"`
	Groups             int    `json:"groups"`
	Reason             string `json:"reason"`
	RemovedUsers       int    `json:"removedUsers"`
	RemovedGroups      int    `json:"removedGroups"`
	RemovedMemberships int    `json:"removedMemberships"`
	ETag               string `json:"etag"`
	// Removed and Added are the entity refs it would remove and add,
	// whole, for every replica's /status.
	Removed []string `json:"removed"`
	Added   []string `json:"added"`
}

// runShared is Run in shared mode: it follows the latest generation and
// campaigns for the lease; while it holds the lease, it leads (syncs).
func (p *Provider) runShared(ctx context.Context) error {
	sh := p.shared
	var wg sync.WaitGroup
	defer wg.Wait()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	wg.Go(func() { sh.store.Watch(wctx, sh.notify, pollEvery) })
	wg.Go(func() { p.forwardHints(wctx) })
	for ctx.Err() == nil {
		p.observeHA()
		if p.migrate(ctx) {
			p.follow(ctx)
			if l, err := sh.store.Campaign(ctx, 0); err == nil {
				p.noteLeader(l)
				if l.Mine {
					p.lead(ctx, l)
					continue
				}
			}
		}
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
		case <-sh.notify:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// migrate brings the schema up to date once; it reports whether it is.
func (p *Provider) migrate(ctx context.Context) bool {
	sh := p.shared
	sh.mu.Lock()
	done := sh.migrated
	sh.mu.Unlock()
	if done {
		return true
	}
	applied, err := sh.store.Migrate(ctx)
	if err != nil {
		p.noteLoadFailure(err, "cannot prepare the database's schema; retrying (check DATABASE_URL, and that the database is up and its user may create tables)")
		return false
	}
	if len(applied) > 0 {
		p.log.Info().Strs("migrations", applied).Msg("database schema migrated")
	}
	sh.mu.Lock()
	sh.migrated = true
	sh.mu.Unlock()
	return true
}

// noteLoadFailure logs err with msg when its cause changed since the last.
func (p *Provider) noteLoadFailure(err error, msg string) {
	sh := p.shared
	key := failureKey(err)
	sh.mu.Lock()
	again := key == sh.loadFailure
	sh.loadFailure = key
	sh.mu.Unlock()
	if !again {
		p.log.Error().Err(err).Msg(msg + " (logged again only when the cause changes)")
	}
}

// noteLeader records the lease as last seen.
func (p *Provider) noteLeader(l pgstore.Lease) {
	sh := p.shared
	sh.mu.Lock()
	sh.leader = l.Holder
	if !l.ChangedAt.IsZero() {
		sh.changedAt = l.ChangedAt
	}
	sh.mu.Unlock()
}

// follow serves the latest generation when it is newer than the served
// one; it also makes its state the next sync's when leading (a held
// snapshot accepted through another replica). It does nothing when the
// database cannot be read: what is served stays.
func (p *Provider) follow(ctx context.Context) {
	select {
	case p.syncSlot <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-p.syncSlot }()
	_ = p.followLocked(ctx)
}

// followLocked is follow with syncSlot held.
func (p *Provider) followLocked(ctx context.Context) error {
	sh := p.shared
	role, _, served := sh.snapshot()
	head, err := sh.store.Head(ctx)
	if err != nil {
		return err
	}
	p.noteLeader(head.Lease)
	sh.mu.Lock()
	sh.latest = head.Generation
	sh.mu.Unlock()
	if head.Generation <= served {
		return nil
	}
	rec, err := sh.store.Load(ctx, served)
	if err != nil || rec == nil {
		return err
	}
	snap, err := snapshot.Unmarshal(rec.Snapshot)
	if err != nil {
		p.noteLoadFailure(err, fmt.Sprintf("cannot read generation %d from the database; still serving generation %d (a replica of another version wrote it: run one version)", rec.Generation, served))
		return err
	}
	var sts []*orgsync.State
	if role == RoleLeader {
		if sts, err = p.unmarshalStates(rec.State); err != nil {
			p.noteLoadFailure(err, "cannot read the sync state of the accepted generation")
			return err
		}
	}
	held, err := heldFromRecord(rec.Held)
	if err != nil {
		p.noteLoadFailure(err, "cannot read the held snapshot's description")
	}
	p.mu.Lock()
	if p.served == nil || p.served.snap.All.ETag != snap.All.ETag {
		p.publish(&generation{snap: snap})
	}
	p.setHeld(held)
	if sts != nil {
		p.adoptStates(sts)
	}
	p.mu.Unlock()
	sh.mu.Lock()
	sh.generation = rec.Generation
	sh.loadFailure = ""
	sh.mu.Unlock()
	p.log.Info().Int64("generation", rec.Generation).Str("writer", rec.Writer).Str("etag", snap.All.ETag).
		Int("users", snap.Users).Int("groups", snap.Groups).Bool("held", held != nil).Msg("serving the latest generation")
	return nil
}

// heldFromRecord decodes a held snapshot's description; nil for none.
func heldFromRecord(h *pgstore.Held) (*heldSnapshot, error) {
	if h == nil {
		return nil, nil
	}
	var info heldInfo
	if err := json.Unmarshal(h.Info, &info); err != nil {
		return nil, fmt.Errorf("decode the held snapshot's description: %w", err)
	}
	return &heldSnapshot{
		etag:    info.ETag,
		heldAt:  h.Since,
		removed: info.Removed, added: info.Added,
		info: HeldBack{Users: info.Users, Groups: info.Groups, Reason: info.Reason, ETag: info.ETag,
			RemovedUsers: info.RemovedUsers, RemovedGroups: info.RemovedGroups, RemovedMemberships: info.RemovedMemberships,
			RemovedTotal: len(info.Removed), AddedTotal: len(info.Added)},
	}, nil
}

// setHeld replaces the held snapshot, reporting a change. p.mu must be held.
func (p *Provider) setHeld(h *heldSnapshot) {
	if (p.held == nil) != (h == nil) {
		p.obs.Held(h != nil)
	}
	p.held = h
}

// lead runs a leader's term: it keeps the lease, resumes from the shared
// state and syncs every interval, until the lease is lost or ctx ends. On
// shutdown it releases the lease so that another replica takes over at once.
func (p *Provider) lead(ctx context.Context, l pgstore.Lease) {
	sh := p.shared
	term, stepDown := context.WithCancel(ctx)
	defer stepDown()
	sh.mu.Lock()
	sh.role, sh.epoch, sh.leader, sh.changedAt, sh.stepDown = RoleLeader, l.Epoch, l.Holder, l.ChangedAt, stepDown
	sh.mu.Unlock()
	p.log.Info().Int64("epoch", l.Epoch).Msg("leading: this replica syncs Okta and publishes each generation")
	p.observeHA()

	var wg sync.WaitGroup
	wg.Go(func() { p.keepLease(term, stepDown, l.Epoch) })
	defer func() {
		stepDown()
		wg.Wait()
		sh.mu.Lock()
		sh.role, sh.stepDown = RoleFollower, nil
		sh.changedAt = time.Now()
		sh.mu.Unlock()
		p.dropBehind()
		if ctx.Err() != nil {
			if err := sh.store.Release(context.WithoutCancel(ctx), l.Epoch); err == nil {
				p.log.Info().Msg("released the lease: another replica takes over")
			}
		}
		p.log.Warn().Int64("epoch", l.Epoch).Msg("no longer leading: following the replica that holds the lease")
		p.observeHA()
	}()

	if !p.resume(term) {
		return
	}
	// The schedule is runLocal's: hints of event hooks delivered to this
	// replica start syncs too, and so do those the followers forwarded
	// (the ones forwarded before this term are the first sync's). A
	// notification is a forwarded hint, or a held snapshot accepted
	// through another replica.
	p.drainHints(term, false)
	p.schedule(term, sh.notify, func() {
		p.drainHints(term, true)
		p.follow(term)
	})
}

// keepLease renews the lease every quarter of its TTL until term ends, and
// ends the term when the lease is lost, or when it could not be renewed
// for most of its TTL: past that, the lease may have expired and another
// replica may lead.
func (p *Provider) keepLease(term context.Context, stepDown context.CancelFunc, epoch int64) {
	sh := p.shared
	ttl := sh.store.LeaseTTL()
	renewed := time.Now()
	t := time.NewTicker(ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-term.Done():
			return
		case <-t.C:
		}
		l, err := sh.store.Campaign(term, epoch)
		p.observeHA()
		switch {
		case term.Err() != nil:
			return
		case err != nil:
			if time.Since(renewed) > ttl*3/4 {
				p.log.Error().Err(err).Msg("cannot renew the lease: stepping down; syncs pause until the database is back")
				stepDown()
				return
			}
		case !l.Mine || l.Epoch != epoch:
			p.log.Warn().Str("leader", l.Holder).Msg("the lease was taken over: stepping down")
			stepDown()
			return
		default:
			renewed = time.Now()
		}
	}
}

// resume makes the state written last the one the next sync starts from,
// and serves the latest generation, retrying until it can read them or the
// term ends. It reports whether it could.
func (p *Provider) resume(term context.Context) bool {
	for {
		err := p.resumeOnce(term)
		if err == nil {
			return true
		}
		p.noteLoadFailure(err, "cannot read the shared sync state; retrying")
		if !sleep(term, pollEvery) {
			return false
		}
	}
}

func (p *Provider) resumeOnce(ctx context.Context) error {
	select {
	case p.syncSlot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.syncSlot }()
	if err := p.resumeLocked(ctx); err != nil {
		return err
	}
	for _, o := range p.orgs {
		if o.latest != nil {
			p.obs.Resumed(o.Name)
		}
	}
	return nil
}

// resumeLocked is resumeOnce with syncSlot held.
func (p *Provider) resumeLocked(ctx context.Context) error {
	sh := p.shared
	if err := p.followLocked(ctx); err != nil {
		return err
	}
	gen, data, err := sh.store.LoadState(ctx)
	if err != nil {
		return err
	}
	sts := make([]*orgsync.State, len(p.orgs))
	if data != nil {
		if sts, err = p.unmarshalStates(data); err != nil {
			// The next sync is a full one, and overwrites it.
			p.log.Warn().Err(err).Msg("ignoring the shared sync state; the first sync is a full one")
			sts = make([]*orgsync.State, len(p.orgs))
		}
	}
	p.mu.Lock()
	p.adoptStates(sts)
	p.mu.Unlock()
	sh.mu.Lock()
	sh.generation, sh.savedAt = gen, time.Now()
	sh.mu.Unlock()
	if st := sts[0]; st != nil && !p.multiOrg() {
		users, groups, _ := st.Watermarks()
		p.log.Info().Int64("generation", gen).Time("usersWatermark", users).Time("groupsWatermark", groups).
			Msg("resuming from the shared sync state; the next sync is incremental")
	}
	return nil
}

// share writes what a sync brought to the database before it is served:
// a new generation when the served snapshot or the held one changes, else
// the state alone when it is due. The hold h and ok are the guard's
// verdict. A write refused because the lease is lost ends the term; one
// refused because the generation moved (an acceptance through another
// replica) serves the latest first. syncSlot must be held.
func (p *Provider) share(ctx context.Context, r *syncResult, h HeldBack, ok bool) error {
	sh := p.shared
	_, epoch, base := sh.snapshot()
	p.mu.Lock()
	served, held := p.served, p.held
	p.mu.Unlock()
	rec := &pgstore.Record{}
	var err error
	switch {
	case ok && served != nil && served.snap.All.ETag == r.gen.snap.All.ETag && held == nil:
		return p.shareState(ctx, epoch, base, r.gen.states, r.changed())
	case ok:
		if rec.State, err = p.marshalStates(r.gen.states); err != nil {
			return err
		}
		if rec.Snapshot, err = r.gen.snap.MarshalBinary(); err != nil {
			return err
		}
	case held != nil && held.etag == r.gen.snap.All.ETag:
		return nil // held already
	default:
		since := r.finished
		if held != nil {
			since = held.heldAt
		}
		hr := &pgstore.Held{Since: since}
		if hr.State, err = p.marshalStates(r.gen.states); err != nil {
			return err
		}
		if hr.Snapshot, err = r.gen.snap.MarshalBinary(); err != nil {
			return err
		}
		var servedSnap *snapshot.Snapshot
		if served != nil {
			servedSnap = served.snap
		}
		removed, added := r.gen.snap.Diff(servedSnap)
		hr.Info, _ = json.Marshal(heldInfo{Users: h.Users, Groups: h.Groups, Reason: h.Reason,
			RemovedUsers: h.RemovedUsers, RemovedGroups: h.RemovedGroups, RemovedMemberships: h.RemovedMemberships,
			ETag: r.gen.snap.All.ETag, Removed: removed, Added: added})
		rec.Held = hr
	}
	gen, err := sh.store.Publish(ctx, epoch, base, rec)
	if err != nil {
		return p.refused(ctx, err)
	}
	sh.mu.Lock()
	sh.generation, sh.latest, sh.savedAt = gen, max(sh.latest, gen), time.Now()
	sh.mu.Unlock()
	r.log.Info().Int64("generation", gen).Int64("epoch", epoch).Str("etag", r.gen.snap.All.ETag).
		Bool("held", !ok).Msg("generation published")
	return nil
}

// shareState writes the state alone when it changed or the written one is
// getting old (as the state file is).
func (p *Provider) shareState(ctx context.Context, epoch, base int64, sts []*orgsync.State, changed bool) error {
	sh := p.shared
	sh.mu.Lock()
	savedAt := sh.savedAt
	sh.mu.Unlock()
	if !changed && time.Since(savedAt) < saveEvery {
		return nil
	}
	data, err := p.marshalStates(sts)
	if err != nil {
		return err
	}
	if err := sh.store.SaveState(ctx, epoch, base, data); err != nil {
		return p.refused(ctx, err)
	}
	sh.mu.Lock()
	sh.savedAt = time.Now()
	sh.mu.Unlock()
	return nil
}

// refused handles a write the database refused: fenced, the term ends;
// stale, the latest generation and its state are taken up. It returns the
// error, explained, for the sync's outcome. syncSlot must be held.
func (p *Provider) refused(ctx context.Context, err error) error {
	sh := p.shared
	switch {
	case errors.Is(err, pgstore.ErrFenced):
		sh.mu.Lock()
		stop := sh.stepDown
		sh.mu.Unlock()
		if stop != nil {
			stop()
		}
		return fmt.Errorf("another replica leads now; this one's sync is dropped: %w", err)
	case errors.Is(err, pgstore.ErrStale):
		if lerr := p.resumeLocked(ctx); lerr != nil {
			return errors.Join(err, lerr)
		}
		return fmt.Errorf("the generation moved meanwhile (a held snapshot was accepted); the next sync starts from it: %w", err)
	}
	return fmt.Errorf("cannot write to the database; nothing new is served until a sync is written: %w", err)
}

// acceptShared accepts the held snapshot through the database, whichever
// replica leads, if the one held there is etag, and serves it here at
// once.
func (p *Provider) acceptShared(ctx context.Context, etag string) (string, error) {
	held, gen, err := p.shared.store.Accept(ctx, etag, heldETag)
	if err != nil || held != etag {
		return held, err
	}
	p.log.Warn().Int64("generation", gen).Str("etag", etag).Msg("held snapshot accepted by an operator; all replicas serve it")
	p.follow(ctx)
	return etag, nil
}

// heldETag reads the held snapshot's ETag from its description as the
// database keeps it; "" when it does not decode.
func heldETag(info []byte) string {
	var h heldInfo
	if json.Unmarshal(info, &h) != nil {
		return ""
	}
	return h.ETag
}

// HA is a replica's part in shared mode, as /status reports it.
type HA struct {
	Role      Role   `json:"role"`
	ReplicaID string `json:"replicaId"`
	// LeaderID is the lease holder's id, "" when none holds it.
	LeaderID string `json:"leaderId"`
	Epoch    int64  `json:"epoch"`
	// Generation is the one served; Lag how many generations the newest
	// one seen is ahead of it.
	Generation           int64          `json:"generation"`
	Lag                  int64          `json:"lag"`
	LastLeadershipChange *time.Time     `json:"lastLeadershipChange"`
	Database             DatabaseStatus `json:"database"`
	// Hints counts the event hook hints forwarded to the leader.
	Hints HintCounts `json:"hints"`
}

// DatabaseStatus is the shared database's availability as this replica
// sees it.
type DatabaseStatus struct {
	Available bool `json:"available"`
	// UnavailableSince and OutageSeconds describe the current outage.
	UnavailableSince *time.Time `json:"unavailableSince"`
	OutageSeconds    float64    `json:"outageSeconds"`
	Error            string     `json:"error,omitempty"`
	// Outages counts the outages since start; LastOutageSeconds is how
	// long the last one that ended lasted.
	Outages           int     `json:"outages"`
	LastOutageSeconds float64 `json:"lastOutageSeconds"`
}

// haStatus describes the replica for /status; nil when not shared.
func (p *Provider) haStatus() *HA {
	sh := p.shared
	if sh == nil {
		return nil
	}
	hl := sh.store.Health()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	h := &HA{
		Role: sh.role, ReplicaID: sh.store.Replica(), LeaderID: sh.leader, Epoch: sh.epoch,
		Generation: sh.generation, Lag: max(0, sh.latest-sh.generation), Hints: sh.hints,
		Database: DatabaseStatus{Available: hl.Up, Error: hl.LastError, Outages: hl.Outages, LastOutageSeconds: hl.LastOutage.Seconds()},
	}
	if sh.role == RoleLeader {
		h.LeaderID = sh.store.Replica()
	}
	if !sh.changedAt.IsZero() {
		t := sh.changedAt.UTC()
		h.LastLeadershipChange = &t
	}
	if !hl.DownSince.IsZero() {
		t := hl.DownSince.UTC()
		h.Database.UnavailableSince = &t
		h.Database.OutageSeconds = time.Since(hl.DownSince).Seconds()
	}
	return h
}

// observeHA reports the replica's part to the Observer.
func (p *Provider) observeHA() {
	if h := p.haStatus(); h != nil {
		p.obs.Replica(h.Role == RoleLeader, h.Generation, h.Database.Available, h.Database.OutageSeconds, h.Database.Outages)
	}
}
