package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unique"
)

// Group types, as Okta reports them in Group.Type.
const (
	GroupTypeOkta    = "OKTA_GROUP"
	GroupTypeApp     = "APP_GROUP"
	GroupTypeBuiltIn = "BUILT_IN"
)

// GroupEmbedded holds what Okta embeds in a group on request, such as
// expand=stats.
type GroupEmbedded struct {
	Stats *GroupStats `json:"stats,omitempty"`
}

// GroupStats is the embedded group statistics of expand=stats.
type GroupStats struct {
	UsersCount int `json:"usersCount"`
}

// UsersCount returns the group's member count from expand=stats, and false
// when the group was listed without it.
func (g *Group) UsersCount() (int, bool) {
	if g.Embedded == nil || g.Embedded.Stats == nil {
		return 0, false
	}
	return g.Embedded.Stats.UsersCount, true
}

// GroupProfile is an Okta group profile: name and description as fields,
// every other attribute in Custom.
type GroupProfile struct {
	Name        string
	Description string
	// Custom holds the other attributes (custom ones, or samAccountName, dn
	// and the like for directory groups).
	Custom Attrs
}

// groupProfileFields are the base attributes of a group profile.
var groupProfileFields = [...]string{"name", "description"}

// field returns the field of the base attribute name, nil for any other.
func (p *GroupProfile) field(name string) *string {
	switch name {
	case "name":
		return &p.Name
	case "description":
		return &p.Description
	}
	return nil
}

// Get returns the attribute with the given Okta name as a string, like
// UserProfile.Get.
func (p *GroupProfile) Get(name string) (string, bool) {
	return profileGet(p.field(name), p.Custom, name)
}

// UnmarshalJSON decodes a profile, keeping unknown attributes in Custom.
func (p *GroupProfile) UnmarshalJSON(b []byte) error {
	return unmarshalProfile(b, groupProfileFields[:], p.field, &p.Custom)
}

// MarshalJSON encodes a profile as Okta does: one flat object.
func (p GroupProfile) MarshalJSON() ([]byte, error) {
	return appendProfile(nil, groupProfileFields[:], p.field, p.Custom)
}

// unmarshalProfile decodes the flat JSON object b: base attributes (names,
// whose fields field returns) straight into their fields, null meaning
// empty, and the other attributes into a new custom map, nil when there are
// none and without those that are null. null decodes as an empty profile.
//
// It reads strings and nulls itself and leaves only numbers, booleans,
// arrays and objects to encoding/json: profiles are decoded by the hundred
// thousand, and a map or a json.Decoder per profile would cost more than
// the profile itself.
func unmarshalProfile(b []byte, names []string, field func(string) *string, custom *Attrs) error {
	s := profileScanner{b: b}
	*custom = nil
	s.space()
	if s.literal("null") {
		return s.finish()
	}
	if !s.consume('{') {
		return invalidProfile(b)
	}
	// A base attribute that is not a string is an error unless a later
	// duplicate of it is one: of duplicate names, the last counts.
	var wrong []wrongType
	for first := true; ; first = false {
		s.space()
		if s.consume('}') {
			break
		}
		if !first && !s.consume(',') {
			return invalidProfile(b)
		}
		s.space()
		key, ok := s.key()
		if !ok {
			return invalidProfile(b)
		}
		if f := baseField(names, field, key); f != nil {
			v, isString, ok := s.stringOrNull()
			if !ok {
				return invalidProfile(b)
			}
			if len(wrong) > 0 {
				wrong = slices.DeleteFunc(wrong, func(w wrongType) bool { return w.key == string(key) })
			}
			if isString || v == nil {
				*f = string(v)
				continue
			}
			var value any
			if err := json.Unmarshal(v, &value); err != nil {
				return err
			}
			wrong = append(wrong, wrongType{string(key), value})
			continue
		}
		v, ok := s.value()
		if !ok {
			return invalidProfile(b)
		}
		// Custom attribute names repeat in every profile: interned, the
		// profiles decoded between two garbage collections share one string.
		if err := setCustom(custom, unique.Make(string(key)).Value(), v); err != nil {
			return err
		}
	}
	if err := s.finish(); err != nil {
		return err
	}
	if len(wrong) > 0 {
		return fmt.Errorf("profile attribute %q: want a string, got %T", wrong[0].key, wrong[0].value)
	}
	if len(*custom) == 0 {
		*custom = nil
	}
	return nil
}

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

// expand is the listing's expand parameter, "" for none.
func (o GroupListOptions) expand() string {
	if o.ExpandStats {
		return "stats"
	}
	return ""
}

// ListGroups returns an iterator over the groups of the org, every page.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups
func (c *Client) ListGroups(ctx context.Context, opts GroupListOptions) iter.Seq2[Group, error] {
	q, ex, err := listQuery("groups", opts.Filter, opts.Search, "", opts.expand(), c.opts.GroupPageSize)
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
	q, ex, err := listQuery("groups", opts.Filter, opts.Search, changed, opts.expand(), c.opts.GroupPageSize)
	return c.listGroups(ctx, c.endpoint("/api/v1/groups", q), ex, err)
}

func (c *Client) listGroups(ctx context.Context, first *url.URL, ex expression, setupErr error) iter.Seq2[Group, error] {
	return listPages(ctx, c, listing[Group]{
		first: first, ex: ex, what: "groups", check: checkGroup,
		pageSize: c.opts.GroupPageSize, expected: -1, setupErr: setupErr,
	})
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
