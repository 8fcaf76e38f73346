package snapshot

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog/catalogtest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func testUser(name string) okta.User {
	return okta.User{
		ID:      "00u" + name,
		Status:  okta.StatusActive,
		Profile: okta.UserProfile{Login: name + "@example.com", Email: name + "@example.com"},
	}
}

func testGroup(name string) okta.Group {
	return okta.Group{ID: "00g" + name, Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: name}}
}

// testOptions keeps empty groups and lists each group's members.
func testOptions() catalog.Options {
	opts := catalog.DefaultOptions()
	opts.IncludeEmptyGroups = true
	opts.IncludeMembers = true
	return opts
}

// testInput lists the groups first and the users out of order, so the
// snapshot has to order them.
func testInput() catalog.Input {
	return catalog.Input{
		Users:   []okta.User{testUser("bob"), testUser("alice"), testUser("carol")},
		Groups:  []okta.Group{testGroup("security"), testGroup("platform")},
		Members: map[string][]string{"00gplatform": {"00ualice"}},
	}
}

// org returns an input of the given users and groups, with no members.
func org(users, groups []string) catalog.Input {
	var in catalog.Input
	for _, u := range users {
		in.Users = append(in.Users, testUser(u))
	}
	for _, g := range groups {
		in.Groups = append(in.Groups, testGroup(g))
	}
	return in
}

// numbered returns n names made by format from 0 to n-1, such as
// numbered("user-%03d", 3) for user-000, user-001 and user-002.
func numbered(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func build(in catalog.Input, builtAt time.Time, shards int) *Snapshot {
	return Build(nil, catalog.Map(testOptions(), in), builtAt, shards)
}

// entity is a bare entity of the given kind and name.
func entity(kind, name string) catalog.Entity {
	return catalog.Entity{APIVersion: catalog.APIVersion, Kind: kind, Metadata: catalog.Metadata{Name: name}}
}

// docs returns the documents of a multi-document YAML body, decoded.
func docs(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode YAML: %v\n%s", err, data)
		}
		out = append(out, doc)
	}
}

// names returns the metadata.name of each decoded entity.
func names(t *testing.T, entities []map[string]any) []string {
	t.Helper()
	var out []string
	for _, e := range entities {
		md, _ := e["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		out = append(out, name)
	}
	return out
}

func jsonNames(t *testing.T, data []byte) []string {
	t.Helper()
	var entities []map[string]any
	if err := json.Unmarshal(data, &entities); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, data)
	}
	return names(t, entities)
}

