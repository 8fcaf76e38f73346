package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	u := func(name, id string) EntityID {
		return EntityID{Kind: KindUser, Ref: "user:default/" + name, OktaID: id}
	}
	g := func(name, id string) EntityID {
		return EntityID{Kind: KindGroup, Ref: "group:default/" + name, OktaID: id}
	}
	for _, tc := range []struct {
		name     string
		old, cur []EntityID
		want     Changes
	}{
		{name: "same", old: []EntityID{u("ann", "1"), g("eng", "9")}, cur: []EntityID{g("eng", "9"), u("ann", "1")}},
		{name: "case only", old: []EntityID{u("Ann", "1")}, cur: []EntityID{u("ann", "1")}},
		{
			name: "added and removed, sorted",
			old:  []EntityID{u("cy", "3"), u("ann", "1"), g("eng", "9")},
			cur:  []EntityID{u("ann", "1"), u("bob", "2"), g("ops", "8")},
			want: Changes{
				Added:   []EntityID{g("ops", "8"), u("bob", "2")},
				Removed: []EntityID{g("eng", "9"), u("cy", "3")},
			},
		},
		{
			// Two objects trade names: both are renames, nothing is removed.
			name: "swapped names",
			old:  []EntityID{u("ann", "1"), u("ann-2", "2")},
			cur:  []EntityID{u("ann-2", "1"), u("ann", "2")},
			want: Changes{Renamed: []RefChange{
				{Kind: KindUser, OktaID: "1", From: "user:default/ann", To: "user:default/ann-2"},
				{Kind: KindUser, OktaID: "2", From: "user:default/ann-2", To: "user:default/ann"},
			}},
		},
		{
			// A user and a group may share an Okta id form; kinds never pair.
			name: "kinds apart",
			old:  []EntityID{u("x", "1")},
			cur:  []EntityID{g("x", "1")},
			want: Changes{Added: []EntityID{g("x", "1")}, Removed: []EntityID{u("x", "1")}},
		},
		{
			// The same Okta id in two orgs is two objects; one org's
			// object keeps its pairing across a rename.
			name: "orgs apart",
			old: []EntityID{
				{Kind: KindUser, Ref: "user:default/ann", OktaID: "1", Org: "acme"},
				{Kind: KindUser, Ref: "user:default/ann-x1", OktaID: "1", Org: "globex"},
			},
			cur: []EntityID{
				{Kind: KindUser, Ref: "user:default/ann", OktaID: "1", Org: "globex"},
				{Kind: KindUser, Ref: "user:default/ann-x2", OktaID: "2", Org: "acme"},
			},
			want: Changes{
				Added:   []EntityID{{Kind: KindUser, Ref: "user:default/ann-x2", OktaID: "2", Org: "acme"}},
				Removed: []EntityID{{Kind: KindUser, Ref: "user:default/ann", OktaID: "1", Org: "acme"}},
				Renamed: []RefChange{{Kind: KindUser, OktaID: "1", Org: "globex", From: "user:default/ann-x1", To: "user:default/ann"}},
			},
		},
		{
			name: "without Okta ids, by ref",
			old:  []EntityID{{Kind: KindUser, Ref: "user:default/a"}, {Kind: KindUser, Ref: "user:default/b"}},
			cur:  []EntityID{{Kind: KindUser, Ref: "user:default/A"}},
			want: Changes{Removed: []EntityID{{Kind: KindUser, Ref: "user:default/b"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, Compare(tc.old, tc.cur)); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}
