package oktafake

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Changes asks ApplyChanges for random changes, a count of each kind.
type Changes struct {
	// Seed picks the users and groups; the same seed on the same org
	// makes the same changes.
	Seed              int64 `json:"seed"`
	UserAdds          int   `json:"userAdds"`
	UserUpdates       int   `json:"userUpdates"`       // profile edits
	UserDeactivations int   `json:"userDeactivations"` // to DEPROVISIONED
	UserDeletions     int   `json:"userDeletions"`
	GroupAdds         int   `json:"groupAdds"`
	GroupRenames      int   `json:"groupRenames"`
	GroupDeletions    int   `json:"groupDeletions"`
	MemberAdds        int   `json:"memberAdds"`
	MemberRemoves     int   `json:"memberRemoves"`
}

// Applied reports what ApplyChanges changed.
type Applied struct {
	// Users and Groups are the ids of the users and groups changed, added
	// or deleted, in the order of the changes (an id may repeat).
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
}

// ApplyChanges makes random changes of the kinds and counts asked, through
// the same methods as a caller would (so each stamps and logs as Okta
// does). The BUILT_IN Everyone group is never picked. Kinds for which
// nothing is left to pick are skipped.
func (o *Org) ApplyChanges(c Changes) (Applied, error) {
	rng := rand.New(rand.NewPCG(uint64(c.Seed), 0x6368616e6765))
	var a Applied
	o.mu.Lock()
	base := o.nextUser + o.nextGroup
	o.mu.Unlock()
	for i := range c.UserAdds {
		n := strconv.FormatUint(base+uint64(i), 10)
		u := o.AddUser(okta.User{Profile: okta.UserProfile{
			Login: "new.user" + n + "@example.com", Email: "new.user" + n + "@example.com",
			FirstName: "New", LastName: "User " + n, DisplayName: "New User " + n,
		}})
		a.Users = append(a.Users, u.ID)
	}
	user := func() (string, bool) { return o.randomUser(rng) }
	if err := changeEach(c.UserUpdates, "update user", &a.Users, user, func(id string) error {
		title := "Title " + strconv.Itoa(rng.IntN(1000))
		return o.UpdateUser(id, func(u *okta.User) { u.Profile.Title = title })
	}); err != nil {
		return a, err
	}
	if err := changeEach(c.UserDeactivations, "deactivate user", &a.Users, user, func(id string) error {
		return o.SetUserStatus(id, okta.StatusDeprovisioned)
	}); err != nil {
		return a, err
	}
	if err := changeEach(c.UserDeletions, "delete user", &a.Users, user, o.DeleteUser); err != nil {
		return a, err
	}
	for i := range c.GroupAdds {
		n := strconv.FormatUint(base+uint64(i), 10)
		g := o.AddGroup(okta.Group{Profile: okta.GroupProfile{Name: "New Group " + n, Description: "Added at run time"}})
		a.Groups = append(a.Groups, g.ID)
	}
	group := func() (string, bool) { return o.randomGroup(rng, false) }
	if err := changeEach(c.GroupRenames, "rename group", &a.Groups, group, func(id string) error {
		return o.RenameGroup(id, "Renamed "+strconv.Itoa(rng.IntN(1_000_000)))
	}); err != nil {
		return a, err
	}
	if err := changeEach(c.GroupDeletions, "delete group", &a.Groups, group, o.DeleteGroup); err != nil {
		return a, err
	}
	for range c.MemberAdds {
		gid, ok := o.randomGroup(rng, false)
		if !ok {
			break
		}
		uid, ok := o.randomUser(rng)
		if !ok {
			break
		}
		if err := o.AddMember(gid, uid); err != nil {
			return a, fmt.Errorf("add member: %w", err)
		}
		a.Groups, a.Users = append(a.Groups, gid), append(a.Users, uid)
	}
	for range c.MemberRemoves {
		gid, ok := o.randomGroup(rng, true)
		if !ok {
			break
		}
		uid, ok := o.randomMember(rng, gid)
		if !ok {
			break
		}
		if err := o.RemoveMember(gid, uid); err != nil {
			return a, fmt.Errorf("remove member: %w", err)
		}
		a.Groups, a.Users = append(a.Groups, gid), append(a.Users, uid)
	}
	return a, nil
}

// changeEach makes change n times, each to an id pick returns, and records
// the id in ids; it stops early when pick has nothing left.
func changeEach(n int, what string, ids *[]string, pick func() (string, bool), change func(id string) error) error {
	for range n {
		id, ok := pick()
		if !ok {
			return nil
		}
		if err := change(id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		*ids = append(*ids, id)
	}
	return nil
}

func (o *Org) randomUser(rng *rand.Rand) (string, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.userOrder) == 0 {
		return "", false
	}
	return o.users[o.userOrder[rng.IntN(len(o.userOrder))]].id, true
}

// randomGroup picks a group other than BUILT_IN ones, with members when
// nonEmpty.
func (o *Org) randomGroup(rng *rand.Rand, nonEmpty bool) (string, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.groupOrder) == 0 {
		return "", false
	}
	start := rng.IntN(len(o.groupOrder))
	for i := range o.groupOrder {
		g := &o.groups[o.groupOrder[(start+i)%len(o.groupOrder)]]
		if g.typ != okta.GroupTypeBuiltIn && (!nonEmpty || len(g.members) > 0) {
			return g.id, true
		}
	}
	return "", false
}

func (o *Org) randomMember(rng *rand.Rand, groupID string) (string, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	slot, ok := o.groupByID[groupID]
	if !ok || len(o.groups[slot].members) == 0 {
		return "", false
	}
	m := o.groups[slot].members
	return o.users[m[rng.IntN(len(m))]].id, true
}
