package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/rs/zerolog"
)

// health is the body of /healthz and /readyz (schema Health).
type health struct {
	Status string `json:"status"`
}

// handleHealthz answers 200 while the process serves HTTP.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, http.StatusOK, health{Status: "ok"})
	})
}

// handleReadyz answers 200 only while a snapshot with entities is served.
func handleReadyz(src Source, cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := src.Snapshot(); !servable(s) {
			writeError(w, r, unavailable(s, cfg))
			return
		}
		encode(w, r, http.StatusOK, health{Status: "ready"})
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
		if err := src.AcceptHeld(r.Context()); err != nil {
			writeError(w, r, err)
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
