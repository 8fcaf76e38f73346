package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
)

// The rules Backstage's catalog applies to entities (catalog-model's
// validators and the User and Group JSON schemas), written here apart from
// the package's own checks so that a mistake in one is caught by the other.
var (
	bsName      = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	bsNamespace = regexp.MustCompile(`^[a-z0-9]+(?:\-+[a-z0-9]+)*$`)
	bsDNSLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

func bsValidName(s string) bool { return len(s) >= 1 && len(s) <= 63 && bsName.MatchString(s) }

func bsValidKey(s string) bool {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		return bsValidName(s)
	case 2:
		prefix := parts[0]
		if len(prefix) < 1 || len(prefix) > 253 {
			return false
		}
		for _, l := range strings.Split(prefix, ".") {
			if len(l) < 1 || len(l) > 63 || !bsDNSLabel.MatchString(l) {
				return false
			}
		}
		return bsValidName(parts[1])
	}
	return false
}

// bsValidRef reports whether s is an entity ref as Backstage parses it:
// [kind:][namespace/]name.
func bsValidRef(s string) bool {
	if kind, rest, ok := strings.Cut(s, ":"); ok {
		if kind == "" {
			return false
		}
		s = rest
	}
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return len(ns) <= 63 && bsNamespace.MatchString(ns) && bsValidName(name)
	}
	return bsValidName(s)
}

// resolveRef resolves ref, found on an entity in namespace from, the way
// Backstage does: the default kind and the referring entity's namespace
// fill what it leaves out. The result is lower case, as refs compare.
func resolveRef(ref, defaultKind, from string) string {
	kind := defaultKind
	if k, rest, ok := strings.Cut(ref, ":"); ok {
		kind, ref = k, rest
	}
	ns := from
	if n, rest, ok := strings.Cut(ref, "/"); ok {
		ns, ref = n, rest
	}
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(kind + ":" + ns + "/" + ref)
}

// validateEntity returns every way e breaks Backstage's rules, judged on
// its JSON form as the catalog would see it.
func validateEntity(e *Entity) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	var doc map[string]any
	if err := json.Unmarshal(AppendJSON(nil, e), &doc); err != nil {
		return []string{"json: " + err.Error()}
	}
	for k := range doc {
		switch k {
		case "apiVersion", "kind", "metadata", "spec":
		default:
			bad("root field %q not allowed", k)
		}
	}
	if doc["apiVersion"] != "backstage.io/v1alpha1" {
		bad("apiVersion %v", doc["apiVersion"])
	}
	md, _ := doc["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if !bsValidName(name) {
		bad("metadata.name %q invalid", name)
	}
	if ns, ok := md["namespace"]; ok {
		s, _ := ns.(string)
		if len(s) > 63 || !bsNamespace.MatchString(s) {
			bad("metadata.namespace %q invalid", s)
		}
	}
	for _, f := range []string{"title", "description"} {
		if v, ok := md[f]; ok {
			if s, ok := v.(string); !ok || s == "" {
				bad("metadata.%s %v not a non-empty string", f, v)
			}
		}
	}
	if labels, ok := md["labels"].(map[string]any); ok {
		for k, v := range labels {
			s, _ := v.(string)
			if !bsValidKey(k) {
				bad("label key %q invalid", k)
			}
			if s != "" && !bsValidName(s) {
				bad("label %q value %q invalid", k, s)
			}
		}
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		for k, v := range ann {
			if !bsValidKey(k) {
				bad("annotation key %q invalid", k)
			}
			if _, ok := v.(string); !ok {
				bad("annotation %q value not a string", k)
			}
		}
		if _, ok := ann["backstage.io/managed-by-location"]; ok {
			bad("sets backstage.io/managed-by-location")
		}
		if ann["okta.com/id"] != e.OktaID {
			bad("okta.com/id %v, want %q", ann["okta.com/id"], e.OktaID)
		}
	}
	spec, _ := doc["spec"].(map[string]any)
	checkRefs := func(field string, v any) {
		list, ok := v.([]any)
		if !ok {
			bad("spec.%s is not an array", field)
			return
		}
		for _, x := range list {
			if s, ok := x.(string); !ok || !bsValidRef(s) {
				bad("spec.%s entry %v invalid", field, x)
			}
		}
	}
	checkProfile := func() {
		p, ok := spec["profile"]
		if !ok {
			return
		}
		pm, ok := p.(map[string]any)
		if !ok {
			bad("spec.profile not an object")
			return
		}
		for k, v := range pm {
			s, ok := v.(string)
			switch {
			case k != "displayName" && k != "email" && k != "picture":
				bad("spec.profile.%s not allowed", k)
			case !ok || s == "":
				bad("spec.profile.%s empty", k)
			}
		}
	}
	switch doc["kind"] {
	case "User":
		mo, ok := spec["memberOf"]
		if !ok {
			bad("spec.memberOf missing")
		} else {
			checkRefs("memberOf", mo)
		}
		checkProfile()
		for k := range spec {
			if k != "memberOf" && k != "profile" {
				bad("spec.%s not in the User schema", k)
			}
		}
	case "Group":
		if s, ok := spec["type"].(string); !ok || s == "" {
			bad("spec.type %v", spec["type"])
		}
		ch, ok := spec["children"]
		if !ok {
			bad("spec.children missing")
		} else {
			checkRefs("children", ch)
		}
		if p, ok := spec["parent"]; ok {
			if s, ok := p.(string); !ok || !bsValidRef(s) {
				bad("spec.parent %v invalid", p)
			}
		}
		if m, ok := spec["members"]; ok {
			checkRefs("members", m)
		}
		checkProfile()
		for k := range spec {
			switch k {
			case "type", "children", "parent", "members", "profile":
			default:
				bad("spec.%s not in the Group schema", k)
			}
		}
	default:
		bad("kind %v", doc["kind"])
	}
	return errs
}

