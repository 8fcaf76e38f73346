package provider

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// PhaseBuild is the phase of a sync whose Okta calls are done: the
// snapshot is being built from the state.
const PhaseBuild = "build"

// defaultProgressEvery is how often a running sync's progress is logged.
const defaultProgressEvery = 30 * time.Second

// Progress is how far the sync in progress is, as /status reports it.
type Progress struct {
	Mode           orgsync.Mode `json:"mode"`
	Phase          string       `json:"phase"`
	StartedAt      time.Time    `json:"startedAt"`
	ElapsedSeconds float64      `json:"elapsedSeconds"`
	PhaseStartedAt time.Time    `json:"phaseStartedAt"`
	// ListingsDone and ListingsTotal count the group member listings; the
	// total is known once the groups are listed (with expand=stats).
	ListingsDone  int `json:"listingsDone"`
	ListingsTotal int `json:"listingsTotal"`
	// UsersListed and UsersExpected (the org's count, from Everyone; null
	// when unknown) count the users listed.
	UsersListed   int  `json:"usersListed"`
	UsersExpected *int `json:"usersExpected"`
	// OktaCalls is the requests the sync has sent; CallsRemaining the
	// estimate of those left, from the groups' counts and the page sizes
	// (null while unknown: the group listing, an incremental sync).
	OktaCalls      int64  `json:"oktaCalls"`
	CallsRemaining *int64 `json:"callsRemaining"`
	// Percent is the share of the calls done, null while unknown.
	Percent *float64 `json:"percent"`
	// PacedSeconds is the time the sync's requests waited for rate-limit
	// budget, summed over requests waiting at once.
	PacedSeconds float64 `json:"pacedSeconds"`
	// ETASeconds and ETA are when the Okta calls should be done, from the
	// calls left, each bucket's rate budget and the pace so far; null while
	// unknown.
	ETASeconds *float64   `json:"etaSeconds"`
	ETA        *time.Time `json:"eta"`
}

// running describes the sync in progress. Guarded by p.mu.
type running struct {
	mode    orgsync.Mode
	start   time.Time
	calls0  int64
	paced0  time.Duration
	buildAt time.Time // when the build began; zero before
}

// pacedTotal is the time requests of all buckets have waited for budget.
func pacedTotal(rates map[string]okta.RateState) time.Duration {
	var d time.Duration
	for _, r := range rates {
		d += r.Paced
	}
	return d
}

// progressLocked describes o's sync in progress, nil when none runs.
// rates is o's client's rate state now. p.mu must be held.
func (p *Provider) progressLocked(o *orgRun, now time.Time, rates map[string]okta.RateState) *Progress {
	run := o.run
	if run == nil {
		return nil
	}
	calls := o.Client.Calls()
	r := o.progress.Report(calls)
	pr := &Progress{
		Mode: run.mode, Phase: r.Phase, StartedAt: run.start.UTC(), ElapsedSeconds: now.Sub(run.start).Seconds(),
		PhaseStartedAt: r.PhaseStartedAt.UTC(), ListingsDone: r.ListingsDone, ListingsTotal: r.ListingsTotal,
		UsersListed: r.UsersListed, OktaCalls: calls - run.calls0,
		PacedSeconds: (pacedTotal(rates) - run.paced0).Seconds(),
	}
	if r.UsersExpected >= 0 {
		n := r.UsersExpected
		pr.UsersExpected = &n
	}
	if !run.buildAt.IsZero() {
		pr.Phase, pr.PhaseStartedAt = PhaseBuild, run.buildAt.UTC()
		r.Remaining = map[string]int64{}
	}
	if r.Remaining == nil {
		return pr
	}
	var left int64
	for _, n := range r.Remaining {
		left += n
	}
	pct := 100.0
	if total := pr.OktaCalls + left; total > 0 {
		pct = math.Round(1000*float64(pr.OktaCalls)/float64(total)) / 10
	}
	eta := estimate(r, rates, time.Now(), pr.OktaCalls, now.Sub(run.start)).Seconds()
	at := now.Add(time.Duration(eta * float64(time.Second))).UTC()
	pr.CallsRemaining, pr.Percent, pr.ETASeconds, pr.ETA = &left, &pct, &eta, &at
	return pr
}

// phaseBucket is the rate-limit bucket each phase's calls count against.
var phaseBucket = map[string]string{
	orgsync.PhaseGroups:  okta.BucketGroups,
	orgsync.PhaseUsers:   okta.BucketUsers,
	orgsync.PhaseMembers: okta.BucketGroups,
	orgsync.PhaseApps:    okta.BucketApps,
	orgsync.PhaseLog:     okta.BucketLogs,
}

