package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// buildOrgs maps orgs and makes every entity, as Build does for one.
func buildOrgs(orgs []OrgInput) *Result { return MapOrgs(orgs).Result() }

// date is midnight UTC of the day s names (2006-01-02).
func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// globexInput is a second, small org written to contest the names of the
// fixture org (testdata/org.json) under each rule of precedence: an
// earlier created user and group, an exact name over a sanitised one, a
// smaller id at the same creation time, and a user and a group with the
// fixture's own id and creation time, which only the org order tells
// apart. One user's email is valid as a name but too long for a prefix.
func globexInput() Input {
	user := func(id, email, created string) okta.User {
		first, _, _ := strings.Cut(email, "@")
		return okta.User{ID: id, Status: okta.StatusActive, Created: date(created), LastUpdated: date(created),
			Profile: okta.UserProfile{Login: email, Email: email, FirstName: first, LastName: "Globex"}}
	}
	group := func(id, typ, name, created string) okta.Group {
		return okta.Group{ID: id, Type: typ, Created: date(created), LastUpdated: date(created),
			Profile: okta.GroupProfile{Name: name, Description: name + " at Globex"}}
	}
	return Input{
		Users: []okta.User{
			user("00uG1", "alice@globex.example", "2018-01-01"),      // acme's alice is from 2019
			user("00uG2", "Zoe.Orsted@globex.example", "2023-01-01"), // acme's is Zoë.Ørsted, sanitised
			user("00u14", "yes@globex.example", "2020-10-01"),        // acme's 00u14, created the same day
			user("00u00", "lonely@globex.example", "2021-02-01"),     // acme's lonely (00u17), the same day
			user("00uG3", "wile.e.coyote.super.genius.who.orders.every.gadget.from.acme@globex.example", "2019-05-01"),
			user("00uG4", "road.runner@globex.example", "2019-06-01"),
		},
		Groups: []okta.Group{
			group("00gG1", okta.GroupTypeOkta, "Platform Team", "2021-01-01"), // acme's is from 2019
			group("00g01", okta.GroupTypeOkta, "Engineering", "2019-01-01"),   // acme's 00g01, the same day
			group("00gG2", okta.GroupTypeOkta, "R&D EMEA", "2018-01-01"),      // acme's R&D / EMEA is from 2019
			group("00gG3", okta.GroupTypeOkta, "Roadrunners", "2019-01-01"),
			group("00gG9", okta.GroupTypeBuiltIn, "Everyone", "2018-01-01"),
		},
		Members: map[string][]string{
			"00gG1": {"00uG1", "00uG3"},
			"00g01": {"00u14", "00u00", "00uG2"},
			"00gG2": {"00uG3"},
			"00gG3": {"00uG4", "00uG3", "00uG1"},
			"00gG9": {"00uG1", "00uG2", "00u14", "00u00", "00uG3", "00uG4"},
		},
	}
}

// acmeOptions are the default options with the fixture org's hierarchy.
func acmeOptions(namespace string) Options {
	o := DefaultOptions()
	o.HierarchyKey, o.HierarchyParentKey = "orgId", "parentOrgId"
	o.Namespace = namespace
	return o
}

// multiOrgScenarios are the merged catalogs the multiorg golden files
// cover: acme in a namespace of its own beside globex's prefixed names,
// and both in the default namespace, contesting names.
func multiOrgScenarios(t testing.TB) map[string][]OrgInput {
	t.Helper()
	globex := DefaultOptions()
	prefixed := globex
	prefixed.NamePrefix = "globex-"
	return map[string][]OrgInput{
		"prefixed": {
			{Name: "acme", Options: acmeOptions("acme"), Input: loadOrg(t)},
			{Name: "globex", Options: prefixed, Input: globexInput()},
		},
		"shared": {
			{Name: "acme", Options: acmeOptions(""), Input: loadOrg(t)},
			{Name: "globex", Options: globex, Input: globexInput()},
		},
	}
}

