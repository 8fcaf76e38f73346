package catalog

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// genOrg generates a random small org full of the awkward cases: colliding
// and unspellable names, duplicate ids, missing emails, unknown members,
// hierarchy keys that repeat, point nowhere, at themselves or in circles.
func genOrg(rng *rand.Rand, peerInputs []string) Input {
	pick := func(list ...string) string { return list[rng.IntN(len(list))] }
	word := func() string {
		switch rng.IntN(4) {
		case 0:
			return peerInputs[rng.IntN(len(peerInputs))]
		case 1:
			return pick("john.doe", "John.Doe", "jane+x", "zoë.ørsted", "山田", "-x-", "a..b", "bob", "BOB", "Bob",
				"yes", "null", "123", "ivan", "иван", "łukasz", strings.Repeat("long", 20), "x_y", "o'brien")
		default:
			return pick("alice", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory")
		}
	}
	// Ids are unique, as Okta's are, but may differ only in case.
	seen := map[string]bool{}
	id := func(prefix string) string {
		for {
			v := fmt.Sprintf("%s%d%c", prefix, rng.IntN(1000), "aA"[rng.IntN(2)])
			if !seen[v] {
				seen[v] = true
				return v
			}
		}
	}
	created := func() time.Time {
		if rng.IntN(10) == 0 {
			return time.Time{}
		}
		return time.Date(2015+rng.IntN(4), time.Month(1+rng.IntN(2)), 1, 0, 0, 0, 0, time.UTC)
	}
	statuses := append(defaultUserStatuses(), okta.StatusDeprovisioned)
	var in Input
	for range rng.IntN(60) {
		email := word() + "@" + pick("example.com", "Example.com", "other.org", "ex.co.uk", "exämple.de")
		if rng.IntN(10) == 0 {
			email = ""
		}
		login := email
		if login == "" || rng.IntN(5) == 0 {
			login = word()
		}
		u := okta.User{
			ID: id("00u"), Status: pick(statuses...), Created: created(),
			Profile: okta.UserProfile{
				Email: email, Login: login, FirstName: word(), LastName: pick("", "Doe", "Ørsted"),
				DisplayName: pick("", "", "Display Name", "Line\nBreak", "yes"), NickName: word(),
				Department: pick("", "Eng", "R&D", "***", strings.Repeat("d", 70)),
				Custom:     okta.AttrsOf(map[string]any{"githubUsername": word(), "level": float64(rng.IntN(5))}),
			},
		}
		in.Users = append(in.Users, u)
		if rng.IntN(20) == 0 {
			in.Users = append(in.Users, u) // listed twice
		}
	}
	keys := []string{"", "a", "b", "c", "d", "e", "f"}
	for range rng.IntN(25) {
		g := okta.Group{
			ID: id("00g"), Created: created(),
			Type: pick(okta.GroupTypeOkta, okta.GroupTypeOkta, okta.GroupTypeOkta, okta.GroupTypeApp, okta.GroupTypeBuiltIn),
			Profile: okta.GroupProfile{
				Name:        pick("Platform Team", "platform team", "PLATFORM-TEAM", "R&D / EMEA", "***", "", "日本", "Ops", "ops", word()),
				Description: pick("", "desc", "multi\nline"),
				Custom:      okta.AttrsOf(map[string]any{"orgId": pick(keys...), "parentOrgId": pick(append(keys, "zz")...)}),
			},
		}
		in.Groups = append(in.Groups, g)
	}
	in.Members = make(map[string][]string)
	for _, g := range in.Groups {
		var ids []string
		for _, u := range in.Users {
			if rng.IntN(3) == 0 {
				ids = append(ids, u.ID)
			}
		}
		if rng.IntN(5) == 0 {
			ids = append(ids, "00uUNKNOWN")
		}
		in.Members[g.ID] = ids
	}
	if rng.IntN(5) == 0 {
		in.Members["00gUNKNOWN"] = []string{"00u1"}
	}
	return in
}

func genOptions(rng *rand.Rand) Options {
	pick := func(list ...string) string { return list[rng.IntN(len(list))] }
	o := DefaultOptions()
	o.UserNaming = pick(UserNamingID, UserNamingKebabCaseEmail, UserNamingStripDomainEmail, UserNamingSlugifyEmail, "profile:nickName")
	o.GroupNaming = pick(GroupNamingID, GroupNamingKebabCaseName, GroupNamingProfileName, "profile:orgId")
	o.Namespace = pick("", "okta", "team-a")
	switch rng.IntN(3) {
	case 0:
		o.HierarchyKey, o.HierarchyParentKey = "orgId", "parentOrgId"
	case 1:
		o.HierarchyParentKey = "profile.parentOrgId"
	}
	switch rng.IntN(4) {
	case 0:
		o.IncludeGroupTypes = []string{okta.GroupTypeOkta}
	case 1:
		o.ExcludeGroupTypes = []string{}
	case 2:
		o.ExcludeGroupTypes = []string{okta.GroupTypeApp}
	}
	o.IncludeEmptyGroups = rng.IntN(2) == 0
	o.UsersFromGroups = rng.IntN(3) == 0
	o.IncludeMembers = rng.IntN(2) == 0
	if rng.IntN(3) == 0 {
		o.UserStatuses = []string{okta.StatusActive, okta.StatusDeprovisioned}
	}
	o.UserAnnotations = []string{"department", "githubUsername"}
	o.UserMappings = []AttributeMapping{{Attribute: "githubUsername", Label: "github-user"}, {Attribute: "level", Label: "example.com/level"}}
	o.GroupAnnotations = []string{"orgId"}
	o.GroupMappings = []AttributeMapping{{Attribute: "parentOrgId", Label: "parent-org"}}
	if rng.IntN(2) == 0 {
		o.GroupNamespaces = map[string]string{okta.GroupTypeApp: pick("apps", "okta", "default")}
		o.UserTransform = Transform{
			Exclude:     pick("", `hasPrefix "a" .profile.login`),
			DisplayName: pick(`{{.profile.firstName}}`+"\n\t"+`{{.profile.lastName}}`, `{{join " " .profile.firstName .profile.lastName | default .profile.login}}`),
			Picture:     pick(`{{.profile.email}}`, `https://avatars.example.com/{{.profile.login | urlquery}}`, `{{.profile.login | before "@"}}://x`),
			Title:       pick("", `{{truncate 3 .profile.login}}`, `{{.profile.login | replace "" "\u00a0"}}`),
			Description: pick("", `{{.profile.login | replace "" "-" | replace "-" "--"| replace "-" "--" | replace "-" "--"}}`),
			Labels:      map[string]string{"example.com/login": `{{.profile.login}}`, "dept": `{{.profile.department | lower}}`},
			Annotations: map[string]string{"example.com/login": `{{.profile.login | replace "" " "}}`},
		}
		o.GroupTransform = Transform{
			Exclude:     pick("", `contains "a" .profile.name`),
			DisplayName: `{{.profile.name}} ({{.type}})`,
			Picture:     `https://logos.example.com/{{.id}}.png`,
			Labels:      map[string]string{"name": `{{.profile.name}}`},
		}
	}
	return o
}

// TestBuildProperties maps many generated orgs and checks every property
// Backstage relies on, plus order independence and peer compatibility.
func TestBuildProperties(t *testing.T) {
	t.Parallel()
	var peerInputs []string
	for _, c := range loadPeerCases(t) {
		peerInputs = append(peerInputs, c.Input)
	}
	alts := lodashAlts()
	runs := 300
	if testing.Short() {
		runs = 50
	}
	for i := range runs {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		opts := genOptions(rng)
		in := genOrg(rng, peerInputs)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if err := opts.Validate(); err != nil {
				t.Fatalf("options: %v", err)
			}
			res := Build(opts, in)
			checkEntities(t, opts, res)
			checkSelection(t, opts, in, res)
			checkRenames(t, res)
			checkPeerNames(t, alts, opts, res, in)
			again := Build(opts, shuffled(rng, in))
			if a, b := encodeStream(res.Entities), encodeStream(again.Entities); !bytes.Equal(a, b) {
				t.Errorf("shuffled input gives other output")
			}
		})
	}
}

