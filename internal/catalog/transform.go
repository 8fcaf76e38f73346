package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Transform shapes one kind's entities with templates over the Okta
// user's or group's attributes. Every field is optional; an empty field, or
// a template whose output is empty, leaves the entity as it is without a
// transform. Its tags are the config file's keys.
//
// The templates are Go text/template templates restricted to a fixed set
// of functions (TemplateFuncs) and to the fields .id, .status (users),
// .type (groups) and .profile.<attribute>; a missing attribute is "".
type Transform struct {
	// Exclude is an expression (a template pipeline, without the braces),
	// such as `eq .profile.userType "Service"`: a user or group for which
	// it is true (a true bool or a non-empty string) is left out.
	Exclude string `yaml:"exclude"`
	// DisplayName is spec.profile.displayName (and, unless Title is set,
	// metadata.title).
	DisplayName string `yaml:"displayName"`
	// Picture is spec.profile.picture: an http or https URL.
	Picture string `yaml:"picture"`
	// Title is metadata.title.
	Title string `yaml:"title"`
	// Description is metadata.description.
	Description string `yaml:"description"`
	// Labels and Annotations map a label or annotation key to the template
	// of its value.
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func (t *Transform) empty() bool {
	return t.Exclude == "" && t.DisplayName == "" && t.Picture == "" && t.Title == "" &&
		t.Description == "" && len(t.Labels) == 0 && len(t.Annotations) == 0
}

// Bounds on what a transform emits. Backstage takes the text fields as free
// strings; these keep one odd profile from bloating the catalog.
const (
	// MaxTemplateOutput caps a template's output and every function's
	// result, in bytes: a template that goes over fails for that entity.
	MaxTemplateOutput = 4096
	maxDisplayNameLen = 256
	maxTitleLen       = 256
	maxDescriptionLen = 1024
	maxPictureLen     = 2048
)

// Reasons a transformed value is left out, in SkippedLabel.Reason.
const (
	// ReasonTemplateError: the template failed for this entity (a result
	// over MaxTemplateOutput bytes, a function given a value it cannot
	// take); the value says why.
	ReasonTemplateError = "template-error"
	// ReasonInvalidURL: the picture is not an absolute http or https URL
	// of at most 2048 bytes.
	ReasonInvalidURL = "invalid-url"
)

// Entity fields a transform sets, the Key of a SkippedLabel about them.
const (
	fieldExclude     = "exclude"
	fieldDisplayName = "spec.profile.displayName"
	fieldPicture     = "spec.profile.picture"
	fieldTitle       = "metadata.title"
	fieldDescription = "metadata.description"
)

// TemplateFuncs lists the functions a template may call: these and
// text/template's eq, ne, lt, le, gt, ge, and, or, not, len and urlquery.
// Each takes the value it works on last, so that it reads well in a
// pipeline: {{.profile.email | before "@" | lower}}.
var TemplateFuncs = []string{
	"lower", "upper", "trim", "trimPrefix", "trimSuffix", "replace", "default", "join",
	"truncate", "before", "after", "contains", "hasPrefix", "hasSuffix",
}

var allowedBuiltins = []string{"eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "len", "urlquery"}

func allowedFuncs() string {
	return strings.Join(TemplateFuncs, ", ") + " or " + strings.Join(allowedBuiltins, ", ")
}

var errTooLong = fmt.Errorf("result over %d bytes", MaxTemplateOutput)

func capped(s string) (string, error) {
	if len(s) > MaxTemplateOutput {
		return "", errTooLong
	}
	return s, nil
}

// templateFuncs is the function map every template is parsed with. It is
// built per compile, not held in a package variable.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"trim":       strings.TrimSpace,
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"replace": func(from, to, s string) (string, error) {
			// Checked before replacing: "" as from inserts to between every rune.
			if n := strings.Count(s, from); len(s)+n*(len(to)-len(from)) > MaxTemplateOutput {
				return "", errTooLong
			}
			return strings.ReplaceAll(s, from, to), nil
		},
		"default": func(fallback, s string) string {
			if strings.TrimSpace(s) == "" {
				return fallback
			}
			return s
		},
		"join": func(sep string, parts ...string) (string, error) {
			n := 0
			for _, p := range parts {
				n += len(p) + len(sep)
			}
			if n > MaxTemplateOutput+len(sep) {
				return "", errTooLong
			}
			var b strings.Builder
			for _, p := range parts {
				p = strings.TrimSpace(p)
				if p == "" {
					continue
				}
				if b.Len() > 0 {
					b.WriteString(sep)
				}
				b.WriteString(p)
			}
			return capped(b.String())
		},
		"truncate": func(n int, s string) string {
			for i := range s {
				if n <= 0 {
					return s[:i]
				}
				n--
			}
			return s
		},
		"before": func(sep, s string) string {
			before, _, _ := strings.Cut(s, sep)
			return before
		},
		"after": func(sep, s string) string {
			if _, after, found := strings.Cut(s, sep); found {
				return after
			}
			return ""
		},
		"contains":  func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix": func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix": func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
	}
}

