package oktafake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// Prefix serves the org under this path prefix, e.g. "/okta-prefix";
	// every link the server writes includes it.
	Prefix string
	// Tokens are the accepted API tokens (Authorization: SSWS <token>).
	// Default {"demo-token"}.
	Tokens []string
	// TokensWithoutLogs are API tokens that may read users and groups but
	// get 403 E0000006 from the System Log, like a token of an admin
	// without the permission. They need not be listed in Tokens.
	TokensWithoutLogs []string
	// Latency delays every API response.
	Latency time.Duration
	// ErrorRate is the share of API requests answered 500, chosen
	// deterministically from Seed and the request's sequence number.
	ErrorRate float64
	// ConcurrencyLimit caps API requests in flight; a request over it gets
	// 429 with X-Rate-Limit-Limit and -Remaining 0. 0 means no cap.
	ConcurrencyLimit int
	// RateLimits are the per-window request limits per bucket: "users"
	// (/api/v1/users...), "groups" (/api/v1/groups...), "logs"
	// (/api/v1/logs), "apps" (/api/v1/apps...; Okta's Workforce limit is
	// 100) and "other" (the rest, the token endpoint included).
	// A missing or zero limit means unlimited.
	RateLimits map[string]int
	// RateWindow is the length of a rate-limit window. Default 60s, as Okta.
	RateWindow time.Duration
	// Now is the server's clock, for Date headers, rate-limit windows and
	// the System Log's limits. Default: the org's clock (Org.Now). OAuth
	// assertions and DPoP proofs are checked against the wall clock, as
	// clients sign with theirs.
	Now func() time.Time
	// ClockOffset runs the server's clock (Now) and the clock of the org
	// it serves, which stamps changes, this far ahead of their clocks
	// (behind when negative), as an Okta whose clock differs from the
	// client's. SetClockOffset changes it at run time.
	ClockOffset time.Duration
	// LogDelay is how long after its publication an event becomes
	// visible in the System Log, as Okta's log lags its writes. Default
	// DefaultLogDelay; negative: at once. SetLogDelay changes it at run
	// time.
	LogDelay time.Duration
	// Faults are injected from the start, as SetFaults does later. A
	// non-zero ErrorRate above is used when Faults.ErrorRate is zero.
	Faults Faults
	// Seed makes the choices of ErrorRate and BadBodyRate reproducible.
	Seed int64
	// NoAdmin leaves out the admin API: paths under /_fake/ are answered
	// as unknown Okta paths, so that clients of the served org cannot
	// change it or inject faults.
	NoAdmin bool
}

// System Log limits, measured back from the server's clock.
const (
	// LogRetention is how long the System Log keeps events: older ones
	// are never returned.
	LogRetention = 90 * 24 * time.Hour
	// LogSinceLimit is how far back a System Log since may reach; an
	// earlier one is refused with 400 E0000053.
	LogSinceLimit = 180 * 24 * time.Hour
	// DefaultLogDelay is Options.LogDelay's default.
	DefaultLogDelay = 2 * time.Second
)

// Faults are failures injected into API responses at run time. The counts
// (VanishGroups, ConcurrencyBurst, BadBodies) go down as they are used.
type Faults struct {
	// ErrorRate is the share of API requests answered 500.
	ErrorRate float64 `json:"errorRate"`
	// FailPathPrefix makes every API request whose path (after Prefix)
	// starts with it answer 500, e.g. "/api/v1/groups/00g.../users", or
	// "/api/v1/logs" for a System Log outage.
	FailPathPrefix string `json:"failPathPrefix"`
	// Down answers every API request 503.
	Down bool `json:"down"`
	// VanishGroups makes the next N member listings (the first page of
	// GET /api/v1/groups/{id}/users) find their group deleted just before:
	// the group is deleted from the org, with its group.lifecycle.delete
	// event, and the listing answers 404 E0000007. BUILT_IN groups are
	// not deleted and not counted.
	VanishGroups int `json:"vanishGroups"`
	// FullLastPageNext gives an exactly full last page of users, groups or
	// members a next link anyway; its target answers an empty page.
	FullLastPageNext bool `json:"fullLastPageNext"`
	// PastReset sends an X-Rate-Limit-Reset ten seconds before Date.
	PastReset bool `json:"pastReset"`
	// ConcurrencyBurst answers the next N API requests 429 E0000047
	// without any X-Rate-Limit header.
	ConcurrencyBurst int `json:"concurrencyBurst"`
	// BadBodies breaks the body of the next N 200 responses of
	// /api/v1/..., BadBodyRate that of a share of them (chosen from
	// Options.Seed and the request's sequence number), as BadBodyKind
	// says.
	BadBodies   int     `json:"badBodies"`
	BadBodyRate float64 `json:"badBodyRate"`
	// BadBodyKind is BadBodyTruncated (the default: the first half of the
	// JSON) or BadBodyEmpty (no body at all).
	BadBodyKind string `json:"badBodyKind,omitempty"`
	// LogError makes every System Log request answer this error, while
	// users and groups work. A zero Status is off.
	LogError ErrorResponse `json:"logError,omitzero"`
}

