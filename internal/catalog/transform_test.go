package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestTransformValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		user      Transform
		group     Transform
		ns        map[string]string
		field     string
		value     string
		inProblem string
	}{
		{"syntax", Transform{DisplayName: "{{.profile.firstName"}, Transform{}, nil, "UserTransform.displayName", "{{.profile.firstName", "unclosed action"},
		{"unknown function", Transform{Title: `{{printf "%*d" 100000000 1}}`}, Transform{}, nil, "UserTransform.title", `{{printf "%*d" 100000000 1}}`, `function "printf" is not allowed`},
		{"index", Transform{Title: `{{index .profile "x"}}`}, Transform{}, nil, "UserTransform.title", `{{index .profile "x"}}`, `function "index" is not allowed`},
		{"range", Transform{}, Transform{Description: `{{range 1000000000}}x{{end}}`}, nil, "GroupTransform.description", `{{range 1000000000}}x{{end}}`, "{{range}} is not allowed"},
		{"with", Transform{Picture: `{{with .profile.x}}{{.}}{{end}}`}, Transform{}, nil, "UserTransform.picture", `{{with .profile.x}}{{.}}{{end}}`, "{{with}} is not allowed"},
		{"define", Transform{Title: `{{define "x"}}a{{end}}b`}, Transform{}, nil, "UserTransform.title", `{{define "x"}}a{{end}}b`, "define and block are not allowed"},
		{"unknown field", Transform{Title: `{{.credentials.password}}`}, Transform{}, nil, "UserTransform.title", `{{.credentials.password}}`, "unknown field .credentials.password; use .id, .status or .profile.<attribute>"},
		{"group field on user", Transform{Title: `{{.type}}`}, Transform{}, nil, "UserTransform.title", `{{.type}}`, "unknown field .type"},
		{"dot", Transform{}, Transform{Title: `{{.}}`}, nil, "GroupTransform.title", `{{.}}`, "{{.}} is not allowed"},
		{"root variable", Transform{Title: `{{$.profile.a.b}}`}, Transform{}, nil, "UserTransform.title", `{{$.profile.a.b}}`, "unknown field .profile.a.b"},
		{"exclude", Transform{Exclude: `eq .profile.userType "Service`}, Transform{}, nil, "UserTransform.exclude", `eq .profile.userType "Service`, "unterminated quoted string"},
		{"exclude function", Transform{Exclude: `matches "^svc" .profile.login`}, Transform{}, nil, "UserTransform.exclude", `matches "^svc" .profile.login`, "not defined"},
		{"label key", Transform{Labels: map[string]string{"a/b/c": "x"}}, Transform{}, nil, "UserTransform.labels", "a/b/c", "not a valid Backstage key"},
		{"reserved key", Transform{}, Transform{Annotations: map[string]string{AnnotationID: "x"}}, nil, "GroupTransform.annotations", AnnotationID, "set by the service itself"},
		{"label template", Transform{Labels: map[string]string{"team": "{{call .x}}"}}, Transform{}, nil, "UserTransform.labels.team", "{{call .x}}", `function "call" is not allowed`},
		{"namespace", Transform{}, Transform{}, map[string]string{"APP_GROUP": "Apps"}, "GroupNamespaces", "APP_GROUP", `namespace "Apps"`},
		{"namespace type", Transform{}, Transform{}, map[string]string{"APP": "apps"}, "GroupNamespaces", "APP", "unknown Okta group type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := DefaultOptions()
			o.UserTransform, o.GroupTransform, o.GroupNamespaces = tc.user, tc.group, tc.ns
			_, err := o.Compile()
			var oe *OptionError
			if !errors.As(err, &oe) {
				t.Fatalf("Compile() = %v, want an *OptionError", err)
			}
			if oe.Field != tc.field || oe.Value != tc.value || !strings.Contains(oe.Problem, tc.inProblem) {
				t.Errorf("got %s %q: %s, want %s %q: …%s…", oe.Field, oe.Value, oe.Problem, tc.field, tc.value, tc.inProblem)
			}
		})
	}
}

