// Package okta is a client for the parts of the Okta Management API that a
// catalog sync needs: listing users, groups, group members and System Log
// events. It is hand-written on resty and shaped like go-github: one Client
// holding the org URL, the authenticator and the rate-limit state; one
// method per API operation; iterators over all pages; a typed *Error built
// from Okta's error body.
//
// The client paces itself per rate-limit bucket so that a sync keeps a share
// of the org's budget free, caps the requests in flight, waits out 429s,
// retries server and network errors with backoff, refuses to follow a
// pagination link off the org, and never writes a credential to a log, an
// error or a panic.
package okta

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/rs/zerolog"
)

// Options tunes a Client. The zero value of each field means its default.
type Options struct {
	// UserPageSize, GroupPageSize and MemberPageSize are the limit
	// parameters of the listings: default 200, 200 and 1000 (Okta's
	// maxima are 200, 200 and 1000).
	UserPageSize, GroupPageSize, MemberPageSize int
	// LogPageSize is the limit of System Log pages: default and maximum 1000.
	LogPageSize int
	// MaxConcurrency is the hard cap on requests in flight: default 20,
	// well under Okta's concurrency limit of 75 per org.
	MaxConcurrency int
	// MaxRetries bounds the retries of a request after server errors,
	// timeouts and connection errors: default 4. 429s are waited out
	// separately (up to MaxRateLimitWaits times).
	MaxRetries int
	// MaxRateLimitWaits bounds how often one request waits out a 429:
	// default 8.
	MaxRateLimitWaits int
	// RetryBaseDelay is the first backoff delay; each retry doubles it, with
	// jitter, up to 30 s: default 500 ms.
	RetryBaseDelay time.Duration
	// RequestTimeout bounds each HTTP request: default 30 s.
	RequestTimeout time.Duration
	// MaxResponseBytes bounds a response body, counted after
	// decompression: default 32 MiB, far above a real page (200 users
	// with large profiles take under 2 MB). A larger body fails the
	// request, without retries.
	MaxResponseBytes int
	// MaxListingPages bounds the pages of one listing: default 10,000,
	// which at the default page sizes is 2,000,000 users or groups, or
	// 10,000,000 members of one group. A listing that goes on fails.
	// Listings whose size the caller knows (ListGroupMembersExpecting,
	// UserListOptions.ExpectedCount) are held to a bound derived from it.
	MaxListingPages int
	// RateShare is the share of each rate-limit bucket the client may use
	// per window, leaving the rest to the org's other integrations:
	// default 0.5, range (0, 1].
	RateShare float64
	// UserAgent is sent with every request: default "okta-entity-provider/dev".
	UserAgent string
	// Logger receives request traces (at trace level), retries and waits
	// (debug) and 429s (warn). Credentials are never logged.
	Logger zerolog.Logger
	// Observer receives measurements for metrics; may be nil.
	Observer Observer
	// HTTPClient sends the requests; nil means a client of its own. Its
	// redirect policy is not used: the client never follows redirects.
	HTTPClient *http.Client
}