// fieldTemplate is one compiled template and the profile attributes it
// reads.
type fieldTemplate struct {
	t     *template.Template
	attrs []string
}

// compileTemplate parses src as a template of the given kind, and checks
// that it uses only the allowed functions and fields and no range, with,
// template or define: without loops its run is bounded by its size.
func compileTemplate(kind, name, src string) (*fieldTemplate, error) {
	t, err := template.New(name).Option("missingkey=zero").Funcs(templateFuncs()).Parse(src)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "template: ")
		if strings.Contains(msg, "not defined") && strings.Contains(msg, "function ") {
			msg += "; use " + allowedFuncs()
		}
		return nil, errors.New(msg)
	}
	if len(t.Templates()) > 1 {
		return nil, errors.New("define and block are not allowed")
	}
	ft := &fieldTemplate{t: t}
	if err := ft.check(kind, t.Root); err != nil {
		return nil, err
	}
	slices.Sort(ft.attrs)
	ft.attrs = slices.Compact(ft.attrs)
	return ft, nil
}

// check walks the parse tree below n.
func (ft *fieldTemplate) check(kind string, n parse.Node) error {
	funcs := templateFuncs()
	var walk func(n parse.Node) error
	walkAll := func(nodes ...parse.Node) error {
		for _, c := range nodes {
			if c == nil || (isNilList(c)) {
				continue
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.TextNode, *parse.CommentNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode:
		case *parse.ActionNode:
			return walk(n.Pipe)
		case *parse.IfNode:
			return walkAll(n.Pipe, n.List, n.ElseList)
		case *parse.PipeNode:
			for _, c := range n.Cmds {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				if err := walk(a); err != nil {
					return err
				}
			}
		case *parse.IdentifierNode:
			if _, ok := funcs[n.Ident]; !ok && !slices.Contains(allowedBuiltins, n.Ident) {
				return fmt.Errorf("function %q is not allowed; use %s", n.Ident, allowedFuncs())
			}
		case *parse.FieldNode:
			return ft.field(kind, n.Ident)
		case *parse.VariableNode:
			if n.Ident[0] == "$" && len(n.Ident) > 1 {
				return ft.field(kind, n.Ident[1:])
			}
			if len(n.Ident) > 1 {
				return fmt.Errorf("%s: fields of variables are not allowed", n)
			}
		case *parse.DotNode:
			return errors.New("{{.}} is not allowed; name a field such as .profile.login")
		case *parse.RangeNode, *parse.WithNode, *parse.TemplateNode, *parse.BreakNode, *parse.ContinueNode:
			return fmt.Errorf("%s is not allowed; use if, default and the functions", strings.Fields(n.String())[0]+"}}")
		default:
			return fmt.Errorf("%s is not allowed", n)
		}
		return nil
	}
	return walk(n)
}

func isNilList(n parse.Node) bool {
	l, ok := n.(*parse.ListNode)
	return ok && l == nil
}

// field checks a field path and records the attribute it reads.
func (ft *fieldTemplate) field(kind string, path []string) error {
	top := "status"
	if kind == KindGroup {
		top = "type"
	}
	switch {
	case len(path) == 1 && (path[0] == "id" || path[0] == top):
		return nil
	case len(path) == 2 && path[0] == "profile":
		ft.attrs = append(ft.attrs, path[1])
		return nil
	}
	return fmt.Errorf("unknown field .%s; use .id, .%s or .profile.<attribute>", strings.Join(path, "."), top)
}

// compiledTransform is a Transform with its templates compiled.
type compiledTransform struct {
	exclude, displayName, picture, title, description *fieldTemplate
	// targets are the labels then the annotations, each by key.
	targets []attrTarget
	attrs   []string // every profile attribute the templates read
}

// Shape holds the compiled transforms of Options, made by Options.Compile.
type Shape struct {
	user, group *compiledTransform
}

// compileTransform compiles t; every problem is an OptionError of field.
func compileTransform(kind, field string, t *Transform) (*compiledTransform, []error) {
	if t.empty() {
		return nil, nil
	}
	var errs []error
	c := &compiledTransform{}
	// one compiles src, the template of key; shown is what the
	// configuration says.
	one := func(key, src, shown string) *fieldTemplate {
		if src == "" {
			return nil
		}
		ft, err := compileTemplate(kind, key, src)
		if err != nil {
			errs = append(errs, &OptionError{Field: field + "." + key, Value: shown, Problem: err.Error()})
			return nil
		}
		c.attrs = append(c.attrs, ft.attrs...)
		return ft
	}
	if t.Exclude != "" {
		c.exclude = one("exclude", "{{if "+t.Exclude+"}}true{{end}}", t.Exclude)
	}
	c.displayName = one("displayName", t.DisplayName, t.DisplayName)
	c.picture = one("picture", t.Picture, t.Picture)
	c.title = one("title", t.Title, t.Title)
	c.description = one("description", t.Description, t.Description)
	for _, kv := range []struct {
		key   string
		m     map[string]string
		label bool
	}{{"labels", t.Labels, true}, {"annotations", t.Annotations, false}} {
		for _, k := range slices.Sorted(maps.Keys(kv.m)) {
			if problem := keyProblem(k); problem != "" {
				errs = append(errs, &OptionError{Field: field + "." + kv.key, Value: k, Problem: problem})
				continue
			}
			if ft := one(kv.key+"."+k, kv.m[k], kv.m[k]); ft != nil {
				c.targets = append(c.targets, attrTarget{key: k, label: kv.label, tmpl: ft})
			}
		}
	}
	slices.Sort(c.attrs)
	c.attrs = slices.Compact(c.attrs)
	return c, errs
}

// attrValues is the data one entity's templates run on; a pass over the
// entities reuses one, so the maps are not made again for each entity.
type attrValues struct {
	data    map[string]any
	profile map[string]string
	out     bytes.Buffer
}

func newAttrValues() *attrValues {
	v := &attrValues{data: make(map[string]any, 3), profile: make(map[string]string)}
	v.data["profile"] = v.profile
	return v
}

// setUser fills v with u's attributes that c reads.
func (v *attrValues) setUser(c *compiledTransform, u *okta.User) {
	v.data["id"], v.data["status"] = u.ID, u.Status
	v.setProfile(c, u.Profile.Get)
}

// setGroup fills v with g's attributes that c reads.
func (v *attrValues) setGroup(c *compiledTransform, g *okta.Group) {
	v.data["id"], v.data["type"] = g.ID, g.Type
	v.setProfile(c, g.Profile.Get)
}

func (v *attrValues) setProfile(c *compiledTransform, get func(string) (string, bool)) {
	clear(v.profile)
	for _, a := range c.attrs {
		if s, ok := get(a); ok {
			v.profile[a] = s
		}
	}
}

// limitWriter fails a write that would take buf over MaxTemplateOutput.
type limitWriter struct{ buf *bytes.Buffer }

func (w limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxTemplateOutput {
		return 0, errTooLong
	}
	return w.buf.Write(p)
}

// eval runs ft on v.
func (v *attrValues) eval(ft *fieldTemplate) (string, error) {
	v.out.Reset()
	if err := ft.t.Execute(limitWriter{&v.out}, v.data); err != nil {
		return "", templateError(err)
	}
	return v.out.String(), nil
}

// templateError shortens text/template's execution error to what went
// wrong where.
func templateError(err error) error {
	if errors.Is(err, errTooLong) {
		return errTooLong
	}
	return errors.New(strings.TrimPrefix(err.Error(), "template: "))
}

// cleanText makes s a single-line (or, with multiline, a multi-line) free
// string of at most limit bytes: valid UTF-8, control characters as spaces,
// trimmed, cut at a rune boundary.
func cleanText(s string, limit int, multiline bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && (!multiline || r != '\n')) {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) && (!multiline || r != '\n') {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(s, "\ufffd"))
	}
	s = strings.TrimSpace(s)
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// validPicture reports whether s is an absolute http or https URL with a
// host, without spaces, of at most maxPictureLen bytes.
func validPicture(s string) bool {
	if len(s) > maxPictureLen || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && utf8.ValidString(s)
}

