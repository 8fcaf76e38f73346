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
	r.Use(recoverPanics(log))
	r.NotFound(handleNotFound().ServeHTTP)
	r.MethodNotAllowed(handleMethodNotAllowed(r).ServeHTTP)

	r.Group(func(r chi.Router) {
		r.Use(requireToken(newSecret(cfg.EntitiesToken)))
		all := handleEntities(src, cfg, selectAll)
		users := handleEntities(src, cfg, selectUsers)
		groups := handleEntities(src, cfg, selectGroups)
		shard := handleShard(src, cfg)
		r.Method(http.MethodGet, "/entities", all)
		r.Method(http.MethodHead, "/entities", all)
		r.Method(http.MethodGet, "/entities/users", users)
		r.Method(http.MethodHead, "/entities/users", users)
		r.Method(http.MethodGet, "/entities/groups", groups)
		r.Method(http.MethodHead, "/entities/groups", groups)
		r.Method(http.MethodGet, "/entities/shards/{n}", shard)
		r.Method(http.MethodHead, "/entities/shards/{n}", shard)
	})

	healthz, readyz, status := handleHealthz(), handleReadyz(src, cfg), handleStatus(src)
	r.Method(http.MethodGet, "/healthz", healthz)
	r.Method(http.MethodHead, "/healthz", healthz)
	r.Method(http.MethodGet, "/readyz", readyz)
	r.Method(http.MethodHead, "/readyz", readyz)
	r.Method(http.MethodGet, "/status", status)
	r.Method(http.MethodHead, "/status", status)
	r.Method(http.MethodGet, "/metrics", handleMetrics(metrics))
	r.Method(http.MethodGet, "/openapi.yaml", handleOpenAPI(openapi))
	r.Method(http.MethodPost, "/admin/accept", handleAccept(src, newSecret(cfg.AdminToken)))
}
