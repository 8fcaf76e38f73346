package okta

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBucketFor(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, want string }{
		{"/api/v1/users", BucketUsers},
		{"/api/v1/users/00u1/groups", BucketUsers},
		{"/api/v1/usersX", BucketOther},
		{"/api/v1/groups", BucketGroups},
		{"/api/v1/groups/00g1/users", BucketGroups},
		{"/api/v1/logs", BucketLogs},
		{"/api/v1/apps", BucketApps},
		{"/api/v1/apps/0oa1/users", BucketApps},
		{"/api/v1/appsX", BucketOther},
		{"/oauth2/v1/token", BucketOther},
	}
	for _, tt := range tests {
		if got := bucketFor(tt.path); got != tt.want {
			t.Errorf("bucketFor(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func rateHeader(limit, remaining int, reset, date time.Time) http.Header {
	h := make(http.Header)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if !date.IsZero() {
		h.Set("Date", date.UTC().Format(http.TimeFormat))
	}
	return h
}

func TestParseRateHeaders(t *testing.T) {
	t.Parallel()
	server := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	local := server.Add(-10 * time.Minute) // a badly skewed local clock
	tests := []struct {
		name     string
		h        http.Header
		wantOK   bool
		wantWait time.Duration
	}{
		{"reset 30 s after the server's date", rateHeader(600, 599, server.Add(30*time.Second), server), true, 31 * time.Second},
		{"reset already passed", rateHeader(600, 0, server.Add(-5*time.Second), server), true, 0},
		{"no date: local clock", rateHeader(600, 0, local.Add(10*time.Second), time.Time{}), true, 11 * time.Second},
		{"missing headers", http.Header{"Date": {server.Format(http.TimeFormat)}}, false, 0},
		{"garbage", http.Header{"X-Rate-Limit-Limit": {"x"}, "X-Rate-Limit-Remaining": {"1"}, "X-Rate-Limit-Reset": {"1"}}, false, 0},
		{"reset two windows ahead", rateHeader(600, 0, server.Add(2*time.Minute), server), true, 2*time.Minute + time.Second},
		{"reset past two windows ahead", rateHeader(600, 0, server.Add(2*time.Minute+time.Second), server), false, 0},
		{"reset 100 years ahead", rateHeader(600, 0, server.AddDate(100, 0, 0), server), false, 0},
		{"reset 100 years ahead, no date", rateHeader(600, 0, local.AddDate(100, 0, 0), time.Time{}), false, 0},
		{"reset a window ago", rateHeader(600, 0, server.Add(-time.Minute), server), true, 0},
		{"reset more than a window ago", rateHeader(600, 0, server.Add(-time.Minute-time.Second), server), false, 0},
		{"remaining above the limit", rateHeader(10, 11, server.Add(30*time.Second), server), false, 0},
		{"concurrency limit", rateHeader(0, 0, server.Add(time.Second), server), true, 2 * time.Second},
		{"reset past what a time holds", http.Header{"Date": {server.Format(http.TimeFormat)}, "X-Rate-Limit-Limit": {"1"},
			"X-Rate-Limit-Remaining": {"1"}, "X-Rate-Limit-Reset": {"9223372036854775807"}}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseRateHeaders(tt.h, local)
			if r.ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", r.ok, tt.wantOK)
			}
			if got := r.untilReset(); got != tt.wantWait {
				t.Errorf("untilReset = %v, want %v", got, tt.wantWait)
			}
		})
	}
}

// tryAcquire reports whether the limiter grants a request right now: with a
// cancelled context, a request that would have to wait fails instead.
func tryAcquire(t *testing.T, l *limiter, bucket string) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.acquire(ctx, bucket)
	return err == nil
}