// checkEntities checks a Build result as a whole: every entity valid, no
// two refs equal case-insensitively, every reference resolving to an
// emitted entity, parents and children symmetric, memberOf and members
// symmetric, and the YAML and JSON forms equal.
func checkEntities(t *testing.T, opts Options, res *Result) {
	t.Helper()
	// Entities by their lower-case ref; names are unique within a kind
	// whatever the namespace, so users and groups are also by name.
	refs := make(map[string]*Entity)
	users := make(map[string]*Entity)
	groups := make(map[string]*Entity)
	for i := range res.Entities {
		e := &res.Entities[i]
		for _, err := range validateEntity(e) {
			t.Errorf("%s: %s", e.Ref(), err)
		}
		wantNS := opts.Namespace
		if typ, _ := e.Annotation(AnnotationGroupType); e.Kind == KindGroup && opts.GroupNamespaces[typ] != "" {
			wantNS = opts.GroupNamespaces[typ]
		}
		if e.Metadata.Namespace != wantNS {
			t.Errorf("%s: namespace %q, want %q", e.Ref(), e.Metadata.Namespace, wantNS)
		}
		key := strings.ToLower(e.Ref())
		if prev, ok := refs[key]; ok {
			t.Errorf("refs collide: %s (okta %s) and %s (okta %s)", prev.Ref(), prev.OktaID, e.Ref(), e.OktaID)
		}
		refs[key] = e
		if e.Kind == KindUser {
			users[strings.ToLower(e.Metadata.Name)] = e
		} else {
			groups[strings.ToLower(e.Metadata.Name)] = e
		}
		checkYAMLEqualsJSON(t, e)
	}
	// lists reports whether list, on an entity in namespace from, holds a
	// ref to e.
	lists := func(list []string, defaultKind, from string, e *Entity) bool {
		want := strings.ToLower(e.Ref())
		return slices.ContainsFunc(list, func(r string) bool { return resolveRef(r, defaultKind, from) == want })
	}
	if res.Report.Users != len(users) || res.Report.Groups != len(groups) {
		t.Errorf("report counts %d users, %d groups; emitted %d, %d", res.Report.Users, res.Report.Groups, len(users), len(groups))
	}
	memberships := 0
	for _, u := range users {
		memberships += len(u.User.MemberOf)
		for _, g := range u.User.MemberOf {
			ge, ok := refs[resolveRef(g, "group", u.Metadata.Namespace)]
			if !ok {
				t.Errorf("%s: memberOf %q names no emitted group", u.Ref(), g)
				continue
			}
			if opts.IncludeMembers && !lists(ge.Group.Members, "user", ge.Metadata.Namespace, u) {
				t.Errorf("%s: member of %s, which does not list it", u.Ref(), ge.Ref())
			}
		}
	}
	if memberships != res.Report.Memberships {
		t.Errorf("report counts %d memberships, entities hold %d", res.Report.Memberships, memberships)
	}
	for _, g := range groups {
		if opts.IncludeMembers != (g.Group.Members != nil) {
			t.Errorf("%s: members %v with IncludeMembers %v", g.Ref(), g.Group.Members, opts.IncludeMembers)
		}
		ns := g.Metadata.Namespace
		for _, m := range g.Group.Members {
			u, ok := refs[resolveRef(m, "user", ns)]
			if !ok {
				t.Errorf("%s: member %q names no emitted user", g.Ref(), m)
				continue
			}
			if !lists(u.User.MemberOf, "group", u.Metadata.Namespace, g) {
				t.Errorf("%s: lists %s, whose memberOf does not", g.Ref(), u.Ref())
			}
		}
		if p := g.Group.Parent; p != "" {
			pe, ok := refs[resolveRef(p, "group", ns)]
			switch {
			case !ok:
				t.Errorf("%s: parent %q names no emitted group", g.Ref(), p)
			case !lists(pe.Group.Children, "group", pe.Metadata.Namespace, g):
				t.Errorf("%s: parent %s does not list it as a child", g.Ref(), pe.Ref())
			}
		}
		for _, c := range g.Group.Children {
			ce, ok := refs[resolveRef(c, "group", ns)]
			switch {
			case !ok:
				t.Errorf("%s: child %q names no emitted group", g.Ref(), c)
			case resolveRef(ce.Group.Parent, "group", ce.Metadata.Namespace) != strings.ToLower(g.Ref()):
				t.Errorf("%s: child %s has parent %q", g.Ref(), ce.Ref(), ce.Group.Parent)
			}
		}
		// No cycles: walking up ends.
		seen := map[string]bool{}
		for x := g; x != nil && x.Group.Parent != ""; x = refs[resolveRef(x.Group.Parent, "group", x.Metadata.Namespace)] {
			if seen[x.Metadata.Name] {
				t.Errorf("%s: parent cycle through %s", g.Ref(), x.Ref())
				break
			}
			seen[x.Metadata.Name] = true
		}
	}
}

// checkYAMLEqualsJSON parses the YAML form with a YAML library and the
// JSON form with encoding/json and requires the same value.
func checkYAMLEqualsJSON(t *testing.T, e *Entity) {
	t.Helper()
	y := AppendYAML(nil, e)
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Errorf("%s: YAML does not parse: %v\n%s", e.Ref(), err, y)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(AppendJSON(nil, e)))
	if err := dec.Decode(&fromJSON); err != nil {
		t.Errorf("%s: JSON does not parse: %v", e.Ref(), err)
		return
	}
	if diff := cmp.Diff(fromJSON, fromYAML); diff != "" {
		t.Errorf("%s: YAML and JSON differ (-json +yaml):\n%s", e.Ref(), diff)
	}
}
