package orgsync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// deletionFilter selects the System Log events of deleted users and
// groups. Membership changes need no events: they move a group's
// lastMembershipUpdated, which the group listing sees.
const deletionFilter = `eventType eq "user.lifecycle.delete.initiated" or eventType eq "user.lifecycle.delete.completed" or eventType eq "group.lifecycle.delete"`

// deletions holds the ids the System Log reports deleted.
type deletions struct {
	users, groups map[string]bool
}

func (d deletions) empty() bool { return len(d.users) == 0 && len(d.groups) == 0 }

// readLog reads the deletions published after since. A 403 (no permission
// to read the log) is not an error: it reports readable false.
func (s *Syncer) readLog(ctx context.Context, since time.Time) (del deletions, last time.Time, readable bool, err error) {
	del = deletions{users: map[string]bool{}, groups: map[string]bool{}}
	for ev, err := range s.src.ListLogEvents(ctx, since, deletionFilter) {
		if err != nil {
			if okta.IsForbidden(err) {
				return deletions{}, time.Time{}, false, nil
			}
			return deletions{}, time.Time{}, false, fmt.Errorf("read the system log: %w", err)
		}
		last = later(last, ev.Published)
		if ev.Outcome != nil && ev.Outcome.Result != "" && ev.Outcome.Result != "SUCCESS" {
			continue
		}
		switch {
		case strings.HasPrefix(ev.EventType, "user.lifecycle.delete."):
			for _, t := range ev.Target {
				if t.Type == "User" {
					del.users[t.ID] = true
				}
			}
		case ev.EventType == "group.lifecycle.delete":
			for _, t := range ev.Target {
				if t.Type == "UserGroup" {
					del.groups[t.ID] = true
				}
			}
		}
	}
	return del, last, true, nil
}
