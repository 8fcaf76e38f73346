package catalog

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Input is the Okta data one Build maps.
type Input struct {
	Users  []okta.User
	Groups []okta.Group
	// Members maps a group id to the ids of its member users.
	Members map[string][]string
	// SkipUnknownMembers says that member ids naming no user in Users name
	// users left out of the input on purpose (outside the selection, or
	// deprovisioned): they are skipped without being reported as dropped.
	SkipUnknownMembers bool
	// AssignedUsers, when not nil, keeps only the users it holds: those
	// assigned to the selected Okta apps, directly or through a group.
	// AssignedGroups, when not nil, likewise keeps only the groups it
	// holds. Both combine with every other selection.
	AssignedUsers, AssignedGroups map[string]bool
}

// Result is the outcome of one Build.
type Result struct {
	// Entities holds the User entities sorted by name (case-insensitively),
	// then the Group entities sorted the same way.
	Entities []Entity
	Report   Report
}

// Build maps in to Backstage entities. It never fails: whatever cannot be
// mapped as asked is mapped another valid way or left out, and the Report
// says so. The output depends only on opts and the content of in, not on
// the order of its lists. opts should have passed Validate; unknown
// strategies fall back to the defaults.
func Build(opts Options, in Input) *Result {
	return Map(opts, in).Result()
}

// Result makes every entity of m at once, with the report: Build's
// result, for one org or several.
func (m *Mapping) Result() *Result {
	res := &Result{Entities: make([]Entity, 0, m.Users()+m.Groups())}
	skipped := make([][]SkippedLabel, len(m.orgs))
	m.each(skipped, true, func(e *Entity) { res.Entities = append(res.Entities, *e) })
	res.Report = m.report(skipped)
	return res
}

// Mapping is an Input mapped to entities that are not made yet: Map runs
// every step of Build but the making of the entities, which each pass over
// them (Each, EachReport) makes one at a time, in Build's order, so that
// they are never held together. At 100,000 users the entities are about
// 60 MiB. A Mapping is not changed by its passes.
//
// A Mapping of several orgs (MapOrgs) holds each org's mapping and the
// merged order of their entities.
type Mapping struct {
	orgs          []*builder
	users, groups []entry
}

// entry is one entity of a Mapping: its org's index, and its index in the
// org builder's users or groups.
type entry struct{ org, idx int32 }

// OrgInput is one Okta org of a merged catalog: its name (empty for the
// single org of a service that serves one), its options and its input.
type OrgInput struct {
	Name    string
	Options Options
	Input   Input
}

// Map maps in like Build, leaving the entities to be made by each pass
// over them.
func Map(opts Options, in Input) *Mapping {
	return MapOrgs([]OrgInput{{Options: opts, Input: in}})
}

// MapOrgs maps several orgs into one catalog. Each org is mapped with its
// own options as Map maps one, its references never leaving it; then
// entities of one kind that share a namespace and a name
// (case-insensitively) across orgs are told apart as within one: the one
// whose name is its strategy's own wins, then the earliest created in
// Okta, then the smallest id, then the first org; the others get a
// suffix derived from their Okta id, reported as a collision. The
// entities of a named org carry the okta.com/org annotation. The passes
// yield the users, then the groups, each sorted by name, then namespace,
// then org. The output depends only on the orgs' order and content.
func MapOrgs(orgs []OrgInput) *Mapping {
	m := &Mapping{orgs: make([]*builder, len(orgs))}
	for i, o := range orgs {
		m.orgs[i] = mapInput(o.Options, o.Input, o.Name)
	}
	if len(m.orgs) > 1 {
		m.resolveAcross(KindUser)
		m.resolveAcross(KindGroup)
	}
	var users, groups int
	for _, b := range m.orgs {
		users, groups = users+len(b.users), groups+len(b.groups)
	}
	m.users, m.groups = make([]entry, 0, users), make([]entry, 0, groups)
	for i, b := range m.orgs {
		for j := range b.users {
			if b.users[j].emitted {
				m.users = append(m.users, entry{int32(i), int32(j)})
			}
		}
		for j := range b.groups {
			if b.groups[j].emitted {
				m.groups = append(m.groups, entry{int32(i), int32(j)})
			}
		}
	}
	m.sort(m.users, func(e entry) (string, string) {
		b := m.orgs[e.org]
		return b.users[e.idx].naming.name, b.opts.Namespace
	})
	m.sort(m.groups, func(e entry) (string, string) {
		it := &m.orgs[e.org].groups[e.idx]
		return it.naming.name, it.ns
	})
	return m
}