// shapeOne builds one user and one group with the transforms and returns
// them and the report.
func shapeOne(t *testing.T, user, group Transform, u okta.User, g okta.Group) (*Entity, *Entity, Report) {
	t.Helper()
	o := DefaultOptions()
	o.UserTransform, o.GroupTransform = user, group
	o, err := o.Compile()
	if err != nil {
		t.Fatal(err)
	}
	res := Build(o, Input{Users: []okta.User{u}, Groups: []okta.Group{g}, Members: map[string][]string{g.ID: {u.ID}}})
	checkEntities(t, o, res)
	var ue, ge *Entity
	for i := range res.Entities {
		if res.Entities[i].Kind == KindUser {
			ue = &res.Entities[i]
		} else {
			ge = &res.Entities[i]
		}
	}
	return ue, ge, res.Report
}

func testUser(profile okta.UserProfile) okta.User {
	return okta.User{ID: "00u1", Status: okta.StatusActive, Profile: profile}
}

var testGroup = okta.Group{ID: "00g1", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "Team"}}

func TestTransformSanitises(t *testing.T) {
	t.Parallel()
	u := testUser(okta.UserProfile{
		Login: "ann@example.com", Email: "ann@example.com", FirstName: "Ann\x00\x1b[31m", LastName: "Lee\nJr",
		Title: strings.Repeat("é", 300), Department: "R&D / EMEA",
		Custom: okta.Attrs{{Name: "avatar", Value: "javascript:alert(1)"}, {Name: "bio", Value: "line 1\nline 2\r\n"}},
	})
	ue, ge, rep := shapeOne(t, Transform{
		DisplayName: `{{join " " .profile.firstName .profile.lastName}}`,
		Title:       `{{.profile.title}}`,
		Picture:     `{{.profile.avatar}}`,
		Description: `{{.profile.bio}}`,
		Labels:      map[string]string{"dept": `{{.profile.department}}`, "symbols": `***`, "long": `{{.profile.title}}`},
		Annotations: map[string]string{"example.com/blowup": `{{.profile.title | replace "" "xxxxxxxxxxxxxxxx"}}`, "example.com/empty": ` {{.profile.nickName}} `},
	}, Transform{Picture: `https://logos.example.com/{{.id}}.png`, Title: `{{.profile.name | lower}}`}, u, testGroup)

	if got, want := ue.User.Profile.DisplayName, "Ann  [31m Lee Jr"; got != want {
		t.Errorf("displayName %q, want %q", got, want)
	}
	if got := ue.Metadata.Title; len(got) > maxTitleLen || !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\ufffd') {
		t.Errorf("title %q (%d bytes), want at most %d bytes of whole runes", got, len(got), maxTitleLen)
	}
	if got, want := ue.Metadata.Description, "line 1\nline 2"; got != want {
		t.Errorf("description %q, want %q", got, want)
	}
	if ue.User.Profile.Picture != "" {
		t.Errorf("picture %q, want none", ue.User.Profile.Picture)
	}
	if v, _ := ue.Label("dept"); v != "R-D-EMEA" {
		t.Errorf("label dept %q, want R-D-EMEA", v)
	}
	for _, k := range []string{"symbols", "long"} {
		if v, ok := ue.Label(k); ok {
			t.Errorf("label %s = %q, want it left out", k, v)
		}
	}
	for _, k := range []string{"example.com/blowup", "example.com/empty"} {
		if v, ok := ue.Annotation(k); ok {
			t.Errorf("annotation %s = %q, want it left out", k, v)
		}
	}
	if got, want := ge.Group.Profile.Picture, "https://logos.example.com/00g1.png"; got != want {
		t.Errorf("group picture %q, want %q", got, want)
	}
	if ge.Metadata.Title != "team" || ge.Group.Profile.DisplayName != "Team" {
		t.Errorf("group title %q, displayName %q; want team, Team", ge.Metadata.Title, ge.Group.Profile.DisplayName)
	}
	var got []string
	for _, s := range rep.SkippedLabels {
		got = append(got, s.Kind+" "+s.Key+" "+s.Reason)
	}
	want := []string{
		"User example.com/blowup template-error",
		"User long value-too-long",
		"User spec.profile.picture invalid-url",
		"User symbols invalid-value",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
}

