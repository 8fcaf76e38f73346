package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// The templates of a transform are parsed by text/template and run by the
// small evaluator below, over the parse tree: it gives text/template's
// results (a test runs both and compares) for the subset a transform may
// use, without reflection and without a map of the attributes per entity.

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

func replaceAll(from, to, s string) (string, error) {
	// Checked before replacing: "" as from inserts to between every rune.
	if n := strings.Count(s, from); len(s)+n*(len(to)-len(from)) > MaxTemplateOutput {
		return "", errTooLong
	}
	return strings.ReplaceAll(s, from, to), nil
}

func defaultOf(fallback, s string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

func join(sep string, parts ...string) (string, error) {
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
}

func truncate(n int, s string) string {
	for i := range s {
		if n <= 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func before(sep, s string) string {
	b, _, _ := strings.Cut(s, sep)
	return b
}

func after(sep, s string) string {
	if _, a, found := strings.Cut(s, sep); found {
		return a
	}
	return ""
}

func flip(f func(string, string) bool) func(string, string) bool {
	return func(arg, s string) bool { return f(s, arg) }
}

func flipS(f func(string, string) string) func(string, string) string {
	return func(arg, s string) string { return f(s, arg) }
}

// templateFuncs is the function map every template is parsed with (and
// that text/template would run). It is built per compile, not held in a
// package variable.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"lower": strings.ToLower, "upper": strings.ToUpper, "trim": strings.TrimSpace,
		"trimPrefix": flipS(strings.TrimPrefix), "trimSuffix": flipS(strings.TrimSuffix),
		"replace": replaceAll, "default": defaultOf, "join": join, "truncate": truncate,
		"before": before, "after": after,
		"contains": flip(strings.Contains), "hasPrefix": flip(strings.HasPrefix), "hasSuffix": flip(strings.HasSuffix),
	}
}

// tval is a template value: a string, a bool or an int.
type tval struct {
	k tkind
	s string
	b bool
	i int
}

type tkind uint8

const (
	tString tkind = iota
	tBool
	tInt
)

func (k tkind) String() string {
	return [...]string{"string", "bool", "int"}[k]
}

func str(s string) tval { return tval{k: tString, s: s} }

func boolean(b bool) tval { return tval{k: tBool, b: b} }

// truth is text/template's: a non-empty string, true, a non-zero int.
func (v tval) truth() bool {
	switch v.k {
	case tBool:
		return v.b
	case tInt:
		return v.i != 0
	}
	return v.s != ""
}

// appendTo appends v as text/template prints it.
func (v tval) appendTo(b []byte) []byte {
	switch v.k {
	case tBool:
		return strconv.AppendBool(b, v.b)
	case tInt:
		return strconv.AppendInt(b, int64(v.i), 10)
	}
	return append(b, v.s...)
}

func (v tval) want(k tkind) error {
	if v.k != k {
		return fmt.Errorf("wrong type for value; expected %s; got %s", k, v.k)
	}
	return nil
}

// templateFunc is a function a template may call, as the evaluator calls
// it: with its arguments' values, the pipeline's value last.
type templateFunc struct {
	min, max int // number of arguments; max -1 for any
	call     func(args []tval) (tval, error)
	lazy     bool // and, or: arguments evaluated until one decides
}

func strings1(f func(string) string) templateFunc {
	return templateFunc{1, 1, func(a []tval) (tval, error) {
		if err := a[0].want(tString); err != nil {
			return tval{}, err
		}
		return str(f(a[0].s)), nil
	}, false}
}

func strings2[R string | bool](f func(string, string) R) templateFunc {
	return templateFunc{2, 2, func(a []tval) (tval, error) {
		for _, x := range a {
			if err := x.want(tString); err != nil {
				return tval{}, err
			}
		}
		switch r := any(f(a[0].s, a[1].s)).(type) {
		case bool:
			return boolean(r), nil
		default:
			return str(r.(string)), nil
		}
	}, false}
}

// evalFuncs are the functions the evaluator knows, TemplateFuncs' and
// the builtins'.
func evalFuncs() map[string]templateFunc {
	return map[string]templateFunc{
		"lower": strings1(strings.ToLower), "upper": strings1(strings.ToUpper), "trim": strings1(strings.TrimSpace),
		"trimPrefix": strings2(flipS(strings.TrimPrefix)), "trimSuffix": strings2(flipS(strings.TrimSuffix)),
		"default": strings2(defaultOf), "before": strings2(before), "after": strings2(after),
		"contains": strings2(flip(strings.Contains)), "hasPrefix": strings2(flip(strings.HasPrefix)),
		"hasSuffix": strings2(flip(strings.HasSuffix)),
		"replace": {3, 3, func(a []tval) (tval, error) {
			for _, x := range a {
				if err := x.want(tString); err != nil {
					return tval{}, err
				}
			}
			s, err := replaceAll(a[0].s, a[1].s, a[2].s)
			return str(s), err
		}, false},
		"join": {1, -1, func(a []tval) (tval, error) {
			parts := make([]string, len(a))
			for i, x := range a {
				if err := x.want(tString); err != nil {
					return tval{}, err
				}
				parts[i] = x.s
			}
			s, err := join(parts[0], parts[1:]...)
			return str(s), err
		}, false},
		"truncate": {2, 2, func(a []tval) (tval, error) {
			if err := a[0].want(tInt); err != nil {
				return tval{}, err
			}
			if err := a[1].want(tString); err != nil {
				return tval{}, err
			}
			return str(truncate(a[0].i, a[1].s)), nil
		}, false},
		"eq": {2, -1, func(a []tval) (tval, error) {
			for _, x := range a[1:] {
				if x.k != a[0].k {
					return tval{}, fmt.Errorf("incompatible types for comparison: %s and %s", a[0].k, x.k)
				}
				if x == a[0] {
					return boolean(true), nil
				}
			}
			return boolean(false), nil
		}, false},
		"ne": {2, 2, func(a []tval) (tval, error) {
			if a[0].k != a[1].k {
				return tval{}, fmt.Errorf("incompatible types for comparison: %s and %s", a[0].k, a[1].k)
			}
			return boolean(a[0] != a[1]), nil
		}, false},
		"lt":  compare(func(c int) bool { return c < 0 }),
		"le":  compare(func(c int) bool { return c <= 0 }),
		"gt":  compare(func(c int) bool { return c > 0 }),
		"ge":  compare(func(c int) bool { return c >= 0 }),
		"and": {1, -1, nil, true},
		"or":  {1, -1, nil, true},
		"not": {1, 1, func(a []tval) (tval, error) { return boolean(!a[0].truth()), nil }, false},
		"len": {1, 1, func(a []tval) (tval, error) {
			if a[0].k != tString {
				return tval{}, fmt.Errorf("len of type %s", a[0].k)
			}
			return tval{k: tInt, i: len(a[0].s)}, nil
		}, false},
		"urlquery": {1, 1, func(a []tval) (tval, error) {
			return str(url.QueryEscape(string(a[0].appendTo(nil)))), nil
		}, false},
	}
}

func compare(ok func(int) bool) templateFunc {
	return templateFunc{2, 2, func(a []tval) (tval, error) {
		x, y := a[0], a[1]
		switch {
		case x.k != y.k:
			return tval{}, fmt.Errorf("incompatible types for comparison: %s and %s", x.k, y.k)
		case x.k == tBool:
			return tval{}, errors.New("invalid type for comparison")
		case x.k == tInt:
			return boolean(ok(x.i - y.i)), nil
		}
		return boolean(ok(strings.Compare(x.s, y.s))), nil
	}, false}
}

// fieldTemplate is one compiled template.
type fieldTemplate struct {
	t     *template.Template
	funcs map[string]templateFunc
}

// compileTemplate parses src as a template of the given kind, and checks
// that it uses only the allowed functions (with their numbers of
// arguments), the allowed fields, integer constants, and no range, with,
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
	ft := &fieldTemplate{t: t, funcs: evalFuncs()}
	if err := ft.check(kind, t.Root); err != nil {
		var ne *nodeError
		if errors.As(err, &ne) {
			loc, _ := t.ErrorContext(ne.node)
			return nil, fmt.Errorf("%s: %w", loc, ne.err)
		}
		return nil, err
	}
	return ft, nil
}

