package okta

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GroupListOptions narrows a group listing. Filter and Search are
// exclusive and passed to Okta unchanged.
type GroupListOptions struct {
	// Filter is an Okta filter expression on id, type, lastUpdated or
	// lastMembershipUpdated, e.g. `type eq "OKTA_GROUP"`.
	Filter string
	// Search is an Okta search expression on any property but _embedded,
	// _links and objectClass, e.g. `profile.name sw "eng-"`.
	Search string
	// ExpandStats asks for _embedded.stats (Group.UsersCount).
	ExpandStats bool
}

// ListGroups returns an iterator over the groups of the org, every page.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups
func (c *Client) ListGroups(ctx context.Context, opts GroupListOptions) iter.Seq2[Group, error] {
	q, ex, err := groupQuery(opts, "", c.opts.GroupPageSize)
	return c.listGroups(ctx, c.endpoint("/api/v1/groups", q), ex, err)
}

// ListGroupsChangedSince returns an iterator over the groups whose profile
// or membership changed after since, combined with the admin's expression
// as `(<expression>) and (lastUpdated gt "<since>" or lastMembershipUpdated
// gt "<since>")`.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups
func (c *Client) ListGroupsChangedSince(ctx context.Context, since time.Time, opts GroupListOptions) iter.Seq2[Group, error] {
	if since.IsZero() {
		return c.listGroups(ctx, nil, expression{}, errors.New("okta: list groups changed since: since is zero"))
	}
	ts := FormatTime(since)
	changed := fmt.Sprintf("lastUpdated gt %q or lastMembershipUpdated gt %q", ts, ts)
	if strings.TrimSpace(opts.Filter) != "" || strings.TrimSpace(opts.Search) != "" {
		changed = "(" + changed + ")"
	}
	q, ex, err := groupQuery(opts, changed, c.opts.GroupPageSize)
	return c.listGroups(ctx, c.endpoint("/api/v1/groups", q), ex, err)
}

func (c *Client) listGroups(ctx context.Context, first *url.URL, ex expression, setupErr error) iter.Seq2[Group, error] {
	return listPages(ctx, c, listing[Group]{
		first: first, ex: ex, what: "groups", check: checkGroup,
		pageSize: c.opts.GroupPageSize, expected: -1, setupErr: setupErr,
	})
}

func groupQuery(opts GroupListOptions, changed string, limit int) (url.Values, expression, error) {
	filter, search := strings.TrimSpace(opts.Filter), strings.TrimSpace(opts.Search)
	if filter != "" && search != "" {
		return nil, expression{}, errors.New("okta: list groups: set a filter or a search expression, not both")
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if opts.ExpandStats {
		q.Set("expand", "stats")
	}
	ex := combine(filter, search, changed)
	if ex.text != "" {
		q.Set(ex.kind, ex.text)
	}
	return q, ex, nil
}

// ListGroupMembers returns an iterator over the users in a group, every
// page (MemberPageSize users per page, default 1000). It may be called from
// many goroutines at once.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroupUsers
func (c *Client) ListGroupMembers(ctx context.Context, groupID string) iter.Seq2[User, error] {
	return c.listMembers(ctx, groupID, -1)
}

// ListGroupMembersExpecting is ListGroupMembers for a group whose member
// count is known, usersCount from Group.UsersCount (a listing with
// ExpandStats). The listing fails once it runs past twice that count (and
// 10 pages more), so that a server handing out pages without end is
// stopped long before Options.MaxListingPages. A negative usersCount means
// unknown, as ListGroupMembers.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroupUsers
func (c *Client) ListGroupMembersExpecting(ctx context.Context, groupID string, usersCount int) iter.Seq2[User, error] {
	return c.listMembers(ctx, groupID, max(-1, usersCount))
}

func (c *Client) listMembers(ctx context.Context, groupID string, expected int) iter.Seq2[User, error] {
	l := listing[User]{what: "members", check: checkUser, pageSize: c.opts.MemberPageSize, expected: expected}
	if groupID == "" || strings.ContainsAny(groupID, "/?#%") {
		l.setupErr = fmt.Errorf("okta: list group members: invalid group ID %q", groupID)
		return listPages(ctx, c, l)
	}
	q := url.Values{"limit": {strconv.Itoa(c.opts.MemberPageSize)}}
	l.first = c.endpoint("/api/v1/groups/"+groupID+"/users", q)
	return listPages(ctx, c, l)
}