func checkSelection(t *testing.T, opts Options, in Input, res *Result) {
	t.Helper()
	statuses := map[string]string{}
	for _, u := range in.Users {
		statuses[u.ID] = u.Status
	}
	for _, e := range res.Entities {
		if e.Kind == KindUser {
			st := statuses[e.OktaID]
			if len(opts.UserStatuses) == 0 && st == okta.StatusDeprovisioned {
				t.Errorf("%s: DEPROVISIONED user emitted by default", e.Ref())
			}
			if len(opts.UserStatuses) > 0 && !slices.Contains(opts.UserStatuses, st) {
				t.Errorf("%s: status %s not selected", e.Ref(), st)
			}
			if login, _ := e.Annotation(AnnotationLogin); opts.UserTransform.Exclude != "" && strings.HasPrefix(login, "a") {
				t.Errorf("%s: login %q, excluded", e.Ref(), login)
			}
			if opts.UsersFromGroups && len(e.User.MemberOf) == 0 {
				t.Errorf("%s: in no group, emitted in users-from-groups mode", e.Ref())
			}
			continue
		}
		typ, _ := e.Annotation(AnnotationGroupType)
		if opts.GroupTransform.Exclude != "" && strings.Contains(strings.TrimSuffix(e.Group.Profile.DisplayName, " ("+typ+")"), "a") {
			t.Errorf("%s: name %q, excluded", e.Ref(), e.Group.Profile.DisplayName)
		}
		if len(opts.IncludeGroupTypes) > 0 && !slices.Contains(opts.IncludeGroupTypes, typ) {
			t.Errorf("%s: type %s not included", e.Ref(), typ)
		}
		excl := opts.ExcludeGroupTypes
		if excl == nil {
			excl = []string{okta.GroupTypeBuiltIn}
		}
		if slices.Contains(excl, typ) {
			t.Errorf("%s: type %s excluded", e.Ref(), typ)
		}
		if !opts.IncludeEmptyGroups && len(e.Group.Children) == 0 && !hasMembers(res, &e) {
			t.Errorf("%s: empty group emitted", e.Ref())
		}
	}
}