func TestMapOrgsGolden(t *testing.T) {
	t.Parallel()
	for name, orgs := range multiOrgScenarios(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, o := range orgs {
				if err := o.Options.Validate(); err != nil {
					t.Fatalf("%s options: %v", o.Name, err)
				}
			}
			res := buildOrgs(orgs)
			yml := encodeStream(res.Entities)
			rep, err := json.MarshalIndent(res.Report, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			rep = append(rep, '\n')
			checkGolden(t, filepath.Join("testdata", "multiorg."+name+".yaml.golden"), yml)
			checkGolden(t, filepath.Join("testdata", "multiorg."+name+".report.json.golden"), rep)
			checkOrgs(t, orgs, res)
			checkPasses(t, orgs, res)
		})
	}
}

// checkPasses requires MapOrgs's passes, which make every entity in the
// same memory, to give the kept entities and report of res.
func checkPasses(t *testing.T, orgs []OrgInput, res *Result) {
	t.Helper()
	m := MapOrgs(orgs)
	var got []byte
	rep := m.EachReport(func(e *Entity) {
		got = append(got, "---\n"...)
		got = AppendYAML(got, e)
	})
	if want := encodeStream(res.Entities); !bytes.Equal(got, want) {
		t.Errorf("EachReport's entities differ from the kept ones:\n%s", cmp.Diff(string(want), string(got)))
	}
	if diff := cmp.Diff(res.Report, rep); diff != "" {
		t.Errorf("EachReport's report differs (-kept +EachReport):\n%s", diff)
	}
}

// orgEntity names one entity of a merged catalog.
type orgEntity struct{ org, kind, id string }

// entityNames returns the name of every entity of res by its org, kind
// and Okta id.
func entityNames(t *testing.T, res *Result) map[orgEntity]string {
	t.Helper()
	names := make(map[orgEntity]string, len(res.Entities))
	for _, e := range res.Entities {
		org, _ := e.Annotation(AnnotationOrg)
		k := orgEntity{org, e.Kind, e.OktaID}
		if _, ok := names[k]; ok {
			t.Fatalf("%v emitted twice", k)
		}
		names[k] = e.Metadata.Name
	}
	return names
}

// sharedContests are the names the shared scenario's orgs contest, the
// entity precedence gives each to, and the loser.
var sharedContests = []struct {
	kind, name    string
	winner, loser orgEntity
	rule          string
}{
	{KindUser, "alice", orgEntity{"globex", KindUser, "00uG1"}, orgEntity{"acme", KindUser, "00u09"}, "earlier created"},
	{KindUser, "Zoe.Orsted", orgEntity{"globex", KindUser, "00uG2"}, orgEntity{"acme", KindUser, "00u03"}, "exact over sanitised"},
	{KindUser, "lonely", orgEntity{"globex", KindUser, "00u00"}, orgEntity{"acme", KindUser, "00u17"}, "smaller id"},
	{KindUser, "yes", orgEntity{"acme", KindUser, "00u14"}, orgEntity{"globex", KindUser, "00u14"}, "first org"},
	{KindGroup, "r-d-emea", orgEntity{"globex", KindGroup, "00gG2"}, orgEntity{"acme", KindGroup, "00g03"}, "earlier created"},
	{KindGroup, "platform-team", orgEntity{"acme", KindGroup, "00g02"}, orgEntity{"globex", KindGroup, "00gG1"}, "earlier created"},
	{KindGroup, "engineering", orgEntity{"acme", KindGroup, "00g01"}, orgEntity{"globex", KindGroup, "00g01"}, "first org"},
}

// Entities of two orgs in one namespace that share a name are told apart
// by the rules of precedence, the loser renamed and reported with its org.
func TestMapOrgsCollisions(t *testing.T) {
	t.Parallel()
	res := buildOrgs(multiOrgScenarios(t)["shared"])
	names := entityNames(t, res)
	renames := map[orgEntity]Rename{}
	for _, r := range res.Report.Renames {
		renames[orgEntity{r.Org, r.Kind, r.OktaID}] = r
	}
	for _, c := range sharedContests {
		t.Run(c.kind+"/"+c.name, func(t *testing.T) {
			if got := names[c.winner]; got != c.name {
				t.Errorf("winner %v (%s): named %q, want %q", c.winner, c.rule, got, c.name)
			}
			if r, ok := renames[c.winner]; ok && r.Reason == ReasonCollision {
				t.Errorf("winner %v: reported as renamed for a collision: %+v", c.winner, r)
			}
			got := names[c.loser]
			if strings.EqualFold(got, c.name) || !strings.HasPrefix(strings.ToLower(got), strings.ToLower(c.name)+"-") ||
				len(got) != len(c.name)+suffixLen || !bsValidName(got) {
				t.Errorf("loser %v (%s): named %q, want %q and an id suffix", c.loser, c.rule, got, c.name)
			}
			r, ok := renames[c.loser]
			if !ok {
				t.Fatalf("loser %v: no rename reported", c.loser)
			}
			if r.Reason != ReasonCollision || r.To != got || r.Org != c.loser.org {
				t.Errorf("loser %v: rename %+v, want reason %s, to %q, org %s", c.loser, r, ReasonCollision, got, c.loser.org)
			}
		})
	}
	// The renamed acme group's links follow it.
	var rnd string
	for _, e := range res.Entities {
		if org, _ := e.Annotation(AnnotationOrg); org == "acme" && e.OktaID == "00g11" {
			rnd = e.Group.Parent
		}
	}
	if want := names[orgEntity{"acme", KindGroup, "00g03"}]; rnd != want {
		t.Errorf("acme's 00g11 has parent %q, want the renamed %q", rnd, want)
	}
}

