package catalog

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// User naming strategies, the values of Options.UserNaming. They carry the
// names of the Backstage Okta module's strategies and give the same names
// wherever that module's names are valid and unique.
const (
	// UserNamingID names a user by its Okta id.
	UserNamingID = "id"
	// UserNamingKebabCaseEmail kebab-cases the whole email:
	// John.Doe@Example.com -> john-doe-example-com.
	UserNamingKebabCaseEmail = "kebab-case-email"
	// UserNamingStripDomainEmail keeps the email's local part as it is:
	// John.Doe@Example.com -> John.Doe.
	UserNamingStripDomainEmail = "strip-domain-email"
	// UserNamingSlugifyEmail slugifies the local part (dropping "+") and the
	// domain and joins them: John.Doe+x@Example.com -> john.doex-example.com.
	UserNamingSlugifyEmail = "slugify-email"
)

// Group naming strategies, the values of Options.GroupNaming.
const (
	// GroupNamingID names a group by its Okta id.
	GroupNamingID = "id"
	// GroupNamingKebabCaseName kebab-cases the group name: R&D / EMEA -> r-d-emea.
	GroupNamingKebabCaseName = "kebab-case-name"
	// GroupNamingProfileName uses the group name as it is.
	GroupNamingProfileName = "profile-name"
)

// NamingProfilePrefix starts a strategy that names an entity by a profile
// attribute, as in "profile:githubUsername".
const NamingProfilePrefix = "profile:"

// Options configures Build. The zero value is usable: empty fields take
// the defaults DefaultOptions documents.
type Options struct {
	// UserNaming is the user naming strategy: "id", "kebab-case-email",
	// "strip-domain-email", "slugify-email" or "profile:<attribute>".
	// Default "strip-domain-email", whose names are what Backstage's
	// emailLocalPartMatchingUserEntityName sign-in resolver looks up.
	UserNaming string
	// GroupNaming is the group naming strategy: "id", "kebab-case-name",
	// "profile-name" or "profile:<attribute>". Default "kebab-case-name".
	GroupNaming string
	// Namespace is the entities' namespace; empty is Backstage's default.
	Namespace string
	// NamePrefix goes before the name of every User and Group entity
	// (e.g. "globex-"), to tell the orgs of a merged catalog apart in one
	// namespace; a name it makes too long is cut with a suffix derived
	// from the Okta id.
	NamePrefix string

	// HierarchyKey and HierarchyParentKey name the group profile
	// attributes of the group hierarchy, like the Backstage Okta module's
	// hierarchyConfig key and parentKey: a group's parent is the group
	// whose HierarchyKey attribute equals its HierarchyParentKey attribute.
	// A leading "profile." is accepted and ignored; "id" means the Okta
	// group id. With HierarchyParentKey set and HierarchyKey empty, the
	// parent value is matched against the groups' names. Both empty: no
	// hierarchy.
	HierarchyKey, HierarchyParentKey string

	// GroupTypes maps an Okta group type (OKTA_GROUP, APP_GROUP,
	// BUILT_IN) to the Backstage spec.type; a type not in the map gets
	// "group".
	GroupTypes map[string]string
	// IncludeGroupTypes, when not empty, keeps only groups of these Okta
	// types. ExcludeGroupTypes drops groups of these types. nil
	// ExcludeGroupTypes means the default, BUILT_IN: Okta's Everyone
	// group holds every user, so emitting it only adds one membership to
	// every user. Set an empty, non-nil slice to emit it.
	IncludeGroupTypes, ExcludeGroupTypes []string
	// IncludeEmptyGroups emits groups with no emitted member and no
	// non-empty descendant. The zero value leaves them out; DefaultOptions
	// sets it.
	IncludeEmptyGroups bool
	// UserStatuses lists the Okta user statuses to emit; empty means every
	// status but DEPROVISIONED.
	UserStatuses []string
	// UsersFromGroups emits only users that are members of at least one
	// selected group.
	UsersFromGroups bool
	// IncludeMembers also lists each group's users in spec.members (the
	// users' spec.memberOf always holds the links).
	IncludeMembers bool

	// UserAnnotations and GroupAnnotations list profile attributes copied
	// to annotations named okta.com/profile.<attribute>.
	UserAnnotations, GroupAnnotations []string
	// UserMappings and GroupMappings copy profile attributes to the
	// annotations or labels they name.
	UserMappings, GroupMappings []AttributeMapping

	// GroupNamespaces maps an Okta group type to the namespace of its
	// groups; a type not in the map gets Namespace. Users are always in
	// Namespace; references across namespaces are full entity refs.
	GroupNamespaces map[string]string
	// UserTransform and GroupTransform shape the users' and groups'
	// entities with templates over their Okta attributes, and leave out
	// the users and groups their Exclude expression selects.
	UserTransform, GroupTransform Transform
	// Shape holds the transforms compiled by Compile, which sets it; Build
	// compiles them on each call when it is nil. Leave it nil otherwise.
	Shape *Shape
}