func TestTransformExclude(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.HierarchyKey, o.HierarchyParentKey = "orgId", "parentOrgId"
	o.IncludeMembers = true
	o.UserTransform.Exclude = `eq .profile.userType "Service"`
	o.GroupTransform.Exclude = `hasPrefix "tmp-" .profile.name`
	o, err := o.Compile()
	if err != nil {
		t.Fatal(err)
	}
	users := []okta.User{
		testUser(okta.UserProfile{Login: "ann@example.com", Email: "ann@example.com"}),
		{ID: "00u2", Status: okta.StatusActive, Profile: okta.UserProfile{Login: "svc@example.com", Email: "svc@example.com", UserType: "Service"}},
	}
	groups := []okta.Group{
		{ID: "00g1", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "root", Custom: okta.Attrs{{Name: "orgId", Value: "root"}}}},
		{ID: "00g2", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "tmp-middle", Custom: okta.Attrs{{Name: "orgId", Value: "mid"}, {Name: "parentOrgId", Value: "root"}}}},
		{ID: "00g3", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: "leaf", Custom: okta.Attrs{{Name: "orgId", Value: "leaf"}, {Name: "parentOrgId", Value: "mid"}}}},
	}
	members := map[string][]string{"00g1": {"00u1", "00u2"}, "00g2": {"00u1"}, "00g3": {"00u2"}}
	res := Build(o, Input{Users: users, Groups: groups, Members: members})
	checkEntities(t, o, res)
	var names []string
	for _, e := range res.Entities {
		names = append(names, e.Ref())
		if e.Kind == KindUser {
			if diff := cmp.Diff([]string{"root"}, e.User.MemberOf); diff != "" {
				t.Errorf("%s memberOf (-want +got):\n%s", e.Ref(), diff)
			}
		}
		if e.Kind == KindGroup && e.Group.Parent != "" {
			t.Errorf("%s: parent %q, want none (its parent is excluded)", e.Ref(), e.Group.Parent)
		}
	}
	if diff := cmp.Diff([]string{"user:default/ann", "group:default/leaf", "group:default/root"}, names); diff != "" {
		t.Errorf("entities (-want +got):\n%s", diff)
	}
	if res.Report.ExcludedUsers != 1 || res.Report.ExcludedGroups != 1 {
		t.Errorf("excluded %d users, %d groups; want 1, 1", res.Report.ExcludedUsers, res.Report.ExcludedGroups)
	}
	if len(res.Report.BrokenHierarchy) != 1 || res.Report.BrokenHierarchy[0].Reason != ReasonParentNotEmitted {
		t.Errorf("broken hierarchy %+v, want leaf's parent-not-emitted", res.Report.BrokenHierarchy)
	}
}

// FuzzTransform holds every entity valid to Backstage whatever the
// templates (that compile) and the attributes they read.
func FuzzTransform(f *testing.F) {
	f.Add(`{{join " " .profile.firstName .profile.lastName}}`, `https://x.example/{{.profile.login | urlquery}}`, `{{.profile.login}}`, "Ann", "ann@example.com")
	f.Add(`{{.profile.firstName | replace "" "\u0000"}}`, `{{.profile.firstName}}`, `{{.profile.lastName | upper}}`, "\xff\xfe", "http://[::1")
	f.Add(`{{.profile.firstName}}{{.profile.firstName}}`, `https://{{.profile.firstName}}`, `{{truncate 3 .profile.firstName}}`, strings.Repeat("ü", 200), "a b")
	f.Add(`  `, `javascript:{{.profile.login}}`, `{{.profile.firstName | before "@" | trim}}`, "\n\t", "-._")
	f.Fuzz(func(t *testing.T, text, picture, label, first, login string) {
		tr := Transform{
			DisplayName: text, Title: text, Description: text, Picture: picture,
			Labels:      map[string]string{"example.com/x": label},
			Annotations: map[string]string{"example.com/y": text},
		}
		o := DefaultOptions()
		o.UserTransform, o.GroupTransform = tr, tr
		o, err := o.Compile()
		if err != nil {
			return
		}
		u := testUser(okta.UserProfile{Login: login, Email: login, FirstName: first, LastName: login})
		g := okta.Group{ID: "00g1", Type: okta.GroupTypeOkta, Profile: okta.GroupProfile{Name: first, Description: login, Custom: okta.Attrs{{Name: "firstName", Value: first}, {Name: "login", Value: login}}}}
		res := Build(o, Input{Users: []okta.User{u}, Groups: []okta.Group{g}, Members: map[string][]string{"00g1": {"00u1"}}})
		checkEntities(t, o, res)
		for _, e := range res.Entities {
			if p := e.Group; p != nil && p.Profile != nil && p.Profile.Picture != "" && !validPicture(p.Profile.Picture) {
				t.Errorf("%s: picture %q", e.Ref(), p.Profile.Picture)
			}
			if len(e.Metadata.Title) > maxTitleLen || len(e.Metadata.Description) > maxDescriptionLen {
				t.Errorf("%s: title or description over its bound", e.Ref())
			}
		}
	})
}