// Swapping the orgs changes the winner of a contest only where the org
// order is all that tells the contestants apart.
func TestMapOrgsOrderDecidesOnlyTies(t *testing.T) {
	t.Parallel()
	orgs := multiOrgScenarios(t)["shared"]
	first := buildOrgs(orgs)
	if again := buildOrgs(orgs); !bytes.Equal(encodeStream(first.Entities), encodeStream(again.Entities)) {
		t.Fatal("the same orgs in the same order give other output")
	}
	want := entityNames(t, first)
	got := entityNames(t, buildOrgs([]OrgInput{orgs[1], orgs[0]}))
	var changed []orgEntity
	for k, n := range want {
		if got[k] != n {
			changed = append(changed, k)
		}
	}
	if len(got) != len(want) {
		t.Errorf("swapped orgs give %d entities, want %d", len(got), len(want))
	}
	var ties []orgEntity
	for _, c := range sharedContests {
		if c.rule == "first org" {
			ties = append(ties, c.winner, c.loser)
		}
	}
	byKey := func(a, b orgEntity) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) }
	slices.SortFunc(changed, byKey)
	slices.SortFunc(ties, byKey)
	if diff := cmp.Diff(ties, changed, cmp.AllowUnexported(orgEntity{})); diff != "" {
		t.Errorf("entities renamed by swapping the orgs (-ties +changed):\n%s", diff)
	}
	for _, c := range sharedContests {
		if c.rule == "first org" && got[c.loser] != c.name {
			t.Errorf("orgs swapped: %v named %q, want %q", c.loser, got[c.loser], c.name)
		}
	}
}

// The prefixed org's names all start with the prefix, and none of the
// orgs' names collide with the other's.
func TestMapOrgsPrefixed(t *testing.T) {
	t.Parallel()
	res := buildOrgs(multiOrgScenarios(t)["prefixed"])
	for k, n := range entityNames(t, res) {
		if k.org == "globex" && !strings.HasPrefix(n, "globex-") {
			t.Errorf("%v: name %q lacks the prefix globex-", k, n)
		}
	}
	long := false
	for _, r := range res.Report.Renames {
		if r.Reason == ReasonCollision && r.Org != "acme" {
			t.Errorf("rename %+v: a collision across orgs, or globex's own, where the namespace and prefix tell them apart", r)
		}
		if r.OktaID == "00uG3" {
			long = r.Org == "globex" && r.Reason == ReasonTooLong && len(r.To) == maxNameLen && bsValidName(r.To)
		}
	}
	if !long {
		t.Errorf("globex's 00uG3, too long with the prefix: not reported as a valid name cut to %d characters", maxNameLen)
	}
}

// Shuffling each org's users, groups and member lists, the orgs kept in
// order, leaves the output byte-identical.
func TestMapOrgsIgnoresInputOrder(t *testing.T) {
	t.Parallel()
	for name, orgs := range multiOrgScenarios(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := buildOrgs(orgs)
			wantYAML := encodeStream(want.Entities)
			wantRep, _ := json.Marshal(want.Report)
			rng := rand.New(rand.NewPCG(3, 5))
			for range 20 {
				sh := slices.Clone(orgs)
				for i := range sh {
					sh[i].Input = shuffled(rng, sh[i].Input)
				}
				got := buildOrgs(sh)
				if gotYAML := encodeStream(got.Entities); !bytes.Equal(gotYAML, wantYAML) {
					t.Fatalf("shuffled orgs give other entities:\n%s", cmp.Diff(string(wantYAML), string(gotYAML)))
				}
				if gotRep, _ := json.Marshal(got.Report); !bytes.Equal(gotRep, wantRep) {
					t.Fatalf("shuffled orgs give another report:\n%s", cmp.Diff(string(wantRep), string(gotRep)))
				}
			}
		})
	}
}

