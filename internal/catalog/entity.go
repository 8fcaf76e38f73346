package catalog

import "strings"

// Backstage envelope constants used by every entity this package emits.
const (
	// APIVersion is the apiVersion of Backstage User and Group entities.
	APIVersion = "backstage.io/v1alpha1"
	// KindUser is the kind of a Backstage user entity.
	KindUser = "User"
	// KindGroup is the kind of a Backstage group entity.
	KindGroup = "Group"
	// DefaultNamespace is the namespace Backstage assumes when none is set.
	DefaultNamespace = "default"
)

// Annotation keys set on every entity.
const (
	// AnnotationID holds the Okta id of the user or group.
	AnnotationID = "okta.com/id"
	// AnnotationEmail holds the user's email: Backstage's Okta sign-in
	// resolver emailMatchingUserEntityAnnotation looks users up by it.
	AnnotationEmail = "okta.com/email"
	// AnnotationLogin holds the user's Okta login.
	AnnotationLogin = "okta.com/login"
	// AnnotationGroupType holds the Okta group type (OKTA_GROUP, APP_GROUP, BUILT_IN).
	AnnotationGroupType = "okta.com/group-type"
	// AnnotationOrg names the entity's Okta org when the catalog merges
	// several (the org's name as configured).
	AnnotationOrg = "okta.com/org"
	// AnnotationProfilePrefix starts the key of an allowlisted profile
	// attribute copied to an annotation: okta.com/profile.<attribute>.
	AnnotationProfilePrefix = "okta.com/profile."
)

// Entity is one Backstage User or Group entity. Exactly one of User and
// Group is set, matching Kind.
type Entity struct {
	APIVersion string
	Kind       string
	Metadata   Metadata
	User       *UserSpec  // spec of a User entity
	Group      *GroupSpec // spec of a Group entity
	// OktaID is the id of the Okta object the entity was built from. It is
	// not encoded (the okta.com/id annotation carries it).
	OktaID string
}

// Metadata is an entity's metadata block.
type Metadata struct {
	Name        string
	Namespace   string // empty means the default namespace and is not encoded
	Title       string // not encoded when empty
	Description string // not encoded when empty
	// Labels and Annotations are sorted by key with unique keys; Build keeps
	// them so and the encoders write them in the order given.
	Labels      []KeyValue
	Annotations []KeyValue
}

// KeyValue is one label or annotation.
type KeyValue struct {
	Key, Value string
}

// Profile is the spec.profile block of a User or Group. Empty fields are
// not encoded; a Profile with no fields is not encoded at all.
type Profile struct {
	DisplayName string
	Email       string
	Picture     string
}

func (p *Profile) empty() bool {
	return p == nil || (p.DisplayName == "" && p.Email == "" && p.Picture == "")
}

// UserSpec is the spec of a Backstage User entity.
type UserSpec struct {
	Profile *Profile
	// MemberOf holds the names of the groups (in the user's namespace) the
	// user belongs to, sorted. Backstage requires the field; it is encoded
	// as an empty list when there are none.
	MemberOf []string
}

// GroupSpec is the spec of a Backstage Group entity.
type GroupSpec struct {
	Type    string
	Profile *Profile
	// Parent is the name of the parent group, empty for none.
	Parent string
	// Children holds the names of the child groups, sorted; always encoded.
	Children []string
	// Members holds the names of the member users, sorted. It is encoded
	// only when non-nil, so a nil Members leaves spec.members out.
	Members []string
}

// Ref returns the entity's reference in Backstage's string form,
// kind:namespace/name, for example "user:default/alice". The kind is lower
// case; the name keeps its case (Backstage compares refs case-insensitively).
func (e *Entity) Ref() string {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return strings.ToLower(e.Kind) + ":" + ns + "/" + e.Metadata.Name
}

// Annotation returns the value of the annotation with the given key.
func (e *Entity) Annotation(key string) (string, bool) {
	return lookup(e.Metadata.Annotations, key)
}

// Label returns the value of the label with the given key.
func (e *Entity) Label(key string) (string, bool) {
	return lookup(e.Metadata.Labels, key)
}

func lookup(kvs []KeyValue, key string) (string, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// MarshalJSON encodes the entity as AppendJSON does.
func (e Entity) MarshalJSON() ([]byte, error) {
	return AppendJSON(nil, &e), nil
}
