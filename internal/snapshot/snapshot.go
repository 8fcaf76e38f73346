package snapshot

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
)

// Snapshot is the catalog as served at one moment: every body the HTTP API
// answers with, encoded once by Build (or, for the bodies of a kind
// alone, by the first request for them). A Snapshot is immutable; a new sync
// builds a new one and swaps it in whole.
//
// The YAML bodies are multi-document YAML, every document (entity) starting with
// "---\n". The JSON bodies are JSON arrays of entities, for consumers other than
// Backstage, whose URL reader cannot read a JSON array.
type Snapshot struct {
	// BuiltAt is when the snapshot was built.
	BuiltAt time.Time
	// Entities is the number of entities; Users and Groups count the entities of
	// kind User and Group.
	Entities, Users, Groups int

	// All holds every entity, users first, then groups.
	All Body
	// AllJSON is the JSON variant of All.
	AllJSON Body
	// The users alone and the groups alone, as YAML and as JSON: runs of All
	// and AllJSON, built on first use (see UsersYAML).
	usersYAML, groupsYAML, usersJSON, groupsJSON lazyBody

	// Shards holds, in large-org mode, the entities of each shard as YAML; nil
	// otherwise. Entity e belongs to shard ShardOf(e.Ref(), len(Shards)). A shard
	// can be empty: then its Size is 0, which is zero YAML documents.
	Shards []Body
	// Index holds, in large-org mode, one Location entity per shard whose
	// relative target is ShardTarget(n); it is empty otherwise.
	Index Body

	// Report is the mapping report of the entities (catalog.Build's Report).
	Report catalog.Report

	// userRefs and groupRefs are every user's and group's entity ref,
	// sorted by compareRefs: what Removed and Diff compare.
	userRefs, groupRefs []string
}

// UsersYAML returns the users alone, as YAML. Backstage reads All (or the
// shards), so the bodies of one kind are built (cut from All, hashed and
// compressed) once, by the first request for them, rather than with every
// snapshot.
func (s *Snapshot) UsersYAML() *Body { return s.usersYAML.get() }

// GroupsYAML returns the groups alone, as YAML, built like UsersYAML.
func (s *Snapshot) GroupsYAML() *Body { return s.groupsYAML.get() }

// UsersJSON returns the JSON variant of UsersYAML, built like it.
func (s *Snapshot) UsersJSON() *Body { return s.usersJSON.get() }

// GroupsJSON returns the JSON variant of GroupsYAML, built like it.
func (s *Snapshot) GroupsJSON() *Body { return s.groupsJSON.get() }

// Sharded reports whether the snapshot is split into shards (large-org mode).
func (s *Snapshot) Sharded() bool { return len(s.Shards) > 0 }

// Removed counts the users and the groups of prev that s does not have
// (by entity ref, compared case-insensitively as Backstage does). A nil
// prev has none.
func (s *Snapshot) Removed(prev *Snapshot) (users, groups int) {
	if prev == nil {
		return 0, 0
	}
	return len(missing(prev.userRefs, s.userRefs)), len(missing(prev.groupRefs, s.groupRefs))
}

// Diff lists the entity refs of prev that s does not have (removed) and
// those of s that prev does not have (added): users first, then groups,
// each run sorted. A nil prev has nothing, so all of s is added. The
// lists are new slices sharing the snapshots' strings.
func (s *Snapshot) Diff(prev *Snapshot) (removed, added []string) {
	var pu, pg []string
	if prev != nil {
		pu, pg = prev.userRefs, prev.groupRefs
	}
	removed = append(missing(pu, s.userRefs), missing(pg, s.groupRefs)...)
	added = append(missing(s.userRefs, pu), missing(s.groupRefs, pg)...)
	return removed, added
}

// missing returns the elements of old that are not in cur; both are
// sorted by compareRefs.
func missing(old, cur []string) []string {
	var out []string
	for _, ref := range old {
		for len(cur) > 0 && compareRefs(cur[0], ref) < 0 {
			cur = cur[1:]
		}
		if len(cur) == 0 || compareRefs(cur[0], ref) != 0 {
			out = append(out, ref)
		}
	}
	return out
}

