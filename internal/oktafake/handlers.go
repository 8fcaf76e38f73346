package oktafake

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// routes lists the whole API surface.
func (s *Server) routes() {
	p := s.prefix
	s.api = http.NewServeMux()
	s.api.HandleFunc("GET "+p+"/api/v1/users", s.handleListUsers)
	s.api.HandleFunc("GET "+p+"/api/v1/users/{id}", s.handleGetUser)
	s.api.HandleFunc("GET "+p+"/api/v1/users/{id}/groups", s.handleUserGroups)
	s.api.HandleFunc("GET "+p+"/api/v1/groups", s.handleListGroups)
	s.api.HandleFunc("GET "+p+"/api/v1/groups/{id}", s.handleGetGroup)
	s.api.HandleFunc("GET "+p+"/api/v1/groups/{id}/users", s.handleGroupMembers)
	s.api.HandleFunc("GET "+p+"/api/v1/logs", s.handleLogs)
	s.api.HandleFunc("GET "+p+"/api/v1/apps/{id}/users", s.handleAppUsers)
	s.api.HandleFunc("GET "+p+"/api/v1/apps/{id}/groups", s.handleAppGroups)
	s.api.HandleFunc("POST "+p+"/oauth2/v1/token", s.handleToken)
	s.adminRoutes()
}

const (
	userPageDefault, userPageMax     = 200, 200
	groupPageDefault, groupPageMax   = 10000, 10000
	memberPageDefault, memberPageMax = 1000, 1000
	logPageDefault, logPageMax       = 100, 1000
	flushSize                        = 64 << 10
)

// pageLimit reads the limit parameter: absent means the default, values
// above the maximum are capped as Okta does. It answers a bad limit itself
// and returns false.
func pageLimit(w http.ResponseWriter, q url.Values, def, maxLimit int) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		badRequest(w, "limit: not a non-negative integer")
		return 0, false
	}
	if n == 0 {
		return def, true
	}
	return min(n, maxLimit), true
}

// pageCursor reads the limit and the after cursor of a page, as pageLimit
// and afterID do, answering a bad one itself and returning false.
func pageCursor(w http.ResponseWriter, q url.Values, def, maxLimit int) (int, string, bool) {
	limit, ok := pageLimit(w, q, def, maxLimit)
	if !ok {
		return 0, "", false
	}
	after, ok := afterID(w, q)
	return limit, after, ok
}

// afterID reads the after cursor of a users, groups or members page: the
// id the page starts after, "" for the first page. It answers a bad cursor
// itself and returns false.
func afterID(w http.ResponseWriter, q url.Values) (string, bool) {
	c := q.Get("after")
	if c == "" {
		return "", true
	}
	after, err := decodeCursor(c)
	if err != nil {
		badRequest(w, err.Error())
		return "", false
	}
	return after, true
}

// pageAfter returns the page of sorted, which is in id order, that starts
// after the cursor after: at most limit items, and whether more follow.
func pageAfter[T any](sorted []T, id func(T) string, after string, limit int) ([]T, bool) {
	start := sort.Search(len(sorted), func(i int) bool { return id(sorted[i]) > after })
	end := min(len(sorted), start+limit)
	return sorted[start:end], end < len(sorted)
}

// listExpression reads the filter or search parameter of a users or
// groups listing with its schema; Okta refuses both together. expr is ""
// without either. It answers a refused request itself and returns false.
func listExpression(w http.ResponseWriter, q url.Values, filter, search schema) (expr string, sc schema, ok bool) {
	f, se := q.Get("filter"), q.Get("search")
	switch {
	case f != "" && se != "":
		writeError(w, http.StatusBadRequest, "E0000033", "Filter and search are not supported at the same time.")
		return "", schema{}, false
	case se != "":
		return se, search, true
	}
	return f, filter, true
}

// compileExpression compiles expr with sc, answering a bad expression
// itself and returning false.
func compileExpression(w http.ResponseWriter, expr string, sc schema) (node, bool) {
	n, err := compile(expr, sc)
	if err != nil {
		badExpression(w, err)
		return nil, false
	}
	return n, true
}

