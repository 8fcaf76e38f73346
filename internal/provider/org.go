package provider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// orgRun is one Okta org as the provider syncs it: its client and
// syncer, the state its served entities were built from, and how its
// syncs went. A single-org provider has one, named "".
type orgRun struct {
	Org
	syncer *orgsync.Syncer
	// progress is kept up to date by the syncer while a sync runs.
	progress *orgsync.Progress
	// log names the org when it has a name.
	log zerolog.Logger

	// latest is the state of the org's served entities: its next
	// incremental sync starts from it. failureKey and logFailureKey are
	// the causes of its last failed sync and System Log read, logged
	// when they change; failures counts its failed syncs in a row;
	// savedAt is when latest was last written to StatePath. Guarded by
	// the provider's syncSlot.
	latest                    *orgsync.State
	failureKey, logFailureKey string
	failures                  int // written under mu too: /status reads it
	savedAt                   time.Time
	// behind brings the result of the org's sync that outlasted the step
	// that started it (see syncOrgs), started at behindSince; nil when
	// none runs. Guarded by syncSlot.
	behind      chan *orgResult
	behindSince time.Time
	// outlasted marks a sync in the background that no step waits for
	// any more; guarded by the provider's mu. took is how long the org's
	// last good sync of each mode took (see patience).
	outlasted bool
	took      map[orgsync.Mode]time.Duration

	// Guarded by the provider's mu: the org's sync in progress (nil when
	// none), its last sync, when it last succeeded, and what its last
	// good sync found of its change tracking.
	run      *running
	lastSync *SyncInfo
	lastOK   time.Time
	changes  *ChangeTracking
}

func newOrgRun(log zerolog.Logger, o Org, cfg *Config) *orgRun {
	progress := &orgsync.Progress{}
	opts := syncOptions(&o, cfg)
	opts.Progress = progress
	if o.Name != "" {
		log = log.With().Str("org", o.Name).Logger()
	}
	return &orgRun{Org: o, syncer: orgsync.New(o.Client, opts, log), progress: progress, log: log,
		took: make(map[orgsync.Mode]time.Duration)}
}

// singleOrg is the one org of a provider without Config.Orgs: client,
// with Config's selection, mapping and state file.
func (c *Config) singleOrg(client Okta) Org {
	return Org{Client: client, Users: c.Users, Groups: c.Groups, Catalog: c.Catalog,
		AppIDs: c.AppIDs, AppGroupsOnly: c.AppGroupsOnly, StatePath: c.StatePath}
}

// syncOptions returns what o's Syncer copies from Okta: the admin's
// expressions, and the catalog's group type and "users from groups"
// selection, so that what the catalog would drop is never listed.
func syncOptions(o *Org, c *Config) orgsync.Options {
	return orgsync.Options{
		UserFilter:         o.Users.Filter,
		UserSearch:         o.Users.Search,
		GroupFilter:        o.Groups.Filter,
		GroupSearch:        o.Groups.Search,
		IncludeGroupTypes:  o.Catalog.IncludeGroupTypes,
		ExcludeGroupTypes:  o.Catalog.ExcludedGroupTypes(),
		UsersFromGroups:    o.Catalog.UsersFromGroups,
		AppIDs:             o.AppIDs,
		AppGroupsOnly:      o.AppGroupsOnly,
		Concurrency:        c.MemberConcurrency,
		DeletionCheckEvery: c.DeletionCheckEvery,
	}
}

// orgResult is what one sync brought of one org: the state it made, or
// the error that ended it, in which case next is the state it started
// from (the org's entities stay as they were).
type orgResult struct {
	o *orgRun
	// mode is the mode that ran: an incremental sync may have run a full
	// one.
	mode       orgsync.Mode
	prev, next *orgsync.State
	stats      orgsync.Stats
	err        error
	log        zerolog.Logger
	// finished is when the org's Okta calls ended.
	start, finished time.Time
	calls           int64
	// late marks the part of an org whose sync, started by an earlier
	// step (at o.behindSince), still runs: nothing of it is known yet, and
	// the org's entities stay as they were (next is prev). earlier marks
	// the result of such a sync, taken by a later step.
	late, earlier bool
	// suspects are the deletions the sync was asked to check.
	suspects orgsync.Suspects
}

