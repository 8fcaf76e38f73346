package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// httpError is an error with the status it answers and the message the client
// sees.
type httpError struct {
	status     int
	msg        string
	retryAfter time.Duration // sent as Retry-After when > 0
	challenge  string        // sent as WWW-Authenticate when set
}

func (e *httpError) Error() string { return e.msg }

var (
	errNotSharded    = &httpError{status: http.StatusNotFound, msg: "large-org mode is off: there are no shards"}
	errNotFound      = &httpError{status: http.StatusNotFound, msg: "not found"}
	errBadMethod     = &httpError{status: http.StatusMethodNotAllowed, msg: "method not allowed"}
	errEntitiesToken = &httpError{status: http.StatusUnauthorized, msg: "missing or wrong entities token", challenge: `Bearer realm="entities"`}
	errAdminToken    = &httpError{status: http.StatusUnauthorized, msg: "missing or wrong admin token", challenge: `Bearer realm="admin"`}
	errAdminDisabled = &httpError{status: http.StatusForbidden, msg: "the admin endpoint is disabled: no admin token is configured"}
	errNothingHeld   = &httpError{status: http.StatusNotFound, msg: "no snapshot is held back"}
	errNoHeldList    = &httpError{status: http.StatusNotFound, msg: "no such list: the held snapshot's lists are removed and added"}
	errMetricsOff    = &httpError{status: http.StatusNotFound, msg: "metrics are not enabled"}
	errInternal      = &httpError{status: http.StatusInternalServerError, msg: "internal error"}
)

func errNoShard(shards int) error {
	return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("no such shard: shards are 0 to %d", shards-1)}
}

// unavailable is the error for a snapshot that cannot be served: none yet, or
// one without entities.
func unavailable(s *snapshot.Snapshot, cfg Config) *httpError {
	msg := "no snapshot yet: the first sync has not finished"
	if s != nil {
		msg = "the current snapshot holds no entities, so none are served"
	}
	return &httpError{status: http.StatusServiceUnavailable, msg: msg, retryAfter: cfg.RetryAfter}
}

func errEmptySubset(cfg Config) error {
	return &httpError{status: http.StatusServiceUnavailable, msg: "the current snapshot holds no entities of this kind, so none are served", retryAfter: cfg.RetryAfter}
}

// errorBody is the JSON body of every error answer (schema Error).
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId,omitempty"`
}

// writeError answers err. An *httpError answers its status and message;
// anything else is logged and answers a bare 500, since its details are for the operator, not the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("request failed")
		he = errInternal
	}
	if he.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfter(he.retryAfter))
	}
	if he.challenge != "" {
		w.Header().Set("WWW-Authenticate", he.challenge)
	}
	encode(w, r, he.status, errorBody{Error: he.msg, RequestID: middleware.GetReqID(r.Context())})
}

// retryAfter is the Retry-After header's value for d: whole seconds,
// rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// encode answers status with v as JSON. HEAD requests get the headers only.
func encode(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("encode response")
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal error"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}
