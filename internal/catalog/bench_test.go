package catalog_test

import (
	"fmt"
	"testing"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog/catalogtest"
)

// BenchmarkBuildAndEncode maps and encodes a large org (100,000 users,
// 10,000 groups, 1,000,000 memberships; a tenth of that with -short) to
// one multi-document YAML body, as the service does on every sync.
func BenchmarkBuildAndEncode(b *testing.B) {
	users, groups, memberships := 100_000, 10_000, 1_000_000
	if testing.Short() {
		users, groups, memberships = 10_000, 1_000, 100_000
	}
	in := catalogtest.Org(users, groups, memberships)
	for _, tc := range []struct {
		name    string
		members bool
	}{{"memberOf", false}, {"memberOf+members", true}} {
		b.Run(fmt.Sprintf("%s/users=%d/groups=%d/memberships=%d", tc.name, users, groups, memberships), func(b *testing.B) {
			opts := catalog.DefaultOptions()
			opts.HierarchyKey, opts.HierarchyParentKey = "orgId", "parentOrgId"
			opts.IncludeMembers = tc.members
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				res := catalog.Build(opts, in)
				buf = buf[:0]
				for i := range res.Entities {
					buf = append(buf, "---\n"...)
					buf = catalog.AppendYAML(buf, &res.Entities[i])
				}
			}
			b.ReportMetric(float64(len(buf))/1e6, "MB/body")
		})
	}
}
