package catalog_test

import (
	"testing"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog/catalogtest"
)

// BenchmarkBuildAndEncode maps and encodes a large org (100,000 users,
// 10,000 groups, 1,000,000 memberships; a tenth of that with -short) to
// one multi-document YAML body, as the service does on every sync; with
// and without a transform config.
func BenchmarkBuildAndEncode(b *testing.B) {
	in, size, opts := catalogtest.BenchOrg()
	for _, tc := range []struct {
		name      string
		members   bool
		transform bool
	}{{"memberOf", false, false}, {"memberOf+members", true, false}, {"memberOf+transform", false, true}} {
		b.Run(tc.name+"/"+size, func(b *testing.B) {
			opts := opts
			opts.IncludeMembers = tc.members
			if tc.transform {
				opts = catalogtest.WithTransform(opts)
			}
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
