package okta

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Attr is one custom profile attribute: its Okta name and its value, a
// string, a number (float64), a boolean, an array ([]any) or an object
// (map[string]any), as decoded from JSON; never nil.
type Attr struct {
	Name  string
	Value any
}

// Attrs holds a profile's custom attributes, sorted by name, each name once.
// It is a slice rather than a map because profiles are held by the hundred
// thousand and most have one or two custom attributes: a map costs at
// least 336 bytes, the slice 32 per attribute.
type Attrs []Attr

// AttrsOf returns the attributes of m, sorted, leaving out nil values.
func AttrsOf(m map[string]any) Attrs {
	var out Attrs
	for k, v := range m {
		if v != nil {
			out = append(out, Attr{k, v})
		}
	}
	slices.SortFunc(out, func(a, b Attr) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup returns the value of the attribute name.
func (a Attrs) Lookup(name string) (any, bool) {
	i, ok := a.find(name)
	if !ok {
		return nil, false
	}
	return a[i].Value, true
}

// Map returns the attributes as a map, nil when there are none.
func (a Attrs) Map() map[string]any {
	if len(a) == 0 {
		return nil
	}
	m := make(map[string]any, len(a))
	for _, x := range a {
		m[x.Name] = x.Value
	}
	return m
}

func (a Attrs) find(name string) (int, bool) {
	return slices.BinarySearchFunc(a, name, func(x Attr, name string) int { return strings.Compare(x.Name, name) })
}

// set stores v as the value of name, replacing any earlier one; a nil v
// removes the attribute.
func (a *Attrs) set(name string, v any) {
	i, ok := a.find(name)
	switch {
	case ok && v == nil:
		*a = slices.Delete(*a, i, i+1)
	case ok:
		(*a)[i].Value = v
	case v != nil:
		*a = slices.Insert(*a, i, Attr{name, v})
	}
}

// wrongType is a base attribute with a value that is not a string.
type wrongType struct {
	key   string
	value any
}

// baseField returns the field of the base attribute key, nil for a custom
// one. Comparing with names first spares a string per attribute.
func baseField(names []string, field func(string) *string, key []byte) *string {
	for _, name := range names {
		if string(key) == name {
			return field(name)
		}
	}
	return nil
}

// setCustom stores the attribute key with the encoded value v in custom; a
// null removes it, as a later duplicate overrides an earlier one.
func setCustom(custom *Attrs, key string, v []byte) error {
	var value any
	switch {
	case string(v) == "null":
		custom.set(key, nil)
		return nil
	case plainString(v):
		value = string(v[1 : len(v)-1])
	default:
		if err := json.Unmarshal(v, &value); err != nil {
			return err
		}
	}
	custom.set(key, value)
	return nil
}

// invalidProfile returns the error encoding/json gives for b, which is not
// a JSON object.
func invalidProfile(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	return errors.New("okta: invalid profile object")
}

// profileScanner reads a JSON profile object from b, from position i.
type profileScanner struct {
	b []byte
	i int
}

func (s *profileScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *profileScanner) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *profileScanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// finish checks that nothing but space follows the object.
func (s *profileScanner) finish() error {
	s.space()
	if s.i != len(s.b) {
		return invalidProfile(s.b)
	}
	return nil
}

// key reads an attribute name and the colon after it, and returns the
// name, unquoted.
func (s *profileScanner) key() ([]byte, bool) {
	v, isString, ok := s.stringOrNull()
	if !ok || !isString {
		return nil, false
	}
	s.space()
	if !s.consume(':') {
		return nil, false
	}
	s.space()
	return v, true
}

// stringOrNull reads a string, returned unquoted with isString, or a null,
// returned as nil. Any other value is returned encoded, with neither.
func (s *profileScanner) stringOrNull() (v []byte, isString, ok bool) {
	raw, ok := s.value()
	switch {
	case !ok:
		return nil, false, false
	case string(raw) == "null":
		return nil, false, true
	case raw[0] != '"':
		return raw, false, true
	case plainString(raw):
		return raw[1 : len(raw)-1], true, true
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return nil, false, false
	}
	return []byte(str), true, true
}

// value reads one JSON value and returns its encoding. It finds only where
// the value ends: what it returns is valid JSON only if it is null, a
// plainString, or accepted by json.Unmarshal.
func (s *profileScanner) value() ([]byte, bool) {
	start := s.i
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			if !s.skipString() {
				return nil, false
			}
			if depth == 0 {
				return s.b[start:s.i], true
			}
			continue
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return s.b[start:s.i], s.i > start
			}
			depth--
			if depth == 0 {
				s.i++
				return s.b[start:s.i], true
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return s.b[start:s.i], s.i > start
			}
		}
		s.i++
	}
	return s.b[start:s.i], depth == 0 && s.i > start
}

