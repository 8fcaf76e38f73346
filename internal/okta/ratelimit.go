package okta

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate-limit buckets. Okta counts requests per endpoint family; sub-paths
// share the longest matching prefix (/api/v1/groups/{id}/users counts
// against /api/v1/groups).
//
// See https://developer.okta.com/docs/reference/rl-global-mgmt/
const (
	BucketUsers  = "users"
	BucketGroups = "groups"
	BucketLogs   = "logs"
	// BucketApps is /api/v1/apps and every path under it, the app
	// assignment listings included: 100 a minute in a Workforce org.
	BucketApps  = "apps"
	BucketOther = "other"
)

var buckets = [...]string{BucketUsers, BucketGroups, BucketLogs, BucketApps, BucketOther}

// bucketFor maps a request path (relative to the org URL) to its bucket.
func bucketFor(path string) string {
	switch {
	case hasPathPrefix(path, "/api/v1/users"):
		return BucketUsers
	case hasPathPrefix(path, "/api/v1/groups"):
		return BucketGroups
	case hasPathPrefix(path, "/api/v1/logs"):
		return BucketLogs
	case hasPathPrefix(path, "/api/v1/apps"):
		return BucketApps
	}
	return BucketOther
}

func hasPathPrefix(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// RateState is the rate-limit budget of one bucket as Okta last reported it.
type RateState struct {
	Limit     int       // X-Rate-Limit-Limit: requests per window
	Remaining int       // X-Rate-Limit-Remaining: the lowest seen in the current window
	Reset     time.Time // X-Rate-Limit-Reset: when the window resets, by Okta's clock

	// Allowance is how many requests of a window this client lets itself
	// send: Options.RateShare of Limit, at least 1.
	Allowance int
	// Window is how long a window lasts: the longest seen from a window's
	// first response to its reset (Okta's are 60 s), or 60 s before any.
	Window time.Duration
	// ResetAt is when this client counts the window as reset and sends
	// again, by the local clock: the reset, by the server's Date, plus a
	// second. Zero before any response.
	ResetAt time.Time
	// Paced is the time this bucket's requests have waited for budget
	// (pacing and 429 back-off) since the client was made, summed over
	// requests waiting at once.
	Paced time.Duration
}

// rateHeaders is what one response said about its bucket.
type rateHeaders struct {
	limit, remaining int
	reset            time.Time     // by the server's clock
	date             time.Time     // the server's Date; zero when absent
	wait             time.Duration // from the response until the window resets, at most maxResetAhead + 1 s
	ok               bool          // all three X-Rate-Limit headers were present and plausible
	// bad is why present X-Rate-Limit headers were not believed, "" when
	// they were or were absent.
	bad string
}

// maxResetAhead is the furthest ahead of a response's Date that its
// X-Rate-Limit-Reset may be. Okta's windows are 60 s; a reset further than
// two windows ahead is a broken header, and believing it would stop the
// bucket's requests until then.
const maxResetAhead = 2 * windowEstimate

// parseRateHeaders reads the rate-limit headers of a response that arrived
// at received. The reset is measured against the server's Date, so a skewed
// local clock does not matter; without a Date, against received. Headers
// that cannot be right (a reset more than maxResetAhead ahead, or more than
// a window behind, remaining above limit) are not believed: ok is false and
// bad says why.
func parseRateHeaders(h http.Header, received time.Time) rateHeaders {
	var r rateHeaders
	if d := h.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			r.date = t
		}
	}
	rawLimit, rawRemaining, rawReset := h.Get("X-Rate-Limit-Limit"), h.Get("X-Rate-Limit-Remaining"), h.Get("X-Rate-Limit-Reset")
	if rawLimit == "" && rawRemaining == "" && rawReset == "" {
		return r
	}
	limit, err1 := strconv.Atoi(strings.TrimSpace(rawLimit))
	remaining, err2 := strconv.Atoi(strings.TrimSpace(rawRemaining))
	reset, err3 := strconv.ParseInt(strings.TrimSpace(rawReset), 10, 64)
	ref := r.date
	if ref.IsZero() {
		ref = received
	}
	// Compared in seconds: time.Unix of a huge value is past what a
	// time.Duration holds.
	ahead := reset - ref.Unix()
	switch {
	case err1 != nil || err2 != nil || err3 != nil:
		r.bad = "not numbers"
	case limit < 0 || remaining < 0 || reset <= 0:
		r.bad = "negative"
	case remaining > limit:
		r.bad = "remaining above the limit"
	case ahead > int64(maxResetAhead/time.Second):
		r.bad = "reset more than two windows ahead"
	case ahead < -int64(windowEstimate/time.Second):
		r.bad = "reset more than a window ago"
	}
	if r.bad != "" {
		return r
	}
	r.limit, r.remaining, r.reset, r.ok = limit, remaining, time.Unix(reset, 0), true
	r.wait = max(0, r.reset.Sub(ref)+time.Second)
	return r
}

// untilReset is how long to wait from the moment the response arrived until
// the window has reset: Reset − Date + 1 s, never negative and never more
// than maxResetAhead + 1 s; 0 without believable headers.
func (r rateHeaders) untilReset() time.Duration { return r.wait }

