package provider

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/pgstore"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
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
	// SyncDone reports an org's finished sync: its mode, its outcome, how
	// long it took and how many Okta requests it sent. The one org of a
	// single-org provider is org "".
	SyncDone(org string, mode orgsync.Mode, outcome Outcome, d time.Duration, oktaCalls int64)
	// Published reports a snapshot now being served.
	Published(users, groups int, builtAt time.Time)
	// Resumed reports an org this process now syncs from a state it did
	// not sync itself: the saved one at the start, or the shared one as a
	// term as the leader begins. Its entities are served from that state
	// until its next successful sync.
	Resumed(org string)
	// Held reports whether a snapshot is held back by the deletion guard.
	Held(held bool)
	// Mismatch reports n differences of one kind (user, group, membership, app)
	// that a full reconciliation found against the incremental state.
	Mismatch(org, kind string, n int)
	// StateSaveFailed reports a failure to persist the sync state.
	StateSaveFailed()
	// LogReadFailed reports a sync that could not read an org's System
	// Log although the credentials may read it.
	LogReadFailed(org string)
	// HookSync reports a sync an event hook asked for, started.
	HookSync()
	// ChangeLatency reports the time from a change's event (published, by
	// Okta's clock) to the snapshot holding it being served.
	ChangeLatency(d time.Duration)
	// Replica reports a replica's part in shared mode: whether it leads,
	// the generation it serves, and the shared database's availability
	// (the current outage's length, and how many outages there were).
	Replica(leader bool, generation int64, dbUp bool, outageSeconds float64, outages int)
	// HintForwarded reports an event hook's hint a follower forwarded to
	// the leader, by outcome (HintStored, HintDropped, HintFailed).
	HintForwarded(outcome string)
	// HintsReceived reports n hints forwarded by followers that the
	// leader took up.
	HintsReceived(n int)
}

// Outcome is how a sync ended.
type Outcome string

// Sync outcomes, as reported on /status and to the Observer.
const (
	// OutcomeOK is a sync whose snapshot is served.
	OutcomeOK Outcome = "ok"
	// OutcomeFailed is a sync that did not finish; the last good snapshot
	// stays served.
	OutcomeFailed Outcome = "failed"
	// OutcomeHeld is a sync whose snapshot the deletion guard holds back.
	OutcomeHeld Outcome = "held"
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
	// AppIDs, when not empty, keeps only the users assigned to these Okta
	// apps, directly or through a group; AppGroupsOnly then also keeps
	// only the groups assigned to them.
	AppIDs        []string
	AppGroupsOnly bool
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
	// HookSettle is how long a hint waits for more before the sync it
	// asks for starts; HookMinGap the least time between the starts of
	// two hook-triggered syncs. Defaults 500ms and 1s.
	HookSettle, HookMinGap time.Duration
	// Changed, when set, is called after a snapshot that differs from
	// the one served before is published (to tell the catalog to read
	// it). It must not block.
	Changed func()
	// Shared, when set, is the database replicas share (shared mode): the
	// state is kept there, not in StatePath, and only the replica holding
	// its lease syncs.
	Shared *pgstore.Store
	// ProgressEvery is how often a running sync's progress is logged;
	// default 30 s.
	ProgressEvery time.Duration
	// OrgPatience is, with several orgs, the least time a step waits for
	// an org that has a state once the others are done (see syncOrgs);
	// default 2 s.
	OrgPatience time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Orgs, when not empty, are the Okta orgs to sync into one merged
	// catalog, each with its client, selection, mapping and state file;
	// New's client and the fields Users, Groups, Catalog, AppIDs,
	// AppGroupsOnly and StatePath are then not used. Empty: the one org
	// of New's client and those fields.
	Orgs []Org
	// SettingName returns the name an operator sets a knob by, for the
	// provider's messages: a Config field as "provider.<Field>" (e.g.
	// "provider.Timeout") or an Okta client option as "okta.<Field>".
	// nil, or "" for a knob, describes the knob instead.
	SettingName func(knob string) string
}

// Org is one Okta org of Config.Orgs.
type Org struct {
	// Name tells the org apart in /status, metrics, logs and its entities'
	// okta.com/org annotation; unique among the orgs.
	Name   string
	Client Okta
	// Users and Groups are the admin's list expressions for this org.
	Users  okta.UserListOptions
	Groups okta.GroupListOptions
	// Catalog is this org's mapping (naming, namespace, name prefix,
	// transforms, selection).
	Catalog catalog.Options
	// AppIDs and AppGroupsOnly select by app assignment, as in Config.
	AppIDs        []string
	AppGroupsOnly bool
	// StatePath is the file this org's sync state is kept in; "" keeps it
	// in memory only.
	StatePath string
}

// knobs describe the knobs the provider's messages name, where
// Config.SettingName does not name them.
var knobs = map[string]string{
	"provider.Interval":           "the sync interval",
	"provider.Timeout":            "the sync timeout",
	"provider.DeletionCheckEvery": "the deletion check interval",
	"provider.StatePath":          "the state file's directory",
	"provider.MaxDeleteShare":     "the maximum delete share",
	"provider.AcceptDeletions":    "the setting that accepts deletions",
	"okta.RequestTimeout":         "the Okta request timeout",
	"okta.OrgURL":                 "the Okta org URL",
}

// Knobs lists the knobs the provider's messages name, sorted: the keys
// Config.SettingName is asked for.
func Knobs() []string {
	return slices.Sorted(maps.Keys(knobs))
}

