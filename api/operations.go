package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

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

// Paging of the held snapshot's lists.
const (
	heldPageDefault = 1000
	heldPageMax     = 10000
)

// heldPage is the body of GET /status/held/{list} (schema HeldList).
type heldPage struct {
	ETag   string   `json:"etag"`
	List   string   `json:"list"`
	Total  int      `json:"total"`
	Offset int      `json:"offset"`
	Limit  int      `json:"limit"`
	Items  []string `json:"items"`
	// Next is the URL of the next page, absent on the last.
	Next string `json:"next,omitempty"`
}

// handleHeldList pages through the entity refs the held snapshot would
// remove or add: offset (default 0) and limit (default 1,000, at most
// 10,000). 404 when nothing is held.
func handleHeldList(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		list := chi.URLParam(r, "list")
		etag, removed, added := src.HeldChanges()
		var refs []string
		switch list {
		case "removed":
			refs = removed
		case "added":
			refs = added
		default:
			writeError(w, r, errNoHeldList)
			return
		}
		if etag == "" {
			writeError(w, r, errNothingHeld)
			return
		}
		offset, err := queryInt(r, "offset", 0, 0, math.MaxInt)
		if err != nil {
			writeError(w, r, err)
			return
		}
		limit, err := queryInt(r, "limit", heldPageDefault, 1, heldPageMax)
		if err != nil {
			writeError(w, r, err)
			return
		}
		from := min(offset, len(refs))
		to := min(from+limit, len(refs))
		p := heldPage{ETag: etag, List: list, Total: len(refs), Offset: offset, Limit: limit, Items: append([]string{}, refs[from:to]...)}
		if to < len(refs) {
			p.Next = "/status/held/" + list + "?offset=" + strconv.Itoa(to) + "&limit=" + strconv.Itoa(limit)
		}
		encode(w, r, http.StatusOK, p)
	})
}

// queryInt reads the integer query parameter name, def when absent; a
// value that is not an integer within [lo, hi] is a 400 naming it.
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("invalid %s %q: give an integer from %d to %d", name, raw, lo, hi)}
	}
	return n, nil
}