func TestLimiterPacing(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	l := newLimiter(0.5, clock)
	resp := func(limit, remaining int, reset time.Time) rateHeaders {
		return parseRateHeaders(rateHeader(limit, remaining, reset, now), now)
	}
	reset1 := now.Add(60 * time.Second)

	// Before any response: one request at a time.
	if !tryAcquire(t, l, BucketUsers) {
		t.Fatal("first request not granted")
	}
	if tryAcquire(t, l, BucketUsers) {
		t.Fatal("second request granted before the first response, want a wait")
	}
	// Other buckets are independent.
	if !tryAcquire(t, l, BucketGroups) {
		t.Fatal("first groups request not granted")
	}
	l.done(BucketUsers, resp(10, 9, reset1), now)

	// Limit 10, share 0.5: 5 per window; one is used.
	granted := 0
	for tryAcquire(t, l, BucketUsers) {
		granted++
		if granted > 10 {
			break
		}
	}
	if granted != 4 {
		t.Fatalf("granted %d more requests in the window, want 4", granted)
	}
	for i := range 4 {
		l.done(BucketUsers, resp(10, 8-i, reset1), now)
	}
	if tryAcquire(t, l, BucketUsers) {
		t.Fatal("granted past the share of the window")
	}
	// Another integration used the bucket: still no room.
	l.done(BucketUsers, resp(10, 3, reset1), now)
	got := l.status()[BucketUsers]
	want := RateState{Limit: 10, Remaining: 3, Reset: reset1, Allowance: 5, Window: 60 * time.Second, ResetAt: reset1.Add(time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// The window ends by the local clock (reset + 1 s): room again.
	now = reset1.Add(time.Second)
	if !tryAcquire(t, l, BucketUsers) {
		t.Fatal("not granted after the window reset")
	}
	// A late response of the old window does not shrink the new one.
	l.done(BucketUsers, resp(10, 0, reset1), now)
	if !tryAcquire(t, l, BucketUsers) {
		t.Fatal("a stale response of the old window blocked the new one")
	}
	// The new window's first response replaces the estimate.
	reset2 := now.Add(60 * time.Second)
	l.done(BucketUsers, resp(10, 5, reset2), now)
	if tryAcquire(t, l, BucketUsers) {
		t.Fatal("granted though the new window has only 5 of 10 left with one pending")
	}
	// A concurrency 429 (limit 0) says nothing about the window.
	l.done(BucketUsers, resp(0, 0, reset2), now)
	if got := l.status()[BucketUsers]; got.Limit != 10 {
		t.Errorf("limit after a concurrency 429 = %d, want 10", got.Limit)
	}
}

func TestLimiterWaitEndsOnResponse(t *testing.T) {
	t.Parallel()
	l := newLimiter(0.5, time.Now)
	if !tryAcquire(t, l, BucketLogs) {
		t.Fatal("first request not granted")
	}
	got := make(chan error, 1)
	go func() {
		_, err := l.acquire(context.Background(), BucketLogs)
		got <- err
	}()
	now := time.Now()
	l.done(BucketLogs, parseRateHeaders(rateHeader(120, 119, now.Add(time.Minute), now), now), now)
	if err := <-got; err != nil {
		t.Fatalf("waiting request: %v", err)
	}
}

// TestLimiterIsNotStoppedByAFarReset: a response whose reset is 100 years
// ahead must not keep the bucket waiting beyond its window.
func TestLimiterIsNotStoppedByAFarReset(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newLimiter(0.5, func() time.Time { return now })
	if !tryAcquire(t, l, BucketUsers) {
		t.Fatal("first request not granted")
	}
	l.done(BucketUsers, parseRateHeaders(rateHeader(10, 9, now.Add(time.Minute), now), now), now)
	for range 4 {
		if !tryAcquire(t, l, BucketUsers) {
			t.Fatal("not granted within the share")
		}
	}
	for range 3 {
		l.done(BucketUsers, parseRateHeaders(rateHeader(10, 5, now.Add(time.Minute), now), now), now)
	}
	l.done(BucketUsers, parseRateHeaders(rateHeader(10, 0, now.AddDate(100, 0, 0), now), now), now)
	if tryAcquire(t, l, BucketUsers) {
		t.Fatal("granted past the share of the window")
	}
	now = now.Add(time.Minute + time.Second)
	if !tryAcquire(t, l, BucketUsers) {
		t.Fatalf("not granted after the window, state %+v: a far reset stopped the bucket", l.status()[BucketUsers])
	}
	if got := l.status()[BucketUsers].Reset; got.After(now.Add(maxResetAhead)) {
		t.Errorf("reset = %v, want within two windows of %v", got, now)
	}
}

// FuzzParseRateHeaders checks that any rate-limit headers parse without a
// panic into values the limiter can trust: believed headers are sane, and
// no response can make the limiter wait past maxResetAhead.
func FuzzParseRateHeaders(f *testing.F) {
	server := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	date := server.Format(http.TimeFormat)
	reset := func(d time.Duration) string { return strconv.FormatInt(server.Add(d).Unix(), 10) }
	f.Add("600", "599", reset(30*time.Second), date, int64(0))
	f.Add("600", "0", reset(-5*time.Second), date, int64(0))
	f.Add("600", "0", reset(100*365*24*time.Hour), date, int64(0))
	f.Add("600", "0", reset(100*365*24*time.Hour), "", int64(-600))
	f.Add("0", "0", reset(time.Second), date, int64(3))
	f.Add("10", "11", reset(time.Second), date, int64(0))
	f.Add("1", "1", "9223372036854775807", date, int64(0))
	f.Add("1", "1", "-9223372036854775808", "Mon, 01 Jan 0001 00:00:00 GMT", int64(0))
	f.Add(" 5 ", "+3", "0x10", "garbage", int64(1<<40))
	f.Add("", "", "", "", int64(0))
	f.Fuzz(func(t *testing.T, limit, remaining, resetHeader, dateHeader string, skew int64) {
		h := http.Header{}
		for k, v := range map[string]string{"X-Rate-Limit-Limit": limit, "X-Rate-Limit-Remaining": remaining,
			"X-Rate-Limit-Reset": resetHeader, "Date": dateHeader} {
			if v != "" {
				h.Set(k, v)
			}
		}
		received := server.Add(time.Duration(skew%(1<<40)) * time.Millisecond)
		r := parseRateHeaders(h, received)
		wait := r.untilReset()
		switch {
		case wait < 0 || wait > maxResetAhead+time.Second:
			t.Fatalf("untilReset = %v, want within [0, %v]", wait, maxResetAhead+time.Second)
		case !r.ok && (wait != 0 || r.limit != 0 || r.remaining != 0):
			t.Fatalf("headers not believed but values kept: %+v", r)
		case r.ok && (r.limit < 0 || r.remaining < 0 || r.remaining > r.limit || r.bad != ""):
			t.Fatalf("believed headers with insane values: %+v", r)
		}
		l := newLimiter(0.5, func() time.Time { return received })
		if _, err := l.acquire(context.Background(), BucketUsers); err != nil {
			t.Fatal(err)
		}
		l.done(BucketUsers, r, received)
		if b := l.bucket(BucketUsers); b.known && b.resetAt.Sub(received) > maxResetAhead+time.Second {
			t.Fatalf("the bucket waits %v, want at most %v", b.resetAt.Sub(received), maxResetAhead+time.Second)
		}
	})
}

func TestLimiterWindowAndPaced(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newLimiter(0.5, func() time.Time { return now })
	if got := l.status()[BucketGroups].Window; got != windowEstimate {
		t.Errorf("window before any response: got %s, want %s", got, windowEstimate)
	}
	// A fake with one-second windows: the first response's reset is a
	// second after its Date.
	l.done(BucketGroups, parseRateHeaders(rateHeader(10, 9, now.Add(time.Second), now), now), now)
	l.addPaced(BucketGroups, 3*time.Second)
	l.addPaced(BucketGroups, 2*time.Second)
	got := l.status()[BucketGroups]
	if got.Window != time.Second || got.Paced != 5*time.Second || got.Allowance != 5 {
		t.Errorf("got window %s, paced %s, allowance %d; want 1s, 5s, 5", got.Window, got.Paced, got.Allowance)
	}
}