// nodeError is an error at a node of the parse tree.
type nodeError struct {
	node parse.Node
	err  error
}

func (e *nodeError) Error() string { return e.err.Error() }

// check walks the parse tree below n.
func (ft *fieldTemplate) check(kind string, n parse.Node) error {
	at := func(n parse.Node, format string, args ...any) error {
		return &nodeError{n, fmt.Errorf(format, args...)}
	}
	var walk func(n parse.Node) error
	pipe := func(p *parse.PipeNode, nested bool) error {
		if nested && len(p.Decl) > 0 {
			return at(p, "variables are declared only at the start of an action")
		}
		for i, c := range p.Cmds {
			argc := len(c.Args) - 1
			if i > 0 {
				argc++
			}
			id, isFunc := c.Args[0].(*parse.IdentifierNode)
			if !isFunc {
				if argc > 0 {
					return at(c, "%s is not a function; it takes no arguments", c.Args[0])
				}
			} else {
				f, ok := ft.funcs[id.Ident]
				if !ok {
					return at(id, "function %q is not allowed; use %s", id.Ident, allowedFuncs())
				}
				if argc < f.min || (f.max >= 0 && argc > f.max) {
					return at(c, "%s takes %s, got %d", id.Ident, arity(f), argc)
				}
			}
			for j, a := range c.Args {
				if _, ok := a.(*parse.IdentifierNode); ok && j > 0 {
					return at(a, "function %s as an argument: put it in parentheses", a)
				}
				if err := walk(a); err != nil {
					return err
				}
			}
		}
		return nil
	}
	walk = func(n parse.Node) error {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return nil
			}
			for _, c := range n.Nodes {
				if err := walk(c); err != nil {
					return err
				}
			}
		case *parse.TextNode, *parse.CommentNode, *parse.StringNode, *parse.BoolNode, *parse.IdentifierNode:
		case *parse.NumberNode:
			// Decimal integers only: text/template takes 1.0 as a float.
			if !n.IsInt || n.Int64 != int64(int32(n.Int64)) || strings.Trim(n.Text, "+-0123456789") != "" {
				return at(n, "%s: only integers are allowed", n)
			}
		case *parse.ActionNode:
			return pipe(n.Pipe, false)
		case *parse.IfNode:
			if err := pipe(n.Pipe, false); err != nil {
				return err
			}
			if err := walk(n.List); err != nil {
				return err
			}
			return walk(n.ElseList)
		case *parse.PipeNode:
			return pipe(n, true)
		case *parse.FieldNode:
			if err := field(kind, n.Ident); err != nil {
				return at(n, "%w", err)
			}
		case *parse.VariableNode:
			switch {
			case n.Ident[0] == "$" && len(n.Ident) == 1:
				return at(n, "$ is not allowed; name a field such as $.profile.login")
			case n.Ident[0] == "$":
				if err := field(kind, n.Ident[1:]); err != nil {
					return at(n, "%w", err)
				}
			case len(n.Ident) > 1:
				return at(n, "%s: fields of variables are not allowed", n)
			}
		case *parse.DotNode:
			return at(n, "{{.}} is not allowed; name a field such as .profile.login")
		case *parse.RangeNode, *parse.WithNode, *parse.TemplateNode, *parse.BreakNode, *parse.ContinueNode:
			return at(n, "%s is not allowed; use if, default and the functions", strings.Fields(n.String())[0]+"}}")
		default:
			return at(n, "%s is not allowed", n)
		}
		return nil
	}
	return walk(n)
}