// A single org is annotated with its name, and its report lists it,
// only when it is named.
func TestMapOrgsSingle(t *testing.T) {
	t.Parallel()
	in := globexInput()
	for _, name := range []string{"", "globex"} {
		res := buildOrgs([]OrgInput{{Name: name, Options: DefaultOptions(), Input: in}})
		for _, e := range res.Entities {
			if org, ok := e.Annotation(AnnotationOrg); ok != (name != "") || org != name {
				t.Errorf("org %q: %s has %s %q", name, e.Ref(), AnnotationOrg, org)
			}
		}
		if name == "" {
			if res.Report.Orgs != nil {
				t.Errorf("unnamed org: Orgs %+v, want none", res.Report.Orgs)
			}
			if want := Build(DefaultOptions(), in); !bytes.Equal(encodeStream(res.Entities), encodeStream(want.Entities)) {
				t.Errorf("unnamed org: MapOrgs and Build differ")
			}
			continue
		}
		checkOrgs(t, []OrgInput{{Name: name, Options: DefaultOptions(), Input: in}}, res)
	}
}

// A prefix that makes a name longer than 63 characters cuts it with a
// suffix derived from the Okta id, reported as too long; a name it leaves
// at 63 is kept whole.
func TestNamePrefixTooLong(t *testing.T) {
	t.Parallel()
	const prefix = "globex-"
	for _, n := range []int{maxNameLen - len(prefix), maxNameLen - len(prefix) + 1, maxNameLen, maxNameLen + 10} {
		local := strings.Repeat("a", n-1) + "z"
		u := okta.User{ID: "00uLONG", Status: okta.StatusActive, Profile: okta.UserProfile{Login: local + "@example.com", Email: local + "@example.com"}}
		opts := DefaultOptions()
		opts.NamePrefix = prefix
		res := Build(opts, Input{Users: []okta.User{u}})
		if len(res.Entities) != 1 {
			t.Fatalf("%d characters: %d entities, want 1", n, len(res.Entities))
		}
		got := res.Entities[0].Metadata.Name
		if !bsValidName(got) || !strings.HasPrefix(got, prefix) {
			t.Errorf("%d characters: name %q, want a valid name starting with %s", n, got, prefix)
		}
		var renames []Rename
		if whole := prefix + local; len(whole) <= maxNameLen {
			if got != whole {
				t.Errorf("%d characters: name %q, want %q", n, got, whole)
			}
		} else {
			if want := withSuffix(whole, idSuffix(u.ID)); got != want {
				t.Errorf("%d characters: name %q, want %q", n, got, want)
			}
			renames = []Rename{{Kind: KindUser, OktaID: u.ID, From: local, To: got, Reason: ReasonTooLong}}
		}
		if diff := cmp.Diff(renames, res.Report.Renames, cmpEmptySlices); diff != "" {
			t.Errorf("%d characters: renames (-want +got):\n%s", n, diff)
		}
	}
}

// cmpEmptySlices compares a nil slice equal to an empty one.
var cmpEmptySlices = cmp.FilterValues(func(x, y []Rename) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore())

