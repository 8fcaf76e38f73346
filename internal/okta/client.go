package okta

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	// AppUserPageSize and AppGroupPageSize are the limits of the app
	// assignment listings: default and Okta's maxima 500 and 200.
	AppUserPageSize, AppGroupPageSize int
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
		{&o.AppUserPageSize, 500, 500, "AppUserPageSize"},
		{&o.AppGroupPageSize, 200, 200, "AppGroupPageSize"},
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
	skew atomic.Int64
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
		return nil, errors.New("okta: the API token is empty")
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
		return nil, errors.New("okta: the org URL is empty; give one such as https://example.okta.com")
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
// the local clock.
func (c *Client) Now() time.Time {
	return c.now().Add(time.Duration(c.skew.Load())).Round(0).UTC()
}

// observeDate records the offset of Okta's clock from a response's Date.
func (c *Client) observeDate(date, received time.Time) {
	if date.IsZero() {
		return
	}
	c.skew.Store(int64(date.Sub(received)))
}

// Calls returns the number of HTTP requests sent so far, retries and token
// requests included.
func (c *Client) Calls() int64 { return c.calls.Load() }

// RateStatus returns the latest rate-limit state of each bucket (users,
// groups, logs, other); a bucket with no response yet has a zero RateState.
func (c *Client) RateStatus() map[string]RateState { return c.limits.status() }

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