// writeUserPage writes a page of users with its links; next says whether
// the page gets a next link.
func (s *Server) writeUserPage(w http.ResponseWriter, r *http.Request, page []userRec, next bool) {
	after := ""
	if next {
		after = encodeCursor(page[len(page)-1].id)
	}
	s.setLinks(w, r, after)
	base := s.baseURL(r)
	pw := newPageWriter(w)
	for i := range page {
		pw.done(appendUser(pw.next(), &page[i], base))
	}
	pw.close()
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", errors.New("after: not a cursor this server issued")
	}
	return string(b), nil
}

// setLinks writes the self link and, when nextAfter is not empty, the next
// link, as two Link header lines. The next link keeps every parameter but
// after, which it replaces, and those named in drop.
func (s *Server) setLinks(w http.ResponseWriter, r *http.Request, nextAfter string, drop ...string) {
	path := s.baseURL(r) + strings.TrimPrefix(r.URL.Path, s.prefix)
	self := path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if nextAfter == "" {
		return
	}
	q := r.URL.Query()
	for _, name := range drop {
		q.Del(name)
	}
	q.Set("after", nextAfter)
	// Okta writes spaces as %20; url.Values writes '+', and a literal '+'
	// is always %2B, so every '+' here is a space.
	w.Header().Add("Link", "<"+path+"?"+strings.ReplaceAll(q.Encode(), "+", "%20")+`>; rel="next"`)
}

// pageWriter streams a JSON array.
type pageWriter struct {
	w     http.ResponseWriter
	buf   []byte
	count int
	err   error
}

func newPageWriter(w http.ResponseWriter) *pageWriter {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return &pageWriter{w: w, buf: append(make([]byte, 0, flushSize+4096), '[')}
}

// next starts an element, returning the buffer to append it to.
func (p *pageWriter) next() []byte {
	if p.count > 0 {
		p.buf = append(p.buf, ',')
	}
	p.count++
	return p.buf
}

// done ends an element appended to the buffer next returned.
func (p *pageWriter) done(b []byte) {
	p.buf = b
	if len(p.buf) >= flushSize && p.err == nil {
		_, p.err = p.w.Write(p.buf)
		p.buf = p.buf[:0]
	}
}

func (p *pageWriter) close() {
	p.buf = append(p.buf, ']')
	if p.err == nil {
		_, p.err = p.w.Write(p.buf)
	}
}

func badExpression(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
}

func badRequest(w http.ResponseWriter, cause string) {
	writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+cause, cause)
}

// handleListUsers serves GET /api/v1/users.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	expr, sc, ok := listExpression(w, q, userFilterSchema, userSearchSchema)
	if !ok {
		return
	}
	prefix := q.Get("q")
	def := userPageDefault
	if prefix != "" {
		def = 10 // Okta's default for q
	}
	limit, after, ok := pageCursor(w, q, def, userPageMax)
	if !ok {
		return
	}
	var match func(*userRec) bool
	switch {
	case expr != "":
		n, ok := compileExpression(w, expr, sc)
		if !ok {
			return
		}
		match = func(u *userRec) bool { return eval(n, u.get) }
	case prefix != "":
		match = func(u *userRec) bool {
			return u.status != okta.StatusDeprovisioned && (hasPrefixFold(u.profile.FirstName, prefix) ||
				hasPrefixFold(u.profile.LastName, prefix) || hasPrefixFold(u.profile.Email, prefix))
		}
	default:
		match = func(u *userRec) bool { return u.status != okta.StatusDeprovisioned }
	}

	o := s.org
	o.mu.RLock()
	start := sort.Search(len(o.userOrder), func(i int) bool { return o.users[o.userOrder[i]].id > after })
	page := make([]userRec, 0, min(limit, 256))
	more := false
	for _, slot := range o.userOrder[start:] {
		u := &o.users[slot]
		if !match(u) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, *u)
	}
	o.mu.RUnlock()
	s.writeUserPage(w, r, page, s.nextPage(more, len(page), limit) && prefix == "")
}

// nextPage reports whether a page of n items of at most limit gets a next
// link: when more items follow it, or when it is full and
// Faults.FullLastPageNext is on.
func (s *Server) nextPage(more bool, n, limit int) bool {
	return more || n > 0 && n == limit && s.Faults().FullLastPageNext
}

// handleGetUser serves GET /api/v1/users/{id}, by id or login.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	o := s.org
	id := r.PathValue("id")
	o.mu.RLock()
	slot, ok := o.lookupUser(id)
	var u userRec
	if ok {
		u = o.users[slot]
	}
	o.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (User)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(appendUser(nil, &u, s.baseURL(r)))
}