// setting names a knob for a message: by Config.SettingName, else by
// its description.
func (c *Config) setting(knob string) string {
	if c.SettingName != nil {
		if n := c.SettingName(knob); n != "" {
			return n
		}
	}
	if d, ok := knobs[knob]; ok {
		return d
	}
	return knob
}

// Provider syncs Okta into catalog snapshots. It implements the source the
// HTTP API serves from: Snapshot, Status and AcceptHeld.
type Provider struct {
	log zerolog.Logger
	// orgs are the Okta orgs synced, in Config.Orgs's order (the catalog
	// merges them in it); one, named "", without Config.Orgs.
	orgs []*orgRun
	cfg  Config
	obs  Observer
	// store keeps the state: fileStore, or sharedStore in shared mode.
	store store
	// shared is the replica's state in shared mode; nil otherwise.
	shared *replica

	snap atomic.Pointer[snapshot.Snapshot]

	// syncSlot serialises syncs and acceptance of a held snapshot: its
	// one slot is taken while either runs. Unlike a mutex, a wait for it
	// can end with its context: POST /admin/accept does not wait out a
	// sync of up to Config.Timeout.
	//
	// Each org's latest state (orgRun.latest) is the one of the served
	// snapshot: its next incremental sync starts from it. A held
	// snapshot's states never become it, so that a hold lifts by itself
	// when Okta shows again what it would remove, and new changes keep
	// flowing meanwhile.
	syncSlot chan struct{}
	// failureKey is the cause of the last failed sync, "" after a good
	// one, logged when it changes, not on every sync; failures counts
	// the failed syncs in a row. Guarded by syncSlot.
	failureKey string
	failures   int
	// behind counts the org syncs that outlast the step that started
	// them (see syncOrgs); Run waits for them before it returns.
	behind sync.WaitGroup

	mu        sync.Mutex // guards the fields below
	served    *generation
	held      *heldSnapshot
	completed int64
	failed    int64
	lastSync  *SyncInfo
	recent    []SyncInfo // the last RecentSyncsKept syncs, oldest first
	lastOK    time.Time
	hookSyncs int64

	// trigger asks Run for a hook-triggered sync; pend holds what the
	// hints asked for, guarded by pendMu.
	trigger chan struct{}
	// caughtUp asks Run for a sync that serves an org's sync that
	// outlasted its step and succeeded.
	caughtUp chan struct{}
	// behindDone is signalled when an org's sync in the background is
	// done, for the step waiting on it.
	behindDone chan struct{}
	pendMu     sync.Mutex
	pend       pending
}

type heldSnapshot struct {
	// gen is nil on a replica that did not build it (shared mode): it
	// knows it by its ETag and description only.
	gen    *generation
	etag   string
	info   HeldBack
	heldAt time.Time
	// removed and added are the entity refs the held snapshot would
	// remove from and add to the served one, whole.
	removed, added []string
}

// positiveOr returns d when it is above zero, and def for a duration left
// at zero or below.
func positiveOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// New returns a provider; it does nothing until Run. obs may be nil.
// client is the one org's, unless cfg.Orgs lists the orgs (then it is not
// used, and may be nil). Shared mode (cfg.Shared) and event hooks serve a
// single org.
func New(log zerolog.Logger, client Okta, cfg Config, obs Observer) *Provider {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if obs == nil {
		obs = nopObserver{}
	}
	cfg.HookSettle = positiveOr(cfg.HookSettle, defaultHookSettle)
	cfg.HookMinGap = positiveOr(cfg.HookMinGap, defaultHookMinGap)
	cfg.ProgressEvery = positiveOr(cfg.ProgressEvery, defaultProgressEvery)
	cfg.OrgPatience = positiveOr(cfg.OrgPatience, defaultOrgPatience)
	orgs := cfg.Orgs
	if len(orgs) == 0 {
		orgs = []Org{cfg.singleOrg(client)}
	}
	runs := make([]*orgRun, len(orgs))
	for i, o := range orgs {
		runs[i] = newOrgRun(log, o, &cfg)
	}
	var shared *replica
	if cfg.Shared != nil {
		shared = &replica{store: cfg.Shared, notify: make(chan struct{}, 1), forward: make(chan struct{}, 1), role: RoleFollower}
	}
	p := &Provider{
		shared: shared,
		log:    log,
		orgs:   runs,
		cfg:    cfg,
		obs:    obs,

		syncSlot:   make(chan struct{}, 1),
		trigger:    make(chan struct{}, 1),
		caughtUp:   make(chan struct{}, 1),
		behindDone: make(chan struct{}, 1),
	}
	p.store = fileStore{p}
	if shared != nil {
		p.store = sharedStore{p}
	}
	return p
}

// Snapshot returns the snapshot being served, nil before the first good
// sync.
func (p *Provider) Snapshot() *snapshot.Snapshot { return p.snap.Load() }

type nopObserver struct{}

func (nopObserver) SyncDone(string, orgsync.Mode, Outcome, time.Duration, int64) {}
func (nopObserver) Published(int, int, time.Time)                                {}
func (nopObserver) Resumed(string)                                               {}
func (nopObserver) Held(bool)                                                    {}
func (nopObserver) Mismatch(string, string, int)                                 {}
func (nopObserver) StateSaveFailed()                                             {}
func (nopObserver) LogReadFailed(string)                                         {}
func (nopObserver) HookSync()                                                    {}
func (nopObserver) HintForwarded(string)                                         {}
func (nopObserver) HintsReceived(int)                                            {}
func (nopObserver) ChangeLatency(time.Duration)                                  {}
func (nopObserver) Replica(bool, int64, bool, float64, int)                      {}
