package oktafake

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// OrgOptions sizes and seeds a generated org.
type OrgOptions struct {
	// Users is the number of users, of every status.
	Users int
	// Groups is the number of groups, the BUILT_IN Everyone group included
	// (so there is always at least one).
	Groups int
	// Seed makes the org: the same options give the same org.
	Seed int64
	// MembershipsPerUser is the average number of groups a user is in,
	// Everyone not counted. Default 3.
	MembershipsPerUser int
	// Start is the org's present when it is generated: every generated
	// timestamp is before it, the org's clock never runs earlier than it,
	// and changes made later are stamped after it. Default
	// 2024-01-01T00:00:00Z.
	Start time.Time
	// QuietPeriod is how long before Start the generated history ends, as
	// in an org used for years but not changed lately: objects are created
	// over about four years before that end, and the newest generated
	// change is at or before it. Default DefaultQuietPeriod; negative: the history
	// runs up to Start. Changes that fall within LogRetention of Start are
	// in the System Log.
	QuietPeriod time.Duration
	// Now is the org's clock, which stamps changes. Default time.Now. Stamps
	// are strictly increasing and never before Start whatever it returns.
	Now func() time.Time
}

// DefaultQuietPeriod is OrgOptions.QuietPeriod's default: more than the 180
// days a System Log query may reach back, so that no generated change is a
// valid since for the System Log.
const DefaultQuietPeriod = 200 * 24 * time.Hour

func (o OrgOptions) withDefaults() OrgOptions {
	if o.MembershipsPerUser <= 0 {
		o.MembershipsPerUser = 3
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	switch {
	case o.QuietPeriod == 0:
		o.QuietPeriod = DefaultQuietPeriod
	case o.QuietPeriod < 0:
		o.QuietPeriod = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Users < 0 {
		o.Users = 0
	}
	if o.Groups < 1 {
		o.Groups = 1
	}
	return o
}

// Hierarchy attribute names on OKTA_GROUP profiles: a group's own id in the
// org chart and its parent's.
const (
	AttrOrgID       = "orgId"
	AttrParentOrgID = "parentOrgId"
)

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Linda", "David", "Elizabeth",
	"Richard", "Barbara", "Joseph", "Susan", "Thomas", "Jessica", "Charles", "Sarah", "Christopher", "Karen",
	"Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Margaret", "Donald", "Sandra",
	"Steven", "Ashley", "Paul", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle",
	"Kevin", "Carol", "Brian", "Amanda", "George", "Dorothy", "Timothy", "Melissa", "Ronald", "Deborah",
	"Priya", "Wei", "Aisha", "Mateo", "Sofia", "Lukas", "Chloe", "Arjun", "Fatima", "Hiroshi",
	"Olga", "Kwame", "Ingrid", "Diego", "Mei", "Omar", "Elena", "Noah", "Zara", "Liam",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Patel", "Chen", "Okafor", "Novak", "Kowalski", "Schmidt", "Larsen", "Tanaka", "Haddad", "Silva",
	"Ivanova", "Mensah", "Berg", "Costa", "Wang", "Khan", "Popescu", "Murphy", "Ali", "Fischer",
}

var departments = []string{"Engineering", "Product", "Design", "Sales", "Marketing", "Finance", "People", "Legal", "Support", "Operations"}

var titles = []string{"Software Engineer", "Senior Software Engineer", "Staff Engineer", "Engineering Manager", "Product Manager", "Designer", "Account Executive", "Analyst", "Support Specialist", "Director"}

var teamWords = []string{
	"Platform", "Backend", "Frontend", "Mobile", "Data", "Security", "SRE", "Infrastructure", "Payments", "Search",
	"Growth", "Identity", "Billing", "Analytics", "Machine Learning", "Developer Experience", "Networking", "Storage", "Observability", "Release",
}

// statusWeights is the status mix of generated users, in percent.
var statusWeights = []struct {
	status string
	weight int
}{
	{okta.StatusActive, 84}, {okta.StatusStaged, 3}, {okta.StatusProvisioned, 3}, {okta.StatusSuspended, 2},
	{okta.StatusLockedOut, 2}, {okta.StatusPasswordExpired, 1}, {okta.StatusRecovery, 1}, {okta.StatusDeprovisioned, 4},
}

// nastyUser is a user whose name or email trips naive mappings.
type nastyUser struct {
	first, last, login, email string
}

// nastyUsers are placed into every generated org of at least minNastyUsers
// users, spread over the id range.
var nastyUsers = []nastyUser{
	{"José", "Müller", "jose.muller@example.com", "jose.muller@example.com"},
	{"太郎", "山田", "taro.yamada@example.com", "taro.yamada@example.com"},
	{"Maximilian-Alexander-Konstantin", "Wolfeschlegelsteinhausenbergerdorff-Montgomery-Smythe",
		"maximilian.alexander.konstantin.wolfeschlegelsteinhausenbergerdo@subsidiary.example.com",
		"maximilian.alexander.konstantin.wolfeschlegelsteinhausenbergerdo@subsidiary.example.com"},
	{"Dev", "Plus", "dev+okta@example.com", "dev+okta@example.com"},
	{"Bob", "SMITH", "Bob.SMITH@Example.COM", "Bob.SMITH@Example.COM"},
	{"Build", "Bot", "build.bot@example.com", ""}, // no email attribute at all
	// Case-only collision: the emails differ only in case (logins must be
	// unique in Okta, so the second login differs).
	{"Alice", "Upper", "Alice@example.com", "Alice@example.com"},
	{"Alice", "Lower", "alice.lower@example.com", "alice@example.com"},
	// Domain-only collision.
	{"John", "Doe", "john.doe@example.com", "john.doe@example.com"},
	{"John", "Doe", "john.doe@example.org", "john.doe@example.org"},
	{"Siobhán", "O'Brien", "siobhan.o'brien@example.com", "siobhan.o'brien@example.com"},
	{"Ана", "Иванова", "ana.ivanova@example.com", "ana.ivanova@example.com"},
}

// minNastyUsers and minNastyGroups are the org sizes from which the nasty
// cases are placed.
const (
	minNastyUsers  = 50
	minNastyGroups = 12
)

// nastyGroupNames are OKTA_GROUP names placed into every org of at least
// minNastyGroups groups. The case-insensitive twin of "DevOps" is an
// APP_GROUP, as Okta only lets app groups from different sources share a
// name.
var nastyGroupNames = []string{
	"***",
	"DevOps",
	"Équipe Données",
	"R&D / Research",
	"Platform Engineering Reliability and Developer Productivity Working Group (EMEA + APAC)",
}

const devOpsTwin = "devops"

// builder fills an Org with generated objects and their history, which
// ends at end.
type builder struct {
	o   *Org
	rng *rand.Rand
	end int64 // ms, the newest generated change
}

func newBuilder(opts OrgOptions) *builder {
	o := newOrg(opts)
	return &builder{
		o:   o,
		rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x6f6b7461)),
		end: o.start - opts.QuietPeriod.Milliseconds(),
	}
}

