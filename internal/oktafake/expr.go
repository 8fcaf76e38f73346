package oktafake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file parses and evaluates Okta's filter and search expressions: the
// subset the Management API documents for users, groups and the System
// Log. Attribute names are case-sensitive; operators and the logical words
// are not; strings are JSON strings in double quotes.

// node is a parsed expression.
type node interface{ String() string }

type logicalNode struct {
	op          string // "and" or "or"
	left, right node
}

func (n *logicalNode) String() string {
	return "(" + n.left.String() + " " + n.op + " " + n.right.String() + ")"
}

type notNode struct{ x node }

func (n *notNode) String() string { return "not " + n.x.String() }

type cmpNode struct {
	attr string
	op   string // lower case
	val  literal
}

func (n *cmpNode) String() string {
	if n.op == "pr" {
		return n.attr + " pr"
	}
	return n.attr + " " + n.op + " " + n.val.String()
}

type literalKind int

const (
	litNone literalKind = iota // pr has no value
	litString
	litNumber
	litBool
	litNull
)

type literal struct {
	kind literalKind
	s    string
	n    float64
	b    bool
}

func (l literal) String() string {
	switch l.kind {
	case litString:
		b, _ := json.Marshal(l.s)
		return string(b)
	case litNumber:
		return strconv.FormatFloat(l.n, 'f', -1, 64)
	case litBool:
		return strconv.FormatBool(l.b)
	case litNull:
		return "null"
	}
	return ""
}

// exprError is a malformed or unsupported expression. Its message becomes
// the error cause in Okta's E0000031 body.
type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func exprErrorf(format string, args ...any) error {
	return &exprError{msg: fmt.Sprintf(format, args...)}
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokWord
	tokString
	tokLParen
	tokRParen
)

type token struct {
	kind tokenKind
	text string // the word, or the decoded string
	pos  int
}

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, exprErrorf("unterminated string at position %d", i)
			}
			var str string
			if err := json.Unmarshal([]byte(s[i:j+1]), &str); err != nil {
				return nil, exprErrorf("invalid string at position %d", i)
			}
			out = append(out, token{tokString, str, i})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()\"", rune(s[j])) {
				j++
			}
			out = append(out, token{tokWord, s[i:j], i})
			i = j
		}
	}
	return append(out, token{kind: tokEOF, pos: len(s)}), nil
}

type parser struct {
	toks     []token
	i        int
	allowNot bool
	depth    int
}

// maxExprDepth bounds nesting, so a hostile expression cannot exhaust the
// stack.
const maxExprDepth = 100

// parseExpr parses an expression. allowNot permits the `not` operator,
// which Okta accepts in search but not in filter.
func parseExpr(s string, allowNot bool) (node, error) {
	if strings.TrimSpace(s) == "" {
		return nil, exprErrorf("empty expression")
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, allowNot: allowNot}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, exprErrorf("unexpected %q at position %d", t.text, t.pos)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tokWord && strings.EqualFold(t.text, w)
}

func (p *parser) parseOr() (node, error) { return p.parseLogical("or", p.parseAnd) }

func (p *parser) parseAnd() (node, error) { return p.parseLogical("and", p.parseUnary) }

// parseLogical parses operands joined by op, grouped from the left.
func (p *parser) parseLogical(op string, operand func() (node, error)) (node, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.isWord(op) {
		p.next()
		right, err := operand()
		if err != nil {
			return nil, err
		}
		left = &logicalNode{op, left, right}
	}
	return left, nil
}

func (p *parser) parseUnary() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxExprDepth {
		return nil, exprErrorf("expression nested too deeply")
	}
	t := p.peek()
	switch {
	case t.kind == tokLParen:
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, exprErrorf("missing ) at position %d", c.pos)
		}
		return n, nil
	case p.isWord("not"):
		if !p.allowNot {
			return nil, exprErrorf("operator not is not supported here")
		}
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	}
	return p.parseComparison()
}

