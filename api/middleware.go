package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"
)

// quietPath reports whether path is one that probes and scrapers poll
// (/healthz, /readyz, /metrics): logRequests logs its answers at debug
// level, unless they are 5xx, which are logged as warnings like any other.
func quietPath(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// maxRequestIDLen is the longest client X-Request-Id that is kept.
const maxRequestIDLen = 128

// requestIDs gives every request an id, kept in its context for
// middleware.GetReqID: the client's X-Request-Id when it is at most
// maxRequestIDLen characters of [A-Za-z0-9._:-], else one of the server's
// own (a random prefix and a counter). A client's id is logged and echoed,
// so one that could forge or bloat a log line is not kept.
func requestIDs() func(http.Handler) http.Handler {
	prefix := rand.Text()[:10]
	var n atomic.Uint64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(middleware.RequestIDHeader)
			if !validRequestID(id) {
				id = prefix + "-" + strconv.FormatUint(n.Add(1), 10)
			}
			ctx := context.WithValue(r.Context(), middleware.RequestIDKey, id)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// validRequestID reports whether a client's request id may be kept.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// logRequests logs every request once it is answered, with its request id, and
// puts a logger carrying that id in the request's context. Query parameters
// that look like credentials are redacted and no header is logged, so
// secrets stay out of logs.
func logRequests(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := middleware.GetReqID(r.Context())
			w.Header().Set(middleware.RequestIDHeader, id)
			reqLog := log.With().Str("request_id", id).Logger()
			r = r.WithContext(reqLog.WithContext(r.Context()))
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)

			defer func() {
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK
				}
				level := zerolog.InfoLevel
				switch {
				case status >= 500:
					level = zerolog.WarnLevel
				case quietPath(r.URL.Path):
					level = zerolog.DebugLevel
				}
				ev := reqLog.WithLevel(level).
					Str("method", r.Method).
					Str("path", r.URL.Path)
				if r.URL.RawQuery != "" {
					ev = ev.Str("query", redactQuery(r.URL.RawQuery))
				}
				ev.Int("status", status).
					Int("bytes", ww.BytesWritten()).
					Dur("duration", time.Since(start)).
					Str("remote", r.RemoteAddr).
					Str("user_agent", r.UserAgent()).
					Msg("request")
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// redactQuery returns a raw query fit for logs: the value of every parameter
// whose name looks like a credential is replaced. A query that does not
// parse is not logged at all, since a credential might hide in it.
func redactQuery(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "[unparsable query]"
	}
	redacted := false
	for name, values := range q {
		if !credentialParam(name) {
			continue
		}
		for i := range values {
			values[i] = "REDACTED"
		}
		redacted = true
	}
	if !redacted {
		return raw
	}
	return q.Encode()
}

// credentialWords are the words that make a query parameter's name look like
// a credential's: token, access_token, id_token, client_secret, api_key,
// X-Amz-Signature, SAMLResponse and the like.
var credentialWords = []string{
	"token", "secret", "password", "passwd", "pwd", "key", "signature", "sig",
	"assertion", "code", "auth", "credential", "session", "samlresponse", "ticket",
}

// credentialParam reports whether a query parameter's name looks like a
// credential's: compared case-insensitively, one of its words (split at
// "_", "-", "." and the like) or the whole name without separators is a
// credential word, or it ends in one ("apikey", "accesstoken").
func credentialParam(name string) bool {
	name = strings.ToLower(name)
	words := strings.FieldsFunc(name, func(r rune) bool { return (r < 'a' || r > 'z') && (r < '0' || r > '9') })
	joined := strings.Join(words, "")
	for _, w := range credentialWords {
		if slices.Contains(words, w) || strings.HasSuffix(joined, w) {
			return true
		}
	}
	return false
}

// recoverPanics turns a panicking handler into a logged 500, unless the
// handler aborted on purpose (http.ErrAbortHandler) or had already begun its
// answer, in which case the connection is dropped.
func recoverPanics(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww, ok := w.(middleware.WrapResponseWriter)
			if !ok {
				ww = middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler { //nolint:errorlint // compared as net/http does
					panic(v)
				}
				zerolog.Ctx(r.Context()).Error().
					Interface("panic", v).
					Bytes("stack", debug.Stack()).
					Msg("handler panicked")
				if ww.Status() != 0 {
					panic(http.ErrAbortHandler)
				}
				writeError(ww, r, errInternal)
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// observeRequests tells obs of every answered request: its route's
// pattern, method, status, body bytes and duration. It runs after
// logRequests, inside the router, so the route is known once the request
// is answered.
func observeRequests(obs Observer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if obs == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww, ok := w.(middleware.WrapResponseWriter)
			if !ok {
				ww = middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			}
			defer func() {
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK
				}
				route := "other"
				if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
					route = rc.RoutePattern()
				}
				obs.Served(route, r.Method, status, int64(ww.BytesWritten()), time.Since(start))
			}()
			next.ServeHTTP(ww, r)
		})
	}
}
