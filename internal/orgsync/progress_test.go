package orgsync

import (
	"context"
	"iter"
	"testing"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// progressProbe is the Okta client with a look at the sync's progress when
// the user listing starts (the groups are listed by then).
type progressProbe struct {
	*okta.Client
	prog    *Progress
	atUsers ProgressReport
}

func (p *progressProbe) ListUsers(ctx context.Context, opts okta.UserListOptions) iter.Seq2[okta.User, error] {
	p.atUsers = p.prog.Report(p.Calls())
	return p.Client.ListUsers(ctx, opts)
}

func TestProgressEstimatesTheCalls(t *testing.T) {
	t.Parallel()
	eachSize(t, []orgSize{{50, 12}, {1600, 15}, {450, 205}}, func(t *testing.T, size orgSize, f *fixture) {
		probe := &progressProbe{Client: f.client, prog: &Progress{}}
		s := New(probe, Options{Progress: probe.prog}, zerolog.Nop())
		_, stats, err := s.Full(context.Background())
		if err != nil {
			t.Fatalf("full sync: %v", err)
		}
		at := probe.atUsers
		if at.Phase != PhaseUsers || at.UsersExpected <= 0 {
			t.Fatalf("at the user listing: got phase %q, %d users expected; want %q and the org's count", at.Phase, at.UsersExpected, PhaseUsers)
		}
		var left int64
		for _, n := range at.Remaining {
			left += n
		}
		// The estimate counts two System Log pages; a log without
		// events reads one.
		if got := stats.GroupCalls + left; got != stats.Calls && got != stats.Calls+1 {
			t.Errorf("calls estimated when the groups were listed: got %d made + %d left = %d, want %d (by phase: %+v)",
				stats.GroupCalls, left, got, stats.Calls, stats)
		}
		end := probe.prog.Report(probe.Calls())
		if end.ListingsDone != end.ListingsTotal || end.ListingsTotal != stats.MemberListings {
			t.Errorf("at the end: got %d of %d listings done, want %d of %d", end.ListingsDone, end.ListingsTotal, stats.MemberListings, stats.MemberListings)
		}
		if end.UsersListed < size.users-size.users/10 {
			t.Errorf("at the end: got %d users listed, want about %d", end.UsersListed, size.users)
		}
		for b, n := range end.Remaining {
			if n != 0 && !(b == okta.BucketLogs && n == 1) {
				t.Errorf("at the end: got %d calls left in bucket %s, want 0", n, b)
			}
		}
	})
}