// compareRefs orders entity refs case-insensitively, as Backstage compares
// them: refs that differ in case only are equal (one snapshot never holds
// two of them).
func compareRefs(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca >= utf8.RuneSelf || cb >= utf8.RuneSelf {
			return strings.Compare(strings.ToLower(a[i:]), strings.ToLower(b[i:]))
		}
		if c := cmp.Compare(lowerASCII(ca), lowerASCII(cb)); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Build encodes the entities of m (catalog.Map, catalog.MapOrgs) into a
// Snapshot built at builtAt, each entity made when it is encoded, then
// dropped: the entities are never held together. With shards > 0 the
// entities are also split into that many shards (large-org mode) and the
// index of Location entities is built. The bodies are encoded, hashed and
// compressed in parallel, each streamed through its compressor in small
// pieces, so that no body is ever held uncompressed whole.
//
// prev, the previous snapshot (nil for none), lends its gzip encoding to
// every shard whose content did not change: in large-org mode a change to
// one entity recompresses one shard, not all of them. prev's sizes also
// size the new buffers.
func Build(prev *Snapshot, m *catalog.Mapping, builtAt time.Time, shards int) *Snapshot {
	s := &Snapshot{BuiltAt: builtAt, Entities: m.Users() + m.Groups(), Users: m.Users(), Groups: m.Groups()}
	var hintAll, hintJSON int
	if prev != nil {
		hintAll, hintJSON = len(prev.All.Gzip), len(prev.AllJSON.Gzip)
	}
	tasks := []func(*encoder){
		func(enc *encoder) { s.encodeYAML(enc, m, hintAll) },
		func(enc *encoder) { s.encodeJSON(enc, m, hintJSON) },
	}
	if shards > 0 {
		tasks = append(tasks, s.shardTasks(prev, m, shards)...)
	}
	runTasks(tasks)
	return s
}

// encodeYAML encodes All: every entity's document, users first. It also
// notes where the users' and the groups' documents end, for UsersYAML and
// GroupsYAML, the hashes of the refs, for Removed, and the mapping report.
func (s *Snapshot) encodeYAML(enc *encoder, m *catalog.Mapping, hint int) {
	w := enc.body(hint)
	var usersEnd, groupsEnd int64
	s.userRefs = make([]string, 0, s.Users)
	s.groupRefs = make([]string, 0, s.Groups)
	i := 0
	s.Report = m.EachReport(func(e *catalog.Entity) {
		enc.yaml(w, e)
		i++
		if i == s.Users {
			usersEnd = w.n + int64(len(enc.buf))
		}
		if i == s.Users+s.Groups {
			groupsEnd = w.n + int64(len(enc.buf))
		}
		switch e.Kind {
		case catalog.KindUser:
			s.userRefs = append(s.userRefs, e.Ref())
		case catalog.KindGroup:
			s.groupRefs = append(s.groupRefs, e.Ref())
		}
	})
	slices.SortFunc(s.userRefs, compareRefs)
	slices.SortFunc(s.groupRefs, compareRefs)
	enc.flush(w)
	s.All = w.body()
	s.usersYAML = lazyBody{src: &s.All, from: 0, to: usersEnd}
	s.groupsYAML = lazyBody{src: &s.All, from: usersEnd, to: groupsEnd}
}

// encodeJSON encodes AllJSON: the array of all entities, one per line. The
// users' and the groups' elements are contiguous runs of it, which
// UsersJSON and GroupsJSON wrap in brackets of their own.
func (s *Snapshot) encodeJSON(enc *encoder, m *catalog.Mapping, hint int) {
	w := enc.body(hint)
	if s.Entities == 0 {
		enc.buf = append(enc.buf, "[]\n"...)
	} else {
		enc.buf = append(enc.buf, '[')
	}
	var starts, ends [2]int64 // of the users' and of the groups' run
	i := -1
	m.Each(func(e *catalog.Entity) {
		i++
		if i > 0 {
			enc.buf = append(enc.buf, ',')
		}
		enc.buf = append(enc.buf, '\n')
		at := w.n + int64(len(enc.buf))
		if i == 0 {
			starts[0] = at
		}
		if i == s.Users {
			starts[1] = at
		}
		enc.buf = catalog.AppendJSON(enc.buf, e)
		at = w.n + int64(len(enc.buf))
		if i+1 == s.Users {
			ends[0] = at
		}
		if i+1 == s.Users+s.Groups {
			ends[1] = at
		}
		enc.maybeFlush(w)
	})
	if s.Entities > 0 {
		enc.buf = append(enc.buf, "\n]\n"...)
	}
	enc.flush(w)
	s.AllJSON = w.body()
	s.usersJSON = lazyBody{array: true}
	if s.Users > 0 {
		s.usersJSON = lazyBody{src: &s.AllJSON, from: starts[0], to: ends[0], array: true}
	}
	s.groupsJSON = lazyBody{array: true}
	if s.Groups > 0 {
		s.groupsJSON = lazyBody{src: &s.AllJSON, from: starts[1], to: ends[1], array: true}
	}
}

// shardTasks splits the entities of m into shards and returns the tasks
// that seal each shard and the index. A shard is small: it is encoded whole,
// so that its hash is known before it is compressed, and a shard whose
// content prev has already is not compressed again.
func (s *Snapshot) shardTasks(prev *Snapshot, m *catalog.Mapping, shards int) []func(*encoder) {
	reuse := prev.shardGzip()
	s.Shards = make([]Body, shards)
	data := make([][]byte, shards)
	m.Each(func(e *catalog.Entity) {
		n := int(entityRefHash(e) % uint64(shards)) // ShardOf(e.Ref(), shards), for shards > 0
		data[n] = appendDoc(data[n], e)
	})
	tasks := make([]func(*encoder), 0, shards+1)
	for n := range s.Shards {
		tasks = append(tasks, func(enc *encoder) {
			s.Shards[n] = enc.sealSmall(data[n], reuse)
			data[n] = nil
		})
	}
	return append(tasks, func(enc *encoder) {
		s.Index = enc.sealSmall(appendIndex(nil, shards), reuse)
	})
}

// shardGzip returns the gzip encoding of each of the snapshot's shards and
// of its index by the ETag of its content. It returns nil for a nil snapshot.
func (s *Snapshot) shardGzip() map[string][]byte {
	if s == nil {
		return nil
	}
	m := make(map[string][]byte, 1+len(s.Shards))
	m[s.Index.ETag] = s.Index.Gzip
	for i := range s.Shards {
		m[s.Shards[i].ETag] = s.Shards[i].Gzip
	}
	return m
}