// ExcludedGroupTypes returns the Okta group types whose groups are
// dropped: ExcludeGroupTypes, or BUILT_IN when it is nil.
func (o Options) ExcludedGroupTypes() []string {
	if o.ExcludeGroupTypes == nil {
		return []string{okta.GroupTypeBuiltIn}
	}
	return o.ExcludeGroupTypes
}

// AttributeMapping copies one profile attribute to an annotation or a
// label; exactly one of Annotation and Label is set, to a valid key. Its
// tags are the config file's keys and the report's fields.
type AttributeMapping struct {
	Attribute  string `json:"attribute" yaml:"attribute"`
	Annotation string `json:"annotation,omitempty" yaml:"annotation"`
	Label      string `json:"label,omitempty" yaml:"label"`
}

// DefaultOptions returns the options the service starts from.
func DefaultOptions() Options {
	return Options{
		UserNaming:         UserNamingStripDomainEmail,
		GroupNaming:        GroupNamingKebabCaseName,
		ExcludeGroupTypes:  []string{okta.GroupTypeBuiltIn},
		IncludeEmptyGroups: true,
		UserStatuses:       defaultUserStatuses(),
	}
}

func defaultUserStatuses() []string {
	return []string{
		okta.StatusStaged, okta.StatusProvisioned, okta.StatusActive, okta.StatusRecovery,
		okta.StatusLockedOut, okta.StatusPasswordExpired, okta.StatusSuspended,
	}
}