// before returns a random time, with milliseconds, between daysMin and
// daysMax days before t.
func (b *builder) before(t int64, daysMin, daysMax int) int64 {
	span := int64(daysMax-daysMin) * 86_400_000
	if span <= 0 {
		return t - int64(daysMin)*86_400_000
	}
	return t - int64(daysMin)*86_400_000 - b.rng.Int64N(span)
}

// between returns a random time in [a, c].
func (b *builder) between(a, c int64) int64 {
	if c <= a {
		return a
	}
	return a + b.rng.Int64N(c-a+1)
}

func (b *builder) addUser(rec userRec) int32 {
	if rec.id == "" {
		rec.id = b.o.newUserID()
	}
	if rec.typeID == "" {
		rec.typeID = b.o.userTypeID()
	}
	slot := int32(len(b.o.users))
	b.o.users = append(b.o.users, rec)
	b.o.userByID[rec.id] = slot
	b.o.userOrder = append(b.o.userOrder, slot) // generated ids ascend
	return slot
}

func (b *builder) addGroup(rec groupRec) int32 {
	if rec.id == "" {
		rec.id = b.o.newGroupID()
	}
	slot := int32(len(b.o.groups))
	b.o.groups = append(b.o.groups, rec)
	b.o.groupByID[rec.id] = slot
	b.o.groupOrder = append(b.o.groupOrder, slot)
	if rec.typ == okta.GroupTypeBuiltIn && rec.name == "Everyone" {
		b.o.everyone = slot
	}
	return slot
}