func (o *Options) setDefaults() error {
	def := func(p *int, d, maxv int, name string) error {
		switch {
		case *p < 0:
			return fmt.Errorf("%s is negative: %d", name, *p)
		case *p == 0:
			*p = d
		case maxv > 0 && *p > maxv:
			return fmt.Errorf("%s %d is above Okta's maximum %d", name, *p, maxv)
		}
		return nil
	}
	for _, f := range []struct {
		p       *int
		d, maxv int
		name    string
	}{
		{&o.UserPageSize, 200, 200, "UserPageSize"},
		{&o.GroupPageSize, 200, 200, "GroupPageSize"},
		{&o.MemberPageSize, 1000, 1000, "MemberPageSize"},
		{&o.LogPageSize, 1000, 1000, "LogPageSize"},
		{&o.MaxConcurrency, 20, 0, "MaxConcurrency"},
		{&o.MaxRetries, 4, 0, "MaxRetries"},
		{&o.MaxRateLimitWaits, 8, 0, "MaxRateLimitWaits"},
		{&o.MaxResponseBytes, 32 << 20, 0, "MaxResponseBytes"},
		{&o.MaxListingPages, 10000, 0, "MaxListingPages"},
	} {
		if err := def(f.p, f.d, f.maxv, f.name); err != nil {
			return err
		}
	}
	switch {
	case o.RateShare < 0 || o.RateShare > 1:
		return fmt.Errorf("RateShare %g is outside (0, 1]", o.RateShare)
	case o.RateShare == 0:
		o.RateShare = 0.5
	}
	if o.RetryBaseDelay < 0 || o.RequestTimeout < 0 {
		return errors.New("RetryBaseDelay and RequestTimeout must not be negative")
	}
	if o.RetryBaseDelay == 0 {
		o.RetryBaseDelay = 500 * time.Millisecond
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = "okta-entity-provider/dev"
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	return nil
}

// Client talks to one Okta org. It is safe for concurrent use: callers may
// list the members of many groups at once, and the client caps the requests
// in flight and paces each rate-limit bucket itself.
type Client struct {
	base   *url.URL // the org URL, without a trailing slash
	rc     *resty.Client
	auth   authSession
	opts   Options
	log    zerolog.Logger
	obs    Observer
	limits *limiter
	slots  chan struct{}
	calls  atomic.Int64
	now    func() time.Time
	// skew is Okta's clock minus ours, in nanoseconds, from the Date
	// header of the latest response that had one.
	skew     atomic.Int64
	skewSeen atomic.Bool
}

// NewClient returns a client for the org at orgURL, an absolute https URL
// without a path such as https://example.okta.com. Plain http, and a path
// (a fake Okta mounted under a prefix), are accepted only for loopback hosts
// (localhost, 127.0.0.0/8, ::1), which is how tests and the demo mode run.
func NewClient(orgURL string, auth Authenticator, opts Options) (*Client, error) {
	base, err := parseOrgURL(orgURL)
	if err != nil {
		return nil, err
	}
	if auth == nil {
		return nil, errors.New("okta: no authenticator: set an API token or an OAuth app")
	}
	if t, ok := auth.(tokenAuth); ok && t.token == "" {
		return nil, errors.New("okta: the API token is empty (set OKTA_TOKEN)")
	}
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("okta: options: %w", err)
	}
	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	}
	// Never follow a redirect: it could carry the credentials elsewhere.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Timeout = 0 // each request gets its own deadline
	rc := resty.NewWithClient(&hc).
		SetLogger(restyLogger{opts.Logger}).
		SetDisableWarn(true).
		SetHeader("User-Agent", opts.UserAgent)
	c := &Client{
		base:  base,
		rc:    rc,
		opts:  opts,
		log:   opts.Logger,
		obs:   opts.Observer,
		slots: make(chan struct{}, opts.MaxConcurrency),
		now:   time.Now,
	}
	c.limits = newLimiter(opts.RateShare, c.now)
	c.auth = auth.session(c)
	return c, nil
}

func parseOrgURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("okta: the org URL is empty (set OKTA_ORG_URL, e.g. https://example.okta.com)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("okta: org URL %q is not a URL: %w", raw, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("okta: org URL %q is not absolute, want e.g. https://example.okta.com", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("okta: org URL must not hold credentials")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	loopback := isLoopback(u.Hostname())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback:
	case u.Scheme == "http":
		return nil, fmt.Errorf("okta: org URL %q uses http, want https (plain http only for loopback test servers)", raw)
	default:
		return nil, fmt.Errorf("okta: org URL %q has scheme %q, want https", raw, u.Scheme)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("okta: org URL %q must have no query or fragment", raw)
	}
	if strings.Contains(u.Hostname(), "-admin.") {
		return nil, fmt.Errorf("okta: org URL %q is the Admin Console's address, use the org URL without \"-admin\"", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if u.Path != "" && !loopback {
		return nil, fmt.Errorf("okta: org URL %q must have no path, want e.g. https://example.okta.com", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Now returns the time by Okta's clock: the local clock corrected by the
// difference between the Date header of the latest response and the local
// time it arrived. Date has a resolution of one second, so the estimate is
// within about a second plus the network delay. Before any response it is
// the local clock; ClockKnown tells which.
func (c *Client) Now() time.Time {
	return c.now().Add(time.Duration(c.skew.Load())).Round(0).UTC()
}

// ClockKnown reports whether a response has told the client Okta's time.
func (c *Client) ClockKnown() bool { return c.skewSeen.Load() }

// observeDate records the offset of Okta's clock from a response's Date.
func (c *Client) observeDate(date, received time.Time) {
	if date.IsZero() {
		return
	}
	c.skew.Store(int64(date.Sub(received)))
	c.skewSeen.Store(true)
}

// Calls returns the number of HTTP requests sent so far, retries and token
// requests included.
func (c *Client) Calls() int64 { return c.calls.Load() }

// RateStatus returns the latest rate-limit state of each bucket (users,
// groups, logs, other); a bucket with no response yet has a zero RateState.
func (c *Client) RateStatus() map[string]RateState { return c.limits.status() }

// Response is Okta's answer to one API request, less the body.
type Response struct {
	StatusCode int
	Header     http.Header
	// NextPage is the target of the Link rel="next" header, "" on the last page.
	NextPage string
	// Bucket is the rate-limit bucket the request counted against, and
	// Rate its budget as this response reported it (zero when absent).
	Bucket string
	Rate   RateState
	// RequestID is X-Okta-Request-Id, to quote to Okta support.
	RequestID string
}

// expression is the filter or search expression a request carries, named in
// errors when Okta rejects it.
type expression struct {
	kind, text string
}

// get sends a GET to u, an absolute URL within the org, hands the body of a
// 2xx answer to decode and returns the response. It paces and caps the
// request, waits out 429s, retries server and network errors and bodies
// decode finds malformed (a *malformedError), fetches a new token once on
// a 401, and turns any other error answer into an *Error.
func (c *Client) get(ctx context.Context, u *url.URL, ex expression, decode func([]byte) error) (*Response, error) {
	if err := c.sameOrigin(u); err != nil {
		return nil, err
	}
	bucket := bucketFor(strings.TrimPrefix(u.Path, c.base.Path))
	path := u.Path
	retries, rateWaits, authRetries := 0, 0, 0
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("okta: GET %s: %w", path, err)
		}
		waited, err := c.limits.acquire(ctx, bucket)
		if waited > time.Millisecond {
			c.obs.RateWait(bucket, waited)
			c.log.Debug().Str("bucket", bucket).Dur("wait", waited).Msg("okta pacing wait")
		}
		if err != nil {
			return nil, fmt.Errorf("okta: GET %s: %w", path, err)
		}
		h := make(http.Header)
		h.Set("Accept", "application/json")
		cred, err := c.auth.authorize(ctx, http.MethodGet, u, h)
		if err != nil {
			c.limits.cancel(bucket)
			return nil, err
		}
		start := c.now()
		resp, err := c.send(ctx, http.MethodGet, u.String(), h, nil)
		received := c.now()
		d := received.Sub(start)
		if errors.Is(err, errBodyTooLarge) {
			// Asking again would read as much again: the answer is wrong.
			c.limits.cancel(bucket)
			c.obs.Request(bucket, OutcomeBadResponse, d)
			return nil, fmt.Errorf("%w: GET %s: the body is larger than %s, the most Options.MaxResponseBytes allows (a real page is under 2 MB)",
				ErrBadResponse, path, formatBytes(c.opts.MaxResponseBytes))
		}
		if err != nil {
			c.limits.cancel(bucket)
			c.obs.Request(bucket, OutcomeNetworkError, d)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("okta: GET %s: %w", path, ctx.Err())
			}
			c.log.Debug().Str("path", path).Int("attempt", attempt).Err(err).Msg("okta request failed")
			if retries < c.opts.MaxRetries {
				retries++
				c.obs.Retry(bucket)
				if err := c.backoff(ctx, bucket, retries); err != nil {
					return nil, fmt.Errorf("okta: GET %s: %w", path, err)
				}
				continue
			}
			return nil, fmt.Errorf("%w: GET %s failed after %d attempts: %w", ErrUnavailable, path, attempt, err)
		}

		status := resp.StatusCode()
		header := resp.Header()
		rh := parseRateHeaders(header, received)
		if rh.bad != "" {
			c.log.Debug().Str("bucket", bucket).Str("path", path).Str("problem", rh.bad).
				Str("limit", header.Get("X-Rate-Limit-Limit")).Str("remaining", header.Get("X-Rate-Limit-Remaining")).
				Str("reset", header.Get("X-Rate-Limit-Reset")).Str("date", header.Get("Date")).
				Msg("okta rate-limit headers not believed, ignored for pacing")
		}
		c.observeDate(rh.date, received)
		c.limits.done(bucket, rh, received)
		c.obs.Request(bucket, outcomeOf(status), d)
		if rh.ok && rh.limit > 0 {
			c.obs.Remaining(bucket, rh.remaining, rh.limit)
		}
		c.auth.observe(header)
		c.log.Trace().Str("method", http.MethodGet).Str("path", path).Str("query", u.RawQuery).
			Int("status", status).Dur("duration", d).Str("bucket", bucket).
			Int("remaining", rh.remaining).Int("limit", rh.limit).Int("attempt", attempt).
			Str("request_id", header.Get("X-Okta-Request-Id")).Msg("okta request")

		switch {
		case status >= 200 && status < 300:
			r := &Response{
				StatusCode: status,
				Header:     header,
				NextPage:   nextLink(header.Values("Link")),
				Bucket:     bucket,
				RequestID:  header.Get("X-Okta-Request-Id"),
			}
			if rh.ok {
				r.Rate = RateState{Limit: rh.limit, Remaining: rh.remaining, Reset: rh.reset}
			}
			if decode == nil {
				return r, nil
			}
			err := decode(resp.Body())
			if err == nil {
				return r, nil
			}
			var malformed *malformedError
			if !errors.As(err, &malformed) {
				return nil, fmt.Errorf("%w: GET %s: %w", ErrBadResponse, path, err)
			}
			// A 200 whose body is cut short or not what was asked for is a
			// broken answer, like a 5xx: ask again.
			if retries < c.opts.MaxRetries {
				retries++
				c.obs.Retry(bucket)
				c.log.Debug().Str("path", path).Int("attempt", attempt).Err(err).Msg("okta answered a malformed body, retrying")
				if err := c.backoff(ctx, bucket, retries); err != nil {
					return nil, fmt.Errorf("okta: GET %s: %w", path, err)
				}
				continue
			}
			return nil, fmt.Errorf("%w: GET %s answered %d with %s, %d times: %w", ErrBadResponse, path, status, malformed.what, attempt, malformed.err)
		case status == http.StatusTooManyRequests:
			c.obs.RateLimited(bucket)
			if rateWaits < c.opts.MaxRateLimitWaits {
				rateWaits++
				// No believable reset (a concurrency 429, a broken header,
				// a reset already past): back off instead.
				wait := rh.untilReset()
				if wait <= 0 {
					wait = c.backoffDelay(rateWaits)
				}
				wait = min(wait, 2*windowEstimate) + rand.N(500*time.Millisecond)
				c.log.Warn().Str("bucket", bucket).Str("path", path).Dur("wait", wait).
					Int("limit", rh.limit).Msg("okta rate limit exceeded, waiting for the reset")
				c.obs.Retry(bucket)
				if err := c.sleep(ctx, bucket, wait, true); err != nil {
					return nil, fmt.Errorf("okta: GET %s: %w", path, err)
				}
				continue
			}
		case status == http.StatusUnauthorized:
			if authRetries < 2 && c.auth.reject(cred, header) {
				authRetries++
				c.obs.Retry(bucket)
				c.log.Debug().Str("path", path).Msg("okta answered 401, authorizing again")
				continue
			}
		case status >= 500:
			if retries < c.opts.MaxRetries {
				retries++
				c.obs.Retry(bucket)
				c.log.Debug().Str("path", path).Int("status", status).Int("attempt", attempt).Msg("okta server error, retrying")
				if err := c.backoff(ctx, bucket, retries); err != nil {
					return nil, fmt.Errorf("okta: GET %s: %w", path, err)
				}
				continue
			}
		}
		return nil, apiError(status, resp.Body(), path, ex, attempt)
	}
}

func apiError(status int, body []byte, path string, ex expression, attempts int) *Error {
	e := &Error{StatusCode: status, Method: http.MethodGet, Path: path, Attempts: attempts}
	var b errorBody
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Summary, e.ID, e.Link = b.ErrorCode, b.ErrorSummary, b.ErrorID, b.ErrorLink
		for _, cause := range b.ErrorCauses {
			if cause.ErrorSummary != "" {
				e.Causes = append(e.Causes, cause.ErrorSummary)
			}
		}
	}
	if ex.text != "" {
		e.Expression, e.ExpressionKind = ex.text, ex.kind
	}
	return e
}

