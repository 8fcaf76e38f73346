package okta

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
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

// Group types, as Okta reports them in Group.Type.
const (
	GroupTypeOkta    = "OKTA_GROUP"
	GroupTypeApp     = "APP_GROUP"
	GroupTypeBuiltIn = "BUILT_IN"
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

// TypeRef points at an Okta user type.
type TypeRef struct {
	ID string `json:"id"`
}

// UserProfile is an Okta user profile: the base attributes as fields, and every
// other (custom) attribute in Custom, keyed by its Okta name.
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
	// Custom holds the attributes that are not base attributes: strings,
	// numbers (float64), booleans or arrays ([]any), as decoded from JSON.
	Custom map[string]any
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
	if f := p.field(name); f != nil {
		return *f, *f != ""
	}
	return attrString(p.Custom, name)
}

// UnmarshalJSON decodes a profile, keeping unknown attributes in Custom.
func (p *UserProfile) UnmarshalJSON(b []byte) error {
	return unmarshalProfile(b, p.field, &p.Custom)
}

// MarshalJSON encodes a profile as Okta does: one flat object.
func (p UserProfile) MarshalJSON() ([]byte, error) {
	return marshalProfile(userProfileFields[:], p.field, p.Custom)
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
	Custom map[string]any
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
	if f := p.field(name); f != nil {
		return *f, *f != ""
	}
	return attrString(p.Custom, name)
}

// UnmarshalJSON decodes a profile, keeping unknown attributes in Custom.
func (p *GroupProfile) UnmarshalJSON(b []byte) error {
	return unmarshalProfile(b, p.field, &p.Custom)
}

// MarshalJSON encodes a profile as Okta does: one flat object.
func (p GroupProfile) MarshalJSON() ([]byte, error) {
	return marshalProfile(groupProfileFields[:], p.field, p.Custom)
}

func unmarshalProfile(b []byte, field func(string) *string, custom *map[string]any) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*custom = nil
	for k, v := range raw {
		if f := field(k); f != nil {
			switch s := v.(type) {
			case string:
				*f = s
			case nil:
				*f = ""
			default:
				return fmt.Errorf("profile attribute %q: want a string, got %T", k, v)
			}
			continue
		}
		if v == nil {
			continue
		}
		if *custom == nil {
			*custom = make(map[string]any)
		}
		(*custom)[k] = v
	}
	return nil
}

func marshalProfile(names []string, field func(string) *string, custom map[string]any) ([]byte, error) {
	out := make(map[string]any, len(names)+len(custom))
	for k, v := range custom {
		out[k] = v
	}
	for _, k := range names {
		if f := field(k); *f != "" {
			out[k] = *f
		}
	}
	return json.Marshal(out)
}

func attrString(custom map[string]any, name string) (string, bool) {
	v, ok := custom[name]
	if !ok {
		return "", false
	}
	s := valueString(v)
	return s, s != ""
}

func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s := valueString(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ",")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// CustomKeys returns the names of the custom attributes in sorted order.
func CustomKeys(custom map[string]any) []string {
	keys := make([]string, 0, len(custom))
	for k := range custom {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TimeFormat is the layout of Okta's timestamps, in UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t as Okta writes and accepts timestamps in
// expressions: "2024-01-02T03:04:05.000Z", in UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}
