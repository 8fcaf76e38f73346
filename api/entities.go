package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// Media types of the entity bodies.
const (
	contentTypeYAML = "application/yaml"
	contentTypeJSON = "application/json"
)

// selection names the entities an endpoint serves.
type selection int

const (
	selectAll selection = iota
	selectUsers
	selectGroups
)

// handleEntities serves GET and HEAD /entities, /entities/users and
// /entities/groups from the current snapshot.
func handleEntities(src Source, cfg Config, sel selection) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := src.Snapshot()
		if !servable(s) {
			writeError(w, r, unavailable(s, cfg))
			return
		}
		asJSON := prefersJSON(r.Header.Values("Accept"))
		var body *snapshot.Body
		switch {
		case sel == selectUsers && asJSON:
			body = s.UsersJSON()
		case sel == selectUsers:
			body = s.UsersYAML()
		case sel == selectGroups && asJSON:
			body = s.GroupsJSON()
		case sel == selectGroups:
			body = s.GroupsYAML()
		case asJSON:
			body = &s.AllJSON
		case s.Sharded():
			body = &s.Index
		default:
			body = &s.All
		}
		// A subset can be empty while the snapshot is not (an org without
		// groups). An empty 200 would make the catalog delete that subset,
		// so it is refused like an empty snapshot.
		if (sel == selectUsers && s.Users == 0) || (sel == selectGroups && s.Groups == 0) {
			writeError(w, r, errEmptySubset(cfg))
			return
		}
		contentType := contentTypeYAML
		if asJSON {
			contentType = contentTypeJSON
		}
		serveBody(w, r, body, contentType, "Accept, Accept-Encoding", cfg)
	})
}

// handleShard serves GET and HEAD /entities/shards/{n}. A shard may be empty:
// entities are assigned to shards by a stable hash of their ref, so a shard is
// empty only when no current entity hashes to it, and the entities it held
// before are in no other shard either: they were really deleted, and the
// catalog orphaning them is right. An empty snapshot is still refused.
func handleShard(src Source, cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := src.Snapshot()
		if !servable(s) {
			writeError(w, r, unavailable(s, cfg))
			return
		}
		if !s.Sharded() {
			writeError(w, r, errNotSharded)
			return
		}
		param := chi.URLParam(r, "n")
		n, err := strconv.Atoi(param)
		if err != nil || n < 0 || n >= len(s.Shards) || strconv.Itoa(n) != param {
			writeError(w, r, errNoShard(len(s.Shards)))
			return
		}
		serveBody(w, r, &s.Shards[n], contentTypeYAML, "Accept-Encoding", cfg)
	})
}

// servable reports whether s may be served: a snapshot with no entities would
// tell the catalog to delete every entity it holds from this provider.
func servable(s *snapshot.Snapshot) bool {
	return s != nil && s.Entities > 0
}

// serveBody answers with a pre-encoded body: 304 when If-None-Match matches it,
// otherwise 200 with the gzip bytes as they are kept, or decompressed as they
// are sent to a client that does not accept gzip. The gzip bytes and the
// content are two representations with their own ETags, and a request's
// If-None-Match is compared with the ETag of the one it would get. The write
// deadline allows for the size of what is sent (see writeTimeout).
func serveBody(w http.ResponseWriter, r *http.Request, b *snapshot.Body, contentType, vary string, cfg Config) {
	gz := acceptsGzip(r.Header.Values("Accept-Encoding"))
	etag, size := b.ETag, b.Size
	if gz {
		etag, size = b.GzipETag, int64(len(b.Gzip))
	}
	h := w.Header()
	h["Etag"] = []string{etag}
	h["Vary"] = []string{vary}
	h["Cache-Control"] = []string{"no-cache"}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && noneMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = []string{contentType}
	if gz {
		h["Content-Encoding"] = []string{"gzip"}
	}
	h["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	// A server without write deadlines (as in tests) does not support
	// them; nothing is lost then.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(cfg.writeTimeout(size)))
	w.WriteHeader(http.StatusOK)
	// The client may have gone, or been too slow; there is nothing to do
	// about it here.
	if gz {
		_, _ = w.Write(b.Gzip)
	} else {
		_, _ = b.WriteTo(w)
	}
}