// sort orders entries by name (case-insensitively, then as is), then
// namespace, then org.
func (m *Mapping) sort(es []entry, key func(entry) (name, ns string)) {
	slices.SortFunc(es, func(x, y entry) int {
		xn, xns := key(x)
		yn, yns := key(y)
		return cmp.Or(strings.Compare(strings.ToLower(xn), strings.ToLower(yn)), strings.Compare(xn, yn),
			strings.Compare(xns, yns), cmp.Compare(x.org, y.org))
	})
}

// resolveAcross renames the entities of kind that another org's entity
// of the same namespace and name takes precedence over: as resolve does
// within an org, the org's order breaking the last ties. A new name is
// free in its namespace across the orgs and in its org.
func (m *Mapping) resolveAcross(kind string) {
	type item struct {
		nameItem
		org int
		key string
	}
	var items []item
	own := make([]map[string]struct{}, len(m.orgs))
	for oi, b := range m.orgs {
		own[oi] = map[string]struct{}{}
		for _, it := range b.nameItems(kind) {
			ns := b.namespaceOf(kind, it.idx)
			if ns == DefaultNamespace {
				ns = "" // one namespace however it is spelled
			}
			items = append(items, item{it, oi, ns + "/" + strings.ToLower(it.naming.name)})
			own[oi][strings.ToLower(it.naming.name)] = struct{}{}
		}
	}
	slices.SortFunc(items, func(x, y item) int {
		return cmp.Or(
			compareBool(!x.naming.exact(), !y.naming.exact()),
			x.created.Compare(y.created),
			strings.Compare(x.id, y.id),
			cmp.Compare(x.org, y.org),
		)
	})
	taken := make(map[string]struct{}, len(items))
	var losers []item
	for _, it := range items {
		if _, ok := taken[it.key]; ok {
			losers = append(losers, it)
			continue
		}
		taken[it.key] = struct{}{}
	}
	for _, it := range losers {
		ns := it.key[:strings.IndexByte(it.key, '/')]
		for n := 0; ; n++ {
			cand := withSuffix(it.naming.name, hashSuffix(it.id, n))
			lower := strings.ToLower(cand)
			if _, ok := taken[ns+"/"+lower]; ok {
				continue
			}
			if _, ok := own[it.org][lower]; ok {
				continue
			}
			taken[ns+"/"+lower] = struct{}{}
			own[it.org][lower] = struct{}{}
			it.naming.name = cand
			it.naming.reason = ReasonCollision
			m.orgs[it.org].renamed(kind, it.nameItem)
			break
		}
	}
}

// Users returns the number of User entities.
func (m *Mapping) Users() int { return len(m.users) }

// Groups returns the number of Group entities.
func (m *Mapping) Groups() int { return len(m.groups) }

// Each calls f with every entity, in the order of Result.Entities: the
// users, then the groups. Every entity is made in the same memory, so f
// must not keep it (nor anything it points to) past its return: a pass
// that encodes the entities as they come allocates next to nothing.
// Several passes may run at once.
func (m *Mapping) Each(f func(*Entity)) {
	m.each(nil, false, f)
}

// EachReport is Each that also returns the mapping report, Build's
// Report: the labels left out for invalid values are only known once
// every entity is made.
func (m *Mapping) EachReport(f func(*Entity)) Report {
	skipped := make([][]SkippedLabel, len(m.orgs))
	m.each(skipped, false, f)
	return m.report(skipped)
}

// each makes the entities one at a time, in the merged order, and calls
// f with each. Labels skipped for invalid values are appended to their
// org's list in skipped, unless it is nil. each only reads the builders,
// so several can run at once.
//
// With keep, every entity has memory of its own and f may keep it; without,
// every entity is made in the same memory, so f must not keep it (nor
// anything it points to) past its return: a pass that encodes the entities
// as they come then allocates next to nothing.
func (m *Mapping) each(skipped [][]SkippedLabel, keep bool, f func(*Entity)) {
	var e Entity
	buf := new(entityBuffer)
	sk := func(org int32) *[]SkippedLabel {
		if skipped == nil {
			return nil
		}
		return &skipped[org]
	}
	shapers := func(kind string, shape func(*builder) *compiledTransform) []*shaper {
		ss := make([]*shaper, len(m.orgs))
		for i, b := range m.orgs {
			ss[i] = newShaper(shape(b), kind, sk(int32(i)))
		}
		return ss
	}
	us := shapers(KindUser, (*builder).userShape)
	for _, en := range m.users {
		if keep {
			buf = new(entityBuffer)
		}
		b := m.orgs[en.org]
		e = b.userEntity(&b.users[en.idx], b.opts.Namespace, sk(en.org), buf, us[en.org])
		f(&e)
	}
	gs := shapers(KindGroup, (*builder).groupShape)
	for _, en := range m.groups {
		if keep {
			buf = new(entityBuffer)
		}
		b := m.orgs[en.org]
		e = b.groupEntity(&b.groups[en.idx], sk(en.org), buf, gs[en.org])
		f(&e)
	}
}

