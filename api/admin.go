package api

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
)

// maxFormBytes bounds the body of the status page's accept form.
const maxFormBytes = 16 << 10

// handleAccept serves the snapshot held back by the mass-deletion guard, for
// a request with the admin token that names the held snapshot's ETag, so
// that what is accepted is what was reviewed. Without an admin token
// configured the endpoint is disabled: 403, so an operator learns why
// rather than a 404.
//
// It takes two forms. An API call sends "Authorization: Bearer <token>"
// and "If-Match: <heldBack.etag>": 428 without If-Match, 412 when another
// snapshot (or none) is held by then, 200 with the new status. The status
// page's form posts the token and the ETag as form fields (a body, never a
// URL, so the token stays out of logs and history): it gets HTML back, a
// redirect to the page on success. A form posted from another origin is
// refused, though it could not know the token anyway: the token is typed
// in each time, never a cookie, so a forged request carries none.
func handleAccept(src Source, admin secret) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := isForm(r)
		fail := writeError
		if form {
			fail = writePageError
		}
		if !admin.set {
			fail(w, r, errAdminDisabled)
			return
		}
		token, etag, err := acceptRequest(w, r, form)
		if err != nil {
			fail(w, r, err)
			return
		}
		if !admin.matches(token) {
			fail(w, r, errAdminToken)
			return
		}
		if etag == "" {
			fail(w, r, errIfMatchMissing)
			return
		}
		held, err := src.AcceptHeld(r.Context(), etag)
		if err != nil {
			fail(w, r, err)
			return
		}
		if held != etag {
			fail(w, r, errHeldChanged(held))
			return
		}
		zerolog.Ctx(r.Context()).Warn().Str("remote", r.RemoteAddr).Str("etag", etag).
			Bool("form", form).Msg("held-back snapshot accepted by an operator")
		if form {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, "/?accepted="+url.QueryEscape(etag), http.StatusSeeOther)
			return
		}
		encode(w, r, http.StatusOK, src.Status())
	})
}

// isForm reports whether r is the status page's form: a body of
// application/x-www-form-urlencoded.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// acceptRequest returns the admin token and the ETag an accept request
// carries: from the Authorization and If-Match headers, or from the
// form's token and etag fields. The ETag is "" when none is given.
func acceptRequest(w http.ResponseWriter, r *http.Request, form bool) (token, etag string, err error) {
	if !form {
		etag, err = ifMatch(r.Header.Values("If-Match"))
		return bearer(r), etag, err
	}
	if !sameOrigin(r) {
		return "", "", errCrossOrigin
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return "", "", errBadForm
	}
	// Fields of the body only: a token in the URL would be logged.
	token, etag = r.PostForm.Get("token"), r.PostForm.Get("etag")
	if etag != "" {
		if etag, err = ifMatch([]string{etag}); err != nil {
			return "", "", err
		}
	}
	return strings.TrimSpace(token), etag, nil
}

// ifMatch returns the one entity tag an If-Match field names, "" without
// the field. Accepting is bound to one snapshot: "*", a list, a weak tag
// or a malformed field is refused.
func ifMatch(lines []string) (string, error) {
	if len(lines) == 0 {
		return "", nil
	}
	tags, star, ok := entityTags(lines)
	switch {
	case !ok:
		return "", errIfMatchBad
	case star || len(tags) != 1 || tags[0].weak:
		return "", errIfMatchOne
	}
	return tags[0].tag, nil
}

// sameOrigin reports whether a browser's form comes from this service's
// own pages: its Origin, when sent, is this host, and Sec-Fetch-Site, when
// sent, is not cross-site.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// Accept errors.
var (
	errIfMatchMissing = &httpError{status: http.StatusPreconditionRequired,
		msg: "If-Match is required: send If-Match with the held snapshot's ETag (heldBack.etag on /status), so that what is accepted is what was reviewed"}
	errIfMatchBad = &httpError{status: http.StatusBadRequest, msg: `If-Match is malformed: send one entity tag, e.g. If-Match: "0123…", as heldBack.etag on /status shows it`}
	errIfMatchOne = &httpError{status: http.StatusPreconditionRequired,
		msg: "If-Match must name exactly one snapshot, by its strong ETag (heldBack.etag on /status): *, lists and weak tags are not accepted"}
	errCrossOrigin = &httpError{status: http.StatusForbidden, msg: "the accept form was posted from another site; use the status page of this service"}
	errBadForm     = &httpError{status: http.StatusBadRequest, msg: "the accept form could not be read (malformed, or over 16 KiB)"}
)

// errHeldChanged is the 412 for an accept whose ETag is not the held
// snapshot's.
func errHeldChanged(held string) error {
	if held == "" {
		return &httpError{status: http.StatusPreconditionFailed, msg: "no snapshot is held back (any more): nothing was accepted"}
	}
	return &httpError{status: http.StatusPreconditionFailed,
		msg: "another snapshot is held back now (" + held + "): nothing was accepted; review the one held now on /status and accept it by its ETag"}
}
