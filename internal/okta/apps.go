package okta

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Scopes of an application assignment, as Okta reports them in
// AppUser.Scope.
const (
	// AppScopeUser is a user assigned to the app directly.
	AppScopeUser = "USER"
	// AppScopeGroup is a user assigned through a group assigned to the app.
	AppScopeGroup = "GROUP"
)

// AppUser is an application user: a user's assignment to an app, not the
// user. Its ID is the assigned user's id; its profile is the app's profile
// of the user (attributes the app defines), not the Okta user profile, and
// is not read.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/
type AppUser struct {
	ID          string    `json:"id"`
	Scope       string    `json:"scope"`
	Status      string    `json:"status,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	LastUpdated time.Time `json:"lastUpdated,omitzero"`
}

// AppGroup is an application group: a group's assignment to an app. Its ID
// is the assigned group's id.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationGroups/
type AppGroup struct {
	ID          string    `json:"id"`
	Priority    int       `json:"priority"`
	LastUpdated time.Time `json:"lastUpdated,omitzero"`
}

// ListAppUsers returns an iterator over the users assigned to the app,
// every page (AppUserPageSize per page, default and Okta's maximum 500):
// those assigned directly (scope USER) and those assigned through a group
// (scope GROUP). It needs the okta.apps.read scope with OAuth.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationUsers/#tag/ApplicationUsers/operation/listApplicationUsers
func (c *Client) ListAppUsers(ctx context.Context, appID string) iter.Seq2[AppUser, error] {
	l := listing[AppUser]{what: "app users", check: checkAppUser, pageSize: c.opts.AppUserPageSize, expected: -1}
	l.first, l.setupErr = c.appEndpoint(appID, "users", c.opts.AppUserPageSize)
	return listPages(ctx, c, l)
}

// ListAppGroups returns an iterator over the groups assigned to the app,
// every page (AppGroupPageSize per page, default and Okta's maximum 200).
// It needs the okta.apps.read scope with OAuth.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApplicationGroups/#tag/ApplicationGroups/operation/listApplicationGroupAssignments
func (c *Client) ListAppGroups(ctx context.Context, appID string) iter.Seq2[AppGroup, error] {
	l := listing[AppGroup]{what: "app groups", check: checkAppGroup, pageSize: c.opts.AppGroupPageSize, expected: -1}
	l.first, l.setupErr = c.appEndpoint(appID, "groups", c.opts.AppGroupPageSize)
	return listPages(ctx, c, l)
}

// appEndpoint is the first page of /api/v1/apps/{appID}/{what}.
func (c *Client) appEndpoint(appID, what string, limit int) (*url.URL, error) {
	if appID == "" || strings.ContainsAny(appID, "/?#% ") {
		return nil, fmt.Errorf("okta: list app %s: invalid app ID %q", what, appID)
	}
	return c.endpoint("/api/v1/apps/"+appID+"/"+what, url.Values{"limit": {strconv.Itoa(limit)}}), nil
}

// checkAppUser refuses an assignment without a user id or with a scope
// Okta does not define.
func checkAppUser(u *AppUser) string {
	switch {
	case u.ID == "":
		return "an app user without an id"
	case u.Scope != AppScopeUser && u.Scope != AppScopeGroup:
		return fmt.Sprintf("app user %s with scope %q (want USER or GROUP)", u.ID, u.Scope)
	}
	return ""
}

// checkAppGroup refuses an assignment without a group id.
func checkAppGroup(g *AppGroup) string {
	if g.ID == "" {
		return "an app group without an id"
	}
	return ""
}