// info describes the org's sync for /status, without its outcome.
func (r *orgResult) info() *SyncInfo {
	return &SyncInfo{
		Mode:            r.mode,
		Reason:          r.stats.Reason,
		StartedAt:       r.start.UTC(),
		FinishedAt:      r.finished.UTC(),
		DurationSeconds: r.finished.Sub(r.start).Seconds(),
		OktaCalls:       r.calls,
	}
}

// startOrg decides the mode of o's sync and marks it running; when o's
// sync started by an earlier step still runs, none starts.
func (p *Provider) startOrg(o *orgRun, start time.Time) *orgResult {
	if o.behind != nil {
		return o.stillRunning(start)
	}
	r := &orgResult{o: o, prev: o.latest, start: start, mode: orgsync.ModeIncremental}
	if r.prev == nil || p.cfg.FullInterval <= 0 || start.Sub(r.prev.FullSyncAt()) >= p.cfg.FullInterval {
		r.mode = orgsync.ModeFull
	}
	r.log = o.log.With().Str("mode", string(r.mode)).Logger()
	r.log.Info().Msg("sync started")
	p.setRunning(o, &running{mode: r.mode, start: start, calls0: o.Client.Calls(), paced0: pacedTotal(o.Client.RateStatus())})
	return r
}

// stillRunning is o's part of a step while its sync started by an
// earlier step runs: its entities stay as they were.
func (o *orgRun) stillRunning(start time.Time) *orgResult {
	return &orgResult{o: o, prev: o.latest, next: o.latest, start: start, finished: start,
		mode: orgsync.ModeIncremental, log: o.log, late: true}
}

// syncOrgs syncs every org of rs, at once when there are several, within
// sctx (ctx with the sync timeout), each checking its suspects.
//
// The step waits for every org that has no state yet: no catalog leaves
// one out. An org that has a state does not hold the others back for
// long. Its sync runs in the background with a timeout of its own, and
// once the orgs without a state are done, the step waits for it only
// while it stays within its patience: twice its last good sync of that
// mode, at most 30 s, and at least Config.OrgPatience. An org whose last
// sync failed has no patience left: the step waits for it only while the
// others run. A sync the step stops waiting for goes on, the org's
// entities staying as they were, and the first step after it is done
// takes its result; one that succeeds asks for that step at once
// (caughtUp). So an org that goes down costs the others its patience when
// it first fails, and nothing at the syncs after. When every org is
// failing, the step waits for them all.
func (p *Provider) syncOrgs(ctx, sctx context.Context, rs []*orgResult) {
	if len(rs) == 1 {
		p.syncOrg(ctx, sctx, rs[0])
		return
	}
	began := time.Now()
	var wg sync.WaitGroup
	// waiting holds the orgs the step may stop waiting for: each one's
	// patience ends at its deadline, the zero time for one with none.
	waiting := make(map[int]time.Time)
	patient := false
	for i, r := range rs {
		switch {
		case r.late:
			waiting[i] = time.Time{}
		case r.prev != nil:
			waiting[i] = time.Time{}
			if r.o.failures == 0 {
				waiting[i], patient = began.Add(p.patience(r)), true
			}
			p.syncBehind(ctx, r)
		default:
			wg.Go(func() { p.syncOrg(ctx, sctx, r) })
		}
	}
	others := make(chan struct{})
	go func() { wg.Wait(); close(others) }()
	waitAll := len(waiting) == len(rs) && !patient
	othersDone := false
	for {
		for i := range waiting {
			if p.takeBehind(rs, i, false) {
				delete(waiting, i)
			}
		}
		var wake <-chan time.Time
		if othersDone && !waitAll {
			if next := p.stopWaiting(rs, waiting); !next.IsZero() {
				wake = time.After(time.Until(next))
			}
		}
		if len(waiting) == 0 {
			break
		}
		select {
		case <-others:
			othersDone, others = true, nil // closed: no more news from it
		case <-p.behindDone:
		case <-wake:
		}
	}
	if !othersDone {
		<-others
	}
}