// timestamps fills a user's times consistently with its status.
func (b *builder) timestamps(u *userRec) {
	end := b.end
	u.created = b.before(end, 30, 1500)
	switch u.status {
	case okta.StatusStaged:
		u.statusChanged = 0
		u.lastUpdated = b.between(u.created, end)
		return
	case okta.StatusProvisioned:
		u.statusChanged = b.between(u.created, end)
		u.lastUpdated = u.statusChanged
		return
	}
	u.activated = b.between(u.created, u.created+86_400_000)
	u.passwordChanged = b.between(u.activated, end)
	u.statusChanged = u.activated
	if u.status != okta.StatusActive {
		u.statusChanged = b.between(u.activated, end)
	}
	if b.rng.IntN(10) < 8 {
		u.lastLogin = b.between(u.activated, end)
	}
	u.lastUpdated = b.between(max(u.statusChanged, u.passwordChanged), end)
}

func (b *builder) status() string {
	n := b.rng.IntN(100)
	for _, s := range statusWeights {
		if n < s.weight {
			return s.status
		}
		n -= s.weight
	}
	return okta.StatusActive
}

// GenerateOrg generates an org deterministically from opts: users of every
// status (mostly ACTIVE, about 4 % DEPROVISIONED), OKTA_GROUPs with a
// parent/child hierarchy in the orgId/parentOrgId profile attributes,
// APP_GROUPs from a directory and a GitHub app, the BUILT_IN Everyone
// group holding every user, and memberships with a realistic skew (a few
// groups with thousands of members, many small ones, some empty).
//
// Orgs of at least 50 users and 12 groups also hold the cases that trip
// naive mappings: unicode and very long names, emails with '+', upper case
// or no email at all, emails colliding by case only or by domain only, a
// group named "***", group names colliding case-insensitively, a parent
// that does not exist, a group that is its own parent and a two-group
// cycle.
func GenerateOrg(opts OrgOptions) *Org {
	opts = opts.withDefaults()
	b := newBuilder(opts)
	b.o.users = make([]userRec, 0, opts.Users)
	b.o.userOrder = make([]int32, 0, opts.Users)
	b.generateUsers(opts.Users)
	b.generateGroups(opts.Groups, opts.Users >= minNastyUsers)
	b.generateMemberships(opts.MembershipsPerUser)
	b.logHistory()
	return b.o
}

// logHistory writes the System Log events of the generated changes that
// fall within LogRetention of Start: creations, profile updates and
// deactivations of users, creations and profile updates of groups.
// Membership changes are not logged, as the generator does not keep who
// joined when.
func (b *builder) logHistory() {
	o := b.o
	from := o.start - LogRetention.Milliseconds()
	if b.end < from {
		return
	}
	type change struct {
		at        int64
		eventType string
		target    eventTarget
	}
	var changes []change
	add := func(at int64, eventType string, target eventTarget) {
		if at >= from {
			changes = append(changes, change{at, eventType, target})
		}
	}
	for _, slot := range o.userOrder {
		u := &o.users[slot]
		add(u.created, "user.lifecycle.create", o.userTarget(slot))
		if u.status == okta.StatusDeprovisioned && u.statusChanged != 0 {
			add(u.statusChanged, "user.lifecycle.deactivate", o.userTarget(slot))
		}
		if u.lastUpdated > max(u.created, u.statusChanged) {
			add(u.lastUpdated, "user.account.update_profile", o.userTarget(slot))
		}
	}
	for _, slot := range o.groupOrder {
		g := &o.groups[slot]
		add(g.created, "group.lifecycle.create", o.groupTarget(slot))
		if g.lastUpdated > g.created {
			add(g.lastUpdated, "group.profile.update", o.groupTarget(slot))
		}
	}
	slices.SortStableFunc(changes, func(a, c change) int { return cmp.Compare(a.at, c.at) })
	for _, c := range changes {
		o.log(c.at, c.eventType, c.target)
	}
}

