package snapshot

import (
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
)

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
func entityRefHash(e *catalog.Entity) uint64 {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	return refHash(e.Kind, ":", ns, "/", e.Metadata.Name)
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

// appendIndex appends the index body: one Location entity per shard.
func appendIndex(dst []byte, shards int) []byte {
	for n := range shards {
		dst = append(dst, docSep...)
		dst = append(dst, "apiVersion: "+catalog.APIVersion+"\nkind: Location\nmetadata:\n  name: "...)
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