// mapInput runs every step of a build but the making of the entities,
// for the org named org ("" for a single unnamed org).
func mapInput(opts Options, in Input, org string) *builder {
	b := newBuilder(opts, in)
	b.org = org
	b.selectUsers()
	b.selectGroups()
	b.linkMembers()
	b.filterUsersFromGroups()
	b.nameGroupsRaw()
	b.linkHierarchy()
	b.pruneEmptyGroups()
	b.nameEntities()
	slices.SortFunc(b.renames, compareRenames)
	return b
}

type userItem struct {
	u       *okta.User
	emitted bool
	groups  []int32 // indexes into builder.groups of the selected groups holding the user
	naming  naming
}

type groupItem struct {
	g        *okta.Group
	ns       string // the namespace, "" for the default
	emitted  bool
	members  []int32 // indexes into builder.users
	parent   int32   // index into builder.groups, -1 for none
	children []int32
	naming   naming
}

type builder struct {
	opts Options
	in   Input
	rep  Report
	// org is the org's name, "" for a single unnamed org.
	org string

	users   []userItem // every input user, sorted by id, duplicates removed
	groups  []groupItem
	userIdx map[string]int32

	renames []Rename
	dropped []DroppedRef
	broken  []brokenLink

	userAttrs, groupAttrs []attrTarget

	// shape holds the compiled transforms, nil for none; excludeSkipped
	// the exclusions that failed, kept out of the report's passes.
	shape          *Shape
	excludeSkipped []SkippedLabel
}

type brokenLink struct {
	group  int32
	parent string
	reason string
}

func newBuilder(opts Options, in Input) *builder {
	b := &builder{opts: opts, in: in}
	b.rep.InputUsers = len(in.Users)
	b.rep.InputGroups = len(in.Groups)
	b.shape = opts.Shape
	if b.shape == nil && (!opts.UserTransform.empty() || !opts.GroupTransform.empty()) {
		b.shape, _ = opts.compile()
	}
	b.userAttrs = attrTargets(opts.UserAnnotations, opts.UserMappings)
	b.groupAttrs = attrTargets(opts.GroupAnnotations, opts.GroupMappings)
	if c := b.userShape(); c != nil {
		b.userAttrs = append(b.userAttrs, c.targets...)
	}
	if c := b.groupShape(); c != nil {
		b.groupAttrs = append(b.groupAttrs, c.targets...)
	}

	users := make([]*okta.User, len(in.Users))
	for i := range in.Users {
		users[i] = &in.Users[i]
	}
	slices.SortFunc(users, compareUsers)
	b.users = make([]userItem, 0, len(users))
	b.userIdx = make(map[string]int32, len(users))
	for _, u := range users {
		if n := len(b.users); n > 0 && b.users[n-1].u.ID == u.ID {
			continue // a duplicate listing; compareUsers put the newest first
		}
		b.userIdx[u.ID] = int32(len(b.users))
		b.users = append(b.users, userItem{u: u})
	}

	groups := make([]*okta.Group, len(in.Groups))
	for i := range in.Groups {
		groups[i] = &in.Groups[i]
	}
	slices.SortFunc(groups, compareGroups)
	b.groups = make([]groupItem, 0, len(groups))
	for _, g := range groups {
		if n := len(b.groups); n > 0 && b.groups[n-1].g.ID == g.ID {
			continue
		}
		b.groups = append(b.groups, groupItem{g: g, parent: -1})
	}
	return b
}

// byIDNewestFirst orders by id, and one id's duplicates by lastUpdated,
// newest first.
func byIDNewestFirst(aID, bID string, aUpdated, bUpdated time.Time) int {
	return cmp.Or(strings.Compare(aID, bID), bUpdated.Compare(aUpdated))
}