// stopWaiting stops the step waiting for the orgs of waiting whose
// patience is out, then, when none with patience is left, for the others.
// It returns when the next patience ends; the zero time when none is left.
func (p *Provider) stopWaiting(rs []*orgResult, waiting map[int]time.Time) time.Time {
	now := time.Now()
	var next time.Time
	for i, d := range waiting {
		switch {
		case d.IsZero():
		case now.Before(d):
			if next.IsZero() || d.Before(next) {
				next = d
			}
		default:
			p.takeBehind(rs, i, true)
			delete(waiting, i)
		}
	}
	if next.IsZero() {
		for i := range waiting {
			p.takeBehind(rs, i, true)
		}
		clear(waiting)
	}
	return next
}

// defaultOrgPatience is Config.OrgPatience's default.
const defaultOrgPatience = 2 * time.Second

// maxOrgPatience bounds an org's patience: a sync that takes longer, even
// as long as it usually does (a large org's full sync), is served by the
// step its end asks for, not by holding the other orgs' changes back.
const maxOrgPatience = 30 * time.Second

// patience is how long the step that starts r waits for it once the orgs
// without a state are done: twice the org's last good sync of r's mode,
// at most maxOrgPatience, and at least Config.OrgPatience.
func (p *Provider) patience(r *orgResult) time.Duration {
	return max(p.cfg.OrgPatience, min(2*r.o.took[r.mode], maxOrgPatience))
}

// takeBehind takes the result of rs[i]'s sync in the background into rs
// when it is done, and reports whether it was. When it is not and stop
// is true, the step stops waiting for it: rs[i] becomes the org's part
// of a step whose sync still runs, and the sync, once done, asks for the
// step that takes its result (caughtUp).
func (p *Provider) takeBehind(rs []*orgResult, i int, stop bool) bool {
	o := rs[i].o
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case done := <-o.behind:
		done.earlier = done.start != rs[i].start
		// What is served of the org may have changed since the sync
		// started (a held snapshot accepted, a shared generation adopted
		// by a new leader's term): the result is measured against it, and
		// a failed sync keeps it, not the state the sync started from.
		done.prev = o.latest
		if done.err != nil {
			done.next = o.latest
		}
		o.behind, o.outlasted, rs[i] = nil, false, done
		return true
	default:
	}
	if stop {
		o.outlasted = true
		rs[i] = o.stillRunning(rs[i].start)
	}
	return false
}

// syncBehind runs r's sync in the background, within ctx and a timeout
// of its own, so that it can outlast the step; its result comes on
// r.o.behind, which the step or one after takes it from (takeBehind).
func (p *Provider) syncBehind(ctx context.Context, r *orgResult) {
	done := make(chan *orgResult, 1)
	r.o.behind, r.o.behindSince = done, r.start
	p.behind.Go(func() {
		bctx, cancel := ctx, context.CancelFunc(func() {})
		if p.cfg.Timeout > 0 {
			bctx, cancel = context.WithTimeout(ctx, p.cfg.Timeout)
		}
		defer cancel()
		p.syncOrg(ctx, bctx, r)
		p.mu.Lock()
		done <- r
		outlasted := r.o.outlasted
		if outlasted {
			r.o.run = nil // no step clears it: none is waiting
		}
		p.mu.Unlock()
		poke(p.behindDone)
		if outlasted && r.err == nil && ctx.Err() == nil {
			poke(p.caughtUp)
		}
	})
}