func hasMembers(res *Result, group *Entity) bool {
	want := strings.ToLower(group.Ref())
	for _, e := range res.Entities {
		if e.Kind == KindUser && slices.ContainsFunc(e.User.MemberOf, func(r string) bool {
			return resolveRef(r, "group", e.Metadata.Namespace) == want
		}) {
			return true
		}
	}
	return false
}

func checkRenames(t *testing.T, res *Result) {
	t.Helper()
	names := map[string]string{}
	for _, e := range res.Entities {
		names[e.Kind+"/"+e.OktaID] = e.Metadata.Name
	}
	if len(res.Report.Renames) != min(res.Report.RenamesTotal, ReportListLimit) {
		t.Errorf("%d renames listed of %d", len(res.Report.Renames), res.Report.RenamesTotal)
	}
	for _, r := range res.Report.Renames {
		if got := names[r.Kind+"/"+r.OktaID]; got != r.To {
			t.Errorf("rename %+v: the entity is named %q", r, got)
		}
		if r.From == r.To {
			t.Errorf("rename %+v renames nothing", r)
		}
	}
}

// checkPeerNames requires our name wherever the peer's name is valid and
// unique (case-insensitively) among the emitted entities of its kind.
func checkPeerNames(t *testing.T, alts []lodashAlt, opts Options, res *Result, in Input) {
	t.Helper()
	users := map[string]*okta.User{}
	for i := range in.Users {
		users[in.Users[i].ID] = &in.Users[i]
	}
	groups := map[string]*okta.Group{}
	for i := range in.Groups {
		groups[in.Groups[i].ID] = &in.Groups[i]
	}
	peer := map[string]string{} // kind/okta id -> peer name
	count := map[string]int{}   // kind/lower(peer name) -> how many
	for _, e := range res.Entities {
		var name string
		var ok bool
		if e.Kind == KindUser {
			name, ok = peerUserName(alts, opts.UserNaming, users[e.OktaID])
		} else {
			name, ok = peerGroupName(alts, opts.GroupNaming, groups[e.OktaID])
		}
		if !ok || !bsValidName(name) {
			continue
		}
		peer[e.Kind+"/"+e.OktaID] = name
		count[e.Kind+"/"+strings.ToLower(name)]++
	}
	for _, e := range res.Entities {
		name, ok := peer[e.Kind+"/"+e.OktaID]
		if !ok || count[e.Kind+"/"+strings.ToLower(name)] != 1 {
			continue
		}
		if e.Metadata.Name != name {
			t.Errorf("%s (okta %s): the peer's valid, unique name is %q", e.Ref(), e.OktaID, name)
		}
	}
}
