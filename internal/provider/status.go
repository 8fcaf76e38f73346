package provider

import (
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// Status is the provider's state as /status reports it.
type Status struct {
	Syncs      SyncCounts           `json:"syncs"`
	LastSync   *SyncInfo            `json:"lastSync"`
	LastOKAt   *time.Time           `json:"lastSuccessAt"`
	Snapshot   *SnapshotInfo        `json:"snapshot"`
	HeldBack   *HeldBack            `json:"heldBack"`
	Report     *catalog.Report      `json:"report"`
	RateLimits map[string]RateLimit `json:"rateLimits"`
	// SnapshotAgeSeconds is the age of the served snapshot, null before the
	// first one.
	SnapshotAgeSeconds *float64 `json:"snapshotAgeSeconds"`
	// Changes describes how syncs find changes, null before the first good
	// sync.
	Changes *ChangeTracking `json:"changes"`
	// HA is the replica's part in shared mode; null otherwise.
	HA *HA `json:"ha"`
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
// and group counts, why it is held (how much it would remove) and since when.
type HeldBack struct {
	Users  int       `json:"users"`
	Groups int       `json:"groups"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`

	removedUsers, removedGroups, removedMemberships int
}

// RateLimit is the last rate-limit headroom seen for one Okta bucket.
type RateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
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
	rates := p.client.RateStatus()
	ha := p.haStatus()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{
		Syncs:      SyncCounts{Completed: p.completed, Failed: p.failed, HookTriggered: p.hookSyncs},
		RateLimits: make(map[string]RateLimit, len(rates)),
	}
	if p.lastSync != nil {
		ls := *p.lastSync
		st.LastSync = &ls
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
		st.HeldBack = &h
	}
	st.Changes = p.changes
	st.HA = ha
	for k, r := range rates {
		st.RateLimits[k] = RateLimit{Limit: r.Limit, Remaining: r.Remaining, Reset: r.Reset.UTC()}
	}
	return st
}