func (b *builder) generateUsers(n int) {
	nasty := map[int]nastyUser{}
	if n >= minNastyUsers {
		for j, u := range nastyUsers {
			nasty[j*n/len(nastyUsers)+1] = u
		}
	}
	typeID := b.o.userTypeID()
	nf, nl := len(firstNames), len(lastNames)
	for i := range n {
		u := userRec{typeID: typeID, status: b.status()}
		if nu, ok := nasty[i]; ok {
			u.profile.FirstName, u.profile.LastName = nu.first, nu.last
			u.profile.Login, u.profile.Email = nu.login, nu.email
			if u.status == okta.StatusDeprovisioned {
				u.status = okta.StatusActive // keep the nasty cases visible in plain lists
			}
		} else {
			a := i % nf
			c := (i/nf + a*13) % nl
			first, last := firstNames[a], lastNames[c]
			local := strings.ToLower(first) + "." + strings.ToLower(last)
			if round := i / (nf * nl); round > 0 {
				local += strconv.Itoa(round + 1)
			}
			domain := "example.com"
			if i%17 == 5 {
				domain = "subsidiary.example.com"
			}
			u.profile.FirstName, u.profile.LastName = first, last
			u.profile.Login = local + "@" + domain
			u.profile.Email = u.profile.Login
		}
		p := &u.profile
		p.DisplayName = p.FirstName + " " + p.LastName
		p.Department = departments[b.rng.IntN(len(departments))]
		p.Title = titles[b.rng.IntN(len(titles))]
		p.EmployeeNumber = "E" + strconv.Itoa(100000+i)
		p.CostCenter = "CC-" + strconv.Itoa(100+b.rng.IntN(40))
		p.UserType = "Employee"
		if i%11 == 7 {
			p.UserType = "Contractor"
		}
		if i > 10 && b.rng.IntN(2) == 0 {
			p.ManagerID = b.o.users[b.rng.IntN(i/10+1)].id
		}
		if b.rng.IntN(10) != 0 {
			u.custom = append(u.custom, attr{"githubUsername", strings.ToLower(ascii(p.FirstName)) + "-" + strings.ToLower(ascii(p.LastName)) + strconv.Itoa(i%100)})
		}
		if i%29 == 3 {
			u.custom = append(u.custom, attr{"skills", []any{"go", "kubernetes"}})
		}
		b.timestamps(&u)
		b.addUser(u)
	}
}

// ascii keeps the ASCII letters and digits of s.
func ascii(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return "user"
	}
	return sb.String()
}

func (b *builder) generateGroups(n int, withNasty bool) {
	end := b.end
	created := b.before(end, 1500, 1600)
	b.addGroup(groupRec{
		typ: okta.GroupTypeBuiltIn, name: "Everyone", description: "All users in your organization",
		created: created, lastUpdated: created, lastMembershipUpdated: b.before(end, 0, 2),
	})
	adApp := oktaID("0oa", b.o.seed, 'a', 1)
	githubApp := oktaID("0oa", b.o.seed, 'a', 2)
	nasty := map[int]string{}
	if withNasty && n >= minNastyGroups {
		for j, name := range nastyGroupNames {
			nasty[j*(n-1)/len(nastyGroupNames)+1] = name
		}
	}
	var withOrgID []int32 // OKTA_GROUP slots with an orgId, in order
	limit := n
	if len(nasty) > 0 {
		limit-- // room for the case-insensitive twin of DevOps
	}
	for i := 1; i < limit; i++ {
		g := groupRec{}
		g.created = b.before(end, 1, 1400)
		g.lastUpdated = b.between(g.created, end)
		g.lastMembershipUpdated = b.between(g.created, end)
		word := teamWords[i%len(teamWords)]
		switch {
		case nasty[i] != "":
			g.typ, g.name = okta.GroupTypeOkta, nasty[i]
			g.description = "Edge case: " + g.name
			if g.name == "***" {
				break // no hierarchy attributes at all
			}
			g.custom = []attr{{AttrOrgID, "org-x" + strconv.Itoa(i)}}
		case i%7 == 3 && i%2 == 1:
			g.typ, g.sourceID = okta.GroupTypeApp, adApp
			sam := "SG-" + strings.ReplaceAll(word, " ", "") + "-" + strconv.Itoa(i)
			g.name, g.description = sam, "Directory security group"
			g.custom = []attr{
				{"dn", "CN=" + sam + ",OU=Groups,DC=corp,DC=example,DC=com"},
				{"groupScope", "Global"},
				{"groupType", "Security"},
				{"samAccountName", sam},
				{"windowsDomainQualifiedName", "CORP\\" + sam},
			}
		case i%7 == 3:
			g.typ, g.sourceID = okta.GroupTypeApp, githubApp
			g.name = "gh-" + strings.ToLower(strings.ReplaceAll(word, " ", "-")) + "-" + strconv.Itoa(i)
			g.description = "GitHub team"
		default:
			g.typ = okta.GroupTypeOkta
			g.name = word + " " + strconv.Itoa(i)
			if i < len(teamWords) {
				g.name = word
			}
			g.description = word + " team"
			if i%10 != 9 { // about one in ten has no place in the hierarchy
				g.custom = []attr{{AttrOrgID, "org-" + strconv.Itoa(i)}}
			}
		}
		slot := b.addGroup(g)
		if g.typ == okta.GroupTypeOkta && g.attr(AttrOrgID) != nil {
			withOrgID = append(withOrgID, slot)
		}
	}
	if len(nasty) > 0 {
		// The case-insensitive twin of DevOps, from the GitHub app.
		created := b.before(end, 1, 1400)
		b.addGroup(groupRec{typ: okta.GroupTypeApp, sourceID: githubApp, name: devOpsTwin, description: "GitHub team",
			created: created, lastUpdated: created, lastMembershipUpdated: created})
	}
	// A tree, five children per parent, over the groups with an orgId.
	for k, slot := range withOrgID {
		if k == 0 {
			continue
		}
		parent := b.o.groups[withOrgID[(k-1)/5]].attr(AttrOrgID)
		g := &b.o.groups[slot]
		g.custom = append(g.custom, attr{AttrParentOrgID, parent})
	}
	if withNasty && len(withOrgID) >= 8 {
		last := len(withOrgID) - 1
		setAttr(&b.o.groups[withOrgID[last]], AttrParentOrgID, "org-missing")
		self := &b.o.groups[withOrgID[last-1]]
		setAttr(self, AttrParentOrgID, self.attr(AttrOrgID))
		x, y := &b.o.groups[withOrgID[last-2]], &b.o.groups[withOrgID[last-3]]
		setAttr(x, AttrParentOrgID, y.attr(AttrOrgID))
		setAttr(y, AttrParentOrgID, x.attr(AttrOrgID))
	}
}