var operators = map[string]bool{
	"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true,
	"sw": true, "ew": true, "co": true, "pr": true,
}

func (p *parser) parseComparison() (node, error) {
	t := p.next()
	if t.kind != tokWord {
		if t.kind == tokEOF {
			return nil, exprErrorf("unexpected end of expression")
		}
		return nil, exprErrorf("expected an attribute at position %d", t.pos)
	}
	if !validAttrName(t.text) {
		return nil, exprErrorf("invalid attribute name %q at position %d", t.text, t.pos)
	}
	opTok := p.next()
	op := strings.ToLower(opTok.text)
	if opTok.kind != tokWord || !operators[op] {
		return nil, exprErrorf("expected an operator after %s at position %d", t.text, opTok.pos)
	}
	n := &cmpNode{attr: t.text, op: op}
	if op == "pr" {
		return n, nil
	}
	v := p.next()
	switch v.kind {
	case tokString:
		n.val = literal{kind: litString, s: v.text}
	case tokWord:
		switch lw := strings.ToLower(v.text); {
		case lw == "true" || lw == "false":
			n.val = literal{kind: litBool, b: lw == "true"}
		case lw == "null":
			n.val = literal{kind: litNull}
		default:
			f, err := strconv.ParseFloat(v.text, 64)
			if err != nil || !jsonNumber.MatchString(v.text) {
				return nil, exprErrorf("invalid value %q at position %d: strings need double quotes", v.text, v.pos)
			}
			n.val = literal{kind: litNumber, n: f}
		}
	default:
		return nil, exprErrorf("expected a value after %s %s at position %d", t.text, op, v.pos)
	}
	return n, nil
}

// jsonNumber is JSON's number syntax; ParseFloat alone would also take
// "inf", "nan" and hex.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func validAttrName(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '$':
		case (r >= '0' && r <= '9') || r == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "and", "or", "not":
		return false
	}
	return true
}

// attrKind is the type of an attribute, for operator checks and
// comparison.
type attrKind int

const (
	kindString     attrKind = iota // compared case-insensitively
	kindExact                      // ids and enums: compared exactly
	kindDate                       // Okta timestamps
	kindAny                        // profile attributes of unknown type
	kindNotAllowed                 // not searchable at all
)

// attrRule says which operators one attribute takes in one context.
type attrRule struct {
	kind attrKind
	ops  string // space-separated operators
}

// schema describes one expression context: users filter, users search,
// groups filter, groups search, System Log filter.
type schema struct {
	name     string
	allowNot bool
	rule     func(attr string) (attrRule, bool)
}

const dateOps = "eq gt ge lt le"

func fixedRules(rules map[string]attrRule) func(string) (attrRule, bool) {
	return func(a string) (attrRule, bool) { r, ok := rules[a]; return r, ok }
}

// customSearchRule is the rule of a search on a profile attribute that the
// search's schema does not name, a custom one: any kind, with eq, sw, pr
// and the date operators. Deeper paths (profile.a.b) are not searchable.
func customSearchRule(a string) (attrRule, bool) {
	if name, ok := strings.CutPrefix(a, "profile."); ok && !strings.Contains(name, ".") {
		return attrRule{kindAny, "eq sw pr " + dateOps}, true
	}
	return attrRule{}, false
}

var userFilterSchema = schema{
	name: "filter",
	rule: fixedRules(map[string]attrRule{
		"status":            {kindExact, "eq"},
		"id":                {kindExact, "eq"},
		"lastUpdated":       {kindDate, dateOps},
		"profile.login":     {kindString, "eq"},
		"profile.email":     {kindString, "eq"},
		"profile.firstName": {kindString, "eq"},
		"profile.lastName":  {kindString, "eq"},
	}),
}

// searchAttrs names the attributes a users or groups search takes, by kind.
type searchAttrs struct {
	exact, dates, texts []string
	// refused reports the attributes that Okta refuses to search.
	refused func(a string) bool
}