// send performs one HTTP request, holding one of the concurrency slots, with
// the per-request timeout.
func (c *Client) send(ctx context.Context, method, rawURL string, h http.Header, form url.Values) (*resty.Response, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.slots }()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	req := c.rc.R().SetContext(rctx)
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if form != nil {
		req.SetFormDataFromValues(form)
	}
	c.calls.Add(1)
	// The body is read here rather than by resty, which would grow its
	// buffer by a quarter at a time up to the limit: reading a body that
	// is too large would then allocate five times the limit.
	resp, err := req.SetDoNotParseResponse(true).Execute(method, rawURL)
	if err != nil {
		return resp, err
	}
	defer resp.RawBody().Close()
	body, err := readBody(resp.RawResponse, c.opts.MaxResponseBytes)
	if err != nil {
		return resp, err
	}
	return resp.SetBody(body), nil
}

// errBodyTooLarge is send's error for a body over Options.MaxResponseBytes.
var errBodyTooLarge = errors.New("response body too large")

// readBody reads a response body, inflated when it is gzip-encoded and the
// transport did not inflate it, and fails with errBodyTooLarge past limit
// bytes after inflation (a small gzip body can inflate to gigabytes). A
// body of known length is read into one buffer of its size, or refused
// unread; one of unknown length in growing chunks, so that refusing it
// holds no more than the limit.
func readBody(resp *http.Response, limit int) ([]byte, error) {
	r, size := io.Reader(resp.Body), resp.ContentLength
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		r, size = zr, -1
	}
	if size > int64(limit) {
		return nil, errBodyTooLarge
	}
	if size >= 0 {
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	var (
		chunks [][]byte
		cur    []byte
		total  int
	)
	for next := 64 << 10; ; {
		if len(cur) == cap(cur) {
			if cur != nil {
				chunks = append(chunks, cur)
			}
			// One byte past the limit tells a body of exactly the limit
			// from a longer one.
			cur = make([]byte, 0, min(next, limit+1-total))
			next = min(2*next, 4<<20)
		}
		n, err := r.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += n
		switch {
		case total > limit:
			return nil, errBodyTooLarge
		case err == io.EOF:
			if chunks == nil {
				return cur, nil
			}
			return bytes.Join(append(chunks, cur), nil), nil
		case err != nil:
			return nil, err
		}
	}
}

