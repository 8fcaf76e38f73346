package oktafake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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
	// (/api/v1/logs) and "other" (the rest, the token endpoint included).
	// A missing or zero limit means unlimited.
	RateLimits map[string]int
	// RateWindow is the length of a rate-limit window. Default 60s, as Okta.
	RateWindow time.Duration
	// Now is the server's clock, for Date headers and rate-limit windows.
	// Default: the org's clock (Org.Now). OAuth assertions and DPoP proofs
	// are checked against the wall clock, as clients sign with theirs.
	Now func() time.Time
	// Seed makes ErrorRate's choices reproducible.
	Seed int64
}

// Faults are failures injected into API responses at run time.
type Faults struct {
	// ErrorRate is the share of API requests answered 500.
	ErrorRate float64 `json:"errorRate"`
	// FailPathPrefix makes every API request whose path (after Prefix)
	// starts with it answer 500, e.g. "/api/v1/groups/00g.../users".
	FailPathPrefix string `json:"failPathPrefix"`
	// Down answers every API request 503.
	Down bool `json:"down"`
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
	now    func() time.Time
	wall   func() time.Time // for OAuth and DPoP time claims
	api    *http.ServeMux
	admin  *http.ServeMux
	tokens map[string]bool
	noLogs map[string]bool

	seq      atomic.Uint64
	inFlight atomic.Int64
	latency  atomic.Int64 // time.Duration

	mu      sync.Mutex
	faults  Faults
	buckets map[string]*bucket
	stats   Stats

	auth authState
}

// NewServer returns a server for org.
func NewServer(org *Org, opts Options) *Server {
	if len(opts.Tokens) == 0 && len(opts.TokensWithoutLogs) == 0 {
		opts.Tokens = []string{"demo-token"}
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	s := &Server{
		org:    org,
		opts:   opts,
		prefix: strings.TrimSuffix(opts.Prefix, "/"),
		now:    opts.Now,
		wall:   time.Now,
		tokens: map[string]bool{},
		noLogs: map[string]bool{},
		faults: Faults{ErrorRate: opts.ErrorRate},
		stats:  Stats{ByEndpoint: map[string]int64{}},
	}
	if s.prefix != "" && !strings.HasPrefix(s.prefix, "/") {
		s.prefix = "/" + s.prefix
	}
	if s.now == nil {
		s.now = org.Now
	}
	s.latency.Store(int64(opts.Latency))
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	for _, t := range opts.TokensWithoutLogs {
		s.tokens[t] = true
		s.noLogs[t] = true
	}
	s.buckets = map[string]*bucket{}
	for _, name := range []string{bucketUsers, bucketGroups, bucketLogs, bucketOther} {
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

// SetLatency changes the delay added to every API response.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

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

// ServeHTTP serves the Okta API, the token endpoint and the /_fake admin
// API, all under Options.Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok || (rel != "" && rel[0] != '/') {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Endpoint)")
		return
	}
	if strings.HasPrefix(rel, "/_fake/") {
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
	if overConcurrency {
		h.Set("X-Rate-Limit-Limit", "0")
		h.Set("X-Rate-Limit-Remaining", "0")
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Unix()+1, 10))
		writeError(sw, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.",
			"The number of concurrent requests exceeded the org's concurrency limit.")
		return
	}
	s.mu.Lock()
	limit, remaining, reset, within := s.take(bucketFor(rel), now)
	s.mu.Unlock()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixMilli())/1000)), 10))
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
	if faults.ErrorRate > 0 && float64(splitmix(uint64(s.opts.Seed)^seq*0x9E3779B97F4A7C15)>>11)/(1<<53) < faults.ErrorRate {
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
	s.api.ServeHTTP(sw, r)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
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
