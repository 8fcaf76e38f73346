package provider

import (
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// Status is the provider's state as /status reports it.
type Status struct {
	Syncs    SyncCounts `json:"syncs"`
	LastSync *SyncInfo  `json:"lastSync"`
	// RecentSyncs are the last RecentSyncsKept finished syncs, newest
	// first.
	RecentSyncs []SyncInfo           `json:"recentSyncs"`
	LastOKAt    *time.Time           `json:"lastSuccessAt"`
	Snapshot    *SnapshotInfo        `json:"snapshot"`
	HeldBack    *HeldBack            `json:"heldBack"`
	Report      *catalog.Report      `json:"report"`
	RateLimits  map[string]RateLimit `json:"rateLimits"`
	// SnapshotAgeSeconds is the age of the served snapshot, null before the
	// first one.
	SnapshotAgeSeconds *float64 `json:"snapshotAgeSeconds"`
	// Changes describes how syncs find changes, null before the first good
	// sync.
	Changes *ChangeTracking `json:"changes"`
	// HA is the replica's part in shared mode; null otherwise.
	HA *HA `json:"ha"`
	// Progress is how far the sync in progress is; null between syncs.
	// With several orgs it is the first org's whose sync still runs.
	Progress *Progress `json:"progress"`
	// Orgs describes each org, in the orgs' order, when the service
	// serves named orgs (the config file's orgs); rateLimits and changes
	// above are then empty and null, and each org has its own.
	Orgs []OrgStatus `json:"orgs,omitempty"`
}

// OrgStatus is one org's part of Status.
type OrgStatus struct {
	Name string `json:"name"`
	// LastSync is the org's part of the last sync: its outcome is failed
	// when the org's own sync failed (its last good entities stay
	// served).
	LastSync       *SyncInfo            `json:"lastSync"`
	LastOKAt       *time.Time           `json:"lastSuccessAt"`
	FailuresInARow int                  `json:"failuresInARow"`
	RateLimits     map[string]RateLimit `json:"rateLimits"`
	Changes        *ChangeTracking      `json:"changes"`
	Progress       *Progress            `json:"progress"`
}

// ChangeTracking describes the state incremental syncs start from.
type ChangeTracking struct {
	LastFullSyncAt time.Time  `json:"lastFullSyncAt"`
	NextFullSyncAt *time.Time `json:"nextFullSyncAt"`
	// DeletionsFrom is "system-log" or "periodic-check": what the last
	// sync really took its deletions from.
	DeletionsFrom string `json:"deletionsFrom"`
	// SystemLogError is why the System Log could not be read although the
	// credentials may read it; deletions come from the periodic check
	// until it reads again.
	SystemLogError string     `json:"systemLogError,omitempty"`
	Watermarks     Watermarks `json:"watermarks"`
}

// Watermarks are the Okta instants up to which changes are in the state.
type Watermarks struct {
	Users  time.Time `json:"users"`
	Groups time.Time `json:"groups"`
	Log    time.Time `json:"log"`
}

// changeTracking describes st for /status.
func (p *Provider) changeTracking(st *orgsync.State) *ChangeTracking {
	if st == nil {
		return nil
	}
	c := &ChangeTracking{LastFullSyncAt: st.FullSyncAt().UTC(), DeletionsFrom: "periodic-check"}
	if st.DeletionsFromLog() {
		c.DeletionsFrom = "system-log"
	}
	c.SystemLogError = st.LogError()
	if p.cfg.FullInterval > 0 {
		t := c.LastFullSyncAt.Add(p.cfg.FullInterval)
		c.NextFullSyncAt = &t
	}
	u, g, l := st.Watermarks()
	c.Watermarks = Watermarks{Users: u.UTC(), Groups: g.UTC(), Log: l.UTC()}
	return c
}

// SyncCounts counts syncs since start. A held sync counts as completed.
type SyncCounts struct {
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	// HookTriggered counts the syncs started because an event hook asked.
	HookTriggered int64 `json:"hookTriggered"`
}

// SyncInfo describes one sync.
type SyncInfo struct {
	Mode orgsync.Mode `json:"mode"`
	// Reason says why a sync was full when an incremental one was due.
	Reason          string    `json:"reason,omitempty"`
	StartedAt       time.Time `json:"startedAt"`
	FinishedAt      time.Time `json:"finishedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	Outcome         Outcome   `json:"outcome"`
	Error           string    `json:"error,omitempty"`
	OktaCalls       int64     `json:"oktaCalls"`

	err error // the failed sync's error, for advice
}

// SnapshotInfo describes the served snapshot.
type SnapshotInfo struct {
	Users   int       `json:"users"`
	Groups  int       `json:"groups"`
	ETag    string    `json:"etag"`
	BuiltAt time.Time `json:"builtAt"`
	Shards  int       `json:"shards"`
}

// HeldBack describes a snapshot held back by the deletion guard: its user
// and group counts, why it is held (how much it would remove) and since
// when, its ETag (what POST /admin/accept's If-Match names) and the
// entity refs it would remove and add compared with the served snapshot.
type HeldBack struct {
	Users  int       `json:"users"`
	Groups int       `json:"groups"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	ETag   string    `json:"etag"`

	RemovedUsers       int `json:"removedUsers"`
	RemovedGroups      int `json:"removedGroups"`
	RemovedMemberships int `json:"removedMemberships"`

	// Removed and Added are the first HeldListInline entity refs of each
	// list (users first, then groups, each sorted); the totals count them
	// all, and the held-back list endpoints page through them all.
	Removed      []string `json:"removed"`
	RemovedTotal int      `json:"removedTotal"`
	Added        []string `json:"added"`
	AddedTotal   int      `json:"addedTotal"`
}

// HeldListInline is how many refs of each of HeldBack's lists /status
// carries.
const HeldListInline = 1000

// RateLimit is the last rate-limit headroom seen for one Okta bucket, with
// this service's share of it.
type RateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
	// Allowance is the requests of a window the service lets itself send
	// (OKTA_RATE_SHARE of the limit); WindowSeconds the window's length.
	Allowance     int     `json:"allowance"`
	WindowSeconds float64 `json:"windowSeconds"`
	// PacedSeconds is the time requests have waited for this bucket's
	// budget since start, summed over requests waiting at once.
	PacedSeconds float64 `json:"pacedSeconds"`
}