// compareUsers orders users by id, and duplicates of one id newest first
// with a content tie-break, so the kept one does not depend on input order.
func compareUsers(a, b *okta.User) int {
	return cmp.Or(
		byIDNewestFirst(a.ID, b.ID, a.LastUpdated, b.LastUpdated),
		strings.Compare(a.Status, b.Status),
		strings.Compare(a.Profile.Login, b.Profile.Login),
		strings.Compare(a.Profile.Email, b.Profile.Email),
		strings.Compare(a.Profile.DisplayName, b.Profile.DisplayName),
	)
}

// compareGroups orders groups as compareUsers orders users.
func compareGroups(a, b *okta.Group) int {
	return cmp.Or(
		byIDNewestFirst(a.ID, b.ID, a.LastUpdated, b.LastUpdated),
		strings.Compare(a.Type, b.Type),
		strings.Compare(a.Profile.Name, b.Profile.Name),
		strings.Compare(a.Profile.Description, b.Profile.Description),
	)
}

// selectUsers marks the users to emit: those assigned to the app (when
// only its assignments are kept), of a selected status and not excluded by
// the transform. The report counts the others.
func (b *builder) selectUsers() {
	statuses := b.opts.UserStatuses
	if len(statuses) == 0 {
		statuses = defaultUserStatuses()
	}
	ex := newExclusion(b.userShape(), &b.excludeSkipped)
	for i := range b.users {
		it := &b.users[i]
		switch u := it.u; {
		case !assigned(b.in.AssignedUsers, u.ID):
			b.rep.SkippedUsersNotAssigned++
		case !slices.Contains(statuses, u.Status):
			countSkipped(&b.rep.SkippedUsersByStatus, u.Status)
		case ex.user(u):
			b.rep.ExcludedUsers++
		default:
			it.emitted = true
		}
	}
}

// selectGroups marks the groups to emit, as selectUsers does the users but
// by group type, and sets each one's namespace.
func (b *builder) selectGroups() {
	exclude := b.opts.ExcludedGroupTypes()
	include := b.opts.IncludeGroupTypes
	selectedType := func(t string) bool {
		return (len(include) == 0 || slices.Contains(include, t)) && !slices.Contains(exclude, t)
	}
	ex := newExclusion(b.groupShape(), &b.excludeSkipped)
	for i := range b.groups {
		it := &b.groups[i]
		switch g := it.g; {
		case !assigned(b.in.AssignedGroups, g.ID):
			b.rep.SkippedGroupsNotAssigned++
		case !selectedType(g.Type):
			countSkipped(&b.rep.SkippedGroupsByType, g.Type)
		case ex.group(g):
			b.rep.ExcludedGroups++
		default:
			it.emitted = true
			it.ns = b.opts.Namespace
			if ns, ok := b.opts.GroupNamespaces[g.Type]; ok {
				it.ns = ns
			}
		}
	}
}

// assigned reports whether the id is in the app's assignments, true for
// every id when they are not kept (nil).
func assigned(assignments map[string]bool, id string) bool {
	return assignments == nil || assignments[id]
}

// countSkipped counts one more entity left out for key in *counts, making
// the map on first use.
func countSkipped(counts *map[string]int, key string) {
	if *counts == nil {
		*counts = make(map[string]int)
	}
	(*counts)[key]++
}

// exclusion runs one kind's exclude expression over the selection. A nil
// exclusion excludes nothing.
type exclusion struct {
	c       *compiledTransform
	v       attrValues
	skipped *[]SkippedLabel
}

// newExclusion returns the exclusion of c, nil when c has no exclude
// expression; an expression that fails is reported in skipped.
func newExclusion(c *compiledTransform, skipped *[]SkippedLabel) *exclusion {
	if c == nil || c.exclude == nil {
		return nil
	}
	return &exclusion{c: c, skipped: skipped}
}

// user reports whether the exclude expression drops u.
func (e *exclusion) user(u *okta.User) bool {
	if e == nil {
		return false
	}
	e.v.setUser(u)
	return excluded(e.c, &e.v, KindUser, u.ID, e.skipped)
}

// group reports whether the exclude expression drops g.
func (e *exclusion) group(g *okta.Group) bool {
	if e == nil {
		return false
	}
	e.v.setGroup(g)
	return excluded(e.c, &e.v, KindGroup, g.ID, e.skipped)
}