func arity(f templateFunc) string {
	switch {
	case f.max < 0:
		return fmt.Sprintf("at least %d arguments", f.min)
	case f.min == 1:
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", f.min)
}

// field checks a field path.
func field(kind string, path []string) error {
	top := "status"
	if kind == KindGroup {
		top = "type"
	}
	switch {
	case len(path) == 1 && (path[0] == "id" || path[0] == top):
		return nil
	case len(path) == 2 && path[0] == "profile":
		return nil
	}
	return fmt.Errorf("unknown field .%s; use .id, .%s or .profile.<attribute>", strings.Join(path, "."), top)
}

// attrValues is what one entity's templates run on: the user or the group,
// and the evaluator's memory, which a pass over the entities reuses.
type attrValues struct {
	user  *okta.User
	group *okta.Group
	out   []byte
	args  []tval
	vars  []variable
}

type variable struct {
	name string
	v    tval
}

func newAttrValues() *attrValues { return &attrValues{} }

func (v *attrValues) setUser(u *okta.User) { v.user, v.group = u, nil }

func (v *attrValues) setGroup(g *okta.Group) { v.user, v.group = nil, g }

// lookup returns the value of a field path that check accepted.
func (v *attrValues) lookup(path []string) string {
	var s string
	switch {
	case len(path) == 2 && v.user != nil:
		s, _ = v.user.Profile.Get(path[1])
	case len(path) == 2:
		s, _ = v.group.Profile.Get(path[1])
	case path[0] == "id" && v.user != nil:
		s = v.user.ID
	case path[0] == "id":
		s = v.group.ID
	case v.user != nil:
		s = v.user.Status
	default:
		s = v.group.Type
	}
	return s
}

// eval runs ft on v.
func (v *attrValues) eval(ft *fieldTemplate) (string, error) {
	v.out, v.args, v.vars = v.out[:0], v.args[:0], v.vars[:0]
	if err := v.list(ft, ft.t.Root); err != nil {
		return "", err
	}
	return string(v.out), nil
}

func (v *attrValues) fail(ft *fieldTemplate, n parse.Node, err error) error {
	if errors.Is(err, errTooLong) {
		return errTooLong
	}
	loc, _ := ft.t.ErrorContext(n)
	return fmt.Errorf("%s: %w", loc, err)
}

func (v *attrValues) list(ft *fieldTemplate, l *parse.ListNode) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			v.out = append(v.out, n.Text...)
		case *parse.ActionNode:
			x, err := v.pipe(ft, n.Pipe)
			if err != nil {
				return err
			}
			if len(n.Pipe.Decl) == 0 {
				v.out = x.appendTo(v.out)
			}
		case *parse.IfNode:
			mark := len(v.vars)
			x, err := v.pipe(ft, n.Pipe)
			if err != nil {
				return err
			}
			branch := n.ElseList
			if x.truth() {
				branch = n.List
			}
			if err := v.list(ft, branch); err != nil {
				return err
			}
			v.vars = v.vars[:mark]
		}
		if len(v.out) > MaxTemplateOutput {
			return errTooLong
		}
	}
	return nil
}

