package oktafake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// HostileMode names a way NewHostile's server misbehaves, each one a broken
// or hostile Okta-compatible server that a client must survive without
// publishing a wrong catalog.
type HostileMode string

// Hostile modes.
const (
	// HostileCycle gives listings (users, groups, members) two pages whose
	// next links point at each other.
	HostileCycle HostileMode = "cycle"
	// HostileEndless gives user and member listings pages without end:
	// each with fresh users and a fresh next link.
	HostileEndless HostileMode = "endless"
	// HostileHugeBody answers listings with a valid page of HugeBodySize
	// bytes, streamed, never held in memory.
	HostileHugeBody HostileMode = "huge-body"
	// HostileGzipBomb answers listings with a gzip body (Content-Encoding:
	// gzip) of a few MB that inflates to GzipBombSize bytes.
	HostileGzipBomb HostileMode = "gzip-bomb"
	// HostileFarReset sends an X-Rate-Limit-Reset 100 years after Date
	// with nothing remaining, on every API answer, and answers every
	// FarResetEvery-th API request 429 E0000047 with it.
	HostileFarReset HostileMode = "far-reset"
	// HostileEmptyMembers answers member listings [] without a next link,
	// while group listings' expand=stats usersCount tells the real counts.
	HostileEmptyMembers HostileMode = "empty-members"
	// HostileNoID mixes null, {} and {"id":""} into the pages of user,
	// group and member listings.
	HostileNoID HostileMode = "no-id"
)

// Sizes of the hostile bodies.
const (
	HugeBodySize  = 300 << 20
	GzipBombSize  = 4 << 30
	FarResetEvery = 5
)

// HostileModes returns every mode, in the order of the constants.
func HostileModes() []HostileMode {
	return []HostileMode{HostileCycle, HostileEndless, HostileHugeBody, HostileGzipBomb,
		HostileFarReset, HostileEmptyMembers, HostileNoID}
}

// ParseHostileMode returns the mode named s.
func ParseHostileMode(s string) (HostileMode, error) {
	for _, m := range HostileModes() {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, 0, len(HostileModes()))
	for _, m := range HostileModes() {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("unknown hostile mode %q, want one of %s", s, strings.Join(names, ", "))
}

// Hostile is a Server made to misbehave in one way. It is an http.Handler.
// Every request still goes through the Server (its authentication, rate
// limits, latency and counters); the hostile part rewrites the answer.
type Hostile struct {
	srv  *Server
	mode HostileMode
	seq  atomic.Uint64
}

// NewHostile returns a handler serving srv's org that misbehaves as mode
// says. The /_fake admin API and the token endpoint behave.
func NewHostile(srv *Server, mode HostileMode) *Hostile {
	return &Hostile{srv: srv, mode: mode}
}

// Mode returns the way h misbehaves.
func (h *Hostile) Mode() HostileMode { return h.mode }

// Listings a hostile mode rewrites.
const (
	listingUsers   = "users"
	listingGroups  = "groups"
	listingMembers = "members"
)

// listingOf returns which listing the request is, "" for none.
func listingOf(r *http.Request, rel string) string {
	if r.Method != http.MethodGet {
		return ""
	}
	switch parts := strings.Split(strings.TrimPrefix(rel, "/"), "/"); {
	case rel == "/api/v1/users":
		return listingUsers
	case rel == "/api/v1/groups":
		return listingGroups
	case len(parts) == 5 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "groups" && parts[4] == "users":
		return listingMembers
	}
	return ""
}

// ServeHTTP serves the org as the mode says.
func (h *Hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, h.srv.prefix)
	if !ok || strings.HasPrefix(rel, "/_fake/") || rel == "/oauth2/v1/token" {
		h.srv.ServeHTTP(w, r)
		return
	}
	listing := listingOf(r, rel)
	switch h.mode {
	case HostileFarReset:
		h.serveFarReset(w, r)
		return
	case HostileEndless:
		if listing == listingUsers || listing == listingMembers {
			h.serveEndless(w, r, listing)
			return
		}
	case HostileCycle:
		if listing != "" {
			h.serveCycle(w, r)
			return
		}
	case HostileHugeBody, HostileGzipBomb, HostileEmptyMembers, HostileNoID:
		if listing != "" && (h.mode != HostileEmptyMembers || listing == listingMembers) {
			h.serveRewritten(w, r, listing)
			return
		}
	}
	h.srv.ServeHTTP(w, r)
}

// answer is the Server's answer to a request, held to be rewritten.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }
func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}
func (a *answer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(b)
}

// serve has the Server answer r and returns the answer.
func (h *Hostile) serve(r *http.Request) *answer {
	a := &answer{header: make(http.Header)}
	h.srv.ServeHTTP(a, r)
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a
}