// lookupUser finds a user by id or login. Callers hold o.mu.
func (o *Org) lookupUser(idOrLogin string) (int32, bool) {
	if slot, ok := o.userByID[idOrLogin]; ok {
		return slot, true
	}
	for _, slot := range o.userOrder {
		if strings.EqualFold(o.users[slot].profile.Login, idOrLogin) {
			return slot, true
		}
	}
	return 0, false
}

// handleUserGroups serves GET /api/v1/users/{id}/groups, unpaged.
func (s *Server) handleUserGroups(w http.ResponseWriter, r *http.Request) {
	o := s.org
	id := r.PathValue("id")
	o.mu.RLock()
	slot, ok := o.userByID[id]
	var groups []groupRec
	if ok {
		for _, g := range o.userGroups(slot) {
			rec := o.groups[g]
			rec.members = nil
			groups = append(groups, rec)
		}
	}
	o.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (User)")
		return
	}
	s.setLinks(w, r, "")
	base := s.baseURL(r)
	pw := newPageWriter(w)
	for i := range groups {
		pw.done(appendGroup(pw.next(), &groups[i], -1, base))
	}
	pw.close()
}

// groupPage is a group copied out of the org with its member count.
type groupPage struct {
	rec   groupRec
	count int
}

// handleListGroups serves GET /api/v1/groups.
func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	expr, sc, ok := listExpression(w, q, groupFilterSchema, groupSearchSchema)
	if !ok {
		return
	}
	prefix := q.Get("q")
	limit, ok := pageLimit(w, q, groupPageDefault, groupPageMax)
	if !ok {
		return
	}
	stats := false
	for e := range strings.SplitSeq(q.Get("expand"), ",") {
		switch strings.TrimSpace(e) {
		case "stats":
			stats = true
		case "", "app":
		default:
			badRequest(w, "expand: unsupported value "+e)
			return
		}
	}
	after, ok := afterID(w, q)
	if !ok {
		return
	}
	match := func(*groupRec) bool { return true }
	switch {
	case expr != "":
		n, ok := compileExpression(w, expr, sc)
		if !ok {
			return
		}
		match = func(g *groupRec) bool { return eval(n, g.get) }
	case prefix != "":
		match = func(g *groupRec) bool { return hasPrefixFold(g.name, prefix) }
	}

	o := s.org
	o.mu.RLock()
	start := sort.Search(len(o.groupOrder), func(i int) bool { return o.groups[o.groupOrder[i]].id > after })
	page := make([]groupPage, 0, min(limit, 256))
	more := false
	for _, slot := range o.groupOrder[start:] {
		g := &o.groups[slot]
		if !match(g) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		rec := *g
		rec.members = nil
		page = append(page, groupPage{rec, len(g.members)})
	}
	o.mu.RUnlock()

	next := ""
	if s.nextPage(more, len(page), limit) && prefix == "" {
		next = encodeCursor(page[len(page)-1].rec.id)
	}
	s.setLinks(w, r, next)
	base := s.baseURL(r)
	pw := newPageWriter(w)
	for i := range page {
		count := -1
		if stats {
			count = page[i].count
		}
		pw.done(appendGroup(pw.next(), &page[i].rec, count, base))
	}
	pw.close()
}

// handleGetGroup serves GET /api/v1/groups/{id}.
func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	o := s.org
	id := r.PathValue("id")
	o.mu.RLock()
	slot, ok := o.groupByID[id]
	var g groupRec
	count := -1
	if ok {
		g = o.groups[slot]
		if r.URL.Query().Get("expand") == "stats" {
			count = len(g.members)
		}
		g.members = nil
	}
	o.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (UserGroup)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(appendGroup(nil, &g, count, s.baseURL(r)))
}

// handleGroupMembers serves GET /api/v1/groups/{id}/users.
func (s *Server) handleGroupMembers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := r.PathValue("id")
	limit, after, ok := pageCursor(w, q, memberPageDefault, memberPageMax)
	if !ok {
		return
	}
	if after == "" {
		s.vanish(id)
	}
	o := s.org
	o.mu.RLock()
	slot, ok := o.groupByID[id]
	var page []userRec
	more := false
	if ok {
		var members []int32
		members, more = pageAfter(o.groups[slot].members, func(u int32) string { return o.users[u].id }, after, limit)
		page = make([]userRec, 0, len(members))
		for _, m := range members {
			page = append(page, o.users[m])
		}
	}
	o.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (UserGroup)")
		return
	}
	s.writeUserPage(w, r, page, s.nextPage(more, len(page), limit))
}

