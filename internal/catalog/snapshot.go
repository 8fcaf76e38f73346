package catalog

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNothingHeld is returned by an attempt to accept a held-back snapshot when no
// snapshot is held back.
var ErrNothingHeld = errors.New("no snapshot is held back")

// Body is one response body, encoded once when its snapshot is built and served
// as is to every request.
type Body struct {
	// Data is the body as is. It may share memory with other bodies of the same
	// snapshot: never modify it.
	Data []byte
	// Gzip is Data compressed with gzip.
	Gzip []byte
	// ETag is the strong entity tag of Data, quoted: a hash of the content, so it
	// changes exactly when the content changes.
	ETag string
	// GzipETag is the strong entity tag of Gzip: ETag with a "-gzip" suffix, since
	// a strong validator must differ between content codings.
	GzipETag string
}

// Snapshot is the catalog as served at one moment: every body the HTTP API
// answers with, encoded once by NewSnapshot. A Snapshot is immutable; a new sync
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
	// UsersYAML and GroupsYAML hold the users and the groups alone.
	UsersYAML, GroupsYAML Body
	// AllJSON is the JSON variant of All. The JSON variants of UsersYAML and
	// GroupsYAML are built on first use: see UsersJSON and GroupsJSON.
	AllJSON Body
	// usersJSON and groupsJSON are the elements of AllJSON that make up
	// the users' and the groups' JSON arrays.
	usersJSON, groupsJSON lazyBody

	// Shards holds, in large-org mode, the entities of each shard as YAML; nil
	// otherwise. Entity e belongs to shard ShardOf(e.Ref(), len(Shards)). A shard
	// can be empty: then its Data is empty, which is zero YAML documents.
	Shards []Body
	// Index holds, in large-org mode, one Location entity per shard whose
	// relative target is ShardTarget(n); it is empty otherwise.
	Index Body

	// Report is the mapping report of the Result the snapshot was built from.
	Report Report
}

// lazyBody is a Body built from a run of JSON array elements the first time
// it is asked for, then kept for the life of its snapshot.
type lazyBody struct {
	once  sync.Once
	elems []byte
	body  Body
}

func (l *lazyBody) get() *Body {
	l.once.Do(func() {
		l.body.Data = jsonArray(l.elems)
		seal([]*Body{&l.body}, nil)
	})
	return &l.body
}

// UsersJSON returns the JSON variant of UsersYAML. JSON is for consumers
// other than Backstage, and the users' subset alone would repeat most of
// AllJSON, so it is built (encoded, hashed and compressed) once, by the
// first request for it, rather than with every snapshot.
func (s *Snapshot) UsersJSON() *Body { return s.usersJSON.get() }

// GroupsJSON returns the JSON variant of GroupsYAML, built like UsersJSON.
func (s *Snapshot) GroupsJSON() *Body { return s.groupsJSON.get() }

// Sharded reports whether the snapshot is split into shards (large-org mode).
func (s *Snapshot) Sharded() bool { return len(s.Shards) > 0 }

// ShardOf returns the shard, in [0, n), that the entity with the given ref
// belongs to. It is a stable hash (FNV-1a of the lower-cased ref, since entity
// refs compare case-insensitively), so an entity stays in its shard across syncs
// and a change to one entity changes one shard only. It returns 0 when n <= 1.
func ShardOf(ref string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(ref)))
	return int(h.Sum64() % uint64(n))
}

// ShardLocationName returns the metadata.name of the Location entity that
// points at shard n.
func ShardLocationName(n int) string {
	return "okta-entity-provider-shard-" + strconv.Itoa(n)
}