// FuzzTemplateMatchesTextTemplate holds the evaluator to text/template:
// for every template that compiles, running it with text/template over
// the same attributes gives the same output, or fails where it fails.
func FuzzTemplateMatchesTextTemplate(f *testing.F) {
	for _, src := range []string{
		`{{join " " .profile.firstName .profile.lastName | default .profile.login}}`,
		`https://x.example/{{.profile.email | lower | urlquery}}.png`,
		`{{if eq .profile.userType "Service" "Bot"}}svc{{else if .profile.firstName}}{{.profile.firstName | upper}}{{else}}none{{end}}`,
		`{{$n := len .profile.login}}{{if gt $n 5}}{{truncate 5 .profile.login}}{{end}}{{$n}}`,
		`{{and .profile.firstName .profile.login}}/{{or .profile.nickName .id}}/{{not .status}}`,
		`{{eq 1 "a"}}`, `{{lt true false}}`, `{{lower 3}}`, `{{truncate "x" .id}}`, `{{urlquery 12}}{{urlquery true}}`,
		`{{.profile.login | replace "" "xxxxxxxxxxxxxxxxxxxxxxxx" | replace "x" "yy"}}`,
		`{{$x := "a"}}{{if true}}{{$x = "b"}}{{end}}{{$x}}{{$.profile.login}}`,
		`{{before "@" .profile.login | after "." | trimPrefix "a" | trimSuffix "z"}}{{contains "@" .profile.login}}{{hasPrefix "a" .id}}{{hasSuffix "1" .id}}`,
		`{{le 3 4}}{{ge "b" "a"}}{{ne .id .status}}{{eq true true}}`,
		`{{- /* a comment */ -}} {{ trim .profile.firstName }}`,
	} {
		f.Add(src, "Ann", "ann.lee@example.com")
	}
	f.Fuzz(func(t *testing.T, src, first, login string) {
		ft, err := compileTemplate(KindUser, "x", src)
		if err != nil {
			return
		}
		u := testUser(okta.UserProfile{Login: login, FirstName: first, Custom: okta.Attrs{{Name: "nickName2", Value: first + login}}})
		v := newAttrValues()
		v.setUser(&u)
		got, gotErr := v.eval(ft)

		profile := map[string]string{}
		for _, a := range []string{"login", "firstName", "nickName2"} {
			if s, ok := u.Profile.Get(a); ok {
				profile[a] = s
			}
		}
		var out strings.Builder
		wantErr := ft.t.Execute(&limitWriter{&out}, map[string]any{"id": u.ID, "status": u.Status, "profile": profile})
		if (gotErr != nil) != (wantErr != nil) || (gotErr == nil && got != out.String()) {
			t.Errorf("%q: got %q, %v; text/template gives %q, %v", src, got, gotErr, out.String(), wantErr)
		}
	})
}

// limitWriter fails a write that would take buf over MaxTemplateOutput, as
// the evaluator fails.
type limitWriter struct{ buf *strings.Builder }

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxTemplateOutput {
		return 0, errTooLong
	}
	return w.buf.Write(p)
}
