package catalog

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrNothingHeld is returned by an attempt to accept a held-back snapshot when no
// snapshot is held back.
var ErrNothingHeld = errors.New("no snapshot is held back")

// Body is one response body, encoded once when its snapshot is built and
// kept compressed only: a snapshot is held for a whole sync interval, and at
// 100,000 users its content is over 100 MiB uncompressed, about a fifth of
// that compressed. Clients that accept gzip (Backstage's URL reader does)
// get Gzip as is; the others get the content decompressed as it is sent.
type Body struct {
	// Gzip is the content compressed with gzip. It may share memory with
	// other snapshots: never modify it.
	Gzip []byte
	// Size is the length of the content, uncompressed.
	Size int64
	// ETag is the strong entity tag of the content: a hash of it, quoted, so
	// it changes exactly when the content changes.
	ETag string
	// GzipETag is the strong entity tag of Gzip: ETag with a "-gzip" suffix,
	// since a strong validator must differ between content codings.
	GzipETag string
}

// WriteTo writes the content, uncompressed, to w.
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	if b.Size == 0 {
		return 0, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.Gzip))
	if err != nil {
		return 0, fmt.Errorf("decompress body: %w", err)
	}
	return io.Copy(w, zr)
}

// Data returns the content, uncompressed, in a new slice on every call. It is
// for tests and small bodies; serving streams with WriteTo instead.
func (b *Body) Data() []byte {
	var buf bytes.Buffer
	buf.Grow(int(b.Size))
	if _, err := b.WriteTo(&buf); err != nil {
		// This package wrote the bytes; they cannot fail to decode.
		panic(err)
	}
	return buf.Bytes()
}

// Snapshot is the catalog as served at one moment: every body the HTTP API
// answers with, encoded once by NewSnapshot (or, for the bodies of a kind
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

	// Report is the mapping report of the Result the snapshot was built from.
	Report Report

	// userRefs and groupRefs are the refHash of every user's and group's
	// ref, sorted: what Removed compares.
	userRefs, groupRefs []uint64
}

// lazyBody is a Body cut from a run of another body's content the first time
// it is asked for, then kept for the life of its snapshot.
type lazyBody struct {
	once     sync.Once
	src      *Body
	from, to int64 // the run of src's content
	array    bool  // the run is JSON array elements, to be wrapped in brackets
	body     Body
}

func (l *lazyBody) get() *Body {
	l.once.Do(func() {
		zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		hint := 64
		if l.src != nil && l.src.Size > 0 {
			hint += int(int64(len(l.src.Gzip)) * (l.to - l.from) / l.src.Size)
		}
		w := newBodyWriter(zw, hint)
		if err := l.copyRun(w); err != nil {
			// This package wrote the source; it cannot fail to decode.
			panic(err)
		}
		l.body = w.body()
	})
	return &l.body
}