// Validate reports a fault that cannot be injected: a negative count, a
// share outside [0, 1], an unknown BadBodyKind or a LogError status that
// is not an error.
func (f Faults) Validate() error {
	switch {
	case f.VanishGroups < 0 || f.ConcurrencyBurst < 0 || f.BadBodies < 0:
		return errors.New("vanishGroups, concurrencyBurst, badBodies: want counts of 0 or more")
	case f.ErrorRate < 0 || f.ErrorRate > 1 || f.BadBodyRate < 0 || f.BadBodyRate > 1:
		return errors.New("errorRate, badBodyRate: want shares between 0 and 1")
	case f.BadBodyKind != "" && f.BadBodyKind != BadBodyTruncated && f.BadBodyKind != BadBodyEmpty:
		return fmt.Errorf("badBodyKind %q: want %q or %q", f.BadBodyKind, BadBodyTruncated, BadBodyEmpty)
	case f.LogError.Status != 0 && (f.LogError.Status < 400 || f.LogError.Status > 599):
		return fmt.Errorf("logError.status %d: want a 4xx or 5xx status", f.LogError.Status)
	}
	return nil
}

// Kinds of broken bodies for Faults.BadBodyKind.
const (
	BadBodyTruncated = "truncated"
	BadBodyEmpty     = "empty"
)

// ErrorResponse is an Okta error answer for Faults.LogError.
type ErrorResponse struct {
	// Status is the HTTP status, e.g. 400 or 500.
	Status int `json:"status"`
	// Code is the errorCode. Default by status: E0000053 for 400 and 500
	// (the System Log's codes for a refused parameter and an internal
	// error), E0000006 for 403, E0000047 for 429, E0000009 for other 5xx,
	// E0000001 otherwise.
	Code string `json:"code,omitempty"`
	// Summary is the errorSummary. Default: Okta's for the code, e.g.
	// "Invalid parameter: The since parameter is over 180 days prior to
	// the current day." for 400 E0000053.
	Summary string `json:"summary,omitempty"`
}

// Stats count the API requests the server answered.
type Stats struct {
	// Calls is the number of API requests, the token endpoint included.
	Calls int64 `json:"calls"`
	// ByEndpoint counts requests per route, e.g.
	// "GET /api/v1/groups/{id}/users".
	ByEndpoint map[string]int64 `json:"byEndpoint"`
	// RateLimited counts 429 responses.
	RateLimited int64 `json:"rateLimited"`
	// MaxInFlight is the most API requests in flight at once.
	MaxInFlight int `json:"maxInFlight"`
	// ServerErrors counts 5xx responses.
	ServerErrors int64 `json:"serverErrors"`
}

// Server is an Okta-compatible HTTP server over an Org. It is an
// http.Handler.
type Server struct {
	org    *Org
	opts   Options
	prefix string
	wall   func() time.Time // for OAuth and DPoP time claims
	api    *http.ServeMux
	admin  *http.ServeMux
	tokens map[string]bool
	noLogs map[string]bool

	seq      atomic.Uint64
	inFlight atomic.Int64
	latency  atomic.Int64 // time.Duration
	offset   atomic.Int64 // time.Duration, ClockOffset
	logDelay atomic.Int64 // time.Duration, LogDelay

	mu      sync.Mutex
	faults  Faults
	buckets map[string]*bucket
	stats   Stats

	auth authState

	// hooks are the verified event hooks, guarded by mu; closed is set by
	// Close.
	hooks   []*hook
	hookSeq uint64
	closed  bool
}

