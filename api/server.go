package api

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// Source is what the server serves from.
type Source interface {
	// Snapshot returns the snapshot to serve, or nil before the first good
	// sync. It is called on every entity request and must be cheap (an atomic
	// load). A snapshot with no entities is never served: the entity endpoints
	// answer 503 for it as for nil.
	Snapshot() *snapshot.Snapshot
	// Status returns the body of GET /status, marshalled with encoding/json. It
	// must match the Status schema in openapi.yaml.
	Status() any
	// AcceptHeld serves the snapshot held back by the mass-deletion guard
	// if its ETag is etag. It returns the ETag of the snapshot held when
	// it got its turn, "" when none: the held snapshot was accepted
	// exactly when that is etag; otherwise the admin endpoint answers 412.
	AcceptHeld(ctx context.Context, etag string) (held string, err error)
	// HeldChanges returns the ETag of the held snapshot and the entity
	// refs it would remove and add, whole and sorted; "" when none is
	// held. The lists are read, never changed.
	HeldChanges() (etag string, removed, added []string)
	// NotReady says why no snapshot is served yet, with the fix; empty when
	// a snapshot is served or no sync has finished yet. /readyz's 503
	// carries it.
	NotReady() string
}

// Config holds the server's settings.
type Config struct {
	// EntitiesToken, when set, protects the entity endpoints: requests must
	// carry it as "Authorization: Bearer <token>" or as the token query
	// parameter. Empty leaves them open.
	EntitiesToken string
	// AdminToken authorizes POST /admin/accept ("Authorization: Bearer
	// <token>"). Empty disables that endpoint (403).
	AdminToken string
	// EventHookSecret enables /hooks/okta: Okta must send it as the
	// Authorization header. Empty: the endpoint answers 404.
	EventHookSecret string
	// Hooks takes the event hook calls; required with EventHookSecret,
	// unless OrgHooks is set.
	Hooks HookReceiver
	// OrgHooks, with several orgs, takes the event hook calls of each org
	// by its name, at /hooks/okta/{org}, each org's hook sending the one
	// EventHookSecret; Hooks is then nil.
	OrgHooks map[string]HookReceiver
	// RetryAfter is the Retry-After sent with 503 answers; default 30s.
	RetryAfter time.Duration
	// WriteTimeout and MinWriteRate make the write deadline of an entity
	// body: WriteTimeout (default 30s) plus the time the body takes at
	// MinWriteRate bytes per second (default 1 MiB/s), so that a large body
	// has the time a reader at a normal speed needs, and a client that
	// stops reading holds its connection no longer than that.
	WriteTimeout time.Duration
	MinWriteRate int64
	// Observer, when set, is told of every answered request, for metrics.
	Observer Observer
}

// Observer receives a measurement of every answered request. Route is
// the route's pattern ("/entities/shards/{n}"), or "other" for a path no
// route serves, so that the label values stay few. Implementations must be
// safe for concurrent use.
type Observer interface {
	// Route is called once per route and method by NewServer, so that
	// each route's measurements exist, at zero, from the start.
	Route(method, pattern string)
	// Served is called once per answered request.
	Served(route, method string, status int, bytes int64, d time.Duration)
}

// Defaults of Config.
const (
	defaultRetryAfter   = 30 * time.Second
	defaultWriteTimeout = 30 * time.Second
	defaultMinWriteRate = 1 << 20
)

// orDefault returns v when it is above zero, and def for a setting left at
// zero or below.
func orDefault[T ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// writeTimeout is how long an answer with a body of size bytes may take to
// send.
func (c Config) writeTimeout(size int64) time.Duration {
	return c.WriteTimeout + time.Duration(float64(size)/float64(c.MinWriteRate)*float64(time.Second))
}

// NewServer returns the HTTP handler of the whole API. src provides the
// snapshots and the status, metrics serves GET /metrics (nil: 404), openapi is
// served at GET /openapi.yaml. Request logs go to log, without secrets.
func NewServer(log zerolog.Logger, src Source, metrics http.Handler, openapi []byte, cfg Config) http.Handler {
	cfg.RetryAfter = orDefault(cfg.RetryAfter, defaultRetryAfter)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, defaultWriteTimeout)
	cfg.MinWriteRate = orDefault(cfg.MinWriteRate, defaultMinWriteRate)
	r := chi.NewRouter()
	addRoutes(r, log, src, metrics, openapi, cfg)
	if cfg.Observer != nil {
		_ = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			cfg.Observer.Route(method, route)
			return nil
		})
	}
	return r
}