// RecentSyncsKept is how many finished syncs /status lists.
const RecentSyncsKept = 10

// recordSync makes info the last sync. p.mu must be held.
func (p *Provider) recordSync(info *SyncInfo) {
	p.lastSync = info
	if len(p.recent) == RecentSyncsKept {
		p.recent = append(p.recent[:0], p.recent[1:]...)
	}
	p.recent = append(p.recent, *info)
}

// Status returns the provider's current status; the result is the JSON body
// of /status.
func (p *Provider) Status() any {
	return p.status()
}

// Report returns the provider's current status, as Status does, typed.
func (p *Provider) Report() Status {
	return p.status()
}

func (p *Provider) status() Status {
	now := p.cfg.Now()
	rates := make([]map[string]okta.RateState, len(p.orgs))
	for i, o := range p.orgs {
		rates[i] = o.Client.RateStatus()
	}
	ha := p.haStatus()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{
		Syncs:      SyncCounts{Completed: p.completed, Failed: p.failed, HookTriggered: p.hookSyncs},
		RateLimits: map[string]RateLimit{},
	}
	if p.lastSync != nil {
		ls := *p.lastSync
		st.LastSync = &ls
	}
	st.RecentSyncs = make([]SyncInfo, 0, len(p.recent))
	for i := len(p.recent) - 1; i >= 0; i-- {
		st.RecentSyncs = append(st.RecentSyncs, p.recent[i])
	}
	if !p.lastOK.IsZero() {
		t := p.lastOK.UTC()
		st.LastOKAt = &t
	}
	if snap := p.snap.Load(); snap != nil {
		st.Snapshot = &SnapshotInfo{Users: snap.Users, Groups: snap.Groups, ETag: snap.All.ETag, BuiltAt: snap.BuiltAt, Shards: len(snap.Shards)}
		r := snap.Report
		st.Report = &r
		age := now.Sub(snap.BuiltAt).Seconds()
		st.SnapshotAgeSeconds = &age
	}
	if p.held != nil {
		h := p.held.info
		h.Since = p.held.heldAt.UTC()
		h.Removed = append([]string{}, p.held.removed[:min(len(p.held.removed), HeldListInline)]...)
		h.Added = append([]string{}, p.held.added[:min(len(p.held.added), HeldListInline)]...)
		st.HeldBack = &h
	}
	st.HA = ha
	if len(p.orgs) == 1 {
		st.RateLimits = rateLimits(rates[0])
		st.Changes = p.orgs[0].changes
	}
	for i, o := range p.orgs {
		pr := p.progressLocked(o, now, rates[i])
		if st.Progress == nil {
			st.Progress = pr
		}
		if !p.multiOrg() {
			break
		}
		os := OrgStatus{Name: o.Name, FailuresInARow: o.failures, RateLimits: rateLimits(rates[i]),
			Changes: o.changes, Progress: pr}
		if o.lastSync != nil {
			ls := *o.lastSync
			os.LastSync = &ls
		}
		if !o.lastOK.IsZero() {
			t := o.lastOK.UTC()
			os.LastOKAt = &t
		}
		st.Orgs = append(st.Orgs, os)
	}
	return st
}

// rateLimits describes a client's rate state for /status.
func rateLimits(rates map[string]okta.RateState) map[string]RateLimit {
	m := make(map[string]RateLimit, len(rates))
	for k, r := range rates {
		m[k] = RateLimit{Limit: r.Limit, Remaining: r.Remaining, Reset: r.Reset.UTC(),
			Allowance: r.Allowance, WindowSeconds: r.Window.Seconds(), PacedSeconds: r.Paced.Seconds()}
	}
	return m
}

// HeldChanges returns the ETag of the snapshot the deletion guard holds
// back and the entity refs it would remove and add, whole; "" and nil
// when none is held. The lists are shared: they must not be changed.
func (p *Provider) HeldChanges() (etag string, removed, added []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		return "", nil, nil
	}
	return p.held.info.ETag, p.held.removed, p.held.added
}
