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
	return listPages[Group](ctx, c, c.endpoint("/api/v1/groups", q), ex, false, err)
}

// ListGroupsChangedSince returns an iterator over the groups whose profile
// or membership changed after since, combined with the admin's expression
// as `(<expression>) and (lastUpdated gt "<since>" or lastMembershipUpdated
// gt "<since>")`.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups
func (c *Client) ListGroupsChangedSince(ctx context.Context, since time.Time, opts GroupListOptions) iter.Seq2[Group, error] {
	if since.IsZero() {
		return listPages[Group](ctx, c, nil, expression{}, false, errors.New("okta: list groups changed since: since is zero"))
	}
	ts := FormatTime(since)
	changed := fmt.Sprintf("lastUpdated gt %q or lastMembershipUpdated gt %q", ts, ts)
	if strings.TrimSpace(opts.Filter) != "" || strings.TrimSpace(opts.Search) != "" {
		changed = "(" + changed + ")"
	}
	q, ex, err := groupQuery(opts, changed, c.opts.GroupPageSize)
	return listPages[Group](ctx, c, c.endpoint("/api/v1/groups", q), ex, false, err)
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
	if groupID == "" || strings.ContainsAny(groupID, "/?#%") {
		return listPages[User](ctx, c, nil, expression{}, false, fmt.Errorf("okta: list group members: invalid group ID %q", groupID))
	}
	q := url.Values{"limit": {strconv.Itoa(c.opts.MemberPageSize)}}
	return listPages[User](ctx, c, c.endpoint("/api/v1/groups/"+groupID+"/users", q), expression{}, false, nil)
}