// checkBody checks that a body's gzip encoding is valid, that its Size is the
// length of what it decodes to, and that its ETags are the hash of that.
func checkBody(t *testing.T, name string, b Body) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b.Gzip))
	if err != nil {
		t.Fatalf("%s: gzip: %v", name, err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: gunzip: %v", name, err)
	}
	if int64(len(plain)) != b.Size {
		t.Errorf("%s: gzip body decodes to %d bytes, but Size is %d", name, len(plain), b.Size)
	}
	sum := sha256.Sum256(plain)
	wantTag := `"` + hex.EncodeToString(sum[:16]) + `"`
	if b.ETag != wantTag {
		t.Errorf("%s: got ETag %s, want %s", name, b.ETag, wantTag)
	}
	if want := strings.TrimSuffix(wantTag, `"`) + `-gzip"`; b.GzipETag != want {
		t.Errorf("%s: got gzip ETag %s, want %s", name, b.GzipETag, want)
	}
	var out bytes.Buffer
	if n, err := b.WriteTo(&out); err != nil || n != b.Size || !bytes.Equal(out.Bytes(), plain) {
		t.Errorf("%s: WriteTo wrote %d bytes (err %v), want the %d decoded", name, n, err, len(plain))
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	in := testInput()
	builtAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := build(in, builtAt, 0)
	res := catalog.Build(testOptions(), in)

	if s.Entities != 5 || s.Users != 3 || s.Groups != 2 {
		t.Errorf("got %d entities, %d users, %d groups; want 5, 3, 2", s.Entities, s.Users, s.Groups)
	}
	if !s.BuiltAt.Equal(builtAt) {
		t.Errorf("got BuiltAt %v, want %v", s.BuiltAt, builtAt)
	}
	if diff := cmp.Diff(res.Report, s.Report); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if s.Sharded() || s.Shards != nil || len(s.Index.Data()) != 0 {
		t.Errorf("unsharded snapshot has shards %d or an index of %d bytes", len(s.Shards), len(s.Index.Data()))
	}

	users := []string{"alice", "bob", "carol"}
	groups := []string{"platform", "security"}
	all := append(append([]string{}, users...), groups...)

	// The All body is every entity's AppendYAML output, users first, each
	// document starting with ---.
	var want []byte
	for i := range res.Entities {
		want = append(want, "---\n"...)
		want = catalog.AppendYAML(want, &res.Entities[i])
	}
	if diff := cmp.Diff(string(want), string(s.All.Data())); diff != "" {
		t.Errorf("All (-want +got):\n%s", diff)
	}

	tests := []struct {
		name  string
		body  Body
		json  bool
		names []string
	}{
		{"All", s.All, false, all},
		{"UsersYAML", *s.UsersYAML(), false, users},
		{"GroupsYAML", *s.GroupsYAML(), false, groups},
		{"AllJSON", s.AllJSON, true, all},
		{"UsersJSON", *s.UsersJSON(), true, users},
		{"GroupsJSON", *s.GroupsJSON(), true, groups},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkBody(t, tt.name, tt.body)
			var got []string
			if tt.json {
				got = jsonNames(t, tt.body.Data())
			} else {
				if !bytes.HasPrefix(tt.body.Data(), []byte("---\n")) {
					t.Errorf("%s does not start with ---", tt.name)
				}
				got = names(t, docs(t, tt.body.Data()))
			}
			if diff := cmp.Diff(tt.names, got); diff != "" {
				t.Errorf("%s entity names (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestBuildJSONMatchesAppendJSON(t *testing.T) {
	t.Parallel()
	in := testInput()
	s := build(in, time.Time{}, 0)
	res := catalog.Build(testOptions(), in)
	var raw []json.RawMessage
	if err := json.Unmarshal(s.UsersJSON().Data(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3 {
		t.Fatalf("got %d users in UsersJSON, want 3", len(raw))
	}
	if got, want := string(raw[0]), string(catalog.AppendJSON(nil, &res.Entities[0])); got != want {
		t.Errorf("got first user %s, want %s", got, want)
	}
}

func TestBuildGroupsOnly(t *testing.T) {
	t.Parallel()
	s := build(org(nil, []string{"platform", "security"}), time.Time{}, 0)
	want := []string{"platform", "security"}
	if got := names(t, docs(t, s.GroupsYAML().Data())); !cmp.Equal(got, want) {
		t.Errorf("got groups %v, want %v", got, want)
	}
	if got := jsonNames(t, s.GroupsJSON().Data()); !cmp.Equal(got, want) {
		t.Errorf("got JSON groups %v, want %v", got, want)
	}
	if got := string(s.UsersJSON().Data()); got != "[]\n" {
		t.Errorf("got users JSON %q, want []", got)
	}
	if s.UsersYAML().Size != 0 {
		t.Errorf("got %d bytes of users, want none", s.UsersYAML().Size)
	}
	for name, b := range map[string]*Body{"UsersYAML": s.UsersYAML(), "GroupsYAML": s.GroupsYAML(), "UsersJSON": s.UsersJSON(), "GroupsJSON": s.GroupsJSON()} {
		checkBody(t, name, *b)
	}
}

func TestBuildOneKind(t *testing.T) {
	t.Parallel()
	s := build(org([]string{"bob", "alice"}, nil), time.Time{}, 0)
	if got := names(t, docs(t, s.UsersYAML().Data())); !cmp.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("got users %v, want [alice bob]", got)
	}
	if len(s.GroupsYAML().Data()) != 0 {
		t.Errorf("got %d bytes of groups, want none", len(s.GroupsYAML().Data()))
	}
	if got := string(s.GroupsJSON().Data()); got != "[]\n" {
		t.Errorf("got groups JSON %q, want []", got)
	}
	if got := jsonNames(t, s.UsersJSON().Data()); !cmp.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("got JSON users %v, want [alice bob]", got)
	}
}

// An empty org gives valid, empty bodies. The HTTP API refuses to serve
// them (a successful empty read makes Backstage delete every entity), but the
// snapshot itself stays well-formed.
func TestBuildEmpty(t *testing.T) {
	t.Parallel()
	s := build(catalog.Input{}, time.Time{}, 4)
	if s.Entities != 0 || len(s.All.Data()) != 0 {
		t.Errorf("got %d entities, %d bytes; want none", s.Entities, len(s.All.Data()))
	}
	for name, b := range map[string]Body{"AllJSON": s.AllJSON, "UsersJSON": *s.UsersJSON(), "GroupsJSON": *s.GroupsJSON()} {
		if got := string(b.Data()); got != "[]\n" {
			t.Errorf("got %s %q, want []", name, got)
		}
		checkBody(t, name, b)
	}
	for n, b := range s.Shards {
		if len(b.Data()) != 0 {
			t.Errorf("shard %d has %d bytes, want none", n, len(b.Data()))
		}
		checkBody(t, fmt.Sprint("shard ", n), b)
	}
}

// changedBob is testInput with bob's display name changed, which changes
// his entity and not its name.
func changedBob() catalog.Input {
	in := testInput()
	in.Users[0].Profile.DisplayName = "Robert"
	return in
}

func TestBuildETags(t *testing.T) {
	t.Parallel()
	a := build(testInput(), time.Unix(1, 0), 4)
	b := build(testInput(), time.Unix(2, 0), 4)
	if a.All.ETag != b.All.ETag || a.AllJSON.ETag != b.AllJSON.ETag {
		t.Errorf("the same entities built twice got ETags %s and %s", a.All.ETag, b.All.ETag)
	}
	seen := map[string]string{}
	for name, body := range map[string]Body{
		"All": a.All, "UsersYAML": *a.UsersYAML(), "GroupsYAML": *a.GroupsYAML(),
		"AllJSON": a.AllJSON, "UsersJSON": *a.UsersJSON(), "GroupsJSON": *a.GroupsJSON(), "Index": a.Index,
	} {
		if other, ok := seen[body.ETag]; ok {
			t.Errorf("%s and %s share ETag %s", name, other, body.ETag)
		}
		seen[body.ETag] = name
	}

	c := build(changedBob(), time.Unix(3, 0), 4)
	if c.All.ETag == a.All.ETag {
		t.Errorf("All ETag %s did not change with the content", c.All.ETag)
	}
	if c.GroupsYAML().ETag != a.GroupsYAML().ETag {
		t.Errorf("groups ETag changed from %s to %s with only a user changed", a.GroupsYAML().ETag, c.GroupsYAML().ETag)
	}
	if c.Index.ETag != a.Index.ETag {
		t.Errorf("index ETag changed from %s to %s; it depends on the shard count only", a.Index.ETag, c.Index.ETag)
	}
	bobShard := ShardOf("user:default/bob", 4)
	for n := range c.Shards {
		if changed := c.Shards[n].ETag != a.Shards[n].ETag; changed != (n == bobShard) {
			t.Errorf("shard %d: ETag changed = %v, want %v (bob is in shard %d)", n, changed, n == bobShard, bobShard)
		}
	}
}

func TestBuildReusesGzip(t *testing.T) {
	t.Parallel()
	prev := build(testInput(), time.Unix(1, 0), 4)
	s := Build(prev, catalog.Map(testOptions(), changedBob()), time.Unix(2, 0), 4)
	bobShard := ShardOf("user:default/bob", 4)

	same := func(a, b []byte) bool { return len(a) > 0 && &a[0] == &b[0] }
	for n := range s.Shards {
		if reused := same(s.Shards[n].Gzip, prev.Shards[n].Gzip); reused == (n == bobShard) {
			t.Errorf("shard %d: gzip reused = %v, want %v (bob is in shard %d)", n, reused, n != bobShard, bobShard)
		}
		checkBody(t, fmt.Sprint("shard ", n), s.Shards[n])
	}
	if !same(s.Index.Gzip, prev.Index.Gzip) {
		t.Error("the index did not change but was compressed again")
	}
	checkBody(t, "Index", s.Index)
	checkBody(t, "All", s.All)
}

func TestBuildShards(t *testing.T) {
	t.Parallel()
	in := org(numbered("user-%03d", 200), numbered("group-%02d", 30))
	entities := catalog.Build(testOptions(), in).Entities
	for _, shards := range []int{1, 3, 16} {
		t.Run(strconv.Itoa(shards), func(t *testing.T) {
			t.Parallel()
			s := build(in, time.Time{}, shards)
			if len(s.Shards) != shards {
				t.Fatalf("got %d shards, want %d", len(s.Shards), shards)
			}
			// Every entity is in exactly one shard, the one ShardOf names,
			// and its document is byte-identical to the one in All.
			seen := map[string]int{}
			for n, b := range s.Shards {
				checkBody(t, fmt.Sprint("shard ", n), b)
				for _, name := range names(t, docs(t, b.Data())) {
					if prev, ok := seen[name]; ok {
						t.Errorf("%s is in shards %d and %d", name, prev, n)
					}
					seen[name] = n
				}
			}
			for i := range entities {
				e := &entities[i]
				n, ok := seen[e.Metadata.Name]
				if !ok {
					t.Errorf("%s is in no shard", e.Metadata.Name)
					continue
				}
				if want := ShardOf(e.Ref(), shards); n != want {
					t.Errorf("%s is in shard %d, want %d", e.Metadata.Name, n, want)
				}
				doc := "---\n" + string(catalog.AppendYAML(nil, e))
				if !strings.Contains(string(s.Shards[n].Data()), doc) {
					t.Errorf("shard %d does not hold %s's document as All has it", n, e.Metadata.Name)
				}
			}
			if got := len(docs(t, s.Index.Data())); got != shards {
				t.Errorf("got %d index documents, want %d", got, shards)
			}
		})
	}
}

// With few entities and a stable hash, shards can be empty. An empty shard is
// an empty body (zero YAML documents), which the catalog reads as "this shard
// holds nothing": only entities that hashed to it before are orphaned, and
// since the hash is stable they are in no other shard, so they were deleted.
func TestBuildEmptyShard(t *testing.T) {
	t.Parallel()
	s := build(org([]string{"alice"}, nil), time.Time{}, 8)
	home := ShardOf("user:default/alice", 8)
	for n, b := range s.Shards {
		got := len(docs(t, b.Data()))
		want := 0
		if n == home {
			want = 1
		}
		if got != want {
			t.Errorf("shard %d: got %d documents, want %d", n, got, want)
		}
		checkBody(t, fmt.Sprint("shard ", n), b)
	}
}

// encoded returns what each body of a snapshot of res must hold: its
// entities encoded one after another, users first.
func encoded(res *catalog.Result, shards int) map[string][]byte {
	var all, users, groups []byte
	var allJSON, usersJSON, groupsJSON [][]byte
	sharded := make([][]byte, shards)
	for i := range res.Entities {
		e := &res.Entities[i]
		doc := append([]byte("---\n"), catalog.AppendYAML(nil, e)...)
		js := catalog.AppendJSON(nil, e)
		all = append(all, doc...)
		allJSON = append(allJSON, js)
		switch e.Kind {
		case catalog.KindUser:
			users = append(users, doc...)
			usersJSON = append(usersJSON, js)
		case catalog.KindGroup:
			groups = append(groups, doc...)
			groupsJSON = append(groupsJSON, js)
		}
		if shards > 0 {
			n := ShardOf(e.Ref(), shards)
			sharded[n] = append(sharded[n], doc...)
		}
	}
	array := func(elems [][]byte) []byte {
		if len(elems) == 0 {
			return []byte("[]\n")
		}
		return append(append([]byte("[\n"), bytes.Join(elems, []byte(",\n"))...), "\n]\n"...)
	}
	out := map[string][]byte{
		"All": all, "UsersYAML": users, "GroupsYAML": groups,
		"AllJSON": array(allJSON), "UsersJSON": array(usersJSON), "GroupsJSON": array(groupsJSON),
	}
	for n := range sharded {
		out[fmt.Sprint("shard ", n)] = sharded[n]
	}
	return out
}

// Build makes each entity when it encodes it; what it builds must be
// catalog.Build's entities encoded, to the byte, whatever the options and
// the previous snapshot.
func TestBuildMatchesCatalogBuild(t *testing.T) {
	t.Parallel()
	in := catalogtest.Org(300, 40, 1200)
	for i, shards := range []int{0, 1, 5} {
		for _, members := range []bool{false, true} {
			opts := catalog.DefaultOptions()
			opts.HierarchyKey, opts.HierarchyParentKey = "orgId", "parentOrgId"
			opts.IncludeMembers = members
			opts.IncludeEmptyGroups = i%2 == 0
			name := fmt.Sprintf("shards=%d/members=%v", shards, members)
			prev := Build(nil, catalog.Map(opts, in), time.Unix(1, 0), shards)
			got := Build(prev, catalog.Map(opts, in), time.Unix(2, 0), shards)
			res := catalog.Build(opts, in)

			if diff := cmp.Diff(res.Report, got.Report); diff != "" {
				t.Fatalf("%s: report (-catalog.Build +Build):\n%s", name, diff)
			}
			if got.Users+got.Groups != len(res.Entities) || got.Entities != len(res.Entities) {
				t.Errorf("%s: counts %d/%d/%d, want %d entities", name, got.Entities, got.Users, got.Groups, len(res.Entities))
			}
			bodies := map[string]*Body{
				"All": &got.All, "AllJSON": &got.AllJSON,
				"UsersYAML": got.UsersYAML(), "GroupsYAML": got.GroupsYAML(),
				"UsersJSON": got.UsersJSON(), "GroupsJSON": got.GroupsJSON(),
			}
			for n := range got.Shards {
				bodies[fmt.Sprint("shard ", n)] = &got.Shards[n]
			}
			want := encoded(res, shards)
			if len(bodies) != len(want) {
				t.Errorf("%s: %d bodies, want %d", name, len(bodies), len(want))
			}
			for body, b := range bodies {
				checkBody(t, body, *b)
				if !bytes.Equal(b.Data(), want[body]) {
					t.Errorf("%s: %s differs from catalog.Build's entities encoded", name, body)
				}
			}
			if u, g := got.Removed(prev); u != 0 || g != 0 {
				t.Errorf("%s: %d users and %d groups removed from the same org", name, u, g)
			}
		}
	}
}

func TestRemoved(t *testing.T) {
	t.Parallel()
	prev := build(testInput(), time.Unix(1, 0), 0) // alice, bob, carol; platform, security
	cur := build(org([]string{"alice", "Bob", "dave"}, []string{"platform"}), time.Unix(2, 0), 0)
	// carol and security are gone; Bob is bob (refs compare case-insensitively).
	if u, g := cur.Removed(prev); u != 1 || g != 1 {
		t.Errorf("got %d users and %d groups removed, want 1 and 1", u, g)
	}
	if u, g := prev.Removed(cur); u != 1 || g != 0 {
		t.Errorf("backwards: got %d users and %d groups removed, want 1 (dave) and 0", u, g)
	}
	if u, g := cur.Removed(nil); u != 0 || g != 0 {
		t.Errorf("from nil: got %d and %d, want 0 and 0", u, g)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	prev := build(testInput(), time.Unix(1, 0), 0) // alice, bob, carol; platform, security
	cur := build(org([]string{"alice", "Bob", "dave"}, []string{"platform"}), time.Unix(2, 0), 0)
	removed, added := cur.Diff(prev)
	if diff := cmp.Diff([]string{"user:default/carol", "group:default/security"}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"user:default/dave"}, added); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
	removed, added = prev.Diff(nil)
	if len(removed) != 0 || len(added) != 5 {
		t.Errorf("from nil: got %d removed, %d added; want 0 and 5", len(removed), len(added))
	}
}

func TestCompareRefs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"user:default/Bob", "user:default/bob", 0},
		{"user:default/bob", "user:default/Carol", -1},
		{"user:default/b", "user:default/bob", -1},
		{"user:default/é", "user:default/É", 0},
		{"user:default/é", "user:default/f", 1},
		{"user:default/a", "user:default/a", 0},
	} {
		if got := compareRefs(tc.a, tc.b); got != tc.want {
			t.Errorf("compareRefs(%q, %q): got %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareRefs(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareRefs(%q, %q): got %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestShardOf(t *testing.T) {
	t.Parallel()
	// Pinned values: changing the hash reshuffles every shard of every
	// deployment, which the catalog sees as a mass move of entities.
	tests := []struct {
		ref     string
		n, want int
	}{
		{"user:default/alice", 1, 0},
		{"user:default/alice", 0, 0},
		{"group:default/platform", -3, 0},
	}
	for _, tt := range tests {
		if got := ShardOf(tt.ref, tt.n); got != tt.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tt.ref, tt.n, got, tt.want)
		}
	}
	pinned := map[string]int{}
	for _, ref := range []string{"user:default/alice", "user:default/bob", "group:default/platform", "group:team-a/Security"} {
		pinned[ref] = ShardOf(ref, 16)
	}
	want := map[string]int{"user:default/alice": 6, "user:default/bob": 9, "group:default/platform": 11, "group:team-a/Security": 4}
	if diff := cmp.Diff(want, pinned); diff != "" {
		t.Errorf("shard assignment changed (-want +got):\n%s", diff)
	}
	if a, b := ShardOf("user:default/Alice", 16), ShardOf("user:default/alice", 16); a != b {
		t.Errorf("refs differing in case only got shards %d and %d; Backstage compares them case-insensitively", a, b)
	}
	counts := make([]int, 8)
	for i := range 8000 {
		counts[ShardOf(fmt.Sprintf("user:default/user-%d", i), 8)]++
	}
	for n, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d got %d of 8000 refs, want about 1000", n, c)
		}
	}
}

