package catalog

import (
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// AppendYAML appends e to dst as one block-style YAML document, without the
// leading "---" line, and returns the extended buffer. Keys come in a fixed
// order and every string that a YAML parser could read as anything but the
// same string is double-quoted, so identical entities give identical bytes.
func AppendYAML(dst []byte, e *Entity) []byte {
	dst = append(dst, "apiVersion: "...)
	dst = appendYAMLString(dst, e.APIVersion)
	dst = append(dst, "\nkind: "...)
	dst = appendYAMLString(dst, e.Kind)
	dst = append(dst, "\nmetadata:\n  name: "...)
	m := &e.Metadata
	dst = appendYAMLString(dst, m.Name)
	dst = appendOptional(dst, "\n  namespace: ", m.Namespace, appendYAMLString)
	dst = appendOptional(dst, "\n  title: ", m.Title, appendYAMLString)
	dst = appendOptional(dst, "\n  description: ", m.Description, appendYAMLString)
	dst = appendYAMLMap(dst, "labels", m.Labels)
	dst = appendYAMLMap(dst, "annotations", m.Annotations)
	dst = append(dst, "\nspec:"...)
	switch {
	case e.User != nil:
		dst = appendYAMLProfile(dst, e.User.Profile)
		dst = appendYAMLList(dst, "memberOf", e.User.MemberOf)
	case e.Group != nil:
		g := e.Group
		dst = append(dst, "\n  type: "...)
		dst = appendYAMLString(dst, g.Type)
		dst = appendYAMLProfile(dst, g.Profile)
		if g.Parent != "" {
			dst = append(dst, "\n  parent: "...)
			dst = appendYAMLString(dst, g.Parent)
		}
		dst = appendYAMLList(dst, "children", g.Children)
		if g.Members != nil {
			dst = appendYAMLList(dst, "members", g.Members)
		}
	default:
		dst = append(dst, " {}"...)
	}
	return append(dst, '\n')
}

// appendOptional appends prefix and v written by enc, or nothing when v is
// empty: the optional string fields of both encodings.
func appendOptional(dst []byte, prefix, v string, enc func([]byte, string) []byte) []byte {
	if v == "" {
		return dst
	}
	return enc(append(dst, prefix...), v)
}

func appendYAMLMap(dst []byte, key string, kvs []KeyValue) []byte {
	if len(kvs) == 0 {
		return dst
	}
	dst = append(dst, "\n  "...)
	dst = append(dst, key...)
	dst = append(dst, ':')
	for _, kv := range kvs {
		dst = append(dst, "\n    "...)
		dst = appendYAMLString(dst, kv.Key)
		dst = append(dst, ": "...)
		dst = appendYAMLString(dst, kv.Value)
	}
	return dst
}

func appendYAMLProfile(dst []byte, p *Profile) []byte {
	if p.empty() {
		return dst
	}
	dst = append(dst, "\n  profile:"...)
	dst = appendOptional(dst, "\n    displayName: ", p.DisplayName, appendYAMLString)
	dst = appendOptional(dst, "\n    email: ", p.Email, appendYAMLString)
	dst = appendOptional(dst, "\n    picture: ", p.Picture, appendYAMLString)
	return dst
}

func appendYAMLList(dst []byte, key string, items []string) []byte {
	dst = append(dst, "\n  "...)
	dst = append(dst, key...)
	if len(items) == 0 {
		return append(dst, ": []"...)
	}
	dst = append(dst, ':')
	for _, s := range items {
		dst = append(dst, "\n    - "...)
		dst = appendYAMLString(dst, s)
	}
	return dst
}

// appendYAMLString writes s as a plain scalar when that is unambiguous and
// as a double-quoted scalar otherwise.
func appendYAMLString(dst []byte, s string) []byte {
	if plainSafe(s) {
		return append(dst, s...)
	}
	return appendQuoted(dst, s)
}

// plainSafe reports whether s can be written as a plain YAML scalar and be
// read back as the same string by YAML 1.1 and 1.2 parsers (js-yaml in
// Backstage, go-yaml here): it starts with an ASCII letter, holds only
// letters, digits and . _ / -, and is none of the words a schema resolves
// to a boolean or null. Starting with a letter rules out numbers,
// timestamps, .inf and .nan.
func plainSafe(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	c := s[0]
	if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '/', c == '-':
		default:
			return false
		}
	}
	if len(s) <= 5 {
		switch lowerASCII(s) {
		case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// appendQuoted writes s as a double-quoted string that is both a JSON
// string and a YAML double-quoted scalar with the same value.
func appendQuoted(dst []byte, s string) []byte { return okta.AppendJSONString(dst, s) }

// AppendJSON appends e to dst as one compact JSON object with the same
// fields, order and omissions as AppendYAML, and returns the extended
// buffer.
func AppendJSON(dst []byte, e *Entity) []byte {
	dst = append(dst, `{"apiVersion":`...)
	dst = appendQuoted(dst, e.APIVersion)
	dst = append(dst, `,"kind":`...)
	dst = appendQuoted(dst, e.Kind)
	m := &e.Metadata
	dst = append(dst, `,"metadata":{"name":`...)
	dst = appendQuoted(dst, m.Name)
	dst = appendOptional(dst, `,"namespace":`, m.Namespace, appendQuoted)
	dst = appendOptional(dst, `,"title":`, m.Title, appendQuoted)
	dst = appendOptional(dst, `,"description":`, m.Description, appendQuoted)
	dst = appendJSONMap(dst, "labels", m.Labels)
	dst = appendJSONMap(dst, "annotations", m.Annotations)
	dst = append(dst, `},"spec":{`...)
	switch {
	case e.User != nil:
		if !e.User.Profile.empty() {
			dst = appendJSONProfile(dst, e.User.Profile)
			dst = append(dst, ',')
		}
		dst = appendJSONList(dst, "memberOf", e.User.MemberOf)
	case e.Group != nil:
		g := e.Group
		dst = append(dst, `"type":`...)
		dst = appendQuoted(dst, g.Type)
		if !g.Profile.empty() {
			dst = append(dst, ',')
			dst = appendJSONProfile(dst, g.Profile)
		}
		if g.Parent != "" {
			dst = append(dst, `,"parent":`...)
			dst = appendQuoted(dst, g.Parent)
		}
		dst = append(dst, ',')
		dst = appendJSONList(dst, "children", g.Children)
		if g.Members != nil {
			dst = append(dst, ',')
			dst = appendJSONList(dst, "members", g.Members)
		}
	}
	return append(dst, "}}"...)
}

func appendJSONMap(dst []byte, key string, kvs []KeyValue) []byte {
	if len(kvs) == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, `":{`...)
	for i, kv := range kvs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendQuoted(dst, kv.Key)
		dst = append(dst, ':')
		dst = appendQuoted(dst, kv.Value)
	}
	return append(dst, '}')
}

func appendJSONProfile(dst []byte, p *Profile) []byte {
	dst = append(dst, `"profile":{`...)
	sep := false
	field := func(name, v string) {
		if v == "" {
			return
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
		dst = appendQuoted(dst, v)
	}
	field("displayName", p.DisplayName)
	field("email", p.Email)
	field("picture", p.Picture)
	return append(dst, '}')
}

func appendJSONList(dst []byte, key string, items []string) []byte {
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":[`...)
	for i, s := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendQuoted(dst, s)
	}
	return append(dst, ']')
}