// vanish deletes the group, as another admin would between a client's
// group listing and its member listing, when Faults.VanishGroups has some
// left. BUILT_IN and unknown groups are left alone.
func (s *Server) vanish(groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.VanishGroups <= 0 {
		return
	}
	if s.org.DeleteGroup(groupID) == nil {
		s.faults.VanishGroups--
	}
}

// handleLogs serves GET /api/v1/logs with Okta's limits, measured back from
// the server's clock: events older than LogRetention are never returned, a
// since more than LogSinceLimit back is refused, since and after together
// are refused, and an event is visible only LogDelay after its
// publication. Without until a request is a polling one: it always has a
// next link, which resumes after the last event seen (its first invisible
// one included) and carries after but not since.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := pageLimit(w, q, logPageDefault, logPageMax)
	if !ok {
		return
	}
	now := s.now()
	var since, until time.Time
	var err error
	if v := q.Get("since"); v != "" {
		if since, err = parseOktaTime(v); err != nil {
			badLogTime(w, "since")
			return
		}
		if since.Before(now.Add(-LogSinceLimit)) {
			writeError(w, http.StatusBadRequest, "E0000053", sinceTooOld)
			return
		}
	}
	polling := true
	if v := q.Get("until"); v != "" {
		if until, err = parseOktaTime(v); err != nil {
			badLogTime(w, "until")
			return
		}
		polling = false
	}
	if so := q.Get("sortOrder"); so != "" && so != "ASCENDING" {
		badRequest(w, "sortOrder: only ASCENDING is supported")
		return
	}
	var n node
	if f := q.Get("filter"); f != "" {
		if n, err = compile(f, logFilterSchema); err != nil {
			writeError(w, http.StatusBadRequest, "E0000053", "Invalid filter '"+f+"': "+err.Error())
			return
		}
	}
	pos := -1
	if c := q.Get("after"); c != "" {
		if !since.IsZero() {
			writeError(w, http.StatusBadRequest, "E0000053", "Invalid parameter: The since and after parameters are mutually exclusive.")
			return
		}
		v, err := decodeCursor(c)
		if err == nil {
			pos, err = strconv.Atoi(v)
		}
		if err != nil || pos < 0 {
			badRequest(w, "after: not a cursor this server issued")
			return
		}
	}
	if since.IsZero() && pos < 0 {
		// Okta's default: 7 days before until, which defaults to now.
		since = now.Add(-7 * 24 * time.Hour)
		if !until.IsZero() {
			since = until.Add(-7 * 24 * time.Hour)
		}
	}
	fromMS := now.Add(-LogRetention).UnixMilli()
	if !since.IsZero() {
		fromMS = max(fromMS, since.UnixMilli())
	}
	visibleMS := now.Add(-s.LogDelay()).UnixMilli()

	o := s.org
	o.mu.RLock()
	start := sort.Search(len(o.events), func(i int) bool { return o.events[i].published >= fromMS })
	if pos >= 0 {
		start = max(start, min(pos, len(o.events)))
	}
	var page []event
	i := start
	more := false
	for ; i < len(o.events); i++ {
		e := &o.events[i]
		if e.published > visibleMS || !until.IsZero() && e.published >= until.UnixMilli() {
			break
		}
		if n != nil && !eval(n, e.get) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, *e)
	}
	o.mu.RUnlock()

	next := ""
	if more || polling {
		next = encodeCursor(strconv.Itoa(i))
	}
	s.setLinks(w, r, next, "since")
	pw := newPageWriter(w)
	for k := range page {
		pw.done(appendEvent(pw.next(), &page[k]))
	}
	pw.close()
}

// badLogTime answers a System Log time parameter that is not a date as
// Okta does.
func badLogTime(w http.ResponseWriter, param string) {
	const unrecognized = "The date format in your query is not recognized. Please enter dates using ISO8601 string format."
	const invalid = "must be a valid date-time or empty."
	writeError(w, http.StatusBadRequest, "E0000001",
		"Api validation failed: '"+param+"': "+unrecognized+". '"+param+"': "+invalid,
		param+": "+unrecognized, param+": "+invalid)
}

