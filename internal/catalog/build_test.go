package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// A member id naming no input user is reported as a dropped reference,
// unless the input says such users are left out on purpose.
func TestSkipUnknownMembers(t *testing.T) {
	t.Parallel()
	in := Input{
		Users:   []okta.User{{ID: "00ua", Status: okta.StatusActive, Profile: okta.UserProfile{Login: "a@example.com", Email: "a@example.com"}}},
		Groups:  []okta.Group{{ID: "00gt", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "Team"}}},
		Members: map[string][]string{"00gt": {"00ua", "00ugone"}},
	}
	for _, skip := range []bool{false, true} {
		in.SkipUnknownMembers = skip
		res := Build(DefaultOptions(), in)
		want := []DroppedRef{}
		if !skip {
			want = []DroppedRef{{Kind: KindGroup, OktaID: "00gt", Target: "00ugone", Reason: ReasonUnknownUser}}
		}
		if diff := cmp.Diff(want, res.Report.DroppedRefs); diff != "" {
			t.Errorf("skip=%v: dropped refs (-want +got):\n%s", skip, diff)
		}
		if len(res.Entities) != 2 || !cmp.Equal(res.Entities[0].User.MemberOf, []string{"team"}) {
			t.Errorf("skip=%v: got %d entities, the user a member of %v; want 2 and [team]", skip, len(res.Entities), res.Entities[0].User.MemberOf)
		}
	}
}
