package catalog

import (
	"bytes"
	"math/rand/v2"
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

// Map's passes make Build's entities, to the byte, and EachReport gives
// Build's report, however many passes run.
func TestMapMatchesBuild(t *testing.T) {
	t.Parallel()
	var peerInputs []string
	for _, c := range loadPeerCases(t) {
		peerInputs = append(peerInputs, c.Input)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 40 {
		in := genOrg(rng, peerInputs)
		opts := genOptions(rng)
		res := Build(opts, in)
		m := Map(opts, in)
		if m.Users() != res.Report.Users || m.Groups() != res.Report.Groups {
			t.Errorf("org %d: %d users and %d groups, want %d and %d", i, m.Users(), m.Groups(), res.Report.Users, res.Report.Groups)
		}
		var want, got, again []byte
		for j := range res.Entities {
			want = AppendYAML(want, &res.Entities[j])
		}
		m.Each(func(e *Entity) { got = AppendYAML(got, e) })
		rep := m.EachReport(func(e *Entity) { again = AppendYAML(again, e) })
		if !bytes.Equal(got, want) || !bytes.Equal(again, want) {
			t.Errorf("org %d: the entities of Map's passes differ from Build's", i)
		}
		if diff := cmp.Diff(res.Report, rep); diff != "" {
			t.Errorf("org %d: report (-Build +EachReport):\n%s", i, diff)
		}
		if diff := cmp.Diff(res.Report, m.EachReport(func(*Entity) {})); diff != "" {
			t.Errorf("org %d: second report (-Build +EachReport):\n%s", i, diff)
		}
	}
}