// searchSchema is the schema of a users or groups search: each kind of
// attribute takes the operators Okta's search allows for it, and a profile
// attribute that attrs does not name takes the custom rule.
func searchSchema(attrs searchAttrs) schema {
	return schema{
		name:     "search",
		allowNot: true,
		rule: func(a string) (attrRule, bool) {
			switch {
			case slices.Contains(attrs.exact, a):
				return attrRule{kindExact, "eq sw pr"}, true
			case slices.Contains(attrs.dates, a):
				return attrRule{kindDate, dateOps + " pr"}, true
			case slices.Contains(attrs.texts, a):
				return attrRule{kindString, "eq sw co pr"}, true
			case attrs.refused != nil && attrs.refused(a):
				return attrRule{kind: kindNotAllowed}, true
			}
			return customSearchRule(a)
		},
	}
}

var userSearchSchema = searchSchema(searchAttrs{
	exact: []string{"id", "status", "type.id"},
	dates: []string{"created", "activated", "statusChanged", "lastUpdated"},
	texts: []string{"profile.firstName", "profile.lastName", "profile.email", "profile.login"},
})

var groupFilterSchema = schema{
	name: "filter",
	rule: fixedRules(map[string]attrRule{
		"id":                    {kindExact, "eq"},
		"type":                  {kindExact, "eq"},
		"lastUpdated":           {kindDate, dateOps},
		"lastMembershipUpdated": {kindDate, dateOps},
	}),
}

var groupSearchSchema = searchSchema(searchAttrs{
	exact: []string{"id", "type", "source.id"},
	dates: []string{"created", "lastUpdated", "lastMembershipUpdated"},
	texts: []string{"profile.name", "profile.description"},
	refused: func(a string) bool {
		return a == "objectClass" || strings.HasPrefix(a, "_embedded") || strings.HasPrefix(a, "_links")
	},
})

var logFilterSchema = schema{
	name:     "filter",
	allowNot: true,
	rule: func(a string) (attrRule, bool) {
		switch a {
		case "eventType", "uuid", "severity", "outcome.result", "actor.id", "actor.type", "target.id", "target.type":
			return attrRule{kindExact, "eq ne sw co pr"}, true
		case "actor.alternateId", "actor.displayName", "target.alternateId", "target.displayName", "displayMessage":
			return attrRule{kindString, "eq ne sw co pr"}, true
		case "published":
			return attrRule{kindDate, dateOps + " pr"}, true
		}
		return attrRule{}, false
	},
}

// compile parses s and checks it against the schema.
func compile(s string, sc schema) (node, error) {
	n, err := parseExpr(s, sc.allowNot)
	if err != nil {
		return nil, err
	}
	if err := check(n, sc); err != nil {
		return nil, err
	}
	return n, nil
}

func check(n node, sc schema) error {
	switch n := n.(type) {
	case *logicalNode:
		if err := check(n.left, sc); err != nil {
			return err
		}
		return check(n.right, sc)
	case *notNode:
		return check(n.x, sc)
	case *cmpNode:
		r, ok := sc.rule(n.attr)
		if !ok || r.kind == kindNotAllowed {
			return exprErrorf("attribute %s is not supported in %s", n.attr, sc.name)
		}
		if !hasOp(r.ops, n.op) {
			return exprErrorf("operator %s is not supported for %s in %s", n.op, n.attr, sc.name)
		}
		if n.op == "pr" {
			return nil
		}
		switch r.kind {
		case kindDate:
			if n.val.kind != litString {
				return exprErrorf("%s needs a date in double quotes", n.attr)
			}
			if _, err := parseOktaTime(n.val.s); err != nil {
				return exprErrorf("invalid date %q for %s", n.val.s, n.attr)
			}
		case kindString, kindExact:
			if n.val.kind != litString {
				return exprErrorf("%s needs a string in double quotes", n.attr)
			}
		case kindAny:
			switch n.op {
			case "eq":
			case "sw":
				if n.val.kind != litString {
					return exprErrorf("%s sw needs a string in double quotes", n.attr)
				}
			default:
				if n.val.kind != litString {
					return exprErrorf("%s %s needs a date in double quotes", n.attr, n.op)
				}
				if _, err := parseOktaTime(n.val.s); err != nil {
					return exprErrorf("invalid date %q for %s", n.val.s, n.attr)
				}
			}
		}
		return nil
	}
	return exprErrorf("invalid expression")
}

