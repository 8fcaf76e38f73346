package catalog

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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

// compiledTransform is a Transform with its templates compiled.
type compiledTransform struct {
	exclude, displayName, picture, title, description *fieldTemplate
	// targets are the labels then the annotations, each by key.
	targets []attrTarget
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
	return c, errs
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
