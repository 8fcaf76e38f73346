package orgsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// memberResult is what listMembers found.
type memberResult struct {
	members map[string][]string // group id -> sorted member ids
	missing []string            // groups deleted before their listing (404)
	users   map[string]okta.User
	// maxUpdated is the latest lastUpdated among the listed users.
	maxUpdated time.Time
	// short lists the listings that brought far fewer members than the
	// group's usersCount said, sorted by group id.
	short []Shortfall
}

// Shortfall is a member listing that brought far fewer members than the
// group's expand=stats usersCount, read just before, says it has: a sign
// that Okta (or something in between) answered a listing wrongly.
type Shortfall struct {
	GroupID string
	Listed  int
	Counted int
}

func (f Shortfall) String() string {
	return fmt.Sprintf("group %s listed %d members, Okta counts %d", f.GroupID, f.Listed, f.Counted)
}

// short reports whether listed members are too few for a group whose
// usersCount was counted. Members may come and go between the count and
// the listing, so a few, or a tenth, fewer are fine.
func short(listed, counted int) bool {
	return counted-listed > 2+counted/10
}

func (r *memberResult) sortedUsers() []okta.User {
	users := make([]okta.User, 0, len(r.users))
	for _, id := range slices.Sorted(maps.Keys(r.users)) {
		users = append(users, r.users[id])
	}
	return users
}

// listMembers lists the members of the given groups, Concurrency at a time.
// Member ids go through intern so that the lists share the users' strings.
// With keepUsers, the listed users are returned too (the newest copy of
// each). The first failure cancels the rest and is returned; a group that
// is gone (404) is reported in missing instead. A listing far shorter than
// the group's count (counts, from expand=stats) is reported in short.
func (s *Syncer) listMembers(ctx context.Context, groupIDs []string, counts map[string]int, intern func(string) string, keepUsers bool) (*memberResult, error) {
	res := &memberResult{members: make(map[string][]string, len(groupIDs))}
	if keepUsers {
		res.users = make(map[string]okta.User)
	}
	if len(groupIDs) == 0 {
		return res, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		jobs = make(chan string)
	)
	for range min(s.opts.Concurrency, len(groupIDs)) {
		wg.Go(func() {
			for id := range jobs {
				var (
					ids     []string
					listed  []okta.User
					listErr error
				)
				expected, ok := counts[id]
				if !ok {
					expected = -1
				}
				for u, err := range s.src.ListGroupMembersExpecting(ctx, id, expected) {
					if err != nil {
						listErr = err
						break
					}
					if keepUsers {
						normalizeUser(&u)
						listed = append(listed, u)
					} else {
						ids = append(ids, intern(u.ID))
					}
				}
				mu.Lock()
				switch {
				case isNotFound(listErr):
					res.missing = append(res.missing, id)
				case listErr != nil:
					cancel(fmt.Errorf("list members of group %s: %w", id, listErr))
				case keepUsers:
					for i := range listed {
						ids = append(ids, res.keep(&listed[i]))
					}
				}
				mu.Unlock()
				if listErr != nil {
					continue
				}
				slices.Sort(ids)
				ids = slices.Compact(ids)
				s.opts.Progress.listingDone(id)
				mu.Lock()
				res.members[id] = slices.Clip(ids)
				if n, ok := counts[id]; ok && short(len(ids), n) {
					res.short = append(res.short, Shortfall{GroupID: id, Listed: len(ids), Counted: n})
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
		return nil, err
	}
	slices.SortFunc(res.short, func(a, b Shortfall) int { return strings.Compare(a.GroupID, b.GroupID) })
	return res, nil
}

// keep records a listed user, keeping the newest copy, and returns its id
// as the kept copy holds it. Callers hold the mutex.
func (r *memberResult) keep(u *okta.User) string {
	r.maxUpdated = later(r.maxUpdated, u.LastUpdated)
	if cur, ok := r.users[u.ID]; ok && !u.LastUpdated.After(cur.LastUpdated) {
		return cur.ID
	}
	r.users[u.ID] = *u
	return u.ID
}

func isNotFound(err error) bool {
	var e *okta.Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}