// linkMembers records the memberships between selected groups and
// selected users, and reports member ids and group ids that name nothing.
func (b *builder) linkMembers() {
	groupIdx := make(map[string]int32, len(b.groups))
	for i := range b.groups {
		groupIdx[b.groups[i].g.ID] = int32(i)
	}
	// Report membership lists of unknown groups, in id order.
	var unknown []string
	for gid := range b.in.Members {
		if _, ok := groupIdx[gid]; !ok {
			unknown = append(unknown, gid)
		}
	}
	slices.Sort(unknown)
	for _, gid := range unknown {
		b.dropped = append(b.dropped, DroppedRef{Kind: KindGroup, OktaID: gid, Target: gid, Reason: ReasonUnknownGroup})
	}

	for gi := range b.groups {
		g := &b.groups[gi]
		if !g.emitted {
			continue
		}
		ids := b.in.Members[g.g.ID]
		if len(ids) == 0 {
			continue
		}
		members := make([]int32, 0, len(ids))
		var missing []string
		for _, id := range ids {
			ui, ok := b.userIdx[id]
			if !ok {
				if !b.in.SkipUnknownMembers {
					missing = append(missing, id)
				}
				continue
			}
			if b.users[ui].emitted {
				members = append(members, ui)
			}
		}
		slices.Sort(members)
		members = slices.Compact(members)
		g.members = members
		for _, ui := range members {
			b.users[ui].groups = append(b.users[ui].groups, int32(gi))
		}
		slices.Sort(missing)
		for _, id := range slices.Compact(missing) {
			b.dropped = append(b.dropped, DroppedRef{Kind: KindGroup, OktaID: g.g.ID, Target: id, Reason: ReasonUnknownUser})
		}
	}
}

// filterUsersFromGroups keeps, in users-from-groups mode, only the users
// that belong to a selected group.
func (b *builder) filterUsersFromGroups() {
	if !b.opts.UsersFromGroups {
		return
	}
	for i := range b.users {
		it := &b.users[i]
		if it.emitted && len(it.groups) == 0 {
			it.emitted = false
			b.rep.SkippedUsersNotInGroup++
		}
	}
}

func (b *builder) nameGroupsRaw() {
	for i := range b.groups {
		if b.groups[i].emitted {
			b.groups[i].naming = groupName(b.opts.GroupNaming, b.groups[i].g)
		}
	}
}

// pruneEmptyGroups drops, unless empty groups are wanted, every selected
// group with no emitted member and no non-empty descendant. Parents of
// kept groups are kept, so the hierarchy stays connected.
func (b *builder) pruneEmptyGroups() {
	if b.opts.IncludeEmptyGroups {
		return
	}
	keep := make([]bool, len(b.groups))
	for i := range b.groups {
		if !b.groups[i].emitted || len(b.groups[i].members) == 0 {
			continue
		}
		for x := int32(i); x >= 0 && !keep[x]; x = b.groups[x].parent {
			keep[x] = true
		}
	}
	for i := range b.groups {
		g := &b.groups[i]
		if g.emitted && !keep[i] {
			g.emitted = false
			b.rep.SkippedEmptyGroups++
		}
	}
	for i := range b.groups {
		g := &b.groups[i]
		if !g.emitted {
			continue
		}
		g.children = slices.DeleteFunc(g.children, func(c int32) bool { return !b.groups[c].emitted })
	}
	for i := range b.users {
		u := &b.users[i]
		u.groups = slices.DeleteFunc(u.groups, func(gi int32) bool { return !b.groups[gi].emitted })
	}
}

// nameEntities names the emitted users and groups and resolves collisions.
func (b *builder) nameEntities() {
	for i := range b.users {
		if it := &b.users[i]; it.emitted {
			it.naming = userName(b.opts.UserNaming, it.u)
		}
	}
	for _, kind := range []string{KindUser, KindGroup} {
		items := b.nameItems(kind)
		for _, it := range items {
			b.prefix(it.naming, it.id)
		}
		b.resolve(kind, items)
	}
}

// prefix puts the options' NamePrefix before n's name, cut with a suffix
// derived from the Okta id when that makes it too long.
func (b *builder) prefix(n *naming, id string) {
	if b.opts.NamePrefix == "" {
		return
	}
	n.name = b.opts.NamePrefix + n.name
	if len(n.name) > maxNameLen {
		n.name = withSuffix(n.name, idSuffix(id))
		if n.reason == "" {
			n.reason = ReasonTooLong
		}
	}
}

