package okta_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
)

// BenchmarkSync20k lists an org of 20,000 users and 2,000 groups with every
// group's members from the fake Okta at 20 ms latency, member listings 10 at
// a time, under enforced per-minute rate limits: users 600 (Okta's figure),
// groups 3,000 (Okta's is 500; with 2,000+ member listings that would take
// minutes, so the benchmark raises it but keeps it binding: at RateShare 0.5
// the client may use 1,500 per window and must pace the rest into the next
// window), logs 120, other 1,200, and Okta's concurrency limit of 75. One
// iteration takes a little over a minute. It fails unless the calls are the
// minimum, ⌈U/200⌉ + ⌈G/200⌉ + Σ max(1, ⌈members/1000⌉), and no request was
// answered 429.
//
//	go test -run '^$' -bench Sync20k -benchtime 1x ./internal/okta/
func BenchmarkSync20k(b *testing.B) {
	if testing.Short() {
		b.Skip("takes over a minute")
	}
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 20000, Groups: 2000, Seed: 1})
	srv := oktafake.NewServer(org, oktafake.Options{
		Prefix:           prefix,
		Latency:          20 * time.Millisecond,
		ConcurrencyLimit: 75,
		RateLimits:       map[string]int{"users": 600, "groups": 3000, "logs": 120, "other": 1200},
		Now:              time.Now,
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	listedUsers := 0
	for _, u := range org.Users() {
		if u.Status != okta.StatusDeprovisioned {
			listedUsers++
		}
	}
	groups := org.Groups()
	wantCalls := int64(ceilDiv(listedUsers, 200) + ceilDiv(len(groups), 200))
	wantMembers := 0
	for _, g := range groups {
		n := len(org.Members(g.ID))
		wantMembers += n
		wantCalls += int64(max(1, ceilDiv(n, 1000)))
	}

	b.ResetTimer()
	for b.Loop() {
		srv.ResetStats()
		rec := &recorder{}
		c, err := okta.NewClient(ts.URL+prefix, okta.NewTokenAuth("demo-token"), okta.Options{Observer: rec})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		users := collect(b, c.ListUsers(ctx, okta.UserListOptions{}))
		listed := collect(b, c.ListGroups(ctx, okta.GroupListOptions{ExpandStats: true}))
		members := listMembers(ctx, b, c, listed, 10)
		st := srv.Stats()
		b.ReportMetric(float64(c.Calls()), "calls/op")
		b.ReportMetric(float64(st.RateLimited), "429s/op")
		b.ReportMetric(rec.waited.Seconds(), "paced-s/op")
		b.ReportMetric(float64(st.MaxInFlight), "max-in-flight")
		switch {
		case len(users) != listedUsers || len(listed) != len(groups) || members != wantMembers:
			b.Fatalf("listed %d users, %d groups, %d memberships, want %d, %d, %d", len(users), len(listed), members, listedUsers, len(groups), wantMembers)
		case c.Calls() != wantCalls || st.Calls != wantCalls:
			b.Fatalf("calls = %d (server saw %d), want the minimum %d", c.Calls(), st.Calls, wantCalls)
		case st.RateLimited != 0:
			b.Fatalf("%d requests were answered 429, want none", st.RateLimited)
		}
	}
}