func setAttr(g *groupRec, name string, value any) {
	for i := range g.custom {
		if g.custom[i].name == name {
			g.custom[i].value = value
			return
		}
	}
	g.custom = append(g.custom, attr{name, value})
	// keep custom attributes sorted by name for the encoder
	for i := len(g.custom) - 1; i > 0 && g.custom[i].name < g.custom[i-1].name; i-- {
		g.custom[i], g.custom[i-1] = g.custom[i-1], g.custom[i]
	}
}

// generateMemberships puts every user in Everyone and on average perUser
// other groups, chosen with a skew so that a few groups are large. About
// one group in 25 stays empty.
func (b *builder) generateMemberships(perUser int) {
	o := b.o
	var candidates []int32
	for _, slot := range o.groupOrder {
		if slot == o.everyone || slot%25 == 24 {
			continue
		}
		candidates = append(candidates, slot)
	}
	b.rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	if o.everyone >= 0 {
		g := &o.groups[o.everyone]
		g.members = make([]int32, len(o.userOrder))
		copy(g.members, o.userOrder)
	}
	if len(candidates) == 0 {
		return
	}
	counts := make([]int32, len(o.groups))
	// Two passes: count, then fill exactly sized slices, to keep large
	// orgs compact.
	picks := make([]int32, 0, 2*perUser+1)
	pick := func(rng *rand.Rand) []int32 {
		picks = picks[:0]
		k := rng.IntN(2*perUser + 1)
		for range k {
			u := rng.Float64()
			c := candidates[int(u*u*float64(len(candidates)))]
			dup := false
			for _, p := range picks {
				if p == c {
					dup = true
					break
				}
			}
			if !dup {
				picks = append(picks, c)
			}
		}
		return picks
	}
	seed := b.rng.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	for range o.userOrder {
		for _, c := range pick(rng) {
			counts[c]++
		}
	}
	for slot, c := range counts {
		if c > 0 {
			o.groups[slot].members = make([]int32, 0, c)
		}
	}
	rng = rand.New(rand.NewPCG(seed, 1))
	for _, uslot := range o.userOrder {
		for _, c := range pick(rng) {
			o.groups[c].members = append(o.groups[c].members, uslot)
		}
	}
}

