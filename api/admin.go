package api

import (
	"net/http"

	"github.com/rs/zerolog"
)

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
