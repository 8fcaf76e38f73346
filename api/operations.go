package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/rs/zerolog"
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

// handleStatus answers the source's status as JSON.
func handleStatus(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		encode(w, r, http.StatusOK, src.Status())
	})
}

// handleMetrics serves the metrics handler, or 404 without one.
func handleMetrics(metrics http.Handler) http.Handler {
	if metrics == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, errMetricsOff)
		})
	}
	return metrics
}

// handleOpenAPI serves the OpenAPI document.
func handleOpenAPI(doc []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/yaml")
		h.Set("Content-Length", strconv.Itoa(len(doc)))
		_, _ = w.Write(doc)
	})
}

// handleAccept serves the snapshot held back by the mass-deletion guard, for
// a request with the admin token. Without an admin token configured the
// endpoint is disabled: 403, so an operator learns why rather than a 404.
func handleAccept(src Source, admin secret) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !admin.set {
			writeError(w, r, errAdminDisabled)
			return
		}
		if !admin.matches(bearer(r)) {
			writeError(w, r, errAdminToken)
			return
		}
		accepted, err := src.AcceptHeld(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !accepted {
			writeError(w, r, errNothingHeld)
			return
		}
		zerolog.Ctx(r.Context()).Warn().Str("remote", r.RemoteAddr).Msg("held-back snapshot accepted by an operator")
		encode(w, r, http.StatusOK, src.Status())
	})
}

// handleNotFound answers unknown paths.
func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errNotFound)
	})
}

// handleMethodNotAllowed answers known paths asked with an unknown method,
// listing in Allow the methods routes takes for the path (RFC 9110 section
// 15.5.6).
func handleMethodNotAllowed(routes chi.Routes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if routes.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, r, errBadMethod)
	})
}
