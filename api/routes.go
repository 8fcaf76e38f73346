package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
)

// addRoutes lists the whole HTTP surface. openapi.yaml describes the same
// routes; a test holds the two together.
func addRoutes(r *chi.Mux, log zerolog.Logger, src Source, metrics http.Handler, openapi []byte, cfg Config) {
	r.Use(requestIDs())
	r.Use(logRequests(log))
	r.Use(observeRequests(cfg.Observer))
	r.Use(recoverPanics(log))
	r.NotFound(handleNotFound().ServeHTTP)
	r.MethodNotAllowed(handleMethodNotAllowed(r).ServeHTTP)

	r.Group(func(r chi.Router) {
		r.Use(requireToken(newSecret(cfg.EntitiesToken)))
		getAndHead(r, "/entities", handleEntities(src, cfg, selectAll))
		getAndHead(r, "/entities/users", handleEntities(src, cfg, selectUsers))
		getAndHead(r, "/entities/groups", handleEntities(src, cfg, selectGroups))
		getAndHead(r, "/entities/shards/{n}", handleShard(src, cfg))
	})

	getAndHead(r, "/healthz", handleHealthz())
	getAndHead(r, "/readyz", handleReadyz(src, cfg))
	getAndHead(r, "/status", handleStatus(src))
	getAndHead(r, "/", handlePage(src, cfg))
	r.Method(http.MethodGet, "/status/held/{list}", handleHeldList(src))
	r.Method(http.MethodGet, "/metrics", handleMetrics(metrics))
	r.Method(http.MethodGet, "/openapi.yaml", handleOpenAPI(openapi))
	r.Method(http.MethodPost, "/admin/accept", handleAccept(src, newSecret(cfg.AdminToken)))
	hookSecret := newSecret(cfg.EventHookSecret)
	hook := handleOktaHook(cfg.Hooks, hookSecret)
	r.Method(http.MethodGet, "/hooks/okta", hook)
	r.Method(http.MethodPost, "/hooks/okta", hook)
	orgHook := handleOrgHooks(cfg.OrgHooks, hookSecret)
	r.Method(http.MethodGet, "/hooks/okta/{org}", orgHook)
	r.Method(http.MethodPost, "/hooks/okta/{org}", orgHook)
}

// getAndHead serves h for both GET and HEAD on pattern.
func getAndHead(r chi.Router, pattern string, h http.Handler) {
	r.Method(http.MethodGet, pattern, h)
	r.Method(http.MethodHead, pattern, h)
}
