package api

import (
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// health is the body of /healthz and /readyz (schema Health). A /readyz that
// is not ready also says why, in the fields of an error body and a reason
// that names the cause and the fix.
type health struct {
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Error     string `json:"error,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// handleHealthz answers 200 while the process serves HTTP.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, http.StatusOK, health{Status: "ok"})
	})
}

// handleReadyz answers 200 only while a snapshot with entities is served.
// Otherwise it answers 503 with why: "starting" until a first snapshot is
// there (the source's NotReady says why not yet, and the fix), and
// "unavailable" while the snapshot holds no entities.
func handleReadyz(src Source, cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := src.Snapshot()
		if servable(s) {
			encode(w, r, http.StatusOK, health{Status: "ready"})
			return
		}
		body := health{Status: "starting", Reason: src.NotReady(), Error: unavailable(s, cfg).msg, RequestID: middleware.GetReqID(r.Context())}
		switch {
		case s != nil:
			body.Status = "unavailable"
			body.Reason = "the last good sync selected no users or groups, and an empty catalog is never served: " +
				"check the selection settings (filters, searches, group types, user statuses) against /status's report"
		case body.Reason == "":
			body.Reason = "no sync has finished yet: the first one is starting; if this lasts, see /status and the service's log"
		}
		w.Header().Set("Retry-After", retryAfter(cfg.RetryAfter))
		encode(w, r, http.StatusServiceUnavailable, body)
	})
}
