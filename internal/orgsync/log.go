package orgsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// deletionFilter selects the System Log events of deleted users and
// groups. Membership changes need no events: they move a group's
// lastMembershipUpdated, which the group listing sees.
const deletionFilter = `eventType eq "user.lifecycle.delete.initiated" or eventType eq "user.lifecycle.delete.completed" or eventType eq "group.lifecycle.delete"`

// deletions holds the ids the System Log reports deleted, and the apps
// whose assignments it reports changed.
type deletions struct {
	users, groups map[string]bool
	// apps maps an app with assignment events to the latest one's
	// publication; events holds those events' ids and publications.
	apps   map[string]time.Time
	events map[string]time.Time
}

// readLog reads the deletions published after since. A 403 (no permission
// to read the log) is not an error: it reports readable false. It also
// returns Okta's time when the read started: every event published up to
// then, less the visibility delay the overlap allows for, has been read.
// since is never taken earlier than Okta keeps events.
//
// App assignment events of the selected apps are read too, but for those
// in seen (acted on by an earlier read of the overlap window).
func (s *Syncer) readLog(ctx context.Context, since time.Time, seen map[string]time.Time) (del deletions, readAt time.Time, readable bool, err error) {
	readAt = s.src.Now()
	if floor := readAt.Add(-LogRetention); since.Before(floor) {
		since = floor
	}
	del = deletions{users: map[string]bool{}, groups: map[string]bool{}, apps: map[string]time.Time{}, events: map[string]time.Time{}}
	for ev, err := range s.src.ListLogEvents(ctx, since, s.opts.logFilter()) {
		if err != nil {
			if okta.IsForbidden(err) {
				return deletions{}, time.Time{}, false, nil
			}
			return deletions{}, time.Time{}, false, fmt.Errorf("read the system log: %w", err)
		}
		if ev.Outcome != nil && ev.Outcome.Result != "" && ev.Outcome.Result != "SUCCESS" {
			continue
		}
		switch {
		case slices.Contains(appEventTypes, ev.EventType):
			app := appTarget(&ev)
			if _, done := seen[ev.UUID]; done || !slices.Contains(s.opts.AppIDs, app) {
				continue
			}
			del.apps[app] = later(del.apps[app], ev.Published)
			del.events[ev.UUID] = ev.Published
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
	return del, readAt, true, nil
}

// logPositionLost reports why st's System Log position cannot be read on
// from, at Okta's time now: older than the retention, or never set. Empty
// when it can (or when the log is not read at all).
func logPositionLost(st *State, now time.Time) string {
	switch {
	case !st.logReadable:
		return ""
	case st.logMark.IsZero():
		return "the saved state has no System Log position"
	case st.logMark.Before(now.Add(-LogRetention)):
		return fmt.Sprintf("the System Log position %s is older than Okta's %d-day retention of events",
			st.logMark.UTC().Format(time.RFC3339), int(LogRetention.Hours()/24))
	}
	return ""
}