// The default namespace is one whether an org leaves it empty or spells
// it out: the names in it are contested across orgs all the same.
func TestMapOrgsDefaultNamespaceSpelledOut(t *testing.T) {
	t.Parallel()
	u := okta.User{ID: "00u1", Status: okta.StatusActive, Profile: okta.UserProfile{Email: "ann@example.com", Login: "ann@example.com"}}
	org := func(typ, groupID string) Input {
		return Input{Users: []okta.User{u}, Groups: []okta.Group{{ID: groupID, Type: typ, Profile: okta.GroupProfile{Name: "Ops"}}},
			Members: map[string][]string{groupID: {u.ID}}}
	}
	spelled := DefaultOptions()
	spelled.Namespace = DefaultNamespace
	apps := DefaultOptions()
	apps.Namespace = "team-a"
	apps.GroupNamespaces = map[string]string{okta.GroupTypeApp: DefaultNamespace}
	orgs := []OrgInput{
		{Name: "a", Options: DefaultOptions(), Input: org(okta.GroupTypeOkta, "00g1")},
		{Name: "b", Options: spelled, Input: org(okta.GroupTypeOkta, "00g2")},
		{Name: "c", Options: apps, Input: org(okta.GroupTypeApp, "00g3")},
	}
	res := buildOrgs(orgs)
	checkOrgs(t, orgs, res)
	var collisions []string
	for _, r := range res.Report.Renames {
		if r.Reason == ReasonCollision {
			collisions = append(collisions, r.Org+"/"+r.Kind)
		}
	}
	want := []string{"b/Group", "c/Group", "b/User"}
	slices.Sort(want)
	slices.Sort(collisions)
	if diff := cmp.Diff(want, collisions); diff != "" {
		t.Errorf("collisions reported (-want +got):\n%s", diff)
	}
}

// checkOrgs checks a merged catalog: every entity annotated with its
// org, which holds its Okta object; the report's orgs in order with
// counts that add up to its totals; every listed item naming its org;
// each org's entities passing checkEntities, checkSelection and
// checkRenames on their own (references never leave an org); and no two
// entities of one kind sharing a namespace and a name, case-insensitively.
func checkOrgs(t *testing.T, orgs []OrgInput, res *Result) {
	t.Helper()
	r := &res.Report
	var names []string
	var sum OrgReport
	for _, o := range r.Orgs {
		names = append(names, o.Name)
		sum.Users += o.Users
		sum.Groups += o.Groups
		sum.Memberships += o.Memberships
		sum.InputUsers += o.InputUsers
		sum.InputGroups += o.InputGroups
	}
	var want []string
	for _, o := range orgs {
		want = append(want, o.Name)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("report orgs (-want +got):\n%s", diff)
	}
	total := OrgReport{Users: r.Users, Groups: r.Groups, Memberships: r.Memberships, InputUsers: r.InputUsers, InputGroups: r.InputGroups}
	if sum != total {
		t.Errorf("the orgs' counts add up to %+v, the report's totals are %+v", sum, total)
	}
	if r.Users+r.Groups != len(res.Entities) {
		t.Errorf("report counts %d users and %d groups, %d entities emitted", r.Users, r.Groups, len(res.Entities))
	}
	for _, l := range []struct {
		what     string
		orgs     []string
		n, total int
	}{
		{"renames", orgsOf(r.Renames, func(x Rename) string { return x.Org }), len(r.Renames), r.RenamesTotal},
		{"dropped refs", orgsOf(r.DroppedRefs, func(x DroppedRef) string { return x.Org }), len(r.DroppedRefs), r.DroppedRefsTotal},
		{"broken links", orgsOf(r.BrokenHierarchy, func(x BrokenLink) string { return x.Org }), len(r.BrokenHierarchy), r.BrokenHierarchyTotal},
		{"skipped labels", orgsOf(r.SkippedLabels, func(x SkippedLabel) string { return x.Org }), len(r.SkippedLabels), r.SkippedLabelsTotal},
	} {
		for _, org := range l.orgs {
			if !slices.Contains(want, org) {
				t.Errorf("%s: an item of org %q, want one of %q", l.what, org, want)
			}
		}
		if l.n != min(l.total, ReportListLimit) {
			t.Errorf("%s: %d listed of %d", l.what, l.n, l.total)
		}
	}

	byOrg := make(map[string][]Entity, len(orgs))
	taken := map[string]string{}
	for _, e := range res.Entities {
		var orgAnn []string
		for _, kv := range e.Metadata.Annotations {
			if kv.Key == AnnotationOrg {
				orgAnn = append(orgAnn, kv.Value)
			}
		}
		if len(orgAnn) != 1 || !slices.Contains(want, orgAnn[0]) {
			t.Errorf("%s (okta %s): %s %q, want one of %q", e.Ref(), e.OktaID, AnnotationOrg, orgAnn, want)
			continue
		}
		byOrg[orgAnn[0]] = append(byOrg[orgAnn[0]], e)
		ns := e.Metadata.Namespace
		if ns == "" {
			ns = DefaultNamespace
		}
		key := ns + "/" + e.Kind + "/" + strings.ToLower(e.Metadata.Name)
		if prev, ok := taken[key]; ok {
			t.Errorf("%s of org %s (okta %s) collides with %s", e.Ref(), orgAnn[0], e.OktaID, prev)
		}
		taken[key] = fmt.Sprintf("org %s (okta %s)", orgAnn[0], e.OktaID)
	}
	for i, o := range orgs {
		users := map[string]bool{}
		for _, u := range o.Input.Users {
			users[u.ID] = true
		}
		groups := map[string]bool{}
		for _, g := range o.Input.Groups {
			groups[g.ID] = true
		}
		sub := &Result{Entities: byOrg[o.Name]}
		for _, e := range sub.Entities {
			if (e.Kind == KindUser && !users[e.OktaID]) || (e.Kind == KindGroup && !groups[e.OktaID]) {
				t.Errorf("%s (okta %s) is annotated with org %s, whose input has no such %s", e.Ref(), e.OktaID, o.Name, e.Kind)
			}
		}
		or := r.Orgs[i]
		if or.InputUsers != len(o.Input.Users) || or.InputGroups != len(o.Input.Groups) {
			t.Errorf("org %s: report counts %d input users and %d input groups, want %d and %d",
				o.Name, or.InputUsers, or.InputGroups, len(o.Input.Users), len(o.Input.Groups))
		}
		sub.Report = Report{Users: or.Users, Groups: or.Groups, Memberships: or.Memberships}
		for _, x := range r.Renames {
			if x.Org == o.Name {
				sub.Report.Renames = append(sub.Report.Renames, x)
			}
		}
		sub.Report.RenamesTotal = len(sub.Report.Renames)
		t.Run("org="+o.Name, func(t *testing.T) {
			checkEntities(t, o.Options, sub)
			checkSelection(t, o.Options, o.Input, sub)
			if r.RenamesTotal <= ReportListLimit {
				checkRenames(t, sub)
			}
		})
	}
}