// nameItems returns the emitted entities of kind, to name.
func (b *builder) nameItems(kind string) []nameItem {
	var items []nameItem
	if kind == KindUser {
		for i := range b.users {
			if it := &b.users[i]; it.emitted {
				items = append(items, nameItem{idx: int32(i), naming: &it.naming, created: it.u.Created, id: it.u.ID})
			}
		}
		return items
	}
	for i := range b.groups {
		if it := &b.groups[i]; it.emitted {
			items = append(items, nameItem{idx: int32(i), naming: &it.naming, created: it.g.Created, id: it.g.ID})
		}
	}
	return items
}

// namespaceOf returns the namespace of the emitted entity of kind at idx.
func (b *builder) namespaceOf(kind string, idx int32) string {
	if kind == KindUser {
		return b.opts.Namespace
	}
	return b.groups[idx].ns
}

// renamed records it, of kind, renamed after its org was mapped: its
// rename replaces any the org's own resolve recorded.
func (b *builder) renamed(kind string, it nameItem) {
	r := Rename{Kind: kind, OktaID: it.id, From: it.naming.raw, To: it.naming.name, Reason: it.naming.reason, Org: b.org}
	i, found := slices.BinarySearchFunc(b.renames, r, compareRenames)
	if found {
		b.renames[i] = r
		return
	}
	b.renames = slices.Insert(b.renames, i, r)
}

func compareRenames(x, y Rename) int {
	return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.OktaID, y.OktaID))
}

type nameItem struct {
	idx     int32
	naming  *naming
	created time.Time
	id      string
}