// shaper applies a compiled transform to the entities of one pass.
type shaper struct {
	c       *compiledTransform
	kind    string
	v       *attrValues
	skipped *[]SkippedLabel
	id      string
}

// skip records a value left out, when the pass keeps a report.
func (s *shaper) skip(key, value, reason string) {
	if s.skipped != nil {
		*s.skipped = append(*s.skipped, SkippedLabel{Kind: s.kind, OktaID: s.id, Key: key, Value: value, Reason: reason})
	}
}

// text evaluates ft and cleans its output; "" when there is no template,
// the output is empty, or the template failed (reported).
func (s *shaper) text(ft *fieldTemplate, field string, limit int, multiline bool) string {
	if ft == nil {
		return ""
	}
	out, err := s.v.eval(ft)
	if err != nil {
		s.skip(field, err.Error(), ReasonTemplateError)
		return ""
	}
	return cleanText(out, limit, multiline)
}

// picture evaluates the picture template: a valid URL, or "" (an invalid
// one is reported).
func (s *shaper) picture() string {
	p := s.text(s.c.picture, fieldPicture, MaxTemplateOutput, false)
	if p != "" && !validPicture(p) {
		s.skip(fieldPicture, p, ReasonInvalidURL)
		return ""
	}
	return p
}

// excluded evaluates the exclude expression of c on v: a failure keeps the
// entity, and is reported in skipped.
func excluded(c *compiledTransform, v *attrValues, kind, id string, skipped *[]SkippedLabel) bool {
	if c == nil || c.exclude == nil {
		return false
	}
	out, err := v.eval(c.exclude)
	if err != nil {
		*skipped = append(*skipped, SkippedLabel{Kind: kind, OktaID: id, Key: fieldExclude, Value: err.Error(), Reason: ReasonTemplateError})
		return false
	}
	return out != ""
}
