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

// UserListOptions narrows a user listing with an admin's expression, passed
// to Okta unchanged. Filter and Search are exclusive.
type UserListOptions struct {
	// Filter is an Okta filter expression: status, lastUpdated, id,
	// profile.login, profile.email, profile.firstName, profile.lastName
	// with eq (and gt/ge/lt/le on lastUpdated), joined by and/or.
	Filter string
	// Search is an Okta search expression: any profile attribute, sw/co/pr,
	// not; eventually consistent.
	Search string
	// ExpectedCount, when positive, is how many users the caller expects
	// the listing to hold at most, such as the usersCount of the Everyone
	// group listed with ExpandStats. The listing then fails once it runs
	// past twice that count (and 10 pages more) instead of only at
	// Options.MaxListingPages. 0 means unknown.
	ExpectedCount int
}

// ListUsers returns an iterator over the users of the org, every page.
//
// DEPROVISIONED users: a plain listing (no Filter, no Search) omits them, as
// Okta does; with a Filter or Search they are included when they match.
// Callers that must see deprovisioned users without narrowing the listing
// can pass Filter `status eq "DEPROVISIONED"` in a second listing.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
func (c *Client) ListUsers(ctx context.Context, opts UserListOptions) iter.Seq2[User, error] {
	q, ex, err := userQuery(opts, "", c.opts.UserPageSize)
	return c.listUsers(ctx, c.endpoint("/api/v1/users", q), ex, opts.ExpectedCount, err)
}

// ListUsersChangedSince returns an iterator over the users updated after
// since (lastUpdated gt since), combined with the admin's expression as
// `(<expression>) and lastUpdated gt "<since>"`. Because it always sends a
// filter or search, DEPROVISIONED users are included: an incremental sync
// sees users being deprovisioned.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
func (c *Client) ListUsersChangedSince(ctx context.Context, since time.Time, opts UserListOptions) iter.Seq2[User, error] {
	if since.IsZero() {
		return c.listUsers(ctx, nil, expression{}, 0, errors.New("okta: list users changed since: since is zero"))
	}
	q, ex, err := userQuery(opts, fmt.Sprintf("lastUpdated gt %q", FormatTime(since)), c.opts.UserPageSize)
	return c.listUsers(ctx, c.endpoint("/api/v1/users", q), ex, opts.ExpectedCount, err)
}

// listUsers lists the users from first; expected is the caller's count, 0
// when unknown.
func (c *Client) listUsers(ctx context.Context, first *url.URL, ex expression, expected int, setupErr error) iter.Seq2[User, error] {
	if expected <= 0 {
		expected = -1
	}
	return listPages(ctx, c, listing[User]{
		first: first, ex: ex, what: "users", check: checkUser,
		pageSize: c.opts.UserPageSize, expected: expected, setupErr: setupErr,
	})
}

func userQuery(opts UserListOptions, changed string, limit int) (url.Values, expression, error) {
	filter, search := strings.TrimSpace(opts.Filter), strings.TrimSpace(opts.Search)
	if filter != "" && search != "" {
		return nil, expression{}, errors.New("okta: list users: set a filter or a search expression, not both")
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	ex := combine(filter, search, changed)
	if ex.text != "" {
		q.Set(ex.kind, ex.text)
	}
	return q, ex, nil
}

// combine joins the admin's filter or search expression (at most one is
// set) with a changed-since condition: `(<admin>) and <changed>`. The
// admin's expression is parenthesised so that its own "or" cannot swallow
// the condition. With no admin expression the condition is a filter.
func combine(filter, search, changed string) expression {
	kind, admin := "filter", filter
	if search != "" {
		kind, admin = "search", search
	}
	switch {
	case changed == "":
		return expression{kind: kind, text: admin}
	case admin == "":
		return expression{kind: kind, text: changed}
	}
	return expression{kind: kind, text: "(" + admin + ") and " + changed}
}