// locationDoc is the Location entity the index holds for shard i of
// shards 0 to last.
func locationDoc(i, last int) string {
	return fmt.Sprintf(`---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: okta-entity-provider-shard-%[1]d
  description: Okta users and groups, shard %[1]d of shards 0 to %[2]d
spec:
  type: url
  target: ./entities/shards/%[1]d
`, i, last)
}

func TestIndex(t *testing.T) {
	t.Parallel()
	s := build(testInput(), time.Time{}, 2)
	want := locationDoc(0, 1) + locationDoc(1, 1)
	if diff := cmp.Diff(want, string(s.Index.Data())); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
	checkBody(t, "Index", s.Index)
}

// backstageResolve resolves a Location's relative target the way Backstage's
// URL reader does (defaultScmResolveUrl): new URL(target, base), then the
// resolved URL's query is replaced by the base's.
func backstageResolve(t *testing.T, base, target string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	u := b.ResolveReference(ref)
	u.RawQuery = b.RawQuery
	return u.String()
}

// shardTargetCases are index URLs as a Backstage location may name them and
// where shard 3's target must lead from each.
var shardTargetCases = []struct {
	name, base, want string
}{
	{"plain", "http://okta-entity-provider:8080/entities", "http://okta-entity-provider:8080/entities/shards/3"},
	{"token", "http://h:8080/entities?token=x", "http://h:8080/entities/shards/3?token=x"},
	{"path prefix", "https://proxy.example.com/okta/entities?token=a%2Fb", "https://proxy.example.com/okta/entities/shards/3?token=a%2Fb"},
	{"default port", "https://provider.example.com/entities", "https://provider.example.com/entities/shards/3"},
}