// DemoOrg returns a small, realistic org: an engineering company of about
// 60 people in 15 groups, with a hierarchy (Engineering > Platform,
// Backend, ...), an app group, Everyone, and a few of the cases that trip
// naive mappings. It is the same every time.
func DemoOrg() *Org {
	b := newBuilder(OrgOptions{Seed: 42}.withDefaults())
	type grp struct {
		name, desc, typ, orgID, parent string
	}
	groups := []grp{
		{"Everyone", "All users in your organization", okta.GroupTypeBuiltIn, "", ""},
		{"Acme", "The whole company", okta.GroupTypeOkta, "acme", ""},
		{"Engineering", "Everyone who builds the product", okta.GroupTypeOkta, "eng", "acme"},
		{"Platform", "Internal platform and developer tooling", okta.GroupTypeOkta, "eng-platform", "eng"},
		{"Backend", "APIs and services", okta.GroupTypeOkta, "eng-backend", "eng"},
		{"Frontend", "Web application", okta.GroupTypeOkta, "eng-frontend", "eng"},
		{"Mobile", "iOS and Android apps", okta.GroupTypeOkta, "eng-mobile", "eng"},
		{"SRE", "Site reliability", okta.GroupTypeOkta, "eng-sre", "eng-platform"},
		{"Data", "Data engineering and analytics", okta.GroupTypeOkta, "eng-data", "eng"},
		{"Product", "Product management and design", okta.GroupTypeOkta, "product", "acme"},
		{"Design", "Product design", okta.GroupTypeOkta, "product-design", "product"},
		{"Sales", "Sales and customer success", okta.GroupTypeOkta, "sales", "acme"},
		{"People", "People operations", okta.GroupTypeOkta, "people", "acme"},
		{"Interns 2024", "Summer interns (their team was reorganized away)", okta.GroupTypeOkta, "interns", "eng-research"},
		{"***", "Legacy group with an unusable name", okta.GroupTypeOkta, "", ""},
		{"github-admins", "GitHub organization owners", okta.GroupTypeApp, "", ""},
	}
	githubApp := oktaID("0oa", b.o.seed, 'a', 2)
	slots := map[string]int32{}
	for i, g := range groups {
		created := b.end - int64(400-i)*86_400_000 - int64(i)*3_723_456
		rec := groupRec{typ: g.typ, name: g.name, description: g.desc, created: created,
			lastUpdated: created + 3_600_000, lastMembershipUpdated: b.end - int64(i+1)*60_000}
		if g.orgID != "" {
			rec.custom = append(rec.custom, attr{AttrOrgID, g.orgID})
		}
		if g.parent != "" {
			setAttr(&rec, AttrParentOrgID, g.parent)
		}
		if g.typ == okta.GroupTypeApp {
			rec.sourceID = githubApp
		}
		slots[g.name] = b.addGroup(rec)
	}
	type person struct {
		first, last, email, title, dept, status, github string
		groups                                          []string
	}
	people := []person{
		{"Grace", "Hopper", "grace.hopper@acme.example", "CTO", "Engineering", "", "ghopper", []string{"Acme", "Engineering", "github-admins"}},
		{"Ada", "Lovelace", "ada.lovelace@acme.example", "CEO", "Leadership", "", "", []string{"Acme"}},
		{"Linus", "Berg", "linus.berg@acme.example", "Engineering Manager", "Engineering", "", "lberg", []string{"Engineering", "Platform", "github-admins"}},
		{"Margaret", "Hamilton", "margaret.hamilton@acme.example", "Principal Engineer", "Engineering", "", "mhamilton", []string{"Engineering", "Backend"}},
		{"Ken", "Thompson", "ken.thompson@acme.example", "Staff Engineer", "Engineering", "", "kthompson", []string{"Platform"}},
		{"Rob", "Pike", "rob.pike@acme.example", "Staff Engineer", "Engineering", "", "rpike", []string{"Platform", "Backend"}},
		{"Barbara", "Liskov", "barbara.liskov@acme.example", "Senior Engineer", "Engineering", "", "bliskov", []string{"Backend"}},
		{"Dennis", "Ritchie", "dennis.ritchie@acme.example", "Senior Engineer", "Engineering", "", "dritchie", []string{"Backend"}},
		{"Frances", "Allen", "frances.allen@acme.example", "Engineer", "Engineering", "", "fallen", []string{"Backend"}},
		{"Edsger", "Dijkstra", "edsger.dijkstra@acme.example", "Engineer", "Engineering", "", "edijkstra", []string{"Backend"}},
		{"Radia", "Perlman", "radia.perlman@acme.example", "SRE", "Engineering", "", "rperlman", []string{"SRE"}},
		{"Vint", "Cerf", "vint.cerf@acme.example", "SRE", "Engineering", "", "vcerf", []string{"SRE"}},
		{"Kelsey", "Nguyen", "kelsey.nguyen@acme.example", "SRE Lead", "Engineering", "", "knguyen", []string{"SRE", "Platform"}},
		{"Tim", "Berners-Lee", "tim.berners-lee@acme.example", "Frontend Lead", "Engineering", "", "tbl", []string{"Frontend"}},
		{"Brendan", "Eich", "brendan.eich@acme.example", "Engineer", "Engineering", "", "beich", []string{"Frontend"}},
		{"Jordan", "Walke", "jordan.walke@acme.example", "Engineer", "Engineering", "", "jwalke", []string{"Frontend"}},
		{"Evan", "You", "evan.you@acme.example", "Engineer", "Engineering", "", "eyou", []string{"Frontend"}},
		{"Chris", "Lattner", "chris.lattner@acme.example", "Mobile Lead", "Engineering", "", "clattner", []string{"Mobile"}},
		{"Andy", "Rubin", "andy.rubin@acme.example", "Engineer", "Engineering", "SUSPENDED", "arubin", []string{"Mobile"}},
		{"Mei", "Chen", "mei.chen@acme.example", "Engineer", "Engineering", "", "meichen", []string{"Mobile"}},
		{"Hadley", "Wickham", "hadley.wickham@acme.example", "Data Lead", "Engineering", "", "hwickham", []string{"Data"}},
		{"Wes", "McKinney", "wes.mckinney@acme.example", "Data Engineer", "Engineering", "", "wesm", []string{"Data"}},
		{"Fei-Fei", "Li", "feifei.li@acme.example", "ML Engineer", "Engineering", "", "feifeili", []string{"Data"}},
		{"Jeff", "Dean", "jeff.dean@acme.example", "Staff Engineer", "Engineering", "", "jeffdean", []string{"Data", "Backend"}},
		{"Marty", "Cagan", "marty.cagan@acme.example", "VP Product", "Product", "", "", []string{"Product"}},
		{"Teresa", "Torres", "teresa.torres@acme.example", "Product Manager", "Product", "", "", []string{"Product"}},
		{"Shreyas", "Doshi", "shreyas.doshi@acme.example", "Product Manager", "Product", "", "", []string{"Product"}},
		{"Dieter", "Rams", "dieter.rams@acme.example", "Design Lead", "Design", "", "", []string{"Design"}},
		{"Jony", "Ive", "jony.ive@acme.example", "Designer", "Design", "DEPROVISIONED", "", []string{"Design"}},
		{"Julie", "Zhuo", "julie.zhuo@acme.example", "Designer", "Design", "", "", []string{"Design"}},
		{"Susan", "Kare", "susan.kare@acme.example", "Designer", "Design", "", "", []string{"Design"}},
		{"Zig", "Ziglar", "zig.ziglar@acme.example", "VP Sales", "Sales", "", "", []string{"Sales"}},
		{"Mary", "Kay", "mary.kay@acme.example", "Account Executive", "Sales", "", "", []string{"Sales"}},
		{"Dale", "Carnegie", "dale.carnegie@acme.example", "Account Executive", "Sales", "", "", []string{"Sales"}},
		{"Brian", "Tracy", "brian.tracy@acme.example", "Account Executive", "Sales", "LOCKED_OUT", "", []string{"Sales"}},
		{"Laszlo", "Bock", "laszlo.bock@acme.example", "Head of People", "People", "", "", []string{"People"}},
		{"Patty", "McCord", "patty.mccord@acme.example", "Recruiter", "People", "", "", []string{"People"}},
		{"Sam", "Newhire", "sam.newhire@acme.example", "Engineer", "Engineering", "STAGED", "", []string{"Backend"}},
		{"Pat", "Provisioned", "pat.provisioned@acme.example", "Engineer", "Engineering", "PROVISIONED", "", []string{"Frontend"}},
		{"Robin", "Expired", "robin.expired@acme.example", "Analyst", "Data", "PASSWORD_EXPIRED", "", []string{"Data"}},
		{"Quinn", "Recovery", "quinn.recovery@acme.example", "Engineer", "Engineering", "RECOVERY", "", []string{"Platform"}},
		{"Alan", "Turing", "alan.turing@acme.example", "Intern", "Engineering", "", "aturing", []string{"Interns 2024"}},
		{"Katherine", "Johnson", "katherine.johnson@acme.example", "Intern", "Engineering", "", "kjohnson", []string{"Interns 2024"}},
		{"José", "Müller", "jose.muller@acme.example", "Senior Engineer", "Engineering", "", "jmuller", []string{"Backend"}},
		{"太郎", "山田", "taro.yamada@acme.example", "Engineer", "Engineering", "", "tyamada", []string{"Platform"}},
		{"Dev", "Plus", "dev+okta@acme.example", "Engineer", "Engineering", "", "devplus", []string{"Platform"}},
		{"Bob", "SMITH", "Bob.SMITH@ACME.example", "Engineer", "Engineering", "", "bsmith", []string{"SRE"}},
		{"Alice", "Upper", "Alice@acme.example", "Engineer", "Engineering", "", "alice-upper", []string{"Backend"}},
		{"Alice", "Lower", "alice@acme.example", "Engineer", "Engineering", "", "alice-lower", []string{"Frontend"}},
		{"John", "Doe", "john.doe@acme.example", "Engineer", "Engineering", "", "jdoe", []string{"Backend"}},
		{"John", "Doe", "john.doe@acme-labs.example", "Researcher", "Engineering", "", "jdoe-labs", []string{"Data"}},
		{"Maximilian-Alexander-Konstantin", "Wolfeschlegelsteinhausenbergerdorff", "maximilian.alexander.konstantin.wolfeschlegelsteinhausenbergerdo@acme.example", "Engineer", "Engineering", "", "", []string{"Mobile"}},
		{"Build", "Bot", "", "Service account", "Engineering", "", "acme-build-bot", []string{"Platform", "github-admins"}},
		{"Olga", "Ivanova", "olga.ivanova@acme.example", "Engineer", "Engineering", "", "oivanova", []string{"Backend"}},
		{"Kwame", "Mensah", "kwame.mensah@acme.example", "Engineer", "Engineering", "", "kmensah", []string{"Platform"}},
		{"Priya", "Patel", "priya.patel@acme.example", "Engineer", "Engineering", "", "ppatel", []string{"Data"}},
		{"Diego", "Costa", "diego.costa@acme.example", "Engineer", "Engineering", "", "dcosta", []string{"Mobile"}},
		{"Ingrid", "Larsen", "ingrid.larsen@acme.example", "Account Executive", "Sales", "", "", []string{"Sales"}},
		{"Omar", "Haddad", "omar.haddad@acme.example", "Product Manager", "Product", "", "", []string{"Product"}},
		{"Fatima", "Khan", "fatima.khan@acme.example", "Recruiter", "People", "", "", []string{"People"}},
	}
	typeID := b.o.userTypeID()
	for i, p := range people {
		status := p.status
		if status == "" {
			status = okta.StatusActive
		}
		login := p.email
		if login == "" {
			login = "build.bot@acme.example"
		}
		if p.first == "Alice" && p.last == "Lower" {
			login = "alice.lower@acme.example" // logins are unique in Okta; emails need not be
		}
		u := userRec{typeID: typeID, status: status}
		u.profile = okta.UserProfile{
			Login: login, Email: p.email, FirstName: p.first, LastName: p.last,
			DisplayName: p.first + " " + p.last, Title: p.title, Department: p.dept,
			EmployeeNumber: strconv.Itoa(1001 + i), CostCenter: "CC-" + strconv.Itoa(100+len(p.dept)),
			UserType: "Employee", Organization: "Acme Robotics",
		}
		if p.github != "" {
			u.custom = []attr{{"githubUsername", p.github}}
		}
		b.timestamps(&u)
		slot := b.addUser(u)
		for _, g := range p.groups {
			gs := slots[g]
			b.o.groups[gs].members = append(b.o.groups[gs].members, slot)
		}
	}
	// Everyone holds every user; the bosses sit in the top groups.
	ev := &b.o.groups[slots["Everyone"]]
	ev.members = append([]int32(nil), b.o.userOrder...)
	return b.o
}
