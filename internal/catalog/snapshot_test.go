package catalog

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func testUser(name string, groups ...string) Entity {
	return Entity{
		APIVersion: APIVersion,
		Kind:       KindUser,
		Metadata: Metadata{
			Name:        name,
			Annotations: []KeyValue{{Key: AnnotationID, Value: "00u" + name}},
		},
		User:   &UserSpec{Profile: &Profile{Email: name + "@example.com"}, MemberOf: groups},
		OktaID: "00u" + name,
	}
}

func testGroup(name string, members ...string) Entity {
	return Entity{
		APIVersion: APIVersion,
		Kind:       KindGroup,
		Metadata: Metadata{
			Name:        name,
			Annotations: []KeyValue{{Key: AnnotationID, Value: "00g" + name}},
		},
		Group:  &GroupSpec{Type: "team", Children: []string{}, Members: members},
		OktaID: "00g" + name,
	}
}

// testResult mixes the kinds, so the snapshot has to order them.
func testResult() *Result {
	return &Result{
		Entities: []Entity{
			testGroup("platform", "alice"),
			testUser("alice", "platform"),
			testUser("bob"),
			testGroup("security"),
			testUser("carol"),
		},
		Report: Report{Users: 3, Groups: 2},
	}
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

func TestNewSnapshot(t *testing.T) {
	t.Parallel()
	res := testResult()
	builtAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewSnapshot(res, builtAt, 0)

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
	for _, e := range []Entity{res.Entities[1], res.Entities[2], res.Entities[4], res.Entities[0], res.Entities[3]} {
		want = append(want, "---\n"...)
		want = AppendYAML(want, &e)
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

func TestNewSnapshotJSONMatchesAppendJSON(t *testing.T) {
	t.Parallel()
	res := testResult()
	s := NewSnapshot(res, time.Time{}, 0)
	var raw []json.RawMessage
	if err := json.Unmarshal(s.UsersJSON().Data(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3 {
		t.Fatalf("got %d users in UsersJSON, want 3", len(raw))
	}
	if got, want := string(raw[0]), string(AppendJSON(nil, &res.Entities[1])); got != want {
		t.Errorf("got first user %s, want %s", got, want)
	}
}

func TestNewSnapshotGroupsOnly(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(&Result{Entities: []Entity{testGroup("platform"), testGroup("security")}}, time.Time{}, 0)
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

func TestNewSnapshotOneKind(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(&Result{Entities: []Entity{testUser("alice"), testUser("bob")}}, time.Time{}, 0)
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

// An empty Result gives valid, empty bodies. The HTTP API refuses to serve
// them (a successful empty read makes Backstage delete every entity), but the
// snapshot itself stays well-formed.
func TestNewSnapshotEmpty(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(&Result{}, time.Time{}, 4)
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

func TestNewSnapshotETags(t *testing.T) {
	t.Parallel()
	a := NewSnapshot(testResult(), time.Unix(1, 0), 4)
	b := NewSnapshot(testResult(), time.Unix(2, 0), 4)
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

	changed := testResult()
	changed.Entities[2].User.Profile.Email = "robert@example.com" // bob
	c := NewSnapshot(changed, time.Unix(3, 0), 4)
	if c.All.ETag == a.All.ETag {
		t.Errorf("All ETag %s did not change with the content", c.All.ETag)
	}
	if c.GroupsYAML().ETag != a.GroupsYAML().ETag {
		t.Errorf("groups ETag changed from %s to %s with only a user changed", a.GroupsYAML().ETag, c.GroupsYAML().ETag)
	}
	if c.Index.ETag != a.Index.ETag {
		t.Errorf("index ETag changed from %s to %s; it depends on the shard count only", a.Index.ETag, c.Index.ETag)
	}
	bobShard := ShardOf(changed.Entities[2].Ref(), 4)
	for n := range c.Shards {
		if changed := c.Shards[n].ETag != a.Shards[n].ETag; changed != (n == bobShard) {
			t.Errorf("shard %d: ETag changed = %v, want %v (bob is in shard %d)", n, changed, n == bobShard, bobShard)
		}
	}
}

func TestNewSnapshotFromReusesGzip(t *testing.T) {
	t.Parallel()
	prev := NewSnapshot(testResult(), time.Unix(1, 0), 4)
	changed := testResult()
	changed.Entities[2].User.Profile.Email = "robert@example.com" // bob
	s := NewSnapshotFrom(prev, changed, time.Unix(2, 0), 4)
	bobShard := ShardOf(changed.Entities[2].Ref(), 4)

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

func TestNewSnapshotShards(t *testing.T) {
	t.Parallel()
	var entities []Entity
	for i := range 200 {
		entities = append(entities, testUser(fmt.Sprintf("user-%03d", i)))
	}
	for i := range 30 {
		entities = append(entities, testGroup(fmt.Sprintf("group-%02d", i)))
	}
	res := &Result{Entities: entities}
	for _, shards := range []int{1, 3, 16} {
		t.Run(strconv.Itoa(shards), func(t *testing.T) {
			t.Parallel()
			s := NewSnapshot(res, time.Time{}, shards)
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
				doc := "---\n" + string(AppendYAML(nil, e))
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
func TestNewSnapshotEmptyShard(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(&Result{Entities: []Entity{testUser("alice")}}, time.Time{}, 8)
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

func TestShardOf(t *testing.T) {
	t.Parallel()
	// Pinned values: changing the hash reshuffles every shard of every
	// deployment, which the catalog sees as a mass move of entities.
	tests := []struct {
		ref  string
		n    int
		want int
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

func TestIndex(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(testResult(), time.Time{}, 2)
	want := `---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: okta-entity-provider-shard-0
  description: Okta users and groups, shard 0 of shards 0 to 1
spec:
  type: url
  target: ./entities/shards/0
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: okta-entity-provider-shard-1
  description: Okta users and groups, shard 1 of shards 0 to 1
spec:
  type: url
  target: ./entities/shards/1
`
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

func BenchmarkNewSnapshot(b *testing.B) {
	for _, users := range []int{20_000, 100_000} {
		if testing.Short() && users > 20_000 {
			continue
		}
		entities := make([]Entity, 0, users+users/10)
		for i := range users {
			entities = append(entities, testUser(fmt.Sprintf("user-%06d", i), fmt.Sprintf("group-%05d", i%(users/10)), "everyone"))
		}
		for i := range users / 10 {
			entities = append(entities, testGroup(fmt.Sprintf("group-%05d", i)))
		}
		res := &Result{Entities: entities}
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			var size int64
			for b.Loop() {
				s := NewSnapshot(res, time.Time{}, 16)
				size = int64(len(s.All.Data()))
			}
			b.SetBytes(size)
		})
		// The usual sync: nothing changed since the previous snapshot.
		prev := NewSnapshot(res, time.Time{}, 16)
		b.Run(fmt.Sprintf("users=%d/unchanged", users), func(b *testing.B) {
			var size int64
			for b.Loop() {
				s := NewSnapshotFrom(prev, res, time.Time{}, 16)
				size = int64(len(s.All.Data()))
			}
			b.SetBytes(size)
		})
	}
}

// The bodies of one kind are built once, by whichever request comes first,
// however many ask at the same time.
func TestSubsetsAreBuiltOnce(t *testing.T) {
	t.Parallel()
	s := NewSnapshot(testResult(), time.Unix(1, 0), 0)
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

// BuildSnapshot makes each entity when it encodes it; what it builds must be
// what NewSnapshot builds from Build's entities, to the byte.
func TestBuildSnapshotMatchesBuild(t *testing.T) {
	t.Parallel()
	var peerInputs []string
	for _, c := range loadPeerCases(t) {
		peerInputs = append(peerInputs, c.Input)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 40 {
		in := genOrg(rng, peerInputs)
		opts := genOptions(rng)
		shards := []int{0, 0, 1, 5}[i%4]
		prev := NewSnapshot(Build(opts, in), time.Unix(1, 0), shards)
		want := NewSnapshotFrom(prev, Build(opts, in), time.Unix(2, 0), shards)
		got := BuildSnapshot(prev, opts, in, time.Unix(2, 0), shards)

		if diff := cmp.Diff(want.Report, got.Report); diff != "" {
			t.Fatalf("org %d: report (-NewSnapshot +BuildSnapshot):\n%s", i, diff)
		}
		if want.Entities != got.Entities || want.Users != got.Users || want.Groups != got.Groups {
			t.Errorf("org %d: counts %d/%d/%d, want %d/%d/%d", i, got.Entities, got.Users, got.Groups, want.Entities, want.Users, want.Groups)
		}
		bodies := map[string][2]*Body{
			"All": {&want.All, &got.All}, "AllJSON": {&want.AllJSON, &got.AllJSON},
			"UsersYAML": {want.UsersYAML(), got.UsersYAML()}, "GroupsYAML": {want.GroupsYAML(), got.GroupsYAML()},
			"UsersJSON": {want.UsersJSON(), got.UsersJSON()}, "GroupsJSON": {want.GroupsJSON(), got.GroupsJSON()},
		}
		if shards > 0 {
			bodies["Index"] = [2]*Body{&want.Index, &got.Index}
		}
		for n := range want.Shards {
			bodies[fmt.Sprint("shard ", n)] = [2]*Body{&want.Shards[n], &got.Shards[n]}
		}
		for name, b := range bodies {
			checkBody(t, name, *b[1])
			if b[0].ETag != b[1].ETag || !bytes.Equal(b[0].Data(), b[1].Data()) {
				t.Errorf("org %d: %s differs: ETag %s, want %s", i, name, b[1].ETag, b[0].ETag)
			}
		}
		if len(got.Shards) != len(want.Shards) {
			t.Errorf("org %d: %d shards, want %d", i, len(got.Shards), len(want.Shards))
		}
		if u, g := got.Removed(prev); u != 0 || g != 0 {
			t.Errorf("org %d: %d users and %d groups removed from the same org", i, u, g)
		}
	}
}

func TestRemoved(t *testing.T) {
	t.Parallel()
	prev := NewSnapshot(testResult(), time.Unix(1, 0), 0) // alice, bob, carol; platform, security
	cur := NewSnapshot(&Result{Entities: []Entity{testUser("alice"), testUser("Bob"), testUser("dave"), testGroup("platform")}}, time.Unix(2, 0), 0)
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

func TestEntityRefHash(t *testing.T) {
	t.Parallel()
	es := []Entity{testUser("alice"), testUser("Bob.Smith"), testGroup("Platform_Team"), testUser("josé")}
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