func (v *attrValues) pipe(ft *fieldTemplate, p *parse.PipeNode) (tval, error) {
	var x tval
	for i, c := range p.Cmds {
		var err error
		if x, err = v.command(ft, c, x, i > 0); err != nil {
			return tval{}, err
		}
	}
	for _, d := range p.Decl {
		if p.IsAssign {
			for j := len(v.vars) - 1; j >= 0; j-- {
				if v.vars[j].name == d.Ident[0] {
					v.vars[j].v = x
					break
				}
			}
			continue
		}
		v.vars = append(v.vars, variable{d.Ident[0], x})
	}
	return x, nil
}

func (v *attrValues) command(ft *fieldTemplate, c *parse.CommandNode, final tval, hasFinal bool) (tval, error) {
	id, ok := c.Args[0].(*parse.IdentifierNode)
	if !ok {
		return v.arg(ft, c.Args[0])
	}
	f := ft.funcs[id.Ident]
	base := len(v.args)
	defer func() { v.args = v.args[:base] }()
	if f.lazy {
		// and, or: the first value that decides, else the last.
		or := id.Ident == "or"
		n := len(c.Args) - 1
		if hasFinal {
			n++
		}
		var x tval
		for i := range n {
			if i < len(c.Args)-1 {
				var err error
				if x, err = v.arg(ft, c.Args[i+1]); err != nil {
					return tval{}, err
				}
			} else {
				x = final
			}
			if x.truth() == or {
				return x, nil
			}
		}
		return x, nil
	}
	for _, a := range c.Args[1:] {
		x, err := v.arg(ft, a)
		if err != nil {
			return tval{}, err
		}
		v.args = append(v.args, x)
	}
	if hasFinal {
		v.args = append(v.args, final)
	}
	x, err := f.call(v.args[base:])
	if err != nil {
		return tval{}, v.fail(ft, c, fmt.Errorf("%s: %w", id.Ident, err))
	}
	return x, nil
}

func (v *attrValues) arg(ft *fieldTemplate, n parse.Node) (tval, error) {
	switch n := n.(type) {
	case *parse.StringNode:
		return str(n.Text), nil
	case *parse.NumberNode:
		return tval{k: tInt, i: int(n.Int64)}, nil
	case *parse.BoolNode:
		return boolean(n.True), nil
	case *parse.FieldNode:
		return str(v.lookup(n.Ident)), nil
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return str(v.lookup(n.Ident[1:])), nil
		}
		for j := len(v.vars) - 1; j >= 0; j-- {
			if v.vars[j].name == n.Ident[0] {
				return v.vars[j].v, nil
			}
		}
		return tval{}, v.fail(ft, n, fmt.Errorf("undefined variable %s", n.Ident[0]))
	case *parse.PipeNode:
		return v.pipe(ft, n)
	}
	return tval{}, v.fail(ft, n, fmt.Errorf("%s is not allowed", n))
}
