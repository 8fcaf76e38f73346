package api

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
)

// HookReceiver takes Okta event hook calls once the server has
// authenticated and bounded them; *eventhook.Receiver implements it.
type HookReceiver interface {
	// Verify records Okta's verification request and returns the answer.
	Verify(challenge string) []byte
	// Deliver takes a delivery body; an error means a malformed body.
	// It must not block on the work the delivery asks for.
	Deliver(body []byte) error
	// Refused counts a call refused before its body was read.
	Refused(outcome string)
}

// Bounds of the event hook endpoint. Okta sends small batches of events
// (a few KiB each); 1 MiB is far above any real delivery. The rate is far
// above what an org sends (Okta caps an org's event hook deliveries) but
// keeps a flood from costing more than reading it.
const (
	hookMaxBody    = 1 << 20
	hookRatePerSec = 100
	hookRateBurst  = 200
)

var (
	errHookToken     = &httpError{status: http.StatusUnauthorized, msg: "missing or wrong event hook secret"}
	errHookTooLarge  = &httpError{status: http.StatusRequestEntityTooLarge, msg: "the delivery is over 1 MiB"}
	errHookRate      = &httpError{status: http.StatusTooManyRequests, msg: "too many event hook calls", retryAfter: time.Second}
	errHookMalformed = &httpError{status: http.StatusBadRequest, msg: "not an Okta event hook delivery"}
	errHookNoVerify  = &httpError{status: http.StatusBadRequest, msg: "missing the X-Okta-Verification-Challenge header"}
)

// handleOktaHook serves GET (verification) and POST (delivery) of
// /hooks/okta. Without a secret the endpoint does not exist (404). Okta
// sends the configured secret as the whole Authorization header: it is
// compared in constant time, and a call without it gets 401 before its
// body is read. A delivery is acknowledged as soon as its hint is handed
// on, well within Okta's 3-second timeout; the sync it asks for runs
// afterwards.
func handleOktaHook(hooks HookReceiver, hookSecret secret) http.Handler {
	limit := newRateLimit(hookRatePerSec, hookRateBurst)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hookSecret.set || hooks == nil {
			writeError(w, r, errNotFound)
			return
		}
		if !hookSecret.matches(r.Header.Get("Authorization")) {
			hooks.Refused(eventhook.OutcomeUnauthorized)
			writeError(w, r, errHookToken)
			return
		}
		if !limit.allow(time.Now()) {
			hooks.Refused(eventhook.OutcomeRateLimited)
			writeError(w, r, errHookRate)
			return
		}
		if r.Method == http.MethodGet {
			challenge := r.Header.Get(eventhook.VerificationHeader)
			if challenge == "" {
				writeError(w, r, errHookNoVerify)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(hooks.Verify(challenge))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, hookMaxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			hooks.Refused(eventhook.OutcomeTooLarge)
			writeError(w, r, errHookTooLarge)
			return
		case err != nil:
			hooks.Refused(eventhook.OutcomeMalformed)
			writeError(w, r, errHookMalformed)
			return
		}
		if err := hooks.Deliver(body); err != nil {
			writeError(w, r, &httpError{status: http.StatusBadRequest, msg: err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleOrgHooks serves /hooks/okta/{org}: the event hook of each org of
// several, as handleOktaHook serves the one org's, each with a rate limit
// of its own. An org not in hooks is not found.
func handleOrgHooks(hooks map[string]HookReceiver, hookSecret secret) http.Handler {
	byOrg := make(map[string]http.Handler, len(hooks))
	for name, h := range hooks {
		byOrg[name] = handleOktaHook(h, hookSecret)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := byOrg[chi.URLParam(r, "org")]
		if !ok {
			writeError(w, r, errNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// rateLimit is a token bucket.
type rateLimit struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newRateLimit(perSec, burst int) *rateLimit {
	return &rateLimit{rate: float64(perSec), burst: float64(burst), tokens: float64(burst)}
}

// allow takes a token at now, and reports whether there was one.
func (l *rateLimit) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
