package oktafake

import (
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
)

// BenchmarkGenerateOrg measures generating orgs, the largest at 100,000
// users, 10,000 groups and about 1,000,000 memberships (run it with
// -bench GenerateOrg; skipped with -short). It reports the live heap the
// org holds.
func BenchmarkGenerateOrg(b *testing.B) {
	sizes := []OrgOptions{
		{Users: 20_000, Groups: 2_000, MembershipsPerUser: 3},
		{Users: 100_000, Groups: 10_000, MembershipsPerUser: 9},
	}
	for _, opts := range sizes {
		b.Run(fmt.Sprintf("users=%d/groups=%d", opts.Users, opts.Groups), func(b *testing.B) {
			if testing.Short() && opts.Users > 20_000 {
				b.Skip("large org skipped with -short")
			}
			var org *Org
			for b.Loop() {
				org = GenerateOrg(opts)
			}
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			_, _, m := org.Counts()
			b.ReportMetric(float64(m), "memberships")
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
			runtime.KeepAlive(org)
		})
	}
}

// BenchmarkListUsersPage measures serving one full page of users.
func BenchmarkListUsersPage(b *testing.B) {
	org := GenerateOrg(OrgOptions{Users: 20_000, Groups: 200})
	srv := NewServer(org, Options{})
	req := httptest.NewRequest("GET", "/api/v1/users?limit=200", nil)
	req.Header.Set("Authorization", "SSWS demo-token")
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("got status %d", w.Code)
		}
	}
}