var (
	namespaceRE = regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`)
	nameRE      = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsLabelRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// ValidName reports whether s is a valid Backstage metadata.name (and so a
// valid label value or key name part).
func ValidName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && nameRE.MatchString(s)
}

// ValidNamespace reports whether s is a valid Backstage namespace.
func ValidNamespace(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && namespaceRE.MatchString(s)
}

// ValidKey reports whether s is a valid Backstage label or annotation key:
// an optional DNS subdomain prefix and "/", then a name.
func ValidKey(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		return ValidName(s)
	}
	if len(prefix) == 0 || len(prefix) > 253 {
		return false
	}
	for _, l := range strings.Split(prefix, ".") {
		if len(l) > 63 || !dnsLabelRE.MatchString(l) {
			return false
		}
	}
	return ValidName(name)
}

var (
	knownStatuses   = append(defaultUserStatuses(), okta.StatusDeprovisioned)
	knownGroupTypes = []string{okta.GroupTypeOkta, okta.GroupTypeApp, okta.GroupTypeBuiltIn}
)

// OptionError is one problem with Options: the field, the value at fault
// and what is wrong with it and what to do. It names Options' fields, not
// the service's settings; the caller maps Field to the name its user knows.
type OptionError struct {
	// Field is the Options field, e.g. "UserNaming" or "UserMappings"; for
	// a transform, the field and the Transform key, e.g.
	// "UserTransform.displayName" or "GroupTransform.labels".
	Field string
	// Value is the offending value; empty when the problem is an absence.
	Value string
	// Problem says what is wrong and the fix.
	Problem string
}

func (e *OptionError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Problem
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Problem)
}

// Validate checks the options and returns every problem found, each an
// *OptionError, joined with errors.Join in the order of Options' fields.
func (o Options) Validate() error {
	var errs []error
	bad := func(field, value, problem string) {
		errs = append(errs, &OptionError{Field: field, Value: value, Problem: problem})
	}
	if !validNaming(o.UserNaming, UserNamingID, UserNamingKebabCaseEmail, UserNamingStripDomainEmail, UserNamingSlugifyEmail) {
		bad("UserNaming", o.UserNaming, "unknown strategy; want id, kebab-case-email, strip-domain-email, slugify-email or profile:<attribute>")
	}
	if !validNaming(o.GroupNaming, GroupNamingID, GroupNamingKebabCaseName, GroupNamingProfileName) {
		bad("GroupNaming", o.GroupNaming, "unknown strategy; want id, kebab-case-name, profile-name or profile:<attribute>")
	}
	if o.Namespace != "" && !ValidNamespace(o.Namespace) {
		bad("Namespace", o.Namespace, "want lower-case letters, digits and dashes, at most 63 characters")
	}
	if p := o.NamePrefix; p != "" && !validPrefix(p) {
		bad("NamePrefix", p, fmt.Sprintf("want at most %d characters, starting with a lower-case letter or digit, then lower-case letters, digits, - _ or . (e.g. globex-)", maxPrefixLen))
	}
	if o.HierarchyKey != "" && o.HierarchyParentKey == "" {
		bad("HierarchyKey", o.HierarchyKey, "the parent key is not set; set the attribute holding the parent's key too, e.g. parentOrgId")
	}
	for _, okt := range slices.Sorted(maps.Keys(o.GroupTypes)) {
		if !slices.Contains(knownGroupTypes, okt) {
			bad("GroupTypes", okt, "unknown Okta group type; use "+strings.Join(knownGroupTypes, ", "))
		}
		if strings.TrimSpace(o.GroupTypes[okt]) == "" {
			bad("GroupTypes", okt, "empty spec.type; Backstage requires a non-empty one")
		}
	}
	for _, f := range []struct {
		field         string
		values, known []string
		what          string
	}{
		{"IncludeGroupTypes", o.IncludeGroupTypes, knownGroupTypes, "Okta group type"},
		{"ExcludeGroupTypes", o.ExcludeGroupTypes, knownGroupTypes, "Okta group type"},
		{"UserStatuses", o.UserStatuses, knownStatuses, "Okta user status"},
	} {
		for _, v := range f.values {
			if !slices.Contains(f.known, v) {
				bad(f.field, v, "unknown "+f.what+"; use "+strings.Join(f.known, ", "))
			}
		}
	}
	for _, f := range []struct {
		field string
		attrs []string
	}{{"UserAnnotations", o.UserAnnotations}, {"GroupAnnotations", o.GroupAnnotations}} {
		if slices.Contains(f.attrs, "") {
			bad(f.field, "", "an empty attribute name; remove it")
		}
	}
	for _, f := range []struct {
		field    string
		mappings []AttributeMapping
	}{{"UserMappings", o.UserMappings}, {"GroupMappings", o.GroupMappings}} {
		for _, m := range f.mappings {
			if problem := m.problem(); problem != "" {
				bad(f.field, "", problem)
			}
		}
	}
	for _, okt := range slices.Sorted(maps.Keys(o.GroupNamespaces)) {
		if !slices.Contains(knownGroupTypes, okt) {
			bad("GroupNamespaces", okt, "unknown Okta group type; use "+strings.Join(knownGroupTypes, ", "))
		}
		if ns := o.GroupNamespaces[okt]; !ValidNamespace(ns) {
			bad("GroupNamespaces", okt, fmt.Sprintf("namespace %q: want lower-case letters, digits and dashes, at most 63 characters", ns))
		}
	}
	_, terrs := o.compile()
	errs = append(errs, terrs...)
	return errors.Join(errs...)
}

// Compile validates o like Validate and returns it with its transforms
// compiled into Shape, so that Build does not compile them again: call it
// once at start.
func (o Options) Compile() (Options, error) {
	if err := o.Validate(); err != nil {
		return o, err
	}
	o.Shape, _ = o.compile()
	return o, nil
}

// compile compiles the transforms; a transform with errors is left out of
// the Shape, and the Shape is nil when there is no transform.
func (o Options) compile() (*Shape, []error) {
	user, uerrs := compileTransform(KindUser, "UserTransform", &o.UserTransform)
	group, gerrs := compileTransform(KindGroup, "GroupTransform", &o.GroupTransform)
	if len(uerrs) > 0 {
		user = nil
	}
	if len(gerrs) > 0 {
		group = nil
	}
	if user == nil && group == nil {
		return nil, append(uerrs, gerrs...)
	}
	return &Shape{user: user, group: group}, append(uerrs, gerrs...)
}

// maxPrefixLen bounds NamePrefix, to leave most of a name's 63
// characters to the name.
const maxPrefixLen = 20

// validPrefix reports whether s may start a Backstage name.
func validPrefix(s string) bool {
	if len(s) > maxPrefixLen || !isLowerAlnum(s[0]) {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isLowerAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// validNaming reports whether s is empty (the default), one of the named
// strategies or profile:<attribute>.
func validNaming(s string, strategies ...string) bool {
	return s == "" || slices.Contains(strategies, s) ||
		(strings.HasPrefix(s, NamingProfilePrefix) && len(s) > len(NamingProfilePrefix))
}

var reservedKeys = []string{AnnotationID, AnnotationEmail, AnnotationLogin, AnnotationGroupType, AnnotationOrg}

// problem says what is wrong with m, or "".
func (m AttributeMapping) problem() string {
	switch {
	case m.Attribute == "":
		return fmt.Sprintf("mapping to %q: empty attribute name", m.Annotation+m.Label)
	case (m.Annotation == "") == (m.Label == ""):
		return fmt.Sprintf("mapping of %q: set exactly one of annotation and label", m.Attribute)
	}
	key := m.Annotation + m.Label
	if problem := keyProblem(key); problem != "" {
		return fmt.Sprintf("mapping of %q: key %q is %s", m.Attribute, key, problem)
	}
	return ""
}

// keyProblem says what is wrong with key as the key of a label or
// annotation the configuration sets, or "".
func keyProblem(key string) string {
	if !ValidKey(key) {
		return "not a valid Backstage key (optional dns-prefix/ then a name of letters, digits, - _ . up to 63)"
	}
	if slices.Contains(reservedKeys, key) || strings.HasPrefix(key, "backstage.io/managed-by-") {
		return "set by the service itself; choose another"
	}
	return ""
}