// dateAttr is the value of a date attribute held as Unix milliseconds: a
// dateMS, absent when ms is 0 (never set).
func dateAttr(ms int64) (any, bool) { return dateMS(ms), ms != 0 }

// get is the accessor of user expressions.
func (u *userRec) get(a string) (any, bool) {
	switch a {
	case "id":
		return exactString(u.id), true
	case "status":
		return exactString(u.status), true
	case "type.id":
		return exactString(u.typeID), u.typeID != ""
	case "created":
		return dateAttr(u.created)
	case "activated":
		return dateAttr(u.activated)
	case "statusChanged":
		return dateAttr(u.statusChanged)
	case "lastUpdated":
		return dateAttr(u.lastUpdated)
	case "lastLogin":
		return dateAttr(u.lastLogin)
	case "passwordChanged":
		return dateAttr(u.passwordChanged)
	}
	name, ok := strings.CutPrefix(a, "profile.")
	if !ok {
		return nil, false
	}
	if v, base := baseUserAttr(&u.profile, name); base {
		return v, v != ""
	}
	for _, c := range u.custom {
		if c.name == name {
			return c.value, c.value != nil
		}
	}
	return nil, false
}

func baseUserAttr(p *okta.UserProfile, name string) (string, bool) {
	switch name {
	case "login":
		return p.Login, true
	case "email":
		return p.Email, true
	case "secondEmail":
		return p.SecondEmail, true
	case "firstName":
		return p.FirstName, true
	case "lastName":
		return p.LastName, true
	case "displayName":
		return p.DisplayName, true
	case "nickName":
		return p.NickName, true
	case "title":
		return p.Title, true
	case "department":
		return p.Department, true
	case "division":
		return p.Division, true
	case "organization":
		return p.Organization, true
	case "costCenter":
		return p.CostCenter, true
	case "manager":
		return p.Manager, true
	case "managerId":
		return p.ManagerID, true
	case "employeeNumber":
		return p.EmployeeNumber, true
	case "userType":
		return p.UserType, true
	}
	return "", false
}

// get is the accessor of group expressions.
func (g *groupRec) get(a string) (any, bool) {
	switch a {
	case "id":
		return exactString(g.id), true
	case "type":
		return exactString(g.typ), true
	case "source.id":
		return exactString(g.sourceID), g.sourceID != ""
	case "created":
		return dateAttr(g.created)
	case "lastUpdated":
		return dateAttr(g.lastUpdated)
	case "lastMembershipUpdated":
		return dateAttr(g.lastMembershipUpdated)
	case "profile.name":
		return g.name, g.name != ""
	case "profile.description":
		return g.description, g.description != ""
	}
	name, ok := strings.CutPrefix(a, "profile.")
	if !ok {
		return nil, false
	}
	v := g.attr(name)
	return v, v != nil
}

// get is the accessor of System Log filters. Target attributes hold the
// values of every target, so eq matches any of them.
func (e *event) get(a string) (any, bool) {
	switch a {
	case "eventType":
		return exactString(e.eventType), true
	case "uuid":
		return exactString(e.uuid), true
	case "published":
		return dateMS(e.published), true
	case "severity":
		return exactString("INFO"), true
	case "outcome.result":
		return exactString("SUCCESS"), true
	case "displayMessage":
		return displayMessage(e.eventType), true
	case "actor.id":
		return exactString("00u0000000000FAKEADM"), true
	case "actor.type":
		return exactString("User"), true
	case "actor.alternateId":
		return "admin@example.com", true
	case "actor.displayName":
		return "Org Admin", true
	}
	field, ok := strings.CutPrefix(a, "target.")
	if !ok || len(e.targets) == 0 {
		return nil, false
	}
	vals := make([]any, 0, len(e.targets))
	for _, t := range e.targets {
		switch field {
		case "id":
			vals = append(vals, exactString(t.id))
		case "type":
			vals = append(vals, exactString(t.typ))
		case "alternateId":
			vals = append(vals, t.alternateID)
		case "displayName":
			vals = append(vals, t.displayName)
		}
	}
	return vals, len(vals) > 0
}