// copyRun writes the run to w, wrapped in brackets for an array. Only
// decompressing the source can fail.
func (l *lazyBody) copyRun(w *bodyWriter) error {
	if l.from >= l.to {
		if l.array {
			w.Write([]byte("[]\n"))
		}
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(l.src.Gzip))
	if err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if _, err := io.CopyN(io.Discard, zr, l.from); err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if l.array {
		w.Write([]byte("[\n"))
	}
	if _, err := io.CopyN(w, zr, l.to-l.from); err != nil {
		return fmt.Errorf("decompress body: %w", err)
	}
	if l.array {
		w.Write([]byte("\n]\n"))
	}
	return nil
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

// ShardOf returns the shard, in [0, n), that the entity with the given ref
// belongs to. It is a stable hash (FNV-1a of the lower-cased ref, since entity
// refs compare case-insensitively), so an entity stays in its shard across syncs
// and a change to one entity changes one shard only. It returns 0 when n <= 1.
func ShardOf(ref string, n int) int {
	if n <= 1 {
		return 0
	}
	return int(refHash(ref) % uint64(n))
}

// refHash is the FNV-1a hash of the lower-cased ref, given whole or in
// parts. It builds no string: the snapshot's passes hash every entity's ref.
func refHash(ref ...string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211 // FNV-1a, 64 bits
	h := uint64(offset)
	for _, part := range ref {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c >= utf8.RuneSelf {
				// Names are ASCII; lower-casing anything else takes Unicode.
				f := fnv.New64a()
				f.Write([]byte(strings.ToLower(strings.Join(ref, ""))))
				return f.Sum64()
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h ^= uint64(c)
			h *= prime
		}
	}
	return h
}

// entityRefHash is refHash(e.Ref()).
func entityRefHash(e *Entity) uint64 {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return refHash(e.Kind, ":", ns, "/", e.Metadata.Name)
}

// Removed counts the users and the groups of prev that s does not have
// (by ref, compared as 64-bit hashes). A nil prev has none.
func (s *Snapshot) Removed(prev *Snapshot) (users, groups int) {
	if prev == nil {
		return 0, 0
	}
	return missing(prev.userRefs, s.userRefs), missing(prev.groupRefs, s.groupRefs)
}

// missing counts the elements of old that are not in cur; both are sorted.
func missing(old, cur []uint64) int {
	n := 0
	for _, h := range old {
		for len(cur) > 0 && cur[0] < h {
			cur = cur[1:]
		}
		if len(cur) == 0 || cur[0] != h {
			n++
		}
	}
	return n
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
// of Location entities is built. The bodies are encoded, hashed and compressed
// in parallel, each streamed through its compressor in small pieces, so that
// no body is ever held uncompressed whole.
func NewSnapshot(res *Result, builtAt time.Time, shards int) *Snapshot {
	return NewSnapshotFrom(nil, res, builtAt, shards)
}

// NewSnapshotFrom is NewSnapshot reusing the gzip encodings of prev, the
// previous snapshot (nil for none), for every shard whose content did not
// change: in large-org mode a change to one entity recompresses one shard,
// not all of them. prev's sizes also size the new buffers.
func NewSnapshotFrom(prev *Snapshot, res *Result, builtAt time.Time, shards int) *Snapshot {
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
	st := entityStream{total: len(ordered), each: func(_ *[]SkippedLabel, f func(*Entity)) {
		for _, e := range ordered {
			f(e)
		}
	}}
	for _, e := range ordered {
		switch e.Kind {
		case KindUser:
			st.users++
		case KindGroup:
			st.groups++
		}
	}
	s := newSnapshot(prev, st, builtAt, shards, nil)
	s.Report = res.Report
	return s
}

// BuildSnapshot is NewSnapshotFrom(prev, Build(opts, in), builtAt, shards)
// without the entities ever held together: each is made when it is encoded,
// then dropped. At 100,000 users the entities are about 60 MiB.
func BuildSnapshot(prev *Snapshot, opts Options, in Input, builtAt time.Time, shards int) *Snapshot {
	b := mapInput(opts, in)
	users, groups := b.order()
	st := entityStream{users: len(users), groups: len(groups), total: len(users) + len(groups),
		each: func(skipped *[]SkippedLabel, f func(*Entity)) { b.each(users, groups, skipped, false, f) }}
	var skipped []SkippedLabel
	s := newSnapshot(prev, st, builtAt, shards, &skipped)
	s.Report = b.report(len(users), len(groups), skipped)
	return s
}

// entityStream is the entities of a snapshot, made on demand, in its order:
// users, then groups, then anything else.
type entityStream struct {
	users, groups, total int
	// each calls f with every entity in order, and records the labels it
	// skips in skipped unless that is nil; f must not keep the pointer.
	// Several calls may run at once.
	each func(skipped *[]SkippedLabel, f func(*Entity))
}

// newSnapshot encodes the entities of st, recording the labels skipped in
// skipped (unless nil) on one of its passes over them.
func newSnapshot(prev *Snapshot, st entityStream, builtAt time.Time, shards int, skipped *[]SkippedLabel) *Snapshot {
	s := &Snapshot{BuiltAt: builtAt, Entities: st.total, Users: st.users, Groups: st.groups}
	var hintAll, hintJSON int
	if prev != nil {
		hintAll, hintJSON = len(prev.All.Gzip), len(prev.AllJSON.Gzip)
	}
	tasks := []func(*encoder){
		func(enc *encoder) { s.encodeYAML(enc, st, skipped, hintAll) },
		func(enc *encoder) { s.encodeJSON(enc, st, hintJSON) },
	}
	if shards > 0 {
		tasks = append(tasks, s.shardTasks(prev, st, shards)...)
	}
	runTasks(tasks)
	return s
}

// encodeYAML encodes All: every entity's document, users first. It also
// notes where the users' and the groups' documents end, for UsersYAML and
// GroupsYAML, and the hashes of the refs, for Removed.
func (s *Snapshot) encodeYAML(enc *encoder, st entityStream, skipped *[]SkippedLabel, hint int) {
	w := enc.body(hint)
	var usersEnd, groupsEnd int64
	s.userRefs = make([]uint64, 0, s.Users)
	s.groupRefs = make([]uint64, 0, s.Groups)
	i := 0
	st.each(skipped, func(e *Entity) {
		enc.yaml(w, e)
		i++
		if i == s.Users {
			usersEnd = w.n + int64(len(enc.buf))
		}
		if i == s.Users+s.Groups {
			groupsEnd = w.n + int64(len(enc.buf))
		}
		switch e.Kind {
		case KindUser:
			s.userRefs = append(s.userRefs, entityRefHash(e))
		case KindGroup:
			s.groupRefs = append(s.groupRefs, entityRefHash(e))
		}
	})
	slices.Sort(s.userRefs)
	slices.Sort(s.groupRefs)
	enc.flush(w)
	s.All = w.body()
	s.usersYAML = lazyBody{src: &s.All, from: 0, to: usersEnd}
	s.groupsYAML = lazyBody{src: &s.All, from: usersEnd, to: groupsEnd}
}

// encodeJSON encodes AllJSON: the array of all entities, one per line. The
// users' and the groups' elements are contiguous runs of it, which
// UsersJSON and GroupsJSON wrap in brackets of their own.
func (s *Snapshot) encodeJSON(enc *encoder, st entityStream, hint int) {
	w := enc.body(hint)
	if st.total == 0 {
		enc.buf = append(enc.buf, "[]\n"...)
	} else {
		enc.buf = append(enc.buf, '[')
	}
	var starts, ends [2]int64 // of the users' and of the groups' run
	i := -1
	st.each(nil, func(e *Entity) {
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
		enc.buf = AppendJSON(enc.buf, e)
		at = w.n + int64(len(enc.buf))
		if i+1 == s.Users {
			ends[0] = at
		}
		if i+1 == s.Users+s.Groups {
			ends[1] = at
		}
		enc.maybeFlush(w)
	})
	if st.total > 0 {
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

// shardTasks splits the entities of st into shards and returns the tasks
// that seal each shard and the index. A shard is small: it is encoded whole,
// so that its hash is known before it is compressed, and a shard whose
// content prev has already is not compressed again.
func (s *Snapshot) shardTasks(prev *Snapshot, st entityStream, shards int) []func(*encoder) {
	reuse := prev.shardGzip()
	s.Shards = make([]Body, shards)
	data := make([][]byte, shards)
	st.each(nil, func(e *Entity) {
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

// appendDoc appends e's YAML document, separator first.
func appendDoc(dst []byte, e *Entity) []byte {
	dst = append(dst, docSep...)
	dst = AppendYAML(dst, e)
	if dst[len(dst)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return dst
}

// runTasks runs the encoding tasks on one worker per CPU, each with its own
// encoder, in the order given (the largest first).
func runTasks(tasks []func(*encoder)) {
	work := make(chan func(*encoder))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(tasks)) {
		wg.Go(func() {
			enc := newEncoder()
			for task := range work {
				task(enc)
			}
		})
	}
	for _, t := range tasks {
		work <- t
	}
	close(work)
	wg.Wait()
}

// flushAt is how much encoded content an encoder gathers before it hands it
// to the compressor.
const flushAt = 64 << 10

// encoder is one worker's reusable state: a compressor and a piece of
// content waiting to be compressed.
type encoder struct {
	zw  *gzip.Writer
	buf []byte
}

func newEncoder() *encoder {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return &encoder{zw: zw, buf: make([]byte, 0, 2*flushAt)}
}

// body starts a body compressed by the encoder's compressor.
func (enc *encoder) body(hint int) *bodyWriter { return newBodyWriter(enc.zw, hint) }

// yaml adds e's document to the piece bound for w.
func (enc *encoder) yaml(w *bodyWriter, e *Entity) {
	enc.buf = appendDoc(enc.buf, e)
	enc.maybeFlush(w)
}

func (enc *encoder) maybeFlush(w *bodyWriter) {
	if len(enc.buf) >= flushAt {
		enc.flush(w)
	}
}

func (enc *encoder) flush(w *bodyWriter) {
	w.Write(enc.buf)
	enc.buf = enc.buf[:0]
}

// sealSmall hashes data, a small body's whole content, and compresses it
// unless reuse holds the gzip encoding of that content already.
func (enc *encoder) sealSmall(data []byte, reuse map[string][]byte) Body {
	sum := sha256.Sum256(data)
	if gz, ok := reuse[etag(sum)]; ok {
		return newBody(gz, int64(len(data)), sum)
	}
	w := enc.body(len(data)/4 + 64)
	w.Write(data)
	return w.body()
}

// bodyWriter hashes and compresses a body's content as it is written.
type bodyWriter struct {
	sum hash.Hash
	zw  *gzip.Writer
	out bytes.Buffer
	n   int64
}

func newBodyWriter(zw *gzip.Writer, hint int) *bodyWriter {
	w := &bodyWriter{sum: sha256.New(), zw: zw}
	w.out.Grow(hint + hint/16 + 64)
	zw.Reset(&w.out)
	return w
}

// Write never fails: it writes to a hash and to memory.
func (w *bodyWriter) Write(p []byte) (int, error) {
	w.sum.Write(p)
	w.n += int64(len(p))
	_, _ = w.zw.Write(p)
	return len(p), nil
}

// body finishes the compression and returns the body, its gzip encoding
// kept at its exact size.
func (w *bodyWriter) body() Body {
	_ = w.zw.Close()
	var sum [sha256.Size]byte
	w.sum.Sum(sum[:0])
	gz := w.out.Bytes()
	if cap(gz)-len(gz) > len(gz)/16 {
		gz = bytes.Clone(gz)
	} else {
		gz = gz[:len(gz):len(gz)]
	}
	return newBody(gz, w.n, sum)
}

// newBody returns the body of size bytes whose SHA-256 is sum and whose
// gzip encoding is gz.
func newBody(gz []byte, size int64, sum [sha256.Size]byte) Body {
	tag := etag(sum)
	return Body{Gzip: gz, Size: size, ETag: tag, GzipETag: tag[:len(tag)-1] + `-gzip"`}
}

// etag is the ETag of content whose SHA-256 is sum: its first half in hex,
// quoted.
func etag(sum [sha256.Size]byte) string { return `"` + hex.EncodeToString(sum[:16]) + `"` }

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