func TestShardTargetResolves(t *testing.T) {
	t.Parallel()
	for _, tt := range shardTargetCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := backstageResolve(t, tt.base, ShardTarget(3)); got != tt.want {
				t.Errorf("target %s from %s: got %s, want %s", ShardTarget(3), tt.base, got, tt.want)
			}
		})
	}
}

// TestShardTargetResolvesWHATWG resolves the targets with the WHATWG URL parser
// Backstage runs on, when node is installed.
func TestShardTargetResolvesWHATWG(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	const script = `
const [target, ...bases] = process.argv.slice(1);
for (const base of bases) {
  const u = new URL(target, base);
  u.search = new URL(base).search;
  console.log(u.toString());
}`
	args := []string{"-e", script, ShardTarget(3)}
	var want []string
	for _, tt := range shardTargetCases {
		args = append(args, tt.base)
		want = append(want, tt.want)
	}
	out, err := exec.CommandContext(t.Context(), node, args...).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WHATWG resolution (-want +got):\n%s", diff)
	}
}

// The bodies of one kind are built once, by whichever request comes first,
// however many ask at the same time.
func TestSubsetsAreBuiltOnce(t *testing.T) {
	t.Parallel()
	s := build(testInput(), time.Unix(1, 0), 0)
	subsets := []func() *Body{s.UsersYAML, s.GroupsYAML, s.UsersJSON, s.GroupsJSON}
	var wg sync.WaitGroup
	got := make([]*Body, 4*len(subsets))
	for i := range got {
		wg.Go(func() { got[i] = subsets[i%len(subsets)]() })
	}
	wg.Wait()
	tags := map[string]bool{s.All.ETag: true, s.AllJSON.ETag: true}
	for i, b := range got {
		if want := subsets[i%len(subsets)](); b != want {
			t.Fatalf("call %d got another body than the first call", i)
		}
		checkBody(t, fmt.Sprint("subset ", i), *b)
		if i < len(subsets) {
			if tags[b.ETag] {
				t.Errorf("subset %d shares ETag %s with another body", i, b.ETag)
			}
			tags[b.ETag] = true
		}
	}
}

func TestEntityRefHash(t *testing.T) {
	t.Parallel()
	es := []catalog.Entity{entity(catalog.KindUser, "alice"), entity(catalog.KindUser, "Bob.Smith"), entity(catalog.KindGroup, "Platform_Team"), entity(catalog.KindUser, "josé")}
	es[1].Metadata.Namespace = "Team-A"
	for i := range es {
		e := &es[i]
		if got, want := entityRefHash(e), refHash(e.Ref()); got != want {
			t.Errorf("%s: got %x, want refHash(Ref()) %x", e.Ref(), got, want)
		}
		if got, want := int(entityRefHash(e)%16), ShardOf(e.Ref(), 16); got != want {
			t.Errorf("%s: shard %d, want ShardOf's %d", e.Ref(), got, want)
		}
	}
}
