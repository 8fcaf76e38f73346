package provider

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// fullSync lists everything the configuration selects and builds a
// snapshot from it. Any failure fails the whole sync: a partial listing
// must never be served, since the catalog would delete what is missing.
func (p *Provider) fullSync(ctx context.Context) (*generation, error) {
	st, err := p.listAll(ctx)
	if err != nil {
		return nil, err
	}
	st.FullSyncAt = p.cfg.Now()
	return p.build(st), nil
}

// usersFromMembers reports whether users come from the selected groups'
// member listings instead of a listing of the org's users: in "users from
// groups" mode without a user expression, listing the whole org would fetch
// users the catalog then drops.
func (p *Provider) usersFromMembers() bool {
	return p.cfg.Catalog.UsersFromGroups && p.cfg.Users.Filter == "" && p.cfg.Users.Search == ""
}

// listAll fetches users, groups and the members of every group that may
// have any into a new state.
func (p *Provider) listAll(ctx context.Context) (*state, error) {
	st := newState()
	fromMembers := p.usersFromMembers()
	st.DeriveEveryone = !fromMembers

	if !fromMembers {
		for u, err := range p.client.ListUsers(ctx, p.cfg.Users) {
			if err != nil {
				return nil, fmt.Errorf("list users: %w", err)
			}
			st.putUser(u)
		}
	}
	gopts := p.cfg.Groups
	gopts.ExpandStats = true
	for g, err := range p.client.ListGroups(ctx, gopts) {
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		st.putGroup(g)
	}

	var todo []string
	for id, g := range st.Groups {
		if st.derivedMembers(&g) || !p.groupTypeSelected(g.Type) {
			continue
		}
		if n, ok := g.UsersCount(); ok && n == 0 {
			continue
		}
		todo = append(todo, id)
	}
	slices.Sort(todo)
	members, users, err := p.listMembers(ctx, st, todo, fromMembers)
	if err != nil {
		return nil, err
	}
	for id, ids := range members {
		st.Members[id] = ids
	}
	for _, u := range users {
		st.putUser(u)
	}
	return st, nil
}

// groupTypeSelected mirrors the catalog's group type selection, so that the
// members of groups the catalog drops are never listed.
func (p *Provider) groupTypeSelected(typ string) bool {
	o := &p.cfg.Catalog
	if len(o.IncludeGroupTypes) > 0 && !slices.Contains(o.IncludeGroupTypes, typ) {
		return false
	}
	return !slices.Contains(o.ExcludeGroupTypes, typ)
}

// listMembers lists the members of the given groups, MemberConcurrency at a
// time, and returns the sorted member ids per group and, when keepUsers,
// the member users. The first failure cancels the rest and is returned.
func (p *Provider) listMembers(ctx context.Context, st *state, groupIDs []string, keepUsers bool) (map[string][]string, []okta.User, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu      sync.Mutex
		members = make(map[string][]string, len(groupIDs))
		users   []okta.User
		seen    = make(map[string]struct{})
		wg      sync.WaitGroup
		jobs    = make(chan string)
	)
	workers := min(p.cfg.MemberConcurrency, len(groupIDs))
	for range workers {
		wg.Go(func() {
			for id := range jobs {
				var ids []string
				var mine []okta.User
				for u, err := range p.client.ListGroupMembers(ctx, id) {
					if err != nil {
						g := st.Groups[id]
						cancel(fmt.Errorf("list members of group %s (%q): %w", id, g.Profile.Name, err))
						return
					}
					ids = append(ids, u.ID)
					if keepUsers {
						mine = append(mine, u)
					}
				}
				slices.Sort(ids)
				ids = slices.Compact(ids)
				mu.Lock()
				members[id] = ids
				for _, u := range mine {
					if _, ok := seen[u.ID]; !ok {
						seen[u.ID] = struct{}{}
						users = append(users, u)
					}
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range groupIDs {
		select {
		case jobs <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	return members, users, nil
}
