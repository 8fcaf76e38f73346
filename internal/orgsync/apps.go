package orgsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// assignment is what one app is assigned to: the users assigned (directly
// or through a group, as Okta's app users listing returns them) and the
// groups assigned, each sorted.
type assignment struct {
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
}

// appEventTypes are the System Log events of app assignment changes: a
// user's assignment beginning or ending (directly or through a group;
// Okta writes one per user when a group is assigned or a member joins or
// leaves one), and a group's assignment.
var appEventTypes = []string{
	"application.user_membership.add",
	"application.user_membership.remove",
	"group.application_assignment.add",
	"group.application_assignment.remove",
}

// logFilter is the System Log filter a sync reads with: the deletions, and
// the app assignment events when the selection is by app.
func (o Options) logFilter() string {
	f := deletionFilter
	if len(o.AppIDs) > 0 {
		for _, t := range appEventTypes {
			f += ` or eventType eq "` + t + `"`
		}
	}
	return f
}

// listApps lists the assignments of the given apps.
func (s *Syncer) listApps(ctx context.Context, ids []string) (map[string]assignment, error) {
	out := make(map[string]assignment, len(ids))
	for _, id := range ids {
		var a assignment
		for u, err := range s.src.ListAppUsers(ctx, id) {
			if err != nil {
				return nil, fmt.Errorf("list the users assigned to app %s: %w", id, appError(err))
			}
			a.Users = append(a.Users, u.ID)
		}
		for g, err := range s.src.ListAppGroups(ctx, id) {
			if err != nil {
				return nil, fmt.Errorf("list the groups assigned to app %s: %w", id, appError(err))
			}
			a.Groups = append(a.Groups, g.ID)
		}
		slices.Sort(a.Users)
		slices.Sort(a.Groups)
		out[id] = assignment{Users: slices.Compact(a.Users), Groups: slices.Compact(a.Groups)}
	}
	return out, nil
}

// appError says what a 404 on an app's listing means: the org has no app
// of that id.
func appError(err error) error {
	var e *okta.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
		return fmt.Errorf("the org has no such app; check the selected app ids (an app's id is in its Admin Console URL): %w", err)
	}
	return err
}

// appsOfGroups returns the apps, among those st holds, to which one of
// the groups is assigned: a membership change of such a group changes who
// is assigned through it.
func appsOfGroups(apps map[string]assignment, groups []string) []string {
	var out []string
	for id, a := range apps {
		for _, g := range groups {
			if _, ok := slices.BinarySearch(a.Groups, g); ok {
				out = append(out, id)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// seenEvents keeps the ids of the app assignment events acted on whose
// publication is within keep of the log position, so that reading the
// overlap window again does not list the apps again.
func seenEvents(prev, add map[string]time.Time, logMark time.Time, keep time.Duration) map[string]time.Time {
	if len(prev) == 0 && len(add) == 0 {
		return nil
	}
	out := make(map[string]time.Time, len(prev)+len(add))
	for _, m := range []map[string]time.Time{prev, add} {
		for id, at := range m {
			if !at.Before(logMark.Add(-keep)) {
				out[id] = at
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Assigned returns the ids of the users and of the groups assigned to the
// apps the selection names (a user assigned through a group counts), and
// false when the selection names no app.
func (s *State) Assigned() (users, groups map[string]bool, byApp bool) {
	if s.apps == nil {
		return nil, nil, false
	}
	users, groups = map[string]bool{}, map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(s.apps)) {
		for _, u := range s.apps[id].Users {
			users[u] = true
		}
		for _, g := range s.apps[id].Groups {
			groups[g] = true
		}
	}
	return users, groups, true
}

// AppGroupsOnly reports whether the selection keeps only the groups
// assigned to its apps.
func (s *State) AppGroupsOnly() bool { return s.apps != nil && s.appGroupsOnly }

// appIDs returns the app ids of the selection, sorted and without
// duplicates.
func (o Options) appIDs() []string {
	ids := slices.Clone(o.AppIDs)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// appTarget returns the id of the app a System Log event's AppInstance
// target names, "" for none.
func appTarget(ev *okta.LogEvent) string {
	for _, t := range ev.Target {
		if t.Type == "AppInstance" {
			return t.ID
		}
	}
	return ""
}