// NewServer returns a server for org.
func NewServer(org *Org, opts Options) *Server {
	if len(opts.Tokens) == 0 && len(opts.TokensWithoutLogs) == 0 {
		opts.Tokens = []string{"demo-token"}
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.LogDelay == 0 {
		opts.LogDelay = DefaultLogDelay
	}
	faults := opts.Faults
	if faults.ErrorRate == 0 {
		faults.ErrorRate = opts.ErrorRate
	}
	s := &Server{
		org:    org,
		opts:   opts,
		prefix: strings.TrimSuffix(opts.Prefix, "/"),
		wall:   time.Now,
		tokens: map[string]bool{},
		noLogs: map[string]bool{},
		faults: faults,
		stats:  Stats{ByEndpoint: map[string]int64{}},
	}
	if s.prefix != "" && !strings.HasPrefix(s.prefix, "/") {
		s.prefix = "/" + s.prefix
	}
	s.latency.Store(int64(opts.Latency))
	s.SetClockOffset(opts.ClockOffset)
	s.SetLogDelay(opts.LogDelay)
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	for _, t := range opts.TokensWithoutLogs {
		s.tokens[t] = true
		s.noLogs[t] = true
	}
	s.buckets = map[string]*bucket{}
	for _, name := range []string{bucketUsers, bucketGroups, bucketLogs, bucketApps, bucketOther} {
		s.buckets[name] = &bucket{limit: opts.RateLimits[name]}
	}
	s.auth.init()
	s.routes()
	return s
}

// Org returns the org the server serves.
func (s *Server) Org() *Org { return s.org }

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the injected faults, with the counts that are left.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetLatency changes the delay added to every API response.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetClockOffset moves the server's clock and its org's d ahead of their
// clocks (behind when negative). The org's stamps stay strictly
// increasing, so after a move back they run ahead of its clock until it
// catches up.
func (s *Server) SetClockOffset(d time.Duration) {
	s.offset.Store(int64(d))
	s.org.offset.Store(int64(d))
}

// ClockOffset returns the offset SetClockOffset set.
func (s *Server) ClockOffset() time.Duration { return time.Duration(s.offset.Load()) }

// SetLogDelay changes how long events take to become visible in the System
// Log; 0 or less makes them visible at once.
func (s *Server) SetLogDelay(d time.Duration) { s.logDelay.Store(int64(max(d, 0))) }

// LogDelay returns the System Log's visibility delay.
func (s *Server) LogDelay() time.Duration { return time.Duration(s.logDelay.Load()) }

// Now returns the server's clock: the time of its Date headers.
func (s *Server) Now() time.Time { return s.now() }

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().Add(s.ClockOffset())
	}
	return s.org.Now() // the org's clock carries the offset
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByEndpoint = make(map[string]int64, len(s.stats.ByEndpoint))
	for k, v := range s.stats.ByEndpoint {
		st.ByEndpoint[k] = v
	}
	return st
}

// ResetStats zeroes the request counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{ByEndpoint: map[string]int64{}}
}

// Rate-limit buckets.
const (
	bucketUsers  = "users"
	bucketGroups = "groups"
	bucketLogs   = "logs"
	bucketApps   = "apps"
	bucketOther  = "other"
)

// unlimited is the limit reported for a bucket without one.
const unlimited = 1_000_000

type bucket struct {
	limit       int
	windowStart time.Time
	count       int
}

func bucketFor(rel string) string {
	switch {
	case rel == "/api/v1/users" || strings.HasPrefix(rel, "/api/v1/users/"):
		return bucketUsers
	case rel == "/api/v1/groups" || strings.HasPrefix(rel, "/api/v1/groups/"):
		return bucketGroups
	case rel == "/api/v1/logs" || strings.HasPrefix(rel, "/api/v1/logs/"):
		return bucketLogs
	case rel == "/api/v1/apps" || strings.HasPrefix(rel, "/api/v1/apps/"):
		return bucketApps
	}
	return bucketOther
}