// ShardTarget returns the spec.target of the Location entity that points at
// shard n: a URL relative to the URL the index is served at (.../entities).
//
// Backstage resolves a relative target with new URL(target, base), where the
// last path segment of the base counts as a file, and then replaces the
// resolved URL's query with the base's query. So with the base
// http://host:8080/entities?token=x the target "./entities/shards/3" reads
// http://host:8080/entities/shards/3?token=x: the shard keeps any path prefix of
// the base and the entities token. An absolute path ("/entities/shards/3") would
// instead be resolved against a repository root Backstage derives from the base.
func ShardTarget(n int) string {
	return "./entities/shards/" + strconv.Itoa(n)
}

// docSep starts every YAML document.
const docSep = "---\n"

// NewSnapshot encodes res into a Snapshot built at builtAt. With shards > 0 the
// entities are also split into that many shards (large-org mode) and the index
// of Location entities is built. Every entity is encoded once as YAML and once
// as JSON; the per-kind and per-shard bodies are copied from those encodings,
// then every body is hashed and compressed, in parallel.
func NewSnapshot(res *Result, builtAt time.Time, shards int) *Snapshot {
	return NewSnapshotFrom(nil, res, builtAt, shards)
}

// NewSnapshotFrom is NewSnapshot reusing the gzip encodings of prev, the
// previous snapshot (nil for none), for every body whose content did not
// change. Compression is most of the cost of a snapshot, and between two syncs
// usually little changes: in large-org mode a change to one entity
// recompresses one shard, not all of them.
func NewSnapshotFrom(prev *Snapshot, res *Result, builtAt time.Time, shards int) *Snapshot {
	s := &Snapshot{BuiltAt: builtAt, Report: res.Report}

	// Users first, then groups, then anything else, each in the Result's order,
	// so that the users' and the groups' documents are contiguous in All.
	ordered := make([]*Entity, 0, len(res.Entities))
	for _, kind := range []string{KindUser, KindGroup, ""} {
		for i := range res.Entities {
			e := &res.Entities[i]
			switch {
			case kind != "" && e.Kind == kind:
			case kind == "" && e.Kind != KindUser && e.Kind != KindGroup:
			default:
				continue
			}
			ordered = append(ordered, e)
		}
	}
	s.Entities = len(ordered)
	for _, e := range ordered {
		switch e.Kind {
		case KindUser:
			s.Users++
		case KindGroup:
			s.Groups++
		}
	}

	// YAML: one buffer holding every document; ends[i] is where entity i's
	// document (with its separator) ends.
	var yml []byte
	ends := make([]int, len(ordered))
	for i, e := range ordered {
		yml = append(yml, docSep...)
		yml = AppendYAML(yml, e)
		if yml[len(yml)-1] != '\n' {
			yml = append(yml, '\n')
		}
		ends[i] = len(yml)
	}
	start := func(i int) int {
		if i == 0 {
			return 0
		}
		return ends[i-1]
	}
	usersEnd := start(s.Users)
	groupsEnd := start(s.Users + s.Groups)
	s.All.Data = yml[:len(yml):len(yml)]
	s.UsersYAML.Data = yml[:usersEnd:usersEnd]
	s.GroupsYAML.Data = yml[usersEnd:groupsEnd:groupsEnd]

	// JSON: the array of all entities, one per line; the users' and the groups'
	// elements are contiguous in it and are copied out with their own brackets.
	js := make([]byte, 0, len(yml))
	js = append(js, '[')
	jsStart := make([]int, len(ordered))
	jsEnd := make([]int, len(ordered))
	for i, e := range ordered {
		if i > 0 {
			js = append(js, ',')
		}
		js = append(js, '\n')
		jsStart[i] = len(js)
		js = AppendJSON(js, e)
		jsEnd[i] = len(js)
	}
	js = append(js, "\n]\n"...)
	if len(ordered) == 0 {
		js = append(js[:0], "[]\n"...)
	}
	s.AllJSON.Data = js
	elems := func(from, to int) []byte {
		if from >= to {
			return nil
		}
		return js[jsStart[from]:jsEnd[to-1]]
	}
	s.usersJSON.elems = elems(0, s.Users)
	s.groupsJSON.elems = elems(s.Users, s.Users+s.Groups)

	if shards > 0 {
		s.Shards = make([]Body, shards)
		member := make([][]int, shards)
		for i, e := range ordered {
			n := ShardOf(e.Ref(), shards)
			member[n] = append(member[n], i)
		}
		for n, idx := range member {
			size := 0
			for _, i := range idx {
				size += ends[i] - start(i)
			}
			data := make([]byte, 0, size)
			for _, i := range idx {
				data = append(data, yml[start(i):ends[i]]...)
			}
			s.Shards[n].Data = data
		}
		s.Index.Data = appendIndex(nil, shards)
	}

	bodies := []*Body{&s.All, &s.UsersYAML, &s.GroupsYAML, &s.AllJSON}
	if shards > 0 {
		bodies = append(bodies, &s.Index)
		for n := range s.Shards {
			bodies = append(bodies, &s.Shards[n])
		}
	}
	seal(bodies, prev.gzipByETag())
	return s
}

