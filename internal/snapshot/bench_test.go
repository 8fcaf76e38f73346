package snapshot

import (
	"fmt"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog/catalogtest"
)

// BenchmarkBuildSnapshot measures what the service does on a changed sync:
// mapping the org and encoding the snapshot (YAML and JSON, hashed and
// compressed) without holding the entities, with and without a transform
// config. B/op is what it allocates.
func BenchmarkBuildSnapshot(b *testing.B) {
	in, name, opts := catalogtest.BenchOrg()
	for _, tc := range []struct {
		name string
		opts catalog.Options
	}{{"streamed", opts}, {"streamed+transform", catalogtest.WithTransform(opts)}} {
		b.Run(tc.name+"/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Build(nil, catalog.Map(tc.opts, in), time.Time{}, 0)
			}
		})
	}
}

// BenchmarkBuild builds a sharded snapshot of an org where every user is in
// one team and in everyone, from nothing and from an unchanged previous
// snapshot (the usual sync).
func BenchmarkBuild(b *testing.B) {
	for _, users := range []int{20_000, 100_000} {
		if testing.Short() && users > 20_000 {
			continue
		}
		in := catalog.Input{Members: make(map[string][]string, users/10+1)}
		everyone := make([]string, 0, users)
		for i := range users {
			u := testUser(fmt.Sprintf("user-%06d", i))
			in.Users = append(in.Users, u)
			team := fmt.Sprintf("00ggroup-%05d", i%(users/10))
			in.Members[team] = append(in.Members[team], u.ID)
			everyone = append(everyone, u.ID)
		}
		for i := range users / 10 {
			in.Groups = append(in.Groups, testGroup(fmt.Sprintf("group-%05d", i)))
		}
		in.Groups = append(in.Groups, testGroup("everyone"))
		in.Members["00geveryone"] = everyone
		opts := catalog.DefaultOptions()
		for _, tc := range []struct {
			suffix string
			prev   bool
		}{{"", false}, {"/unchanged", true}} {
			var prev *Snapshot
			if tc.prev {
				prev = Build(nil, catalog.Map(opts, in), time.Time{}, 16)
			}
			b.Run(fmt.Sprintf("users=%d%s", users, tc.suffix), func(b *testing.B) {
				var size int64
				for b.Loop() {
					s := Build(prev, catalog.Map(opts, in), time.Time{}, 16)
					size = s.All.Size
				}
				b.SetBytes(size)
			})
		}
	}
}