// take counts one request in the bucket and reports the headers' values and
// whether the request is within the limit.
func (s *Server) take(name string, now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	b := s.buckets[name]
	if b.windowStart.IsZero() || !now.Before(b.windowStart.Add(s.opts.RateWindow)) {
		b.windowStart, b.count = now, 0
	}
	b.count++
	limit = b.limit
	if limit <= 0 {
		limit = unlimited
	}
	return limit, max(0, limit-b.count), b.windowStart.Add(s.opts.RateWindow), b.count <= limit
}

// statusWriter records the status code for the stats.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP serves the Okta API, the token endpoint and, unless
// Options.NoAdmin, the /_fake admin API, all under Options.Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok || (rel != "" && rel[0] != '/') {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Endpoint)")
		return
	}
	if strings.HasPrefix(rel, "/_fake/") && !s.opts.NoAdmin {
		s.admin.ServeHTTP(w, r)
		return
	}
	s.serveAPI(w, r, rel)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rel string) {
	seq := s.seq.Add(1)
	now := s.now()
	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", requestID(uint64(s.opts.Seed), seq))
	h.Set("Content-Type", "application/json")

	_, pattern := s.api.Handler(r)
	endpoint := "unmatched"
	if pattern != "" {
		method, path, _ := strings.Cut(pattern, " ")
		endpoint = method + " " + strings.TrimPrefix(path, s.prefix)
	}
	inFlight := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	sw := &statusWriter{ResponseWriter: w}
	s.mu.Lock()
	s.stats.Calls++
	s.stats.ByEndpoint[endpoint]++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, int(inFlight))
	faults := s.faults
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case sw.status == http.StatusTooManyRequests:
			s.stats.RateLimited++
		case sw.status >= 500:
			s.stats.ServerErrors++
		}
	}()

	overConcurrency := s.opts.ConcurrencyLimit > 0 && inFlight > int64(s.opts.ConcurrencyLimit)
	if d := time.Duration(s.latency.Load()); d > 0 {
		if err := sleep(r.Context(), d); err != nil {
			return
		}
	}
	if s.takeCount(func(f *Faults) *int { return &f.ConcurrencyBurst }) {
		// As a proxy or an overloaded edge may answer: no rate-limit
		// headers to go by.
		writeError(sw, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	resetHeader := func(reset int64) string {
		if faults.PastReset {
			reset = now.Unix() - 10
		}
		return strconv.FormatInt(reset, 10)
	}
	if overConcurrency {
		h.Set("X-Rate-Limit-Limit", "0")
		h.Set("X-Rate-Limit-Remaining", "0")
		h.Set("X-Rate-Limit-Reset", resetHeader(now.Unix()+1))
		writeError(sw, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.",
			"The number of concurrent requests exceeded the org's concurrency limit.")
		return
	}
	s.mu.Lock()
	limit, remaining, reset, within := s.take(bucketFor(rel), now)
	s.mu.Unlock()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", resetHeader(int64(math.Ceil(float64(reset.UnixMilli())/1000))))
	if faults.Down {
		writeError(sw, http.StatusServiceUnavailable, "E0000010", "Service is temporarily unavailable")
		return
	}
	if !within {
		writeError(sw, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	if faults.FailPathPrefix != "" && strings.HasPrefix(rel, faults.FailPathPrefix) {
		writeError(sw, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	if faults.ErrorRate > 0 && s.chance(seq, faults.ErrorRate) {
		writeError(sw, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	if pattern == "" {
		writeError(sw, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.Method+" "+rel+" (Endpoint)")
		return
	}
	if rel != "/oauth2/v1/token" {
		if status, code, summary := s.authorize(r, rel); status != 0 {
			if status == http.StatusUnauthorized {
				h.Set("WWW-Authenticate", `SSWS realm="IC", error="invalid_token"`)
			}
			writeError(sw, status, code, summary)
			return
		}
	}
	if faults.LogError.Status != 0 && bucketFor(rel) == bucketLogs {
		status, code, summary := faults.LogError.reply()
		writeError(sw, status, code, summary)
		return
	}
	if strings.HasPrefix(rel, "/api/v1/") && (faults.BadBodies > 0 || faults.BadBodyRate > 0) {
		bw := &badBodyWriter{ResponseWriter: sw, empty: faults.BadBodyKind == BadBodyEmpty}
		s.api.ServeHTTP(bw, r)
		bw.finish(func() bool {
			return s.takeCount(func(f *Faults) *int { return &f.BadBodies }) ||
				faults.BadBodyRate > 0 && s.chance(seq^0xBADB0D1E, faults.BadBodyRate)
		})
		return
	}
	s.api.ServeHTTP(sw, r)
}

// takeCount uses one of the counted faults that count picks, reporting
// whether one was left.
func (s *Server) takeCount(count func(*Faults) *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := count(&s.faults)
	if *n <= 0 {
		return false
	}
	*n--
	return true
}

// chance reports, deterministically from Seed and x, whether an event of
// probability p happens.
func (s *Server) chance(x uint64, p float64) bool {
	return float64(splitmix(uint64(s.opts.Seed)^x*0x9E3779B97F4A7C15)>>11)/(1<<53) < p
}

// reply returns the status, errorCode and errorSummary of the response.
func (e ErrorResponse) reply() (int, string, string) {
	code, summary := e.Code, e.Summary
	if code == "" {
		switch {
		case e.Status == http.StatusBadRequest || e.Status == http.StatusInternalServerError:
			code = "E0000053"
		case e.Status == http.StatusForbidden:
			code = "E0000006"
		case e.Status == http.StatusTooManyRequests:
			code = "E0000047"
		case e.Status >= 500:
			code = "E0000009"
		default:
			code = "E0000001"
		}
	}
	if summary == "" {
		switch {
		case code == "E0000053" && e.Status < 500:
			summary = sinceTooOld
		case code == "E0000053":
			summary = "Sorry, there's been an error. We aren't sure what caused it, but we've logged this and will work to address it. Please try your request again."
		case code == "E0000009":
			summary = "Your last request took too long to complete. This is likely due to a load issue on our side. We've logged this and will work to address it. Please either simplify your query or wait a few minutes and try again."
		case code == "E0000006":
			summary = "You do not have permission to perform the requested action"
		case code == "E0000047":
			summary = "API call exceeded rate limit due to too many requests."
		default:
			summary = http.StatusText(e.Status)
		}
	}
	return e.Status, code, summary
}

// sinceTooOld is Okta's errorSummary for a System Log since more than
// LogSinceLimit back.
const sinceTooOld = "Invalid parameter: The since parameter is over 180 days prior to the current day."

// badBodyWriter holds back a 200 response's body and, when finish says
// so, writes half of it or none, as a response cut short.
type badBodyWriter struct {
	http.ResponseWriter
	empty  bool
	status int
	body   []byte
}

func (w *badBodyWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if code != http.StatusOK {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *badBodyWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status != http.StatusOK {
		return w.ResponseWriter.Write(b)
	}
	w.body = append(w.body, b...)
	return len(b), nil
}

// finish writes the held-back body, broken if the 200 response is one of
// those break picks (it is asked only for 200 responses).
func (w *badBodyWriter) finish(breakIt func() bool) {
	if w.status != http.StatusOK {
		return
	}
	body := w.body
	if breakIt() {
		body = body[:len(body)/2]
		if w.empty {
			body = nil
		}
	}
	w.ResponseWriter.WriteHeader(http.StatusOK)
	_, _ = w.ResponseWriter.Write(body)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func requestID(seed, seq uint64) string {
	var b [12]byte
	x := splitmix(seed ^ seq)
	for i := range b {
		b[i] = byte(x >> (8 * (i % 8)))
		if i == 7 {
			x = splitmix(x)
		}
	}
	return base64.RawURLEncoding.EncodeToString(b[:]) + strconv.FormatUint(seq, 10)
}

// oktaError is Okta's error body.
type oktaError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

func writeError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	var id [16]byte
	_, _ = rand.Read(id[:])
	body := oktaError{
		ErrorCode:    code,
		ErrorSummary: summary,
		ErrorLink:    code,
		ErrorID:      "oae" + base64.RawURLEncoding.EncodeToString(id[:])[:19],
		ErrorCauses:  []errorCause{},
	}
	for _, c := range causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{c})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// baseURL is the org's URL as the client addressed it: scheme, host and
// prefix.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.prefix
}