// gzipByETag returns the gzip encoding of each of the snapshot's bodies by the
// ETag of its content. It returns nil for a nil snapshot.
func (s *Snapshot) gzipByETag() map[string][]byte {
	if s == nil {
		return nil
	}
	m := make(map[string][]byte, 8+len(s.Shards))
	for _, b := range []*Body{&s.All, &s.UsersYAML, &s.GroupsYAML, &s.AllJSON, &s.Index} {
		m[b.ETag] = b.Gzip
	}
	for i := range s.Shards {
		m[s.Shards[i].ETag] = s.Shards[i].Gzip
	}
	return m
}

// jsonArray returns elems, a run of JSON array elements separated by ",\n", as
// a JSON array in the layout NewSnapshot uses.
func jsonArray(elems []byte) []byte {
	if len(elems) == 0 {
		return []byte("[]\n")
	}
	b := make([]byte, 0, len(elems)+5)
	b = append(b, "[\n"...)
	b = append(b, elems...)
	return append(b, "\n]\n"...)
}

// appendIndex appends the index body: one Location entity per shard.
func appendIndex(dst []byte, shards int) []byte {
	for n := range shards {
		dst = append(dst, docSep...)
		dst = append(dst, "apiVersion: "+APIVersion+"\nkind: Location\nmetadata:\n  name: "...)
		dst = append(dst, ShardLocationName(n)...)
		dst = append(dst, "\n  description: Okta users and groups, shard "...)
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, " of shards 0 to "...)
		dst = strconv.AppendInt(dst, int64(shards-1), 10)
		dst = append(dst, "\nspec:\n  type: url\n  target: "...)
		dst = append(dst, ShardTarget(n)...)
		dst = append(dst, '\n')
	}
	return dst
}

// seal computes the ETags and the gzip encoding of every body, spreading the
// work over the available CPUs. A body whose ETag is in reuse takes the gzip
// encoding found there instead of compressing again.
func seal(bodies []*Body, reuse map[string][]byte) {
	work := make(chan *Body)
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(bodies))
	for range workers {
		wg.Go(func() {
			zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
			// Compressed into a scratch buffer, then copied out at its exact
			// size: a snapshot is kept for a whole sync interval, and the
			// spare capacity of a growing buffer would be kept with it.
			var scratch bytes.Buffer
			for b := range work {
				sum := sha256.Sum256(b.Data)
				tag := hex.EncodeToString(sum[:16])
				b.ETag = `"` + tag + `"`
				b.GzipETag = `"` + tag + `-gzip"`
				if gz, ok := reuse[b.ETag]; ok {
					b.Gzip = gz
					continue
				}
				scratch.Reset()
				zw.Reset(&scratch)
				// Writes to a bytes.Buffer cannot fail.
				_, _ = zw.Write(b.Data)
				_ = zw.Close()
				b.Gzip = bytes.Clone(scratch.Bytes())
			}
		})
	}
	for _, b := range bodies {
		work <- b
	}
	close(work)
	wg.Wait()
}