func hasOp(ops, op string) bool {
	for o := range strings.FieldsSeq(ops) {
		if o == op {
			return true
		}
	}
	return false
}

// parseOktaTime parses Okta's timestamp format and other RFC 3339 forms.
func parseOktaTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// dateMS is a timestamp value (Unix milliseconds) returned by an accessor.
type dateMS int64

// accessor returns an attribute's value: a string, dateMS, float64, bool
// or []any, and false when it is absent or null.
type accessor func(attr string) (any, bool)

// eval reports whether the object behind get matches n. Expressions must
// have passed check.
func eval(n node, get accessor) bool {
	switch n := n.(type) {
	case *logicalNode:
		if n.op == "and" {
			return eval(n.left, get) && eval(n.right, get)
		}
		return eval(n.left, get) || eval(n.right, get)
	case *notNode:
		return !eval(n.x, get)
	case *cmpNode:
		v, ok := get(n.attr)
		if n.op == "pr" {
			return ok && !isEmpty(v)
		}
		if n.op == "ne" {
			return !ok || !matchValue(v, "eq", n.val)
		}
		if !ok {
			return n.val.kind == litNull && n.op == "eq"
		}
		return matchValue(v, n.op, n.val)
	}
	return false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	}
	return v == nil
}

// exactString marks values compared case-sensitively: ids and enums.
type exactString string

func matchValue(v any, op string, lit literal) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if matchValue(e, op, lit) {
				return true
			}
		}
		return false
	case exactString:
		if lit.kind != litString {
			return false
		}
		s := string(x)
		switch op {
		case "eq":
			return s == lit.s
		case "sw":
			return strings.HasPrefix(s, lit.s)
		case "ew":
			return strings.HasSuffix(s, lit.s)
		case "co":
			return strings.Contains(s, lit.s)
		}
		return compareOrdered(strings.Compare(s, lit.s), op)
	case string:
		if lit.kind != litString {
			if lit.kind == litNumber {
				return op == "eq" && x == strconv.FormatFloat(lit.n, 'f', -1, 64)
			}
			return false
		}
		switch op {
		case "eq":
			return strings.EqualFold(x, lit.s)
		case "sw":
			return hasPrefixFold(x, lit.s)
		case "ew":
			return len(x) >= len(lit.s) && strings.EqualFold(x[len(x)-len(lit.s):], lit.s)
		case "co":
			return strings.Contains(strings.ToLower(x), strings.ToLower(lit.s))
		}
		// A range on a string attribute holding a date.
		if t, err := parseOktaTime(x); err == nil {
			return matchValue(dateMS(t.UnixMilli()), op, lit)
		}
		return compareOrdered(strings.Compare(strings.ToLower(x), strings.ToLower(lit.s)), op)
	case dateMS:
		if lit.kind != litString {
			return false
		}
		t, err := parseOktaTime(lit.s)
		if err != nil {
			return false
		}
		return compareOrdered(compareNumbers(int64(x), t.UnixMilli()), op)
	case float64:
		switch lit.kind {
		case litNumber:
			return compareOrdered(compareNumbers(x, lit.n), op)
		case litString:
			f, err := strconv.ParseFloat(lit.s, 64)
			if err != nil {
				return false
			}
			return compareOrdered(compareNumbers(x, f), op)
		}
		return false
	case bool:
		return op == "eq" && lit.kind == litBool && lit.b == x
	}
	return false
}

func compareOrdered(c int, op string) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// compareNumbers is -1, 0 or 1 as a is less than, equal to or more than b
// (0 when either is NaN).
func compareNumbers[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