// resolve makes the names of one kind unique case-insensitively. The
// entity whose name is its strategy's own (not sanitised) wins a contested
// name, then the earliest created in Okta, then the smallest id; each
// loser gets its name with a suffix derived from its Okta id (another
// suffix if that is taken too). Every name that differs from the
// strategy's own is reported.
func (b *builder) resolve(kind string, items []nameItem) {
	slices.SortFunc(items, func(x, y nameItem) int {
		return cmp.Or(
			compareBool(!x.naming.exact(), !y.naming.exact()),
			x.created.Compare(y.created),
			strings.Compare(x.id, y.id),
		)
	})
	taken := make(map[string]struct{}, len(items))
	var losers []nameItem
	for _, it := range items {
		key := strings.ToLower(it.naming.name)
		if _, ok := taken[key]; ok {
			losers = append(losers, it)
			continue
		}
		taken[key] = struct{}{}
	}
	for _, it := range losers {
		for n := 0; ; n++ {
			cand := withSuffix(it.naming.name, hashSuffix(it.id, n))
			key := strings.ToLower(cand)
			if _, ok := taken[key]; ok {
				continue
			}
			taken[key] = struct{}{}
			it.naming.name = cand
			it.naming.reason = ReasonCollision
			break
		}
	}
	for _, it := range items {
		if it.naming.reason != "" {
			b.renames = append(b.renames, Rename{Kind: kind, OktaID: it.id, From: it.naming.raw, To: it.naming.name, Reason: it.naming.reason, Org: b.org})
		}
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// userShape and groupShape return the compiled transform of users and of
// groups, nil for none.
func (b *builder) userShape() *compiledTransform {
	if b.shape == nil {
		return nil
	}
	return b.shape.user
}

func (b *builder) groupShape() *compiledTransform {
	if b.shape == nil {
		return nil
	}
	return b.shape.group
}

// newShaper returns the shaper of one pass over one kind's entities, nil
// when c is.
func newShaper(c *compiledTransform, kind string, skipped *[]SkippedLabel) *shaper {
	if c == nil {
		return nil
	}
	return &shaper{c: c, kind: kind, v: newAttrValues(), skipped: skipped}
}

// shaped is what a transform sets on one entity; empty fields keep the
// entity's own values.
type shaped struct {
	displayName, title, picture, description string
}

// shape runs s's templates for the entity whose attributes s holds; a nil
// s shapes nothing.
func (s *shaper) shape() shaped {
	if s == nil {
		return shaped{}
	}
	return shaped{
		displayName: s.text(s.c.displayName, fieldDisplayName, maxDisplayNameLen, false),
		title:       s.text(s.c.title, fieldTitle, maxTitleLen, false),
		picture:     s.picture(),
		description: s.text(s.c.description, fieldDescription, maxDescriptionLen, true),
	}
}

// values returns the attribute values of s's pass, nil for a nil s.
func (s *shaper) values() *attrValues {
	if s == nil {
		return nil
	}
	return s.v
}

// sameNamespace reports whether namespaces a and b are the same, "" being
// the default.
func sameNamespace(a, b string) bool {
	return a == b || (a == "" && b == DefaultNamespace) || (a == DefaultNamespace && b == "")
}

// ref is the reference to the entity of the given kind, name and namespace
// from an entity in namespace from: the name alone within one namespace
// (Backstage takes the referring entity's namespace), else the full ref.
func ref(kind, ns, name, from string) string {
	if sameNamespace(ns, from) {
		return name
	}
	if ns == "" {
		ns = DefaultNamespace
	}
	return kind + ":" + ns + "/" + name
}

// groupRef is the reference to group gi from an entity in namespace from.
func (b *builder) groupRef(gi int32, from string) string {
	g := &b.groups[gi]
	return ref("group", g.ns, g.naming.name, from)
}

// entityBuffer is the memory an entity is made in: its spec, profile and
// lists point into it.
type entityBuffer struct {
	user        UserSpec
	group       GroupSpec
	profile     Profile
	ann, labels []KeyValue
	names       []string // memberOf, or children
	members     []string
}

// report returns the mapping's report, skipped holding each org's labels
// skipped for invalid values. A report of several orgs (or of a named
// one) sums theirs, its lists name each item's org, and Orgs has each
// org's counts. It only reads the builders, so it may be called more than
// once.
func (m *Mapping) report(skipped [][]SkippedLabel) Report {
	counts := make([][2]int, len(m.orgs))
	for _, e := range m.users {
		counts[e.org][0]++
	}
	for _, e := range m.groups {
		counts[e.org][1]++
	}
	if len(m.orgs) == 1 && m.orgs[0].org == "" {
		return m.orgs[0].report(counts[0][0], counts[0][1], skipped[0])
	}
	var r Report
	for i, b := range m.orgs {
		or := b.report(counts[i][0], counts[i][1], skipped[i])
		r.merge(&or)
		r.Orgs = append(r.Orgs, OrgReport{Name: b.org, Users: or.Users, Groups: or.Groups,
			Memberships: or.Memberships, InputUsers: or.InputUsers, InputGroups: or.InputGroups})
	}
	return r
}

// report returns the report of the org's part of a mapping that emitted
// the given numbers of its users and groups and skipped the given labels.
// It only reads the builder, so it may be called more than once.
func (b *builder) report(users, groups int, skipped []SkippedLabel) Report {
	r := b.rep
	r.Users, r.Groups = users, groups
	r.Memberships = 0
	for i := range b.users {
		if b.users[i].emitted {
			r.Memberships += len(b.users[i].groups)
		}
	}
	if len(b.excludeSkipped) > 0 {
		skipped = append(slices.Clip(skipped), b.excludeSkipped...)
	}
	b.finishReport(&r, skipped)
	return r
}

func (b *builder) userEntity(it *userItem, ns string, skipped *[]SkippedLabel, buf *entityBuffer, s *shaper) Entity {
	u := it.u
	p := &u.Profile
	if s != nil {
		s.id = u.ID
		s.v.setUser(u)
	}
	sh := s.shape()
	display := cmp.Or(sh.displayName, displayName(p))
	ann := b.idAnnotations(buf, u.ID)
	if p.Email != "" {
		ann = append(ann, KeyValue{AnnotationEmail, p.Email})
	}
	if p.Login != "" {
		ann = append(ann, KeyValue{AnnotationLogin, p.Login})
	}
	ann, labels := profileAttributes(KindUser, u.ID, ann, buf.labels[:0], b.userAttrs, p.Get, s.values(), skipped)
	memberOf := buf.names[:0]
	for _, gi := range it.groups {
		memberOf = append(memberOf, b.groupRef(gi, ns))
	}
	slices.Sort(memberOf)
	buf.ann, buf.labels, buf.names = ann, labels, memberOf
	var prof *Profile
	if display != "" || p.Email != "" || sh.picture != "" {
		buf.profile = Profile{DisplayName: display, Email: p.Email, Picture: sh.picture}
		prof = &buf.profile
	}
	buf.user = UserSpec{Profile: prof, MemberOf: memberOf}
	return Entity{
		APIVersion: APIVersion,
		Kind:       KindUser,
		Metadata: Metadata{
			Name:        it.naming.name,
			Namespace:   ns,
			Title:       cmp.Or(sh.title, display),
			Description: sh.description,
			Labels:      labels,
			Annotations: ann,
		},
		User:   &buf.user,
		OktaID: u.ID,
	}
}

// idAnnotations starts an entity's annotations in buf: its Okta id, and
// its org when the org is named.
func (b *builder) idAnnotations(buf *entityBuffer, id string) []KeyValue {
	ann := append(buf.ann[:0], KeyValue{AnnotationID, id})
	if b.org != "" {
		ann = append(ann, KeyValue{AnnotationOrg, b.org})
	}
	return ann
}

// displayName is the profile's displayName, else "first last", else the
// login.
func displayName(p *okta.UserProfile) string {
	if s := strings.TrimSpace(p.DisplayName); s != "" {
		return s
	}
	if s := strings.TrimSpace(strings.TrimSpace(p.FirstName) + " " + strings.TrimSpace(p.LastName)); s != "" {
		return s
	}
	return strings.TrimSpace(p.Login)
}

func (b *builder) groupEntity(it *groupItem, skipped *[]SkippedLabel, buf *entityBuffer, s *shaper) Entity {
	g := it.g
	ns := it.ns
	if s != nil {
		s.id = g.ID
		s.v.setGroup(g)
	}
	sh := s.shape()
	ann := b.idAnnotations(buf, g.ID)
	if g.Type != "" {
		ann = append(ann, KeyValue{AnnotationGroupType, g.Type})
	}
	ann, labels := profileAttributes(KindGroup, g.ID, ann, buf.labels[:0], b.groupAttrs, g.Profile.Get, s.values(), skipped)
	buf.ann, buf.labels = ann, labels
	typ := b.opts.GroupTypes[g.Type]
	if strings.TrimSpace(typ) == "" {
		typ = "group"
	}
	buf.group = GroupSpec{Type: typ, Children: buf.names[:0]}
	spec := &buf.group
	if spec.Children == nil {
		spec.Children = make([]string, 0, len(it.children)) // always encoded
	}
	name := cmp.Or(sh.displayName, strings.TrimSpace(g.Profile.Name))
	if name != "" || sh.picture != "" {
		buf.profile = Profile{DisplayName: name, Picture: sh.picture}
		spec.Profile = &buf.profile
	}
	if it.parent >= 0 {
		spec.Parent = b.groupRef(it.parent, ns)
	}
	for _, c := range it.children {
		spec.Children = append(spec.Children, b.groupRef(c, ns))
	}
	slices.Sort(spec.Children)
	buf.names = spec.Children
	if b.opts.IncludeMembers {
		// Non-nil even when empty: a nil Members leaves spec.members out.
		spec.Members = buf.members[:0]
		if spec.Members == nil {
			spec.Members = make([]string, 0, len(it.members))
		}
		for _, ui := range it.members {
			spec.Members = append(spec.Members, ref("user", b.opts.Namespace, b.users[ui].naming.name, ns))
		}
		slices.Sort(spec.Members)
		buf.members = spec.Members
	}
	return Entity{
		APIVersion: APIVersion,
		Kind:       KindGroup,
		Metadata: Metadata{
			Name:        it.naming.name,
			Namespace:   ns,
			Title:       cmp.Or(sh.title, name),
			Description: cmp.Or(sh.description, strings.TrimSpace(g.Profile.Description)),
			Labels:      labels,
			Annotations: ann,
		},
		Group:  spec,
		OktaID: g.ID,
	}
}

// finishReport fills r's lists in a stable order, capped; it sorts
// skipped.
func (b *builder) finishReport(r *Report, skipped []SkippedLabel) {
	for _, x := range b.renames {
		r.addRename(x)
	}
	for _, x := range b.dropped {
		x.Org = b.org
		r.addDroppedRef(x)
	}
	for _, x := range b.broken {
		g := &b.groups[x.group]
		name := g.naming.name
		if name == "" {
			name = groupName(b.opts.GroupNaming, g.g).name
		}
		r.addBrokenLink(BrokenLink{OktaID: g.g.ID, Group: name, Parent: x.parent, Reason: x.reason, Org: b.org})
	}
	slices.SortFunc(skipped, func(x, y SkippedLabel) int {
		return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.OktaID, y.OktaID), strings.Compare(x.Key, y.Key))
	})
	for _, x := range skipped {
		x.Org = b.org
		r.addSkippedLabel(x)
	}
	if r.Renames == nil {
		r.Renames = []Rename{}
	}
	if r.DroppedRefs == nil {
		r.DroppedRefs = []DroppedRef{}
	}
	if r.BrokenHierarchy == nil {
		r.BrokenHierarchy = []BrokenLink{}
	}
	if r.SkippedLabels == nil {
		r.SkippedLabels = []SkippedLabel{}
	}
}
