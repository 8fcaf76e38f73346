package api

import (
	"net/http"
	"strconv"
	"strings"
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

// noneMatch reports whether an If-None-Match field (its header lines) matches
// the representation whose entity tag is etag: "*" matches, and so does a
// listed tag equal to it under the weak comparison RFC 9110 section 13.1.2
// requires (a W/ prefix is ignored). The lines are one list, as RFC 9110
// section 5.3 combines them. A malformed field matches nothing, so the full
// body is sent.
func noneMatch(lines []string, etag string) bool {
	field := strings.Join(lines, ",")
	matched := false
	for {
		field = strings.TrimLeft(field, " \t,")
		if field == "" {
			return matched
		}
		if field[0] == '*' {
			field = field[1:]
			matched = true
		} else {
			field = strings.TrimPrefix(field, "W/")
			if field == "" || field[0] != '"' {
				return false
			}
			end := strings.IndexByte(field[1:], '"')
			if end < 0 {
				return false
			}
			matched = matched || field[:end+2] == etag
			field = field[end+2:]
		}
		// An element ends at a comma or the end of the field.
		if field = strings.TrimLeft(field, " \t"); field != "" && field[0] != ',' {
			return false
		}
	}
}

// prefersJSON reports whether an Accept field prefers application/json to
// YAML. Without Accept, or with */*, the answer is YAML, which is what
// Backstage reads.
func prefersJSON(lines []string) bool {
	var qJSON, qYAML weight
	eachElement(lines, func(value string, q float64) {
		typ, sub, ok := strings.Cut(value, "/")
		if !ok {
			return
		}
		typ, sub = strings.ToLower(strings.TrimSpace(typ)), strings.ToLower(strings.TrimSpace(sub))
		switch {
		case typ == "*" && sub == "*":
			qJSON.offer(q, 1)
			qYAML.offer(q, 1)
		case typ == "application" && sub == "*":
			qJSON.offer(q, 2)
			qYAML.offer(q, 2)
		case typ == "text" && sub == "*":
			qYAML.offer(q, 2)
		case typ == "application" && sub == "json":
			qJSON.offer(q, 3)
		case (typ == "application" || typ == "text") && (sub == "yaml" || sub == "x-yaml"):
			qYAML.offer(q, 3)
		}
	})
	return qJSON.q > 0 && qJSON.q > qYAML.q
}

// acceptsGzip reports whether an Accept-Encoding field allows gzip.
func acceptsGzip(lines []string) bool {
	var gz weight
	eachElement(lines, func(value string, q float64) {
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "gzip", "x-gzip":
			gz.offer(q, 2)
		case "*":
			gz.offer(q, 1)
		}
	})
	return gz.q > 0
}

// weight is the quality a content negotiation field gives one value: the q of
// the most specific element that matches it.
type weight struct {
	q           float64
	specificity int
}

func (w *weight) offer(q float64, specificity int) {
	if specificity > w.specificity || (specificity == w.specificity && q > w.q) {
		w.q, w.specificity = q, specificity
	}
}

// eachElement calls f with the value and the q parameter (default 1) of every
// element of a comma-separated negotiation field such as Accept.
func eachElement(lines []string, f func(value string, q float64)) {
	for _, line := range lines {
		for line != "" {
			var elem string
			elem, line, _ = strings.Cut(line, ",")
			value, params, _ := strings.Cut(elem, ";")
			if strings.TrimSpace(value) == "" {
				continue
			}
			q := 1.0
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				k, v, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q = parseQ(strings.TrimSpace(v))
				}
			}
			f(value, q)
		}
	}
}

// parseQ parses a weight as RFC 9110 section 12.4.2 writes it: "0" or "1",
// with up to three decimals ("1" only with zeros). Anything else (NaN, 1e0,
// 0x1p-1, 2) is a weight of 0: not acceptable.
func parseQ(v string) float64 {
	whole, frac, _ := strings.Cut(v, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 || strings.Trim(frac, "0123456789") != "" ||
		(whole == "1" && strings.Trim(frac, "0") != "") {
		return 0
	}
	q, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0
	}
	return q
}
