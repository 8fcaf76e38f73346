package orgsync

import (
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Phases of a sync, in Progress reports.
const (
	PhaseGroups   = "groups"  // listing the groups (with expand=stats)
	PhaseUsers    = "users"   // listing the users
	PhaseMembers  = "members" // listing the selected groups' members
	PhaseApps     = "apps"    // listing the selected apps' assignments
	PhaseLog      = "log"     // reading the System Log
	PhaseChanges  = "changes" // an incremental sync's change listings
	logReadCalls  = 2         // a System Log read with events: two pages
	minPhaseCalls = 1         // a listing is at least one page
)

// Page sizes the call estimates assume: the okta client's defaults.
const (
	userPageSize   = 200
	memberPageSize = 1000
)

// Progress is how far the sync in progress is. A Syncer updates it as it
// goes; Report may be called from any goroutine meanwhile.
type Progress struct {
	mu sync.Mutex
	r  ProgressReport
	// phaseCalls0 is the source's call count when the phase began.
	phaseCalls0 int64
	// plan is the estimated calls of each phase of a full sync, known
	// once the groups are listed; memberCalls those of each member
	// listing, by group id, for what is left of the members phase.
	plan        map[string]int64
	memberCalls map[string]int64
	// finishedCalls is the estimated calls of the finished member
	// listings.
	finishedCalls int64
}

// ProgressReport is a moment of a sync's progress.
type ProgressReport struct {
	// Phase is the phase running (PhaseGroups …); "" before the sync
	// starts listing.
	Phase          string
	PhaseStartedAt time.Time
	// PhaseCalls is the calls made in this phase so far.
	PhaseCalls int64
	// ListingsDone and ListingsTotal count the member listings: the
	// total is known once the groups are listed.
	ListingsDone, ListingsTotal int
	// UsersListed counts the users listed so far; UsersExpected is the
	// org's count of them (Everyone's usersCount), -1 when unknown.
	UsersListed, UsersExpected int
	// Remaining is the estimated calls left, by rate-limit bucket, from
	// the groups' counts and the page sizes: nil while they are not
	// known (the group listing, an incremental sync).
	Remaining map[string]int64
}

// Report returns the progress now. calls is the source's call count now,
// for the phase's calls.
func (p *Progress) Report(calls int64) ProgressReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.r
	if r.Phase != "" {
		r.PhaseCalls = calls - p.phaseCalls0
	}
	if p.plan != nil {
		r.Remaining = p.remaining(r.Phase, r.PhaseCalls)
	}
	return r
}

// remaining estimates the calls left, by bucket: what is left of the
// phase running, and the phases after it. p.mu must be held.
func (p *Progress) remaining(phase string, phaseCalls int64) map[string]int64 {
	order := []string{PhaseUsers, PhaseMembers, PhaseApps, PhaseLog}
	buckets := map[string]string{PhaseUsers: okta.BucketUsers, PhaseMembers: okta.BucketGroups, PhaseApps: okta.BucketApps, PhaseLog: okta.BucketLogs}
	out := map[string]int64{}
	started := false
	for _, ph := range order {
		n := p.plan[ph]
		switch {
		case ph == phase:
			started = true
			if ph == PhaseMembers {
				n = 0
				for _, c := range p.memberCalls {
					n += c
				}
				// The listings running have made some of their calls.
				n -= min(n, max(0, phaseCalls-p.finishedCalls))
			} else {
				n = max(0, n-phaseCalls)
			}
		case !started && phase != PhaseGroups:
			continue // done
		}
		out[buckets[ph]] += n
	}
	return out
}

// start begins phase.
func (p *Progress) start(phase string, calls int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.r.Phase, p.r.PhaseStartedAt, p.phaseCalls0 = phase, time.Now(), calls
}

// reset begins a sync.
func (p *Progress) reset() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.r = ProgressReport{UsersExpected: -1}
	p.phaseCalls0, p.plan, p.memberCalls, p.finishedCalls = 0, nil, nil, 0
}

// planFull records the calls a full sync will make after its group
// listing: the user pages (none in "users from groups" mode), one member
// listing per group in todo, of its count's pages, and the log read.
func (p *Progress) planFull(users int, listUsers bool, todo []string, counts map[string]int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.r.UsersExpected = users
	p.plan = map[string]int64{PhaseLog: logReadCalls}
	if listUsers {
		p.plan[PhaseUsers] = pages(users, userPageSize)
	}
	p.memberCalls = make(map[string]int64, len(todo))
	for _, id := range todo {
		n, ok := counts[id]
		if !ok {
			n = -1
		}
		c := pages(n, memberPageSize)
		p.memberCalls[id] = c
		p.plan[PhaseMembers] += c
	}
	p.r.ListingsTotal = len(todo)
}

// planApps records the app listings of a full sync: at least a users page
// and a groups page per app (their sizes are not known before).
func (p *Progress) planApps(apps int) {
	if p == nil || apps == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plan != nil {
		p.plan[PhaseApps] = int64(2 * apps * minPhaseCalls)
	}
}

// userListed counts a listed user.
func (p *Progress) userListed() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.r.UsersListed++
	p.mu.Unlock()
}

// listingDone counts a finished member listing of the group id.
func (p *Progress) listingDone(id string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.r.ListingsDone++
	p.finishedCalls += p.memberCalls[id]
	delete(p.memberCalls, id)
}

// pages is the calls a listing of n items takes at size per page: at
// least one; one when n is unknown (negative).
func pages(n, size int) int64 {
	if n <= 0 {
		return minPhaseCalls
	}
	return int64((n + size - 1) / size)
}