// dropBehind waits for the orgs' syncs in the background, which the end
// of the context they run in (a leader's term) ends, and drops their
// results: the next term starts from the shared generation, not from what
// they started from. The hints they were checking are given back and
// forwarded to the leader. Called once this replica follows.
func (p *Provider) dropBehind() {
	p.behind.Wait()
	p.syncSlot <- struct{}{}
	defer func() { <-p.syncSlot }()
	hinted := false
	for i, o := range p.orgs {
		if o.behind == nil {
			continue
		}
		r := <-o.behind // there: the sync has ended
		p.requeue(i, r.suspects, nil)
		hinted = hinted || !r.suspects.Empty()
		p.mu.Lock()
		o.behind, o.outlasted, o.run = nil, false, nil
		p.mu.Unlock()
	}
	if hinted {
		p.wake() // a follower by now: forwarded to the leader
	}
}

// poke signals ch without blocking: a signal already pending stands for
// this one.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// syncOrg brings r's org up to date. On failure r.next is the state the
// sync started from.
func (p *Provider) syncOrg(ctx, sctx context.Context, r *orgResult) {
	calls0 := r.o.Client.Calls()
	r.next, r.stats, r.err = p.sync(sctx, r.log, r.o, r.mode, r.prev, r.suspects)
	if r.err == nil && ctx.Err() != nil {
		r.err = ctx.Err()
	}
	r.calls = r.o.Client.Calls() - calls0
	r.finished = p.cfg.Now()
	if r.err != nil {
		r.err = p.cfg.explain(ctx, sctx, r.err)
		if r.o.Name != "" {
			r.err = &orgError{org: r.o.Name, err: r.err}
		}
		r.next = r.prev
		return
	}
	r.mode = r.stats.Mode
}

// orgError is the failed sync of a named org.
type orgError struct {
	org string
	err error
}

func (e *orgError) Error() string { return "org " + e.org + ": " + e.err.Error() }
func (e *orgError) Unwrap() error { return e.err }

// unready returns why rs's states cannot be served: an org's sync failed
// and it has no state to keep serving (so that a catalog never goes out
// without one org's entities), or every org's sync failed. nil means the
// merged catalog can be built, the failed orgs keeping their entities.
func unready(rs []*orgResult) error {
	if len(rs) == 1 {
		return rs[0].err
	}
	var missing, failed []error
	late := 0
	for _, r := range rs {
		switch {
		case r.late:
			late++
		case r.err == nil:
		case r.next == nil:
			missing = append(missing, r.err)
		default:
			failed = append(failed, r.err)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("no catalog is served until every org has synced once: %w", errors.Join(missing...))
	case len(failed) > 0 && len(failed)+late == len(rs):
		return errors.Join(failed...)
	}
	return nil
}

// failedOrgs lists the named orgs whose sync failed, for a log line.
func failedOrgs(rs []*orgResult) []string {
	var names []string
	for _, r := range rs {
		if r.err != nil {
			names = append(names, r.o.Name)
		}
	}
	return names
}

// orgInputs returns what the catalog is built from: each org's state, in
// the orgs' order, with its mapping.
func (p *Provider) orgInputs(sts []*orgsync.State) []catalog.OrgInput {
	in := make([]catalog.OrgInput, len(sts))
	for i, st := range sts {
		o := p.orgs[i]
		in[i] = catalog.OrgInput{Name: o.Name, Options: o.Catalog, Input: CatalogInput(st)}
	}
	return in
}

// states returns the state each org's result leaves it with.
func states(rs []*orgResult) []*orgsync.State {
	sts := make([]*orgsync.State, len(rs))
	for i, r := range rs {
		sts[i] = r.next
	}
	return sts
}

// multiOrg says whether the provider serves named orgs: /status and the
// logs then tell them apart.
func (p *Provider) multiOrg() bool { return len(p.orgs) > 1 || p.orgs[0].Name != "" }