// estimate is how long the calls left in r take. The phases run one after
// the other, so their times add up. A bucket whose calls left are more
// than the current window's allowance takes what its budget allows: until
// the next window, then one window per allowance. Calls that fit the
// budget go at the pace kept so far (as a latency-bound listing does): the
// phase running at its own pace, later phases at the whole sync's. now is
// the local clock, which the client's windows are kept by.
func estimate(r orgsync.ProgressReport, rates map[string]okta.RateState, now time.Time, syncCalls int64, syncTook time.Duration) time.Duration {
	current := phaseBucket[r.Phase]
	var total time.Duration
	for _, b := range slices.Sorted(maps.Keys(r.Remaining)) {
		n := r.Remaining[b]
		if n <= 0 {
			continue
		}
		t := budgetTime(n, rates[b], now)
		calls, took := syncCalls, syncTook
		if b == current {
			calls, took = r.PhaseCalls, time.Since(r.PhaseStartedAt)
		}
		// Where the budget binds it sets the pace: the pace so far
		// counts the waits for past windows, and would see the phase as
		// slower the later in a window it is measured.
		if t == 0 && calls > 0 && took > 0 {
			t = time.Duration(float64(n) / float64(calls) * float64(took))
		}
		total += t
	}
	return total
}

// budgetTime is the least time n calls of a bucket in state rs take, from
// now: none when what is left of the current window's allowance covers
// them; else until the client starts the next window, and one more
// window per allowance after that. Each window lasts the bucket's window
// plus the second the client waits past a reset. An unknown budget (no
// response yet) sets no bound.
func budgetTime(n int64, rs okta.RateState, now time.Time) time.Duration {
	if rs.Allowance <= 0 {
		return 0
	}
	allowance := int64(rs.Allowance)
	untilReset := rs.ResetAt.Sub(now)
	left := allowance - int64(rs.Limit-rs.Remaining)
	if untilReset <= 0 {
		untilReset, left = 0, allowance
	}
	left = max(0, left)
	if n <= left {
		return 0
	}
	windows := (n - left + allowance - 1) / allowance
	return untilReset + time.Duration(windows-1)*(rs.Window+time.Second)
}

// describe says how far pr is, in a sentence for /readyz.
func (pr *Progress) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "a %s sync has been running for %s, in phase %s", pr.Mode,
		(time.Duration(pr.ElapsedSeconds) * time.Second).Round(time.Second), pr.Phase)
	if pr.ListingsTotal > 0 {
		fmt.Fprintf(&b, ", %d of %d member listings done", pr.ListingsDone, pr.ListingsTotal)
	}
	if pr.UsersExpected != nil && pr.Phase == orgsync.PhaseUsers {
		fmt.Fprintf(&b, ", %d of about %d users listed", pr.UsersListed, *pr.UsersExpected)
	}
	fmt.Fprintf(&b, ", %d Okta calls made", pr.OktaCalls)
	if pr.Percent != nil {
		fmt.Fprintf(&b, " (%.1f%% of about %d)", *pr.Percent, pr.OktaCalls+*pr.CallsRemaining)
	}
	if pr.ETASeconds != nil {
		fmt.Fprintf(&b, ", about %s left", (time.Duration(*pr.ETASeconds) * time.Second).Round(time.Second))
	}
	return b.String()
}

// progress describes o's sync in progress, nil when none runs.
func (p *Provider) progress(o *orgRun) *Progress {
	now := p.cfg.Now()
	rates := o.Client.RateStatus()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.progressLocked(o, now, rates)
}

// logProgress logs o's sync's progress every ProgressEvery until stop is
// closed.
func (p *Provider) logProgress(o *orgRun, log zerolog.Logger, stop <-chan struct{}) {
	t := time.NewTicker(p.cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		pr := p.progress(o)
		if pr == nil {
			continue
		}
		ev := log.Info().Str("phase", pr.Phase).Float64("elapsedSeconds", math.Round(pr.ElapsedSeconds)).
			Int("listingsDone", pr.ListingsDone).Int("listingsTotal", pr.ListingsTotal).
			Int("usersListed", pr.UsersListed).Int64("oktaCalls", pr.OktaCalls).
			Float64("pacedSeconds", math.Round(pr.PacedSeconds))
		if pr.Percent != nil {
			ev = ev.Int64("callsRemaining", *pr.CallsRemaining).Float64("percent", *pr.Percent).
				Float64("etaSeconds", math.Round(*pr.ETASeconds))
		}
		ev.Msg("sync progress")
	}
}
