package okta

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"time"
)

// User statuses, as Okta reports them in User.Status.
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusActive          = "ACTIVE"
	StatusRecovery        = "RECOVERY"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

// User is an Okta user, the subset of the object this service reads.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
type User struct {
	ID              string      `json:"id"`
	Status          string      `json:"status"`
	Created         time.Time   `json:"created,omitzero"`
	Activated       time.Time   `json:"activated,omitzero"`
	StatusChanged   time.Time   `json:"statusChanged,omitzero"`
	LastLogin       time.Time   `json:"lastLogin,omitzero"`
	LastUpdated     time.Time   `json:"lastUpdated,omitzero"`
	PasswordChanged time.Time   `json:"passwordChanged,omitzero"`
	Type            *TypeRef    `json:"type,omitempty"`
	Profile         UserProfile `json:"profile"`
}

// AppendJSON appends u encoded as encoding/json encodes it, without the
// allocations encoding/json makes for each user: the sync state saves its
// users by the hundred thousand.
func (u *User) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, u.ID)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, u.Status)
	for _, t := range [...]struct {
		name string
		at   *time.Time
	}{
		{"created", &u.Created}, {"activated", &u.Activated}, {"statusChanged", &u.StatusChanged},
		{"lastLogin", &u.LastLogin}, {"lastUpdated", &u.LastUpdated}, {"passwordChanged", &u.PasswordChanged},
	} {
		if t.at.IsZero() {
			continue
		}
		if y := t.at.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("user %s: %s: year %d outside [0,9999]", u.ID, t.name, y)
		}
		dst = append(dst, `,"`...)
		dst = append(dst, t.name...)
		dst = append(dst, `":"`...)
		dst = t.at.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}
	if u.Type != nil {
		dst = append(dst, `,"type":{"id":`...)
		dst = appendString(dst, u.Type.ID)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"profile":`...)
	dst, err := appendProfile(dst, userProfileFields[:], u.Profile.field, u.Profile.Custom)
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// TypeRef points at an Okta user type.
type TypeRef struct {
	ID string `json:"id"`
}

// UserProfile is an Okta user profile: the base attributes as fields, and every
// other (custom) attribute in Custom.
type UserProfile struct {
	Login          string
	Email          string
	SecondEmail    string
	FirstName      string
	LastName       string
	DisplayName    string
	NickName       string
	Title          string
	Department     string
	Division       string
	Organization   string
	CostCenter     string
	Manager        string
	ManagerID      string
	EmployeeNumber string
	UserType       string
	// Custom holds the attributes that are not base attributes.
	Custom Attrs
}

// userProfileFields are the base attributes of a user profile, which have
// their own fields in UserProfile.
var userProfileFields = [...]string{
	"login", "email", "secondEmail", "firstName", "lastName", "displayName", "nickName", "title",
	"department", "division", "organization", "costCenter", "manager", "managerId", "employeeNumber", "userType",
}

// field returns the field of the base attribute name, nil for any other
// name. It allocates nothing: profiles are decoded by the hundred thousand.
func (p *UserProfile) field(name string) *string {
	switch name {
	case "login":
		return &p.Login
	case "email":
		return &p.Email
	case "secondEmail":
		return &p.SecondEmail
	case "firstName":
		return &p.FirstName
	case "lastName":
		return &p.LastName
	case "displayName":
		return &p.DisplayName
	case "nickName":
		return &p.NickName
	case "title":
		return &p.Title
	case "department":
		return &p.Department
	case "division":
		return &p.Division
	case "organization":
		return &p.Organization
	case "costCenter":
		return &p.CostCenter
	case "manager":
		return &p.Manager
	case "managerId":
		return &p.ManagerID
	case "employeeNumber":
		return &p.EmployeeNumber
	case "userType":
		return &p.UserType
	}
	return nil
}

// Get returns the attribute with the given Okta name (base or custom) as a
// string: numbers and booleans are formatted, arrays are joined by commas.
// It reports false when the attribute is absent, null or empty.
func (p *UserProfile) Get(name string) (string, bool) {
	return profileGet(p.field(name), p.Custom, name)
}

// profileGet is Get of a profile: the base attribute at f, or the custom
// attribute name when f is nil.
func profileGet(f *string, custom Attrs, name string) (string, bool) {
	if f != nil {
		return *f, *f != ""
	}
	return attrString(custom, name)
}

// UnmarshalJSON decodes a profile, keeping unknown attributes in Custom.
func (p *UserProfile) UnmarshalJSON(b []byte) error {
	return unmarshalProfile(b, userProfileFields[:], p.field, &p.Custom)
}

// MarshalJSON encodes a profile as Okta does: one flat object.
func (p UserProfile) MarshalJSON() ([]byte, error) {
	return appendProfile(nil, userProfileFields[:], p.field, p.Custom)
}

// Group is an Okta group, the subset of the object this service reads.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/
type Group struct {
	ID                    string         `json:"id"`
	Created               time.Time      `json:"created,omitzero"`
	LastUpdated           time.Time      `json:"lastUpdated,omitzero"`
	LastMembershipUpdated time.Time      `json:"lastMembershipUpdated,omitzero"`
	ObjectClass           []string       `json:"objectClass,omitempty"`
	Type                  string         `json:"type"`
	Profile               GroupProfile   `json:"profile"`
	Source                *TypeRef       `json:"source,omitempty"`
	Embedded              *GroupEmbedded `json:"_embedded,omitempty"`
}

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
	q, ex, err := listQuery("users", opts.Filter, opts.Search, "", "", c.opts.UserPageSize)
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
	q, ex, err := listQuery("users", opts.Filter, opts.Search, fmt.Sprintf("lastUpdated gt %q", FormatTime(since)), "", c.opts.UserPageSize)
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