// orgsOf returns the distinct orgs of items.
func orgsOf[T any](items []T, org func(T) string) []string {
	set := map[string]bool{}
	for _, x := range items {
		set[org(x)] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// TestMapOrgsProperties maps many generated catalogs of two or three
// orgs, with random prefixes and namespaces, and sometimes one org's
// input repeated, and checks every property of checkOrgs.
func TestMapOrgsProperties(t *testing.T) {
	t.Parallel()
	var peerInputs []string
	for _, c := range loadPeerCases(t) {
		peerInputs = append(peerInputs, c.Input)
	}
	runs := 200
	if testing.Short() {
		runs = 40
	}
	prefixes := []string{"", "", "g-", "globex-", "a.", "x_", "0", "acme--", strings.Repeat("p", maxPrefixLen)}
	for i := range runs {
		rng := rand.New(rand.NewPCG(uint64(i), 13))
		orgs := make([]OrgInput, 2+rng.IntN(2))
		for j := range orgs {
			opts := genOptions(rng)
			opts.NamePrefix = prefixes[rng.IntN(len(prefixes))]
			if rng.IntN(4) == 0 {
				// Backstage's default namespace, spelled out.
				opts.Namespace = DefaultNamespace
			}
			in := genOrg(rng, peerInputs)
			if j > 0 && rng.IntN(3) == 0 {
				in = orgs[0].Input // the same ids, names and creation times
			}
			orgs[j] = OrgInput{Name: fmt.Sprintf("org%d", j), Options: opts, Input: in}
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			for _, o := range orgs {
				if err := o.Options.Validate(); err != nil {
					t.Fatalf("%s options: %v", o.Name, err)
				}
			}
			res := buildOrgs(orgs)
			checkOrgs(t, orgs, res)
			checkPasses(t, orgs, res)
			sh := slices.Clone(orgs)
			for j := range sh {
				sh[j].Input = shuffled(rng, sh[j].Input)
			}
			if a, b := encodeStream(res.Entities), encodeStream(buildOrgs(sh).Entities); !bytes.Equal(a, b) {
				t.Errorf("shuffled orgs give other output:\n%s", cmp.Diff(string(a), string(b)))
			}
		})
	}
}