// formatBytes writes n in MiB when it is a whole number of them, in bytes
// otherwise.
func formatBytes(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// backoffDelay is the exponential backoff before retry n (1-based) with
// jitter: between half and all of base·2^(n-1), at most 30 s.
func (c *Client) backoffDelay(n int) time.Duration {
	d := c.opts.RetryBaseDelay << min(n-1, 16)
	if d <= 0 || d > 30*time.Second {
		d = 30 * time.Second
	}
	return d/2 + rand.N(d/2+1)
}

func (c *Client) backoff(ctx context.Context, bucket string, n int) error {
	return c.sleep(ctx, bucket, c.backoffDelay(n), false)
}

// sleep waits d or until ctx is done.
func (c *Client) sleep(ctx context.Context, bucket string, d time.Duration, rateWait bool) error {
	if rateWait {
		defer c.obs.RateWait(bucket, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sameOrigin checks that u is on the org: same scheme, host and port, and
// under the org URL's path. The credentials go nowhere else.
func (c *Client) sameOrigin(u *url.URL) error {
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || hostPort(u) != hostPort(c.base) ||
		(c.base.Path != "" && !hasPathPrefix(u.Path, c.base.Path)) {
		return fmt.Errorf("okta: refusing to send a request to %s://%s%s, outside the org %s", u.Scheme, u.Host, u.Path, c.base)
	}
	return nil
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

// endpoint returns the absolute URL of an API path with its query, encoding
// spaces as %20 (not "+") the way Okta documents its examples.
func (c *Client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return &u
}

// restyLogger sends resty's own messages to the zerolog logger at debug
// level. They carry no headers or bodies (resty's debug mode stays off).
type restyLogger struct {
	log zerolog.Logger
}

func (l restyLogger) Errorf(format string, v ...any) { l.log.Debug().Msgf("resty: "+format, v...) }
func (l restyLogger) Warnf(format string, v ...any)  { l.log.Debug().Msgf("resty: "+format, v...) }
func (l restyLogger) Debugf(format string, v ...any) { l.log.Debug().Msgf("resty: "+format, v...) }