// windowEstimate is how long a window is assumed to last when Okta has not
// told us yet. Okta's windows are 60 s.
const windowEstimate = 60 * time.Second

// bucket is the pacing state of one rate-limit bucket.
type bucket struct {
	known       bool          // a response with rate headers has been seen
	limit       int           // requests per window
	remaining   int           // lowest remaining seen in the current window (or limit after a local roll-over)
	serverReset time.Time     // the current window's reset, by the server's clock
	resetAt     time.Time     // the current window's reset, by the local clock
	rolled      bool          // the window has ended locally; responses of the old window are stale
	pending     int           // requests granted whose response has not been seen
	window      time.Duration // the longest window seen, 0 before any
	paced       time.Duration // time requests waited for budget, summed
}

// limiter paces requests per bucket so that at most share of each bucket's
// limit is used in a window, leaving the rest to the org's other
// integrations. Before the first response of a bucket (limit unknown) it
// lets one request through at a time.
type limiter struct {
	share   float64
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
	changed chan struct{} // closed and replaced on every state change
}

func newLimiter(share float64, now func() time.Time) *limiter {
	l := &limiter{share: share, now: now, buckets: make(map[string]*bucket), changed: make(chan struct{})}
	for _, name := range buckets {
		l.buckets[name] = &bucket{}
	}
	return l
}

func (l *limiter) bucket(name string) *bucket {
	b, ok := l.buckets[name]
	if !ok {
		b = &bucket{}
		l.buckets[name] = b
	}
	return b
}

// allowance is how many requests of a window we may use.
func (l *limiter) allowance(limit int) int {
	n := int(l.share * float64(limit))
	if n < 1 {
		n = 1
	}
	return n
}

// acquire waits until a request to the bucket is within the pace and
// reserves it. The caller must then call done (with the response's headers)
// or cancel. It returns the time spent waiting.
func (l *limiter) acquire(ctx context.Context, name string) (time.Duration, error) {
	start := l.now()
	for {
		l.mu.Lock()
		b := l.bucket(name)
		now := l.now()
		if b.known && !b.resetAt.IsZero() && !now.Before(b.resetAt) {
			// The window has ended: assume a fresh one until Okta says otherwise.
			b.remaining = b.limit
			b.resetAt = now.Add(windowEstimate)
			b.rolled = true
		}
		var wait time.Duration
		switch {
		case !b.known:
			if b.pending == 0 {
				b.pending++
				l.mu.Unlock()
				return l.now().Sub(start), nil
			}
			wait = windowEstimate // until a response tells us the budget
		case b.limit-b.remaining+b.pending < l.allowance(b.limit):
			b.pending++
			l.mu.Unlock()
			return l.now().Sub(start), nil
		default:
			// resetAt is never further than one window plus the furthest
			// believable reset; the cap holds whatever state says.
			wait = min(b.resetAt.Sub(now), maxResetAhead+time.Second)
		}
		changed := l.changed
		l.mu.Unlock()

		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return l.now().Sub(start), ctx.Err()
		case <-changed:
			t.Stop()
		case <-t.C:
		}
	}
}

// cancel gives back a reservation whose request was never answered.
func (l *limiter) cancel(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bucket(name); b.pending > 0 {
		b.pending--
	}
	l.notify()
}

// done records a response to a reserved request.
func (l *limiter) done(name string, r rateHeaders, received time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(name)
	if b.pending > 0 {
		b.pending--
	}
	// A concurrency 429 reports Limit 0: it says nothing about the window.
	if r.ok && r.limit > 0 {
		switch {
		case !b.known || r.reset.After(b.serverReset):
			b.known = true
			b.limit = r.limit
			b.remaining = r.remaining
			b.serverReset = r.reset
			b.resetAt = received.Add(r.untilReset())
			b.rolled = false
			// The first response of a window is sent right after it
			// opened: its reset, less its Date, is about the window's
			// length.
			ref := r.date
			if ref.IsZero() {
				ref = received
			}
			if w := r.reset.Sub(ref.Truncate(time.Second)); w > b.window && w <= maxResetAhead {
				b.window = w
			}
		case r.reset.Equal(b.serverReset) && !b.rolled:
			b.limit = r.limit
			b.remaining = min(b.remaining, r.remaining)
		}
	}
	l.notify()
}

func (l *limiter) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// status returns the state of every bucket.
func (l *limiter) status() map[string]RateState {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]RateState, len(l.buckets))
	for name, b := range l.buckets {
		window := b.window
		if window == 0 {
			window = windowEstimate
		}
		if !b.known {
			out[name] = RateState{Window: window, Paced: b.paced}
			continue
		}
		out[name] = RateState{Limit: b.limit, Remaining: b.remaining, Reset: b.serverReset,
			Allowance: l.allowance(b.limit), Window: window, ResetAt: b.resetAt, Paced: b.paced}
	}
	return out
}

// addPaced records time a request of the bucket waited for budget.
func (l *limiter) addPaced(name string, d time.Duration) {
	l.mu.Lock()
	l.bucket(name).paced += d
	l.mu.Unlock()
}