// skipString moves past the string that starts at i.
func (s *profileScanner) skipString() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return true
		}
	}
	return false
}

// plainString reports whether the encoded string v (quotes included) reads
// the same unquoted: no escapes, no control characters, valid UTF-8.
func plainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	v = v[1 : len(v)-1]
	ascii := true
	for _, c := range v {
		switch {
		case c < 0x20 || c == '"' || c == '\\':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || utf8.Valid(v)
}

// appendProfile appends a profile encoded as json.Marshal encodes a map of its
// attributes: the non-empty base attributes and the custom ones, keys in
// sorted order, a base attribute winning over a custom one of its name.
func appendProfile(dst []byte, names []string, field func(string) *string, custom Attrs) ([]byte, error) {
	var buf [24]string
	keys := buf[:0]
	size := 2
	for _, k := range names {
		if f := field(k); *f != "" {
			keys = append(keys, k)
			size += len(k) + len(*f) + 6
		}
	}
	for _, a := range custom {
		if f := field(a.Name); f == nil || *f == "" {
			keys = append(keys, a.Name)
			size += len(a.Name) + 16
		}
	}
	slices.Sort(keys)
	out := slices.Grow(dst, size)
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ':')
		if f := field(k); f != nil && *f != "" {
			out = appendString(out, *f)
			continue
		}
		v, _ := custom.Lookup(k)
		var err error
		if out, err = appendValue(out, v); err != nil {
			return nil, err
		}
	}
	return append(out, '}'), nil
}

// appendValue appends the JSON encoding of a custom attribute's value.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendString appends s encoded as encoding/json encodes it: quoted, and
// with the characters it escapes (HTML ones included) escaped.
func appendString(dst []byte, s string) []byte {
	if !htmlSafe(s) {
		b, _ := json.Marshal(s) // a string always encodes
		return append(dst, b...)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// htmlSafe reports whether encoding/json writes s as it is, between quotes.
func htmlSafe(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || (utf8.ValidString(s) && !strings.ContainsAny(s, "\u2028\u2029"))
}

func attrString(custom Attrs, name string) (string, bool) {
	v, ok := custom.Lookup(name)
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

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s to dst as a double-quoted JSON string and
// returns the extended buffer. The result is also a YAML double-quoted
// scalar with the same value, so the catalog's YAML and JSON share it, and
// it is how the fake Okta writes its strings. Printable
// characters, non-ASCII included, are written as they are; control
// characters, DEL, C1 controls, line and paragraph separators, the byte
// order mark and non-characters are escaped; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = appendUnicodeEscape(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if needsEscape(r) {
			dst = append(dst, s[start:i]...)
			dst = appendUnicodeEscape(dst, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// needsEscape reports whether a non-ASCII rune falls outside YAML's
// printable set or is a line break in some YAML version.
func needsEscape(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls, NEL
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	case r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

func appendUnicodeEscape(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// TimeFormat is the layout of Okta's timestamps, in UTC with milliseconds:
// how Okta writes them in its JSON and accepts them in expressions and in
// the System Log's since and until.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t as Okta writes and accepts timestamps in
// expressions: "2024-01-02T03:04:05.000Z", in UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeFormat)
}