// send writes a's status and headers, without Content-Length and with the
// next link replaced by next ("" for none), and then body.
func (a *answer) send(w http.ResponseWriter, next string, body []byte) {
	for k, vs := range a.header {
		if k == "Content-Length" || k == "Link" {
			continue
		}
		w.Header()[k] = vs
	}
	for _, l := range a.header.Values("Link") {
		if !strings.Contains(l, `rel="next"`) {
			w.Header().Add("Link", l)
		}
	}
	if next != "" {
		w.Header().Add("Link", "<"+next+`>; rel="next"`)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

// withAfter returns the URL of r with the after cursor set to after, or
// removed when after is "".
func (h *Hostile) withAfter(r *http.Request, after string) string {
	q := r.URL.Query()
	if after == "" {
		q.Del("after")
	} else {
		q.Set("after", after)
	}
	u := h.srv.baseURL(r) + strings.TrimPrefix(r.URL.Path, h.srv.prefix)
	if len(q) > 0 {
		u += "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	return u
}

// innerRequest returns r for the Server with a hostile after cursor (one
// that starts with "hostile-") removed: the Server answers its first page.
func innerRequest(r *http.Request) *http.Request {
	q := r.URL.Query()
	if !strings.HasPrefix(q.Get("after"), "hostile-") {
		return r
	}
	q.Del("after")
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	r2.RequestURI = ""
	return r2
}

// serveCycle answers the first page of the listing for the cursors
// hostile-a and hostile-b too, and links the first page to hostile-b,
// hostile-b to hostile-a and hostile-a to hostile-b.
func (h *Hostile) serveCycle(w http.ResponseWriter, r *http.Request) {
	a := h.serve(innerRequest(r))
	if a.status != http.StatusOK {
		a.send(w, "", a.body.Bytes())
		return
	}
	next := "hostile-b"
	if r.URL.Query().Get("after") == "hostile-b" {
		next = "hostile-a"
	}
	a.send(w, h.withAfter(r, next), a.body.Bytes())
}

// serveEndless answers every page of users or members with a page of fresh
// users, as many as the limit asks for (at most 200 users, 1000 members),
// and a next link to the next page.
func (h *Hostile) serveEndless(w http.ResponseWriter, r *http.Request, listing string) {
	a := h.serve(innerRequest(r))
	if a.status != http.StatusOK {
		a.send(w, "", a.body.Bytes())
		return
	}
	q := r.URL.Query()
	page, _ := strconv.Atoi(strings.TrimPrefix(q.Get("after"), "hostile-"))
	size, maxSize := userPageDefault, userPageMax
	if listing == listingMembers {
		size, maxSize = memberPageDefault, memberPageMax
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		size = min(n, maxSize)
	}
	now := h.srv.now().UnixMilli()
	body := []byte{'['}
	for i := range size {
		if i > 0 {
			body = append(body, ',')
		}
		body = appendFreshUser(body, fmt.Sprintf("00uendless%d-%d", page, i), now, "")
	}
	body = append(body, ']')
	a.send(w, h.withAfter(r, "hostile-"+strconv.Itoa(page+1)), body)
}

// appendFreshUser appends an ACTIVE user with the given id and a profile of
// its own, with a custom attribute holding filler.
func appendFreshUser(b []byte, id string, ms int64, filler string) []byte {
	b = append(b, `{"id":`...)
	b = okta.AppendJSONString(b, id)
	b = append(b, `,"status":"ACTIVE","created":`...)
	b = appendTime(b, ms)
	b = append(b, `,"lastUpdated":`...)
	b = appendTime(b, ms)
	b = append(b, `,"profile":{"login":`...)
	b = okta.AppendJSONString(b, id+"@hostile.example.com")
	b = append(b, `,"email":`...)
	b = okta.AppendJSONString(b, id+"@hostile.example.com")
	b = append(b, `,"firstName":"Hostile","lastName":`...)
	b = okta.AppendJSONString(b, id)
	if filler != "" {
		b = append(b, `,"filler":`...)
		b = okta.AppendJSONString(b, filler)
	}
	return append(b, "}}"...)
}

// appendFreshGroup appends an OKTA_GROUP with the given id, named after it.
func appendFreshGroup(b []byte, id string, ms int64, filler string) []byte {
	b = append(b, `{"id":`...)
	b = okta.AppendJSONString(b, id)
	b = append(b, `,"created":`...)
	b = appendTime(b, ms)
	b = append(b, `,"lastUpdated":`...)
	b = appendTime(b, ms)
	b = append(b, `,"lastMembershipUpdated":`...)
	b = appendTime(b, ms)
	b = append(b, `,"objectClass":["okta:user_group"],"type":"OKTA_GROUP","profile":{"name":`...)
	b = okta.AppendJSONString(b, id)
	if filler != "" {
		b = append(b, `,"description":`...)
		b = okta.AppendJSONString(b, filler)
	}
	return append(b, "}}"...)
}

// serveRewritten has the Server answer a listing and replaces the body of
// a 200 as the mode says.
func (h *Hostile) serveRewritten(w http.ResponseWriter, r *http.Request, listing string) {
	a := h.serve(r)
	if a.status != http.StatusOK {
		a.send(w, "", a.body.Bytes())
		return
	}
	switch h.mode {
	case HostileHugeBody:
		a.send(w, "", nil)
		h.streamHuge(w, listing)
	case HostileGzipBomb:
		a.header.Set("Content-Encoding", "gzip")
		a.send(w, "", gzipBomb())
	case HostileEmptyMembers:
		a.send(w, "", []byte("[]"))
	case HostileNoID:
		a.send(w, nextOf(a.header), withoutIDs(a.body.Bytes()))
	}
}

// nextOf returns the target of the next link among the Link headers.
func nextOf(h http.Header) string {
	for _, l := range h.Values("Link") {
		if target, rest, ok := strings.Cut(strings.TrimPrefix(l, "<"), ">"); ok && strings.Contains(rest, `rel="next"`) {
			return target
		}
	}
	return ""
}

// streamHuge writes a JSON array of fresh users (or groups) of
// HugeBodySize bytes, a chunk at a time, until it is written or the client
// hangs up.
func (h *Hostile) streamHuge(w http.ResponseWriter, listing string) {
	filler := strings.Repeat("x", 1000)
	ms := h.srv.now().UnixMilli()
	chunk := make([]byte, 0, 128<<10)
	chunk = append(chunk, '[')
	sent := 0
	for i := 0; sent+len(chunk) < HugeBodySize; i++ {
		if i > 0 {
			chunk = append(chunk, ',')
		}
		id := "00uhuge" + strconv.Itoa(i)
		if listing == listingGroups {
			chunk = appendFreshGroup(chunk, "00ghuge"+strconv.Itoa(i), ms, filler)
		} else {
			chunk = appendFreshUser(chunk, id, ms, filler)
		}
		if len(chunk) >= 64<<10 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			sent += len(chunk)
			chunk = chunk[:0]
		}
	}
	_, _ = w.Write(append(chunk, ']'))
}

// gzipBomb is a gzip stream of a few MB that inflates to GzipBombSize
// bytes: a valid JSON array of nothing but spaces, "[" and "]" around
// 16 MiB of spaces repeated as gzip members of their own (one stream may
// hold many; Go's and most clients' readers read them all).
var gzipBomb = sync.OnceValue(func() []byte {
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return buf.Bytes()
	}
	const run = 16 << 20
	spaces := member(bytes.Repeat([]byte(" "), run))
	out := member([]byte("["))
	for range GzipBombSize / run {
		out = append(out, spaces...)
	}
	return append(out, member([]byte("]"))...)
})

// withoutIDs returns the JSON array page with null, {} and {"id":""}
// mixed in: at the start, in the middle and at the end.
func withoutIDs(page []byte) []byte {
	var items []json.RawMessage
	if err := json.Unmarshal(page, &items); err != nil {
		return page
	}
	bad := []json.RawMessage{json.RawMessage("null"), json.RawMessage("{}"), json.RawMessage(`{"id":""}`)}
	out := make([]json.RawMessage, 0, len(items)+len(bad))
	out = append(out, bad[0])
	out = append(out, items[:len(items)/2]...)
	out = append(out, bad[1])
	out = append(out, items[len(items)/2:]...)
	out = append(out, bad[2])
	b, err := json.Marshal(out)
	if err != nil {
		return page
	}
	return b
}

// serveFarReset has the Server answer r, or answers 429 to every
// FarResetEvery-th request, with an X-Rate-Limit-Reset 100 years after
// Date and X-Rate-Limit-Remaining 0.
func (h *Hostile) serveFarReset(w http.ResponseWriter, r *http.Request) {
	now := h.srv.now()
	far := strconv.FormatInt(now.AddDate(100, 0, 0).Unix(), 10)
	if h.seq.Add(1)%FarResetEvery == 0 {
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		w.Header().Set("X-Rate-Limit-Limit", "600")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset", far)
		writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	a := h.serve(r)
	if a.header.Get("X-Rate-Limit-Limit") != "" {
		a.header.Set("X-Rate-Limit-Remaining", "0")
		a.header.Set("X-Rate-Limit-Reset", far)
	}
	a.send(w, nextOf(a.header), a.body.Bytes())
}
