package catalog

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// awkwardStrings are values a careless YAML writer gets wrong.
var awkwardStrings = []string{
	"", "yes", "no", "Yes", "NO", "on", "Off", "y", "N", "true", "False", "null", "Null", "NULL", "~",
	"123", "-1", "+1", "1.5", ".5", "1e3", "0x1F", "0o17", "0b101", "1_000", ".inf", "-.Inf", ".NaN", "12:30:45",
	"2024-01-02", "2024-01-02T03:04:05Z", "<<", "=", "?", "-", "- item", ": x", "a: b", "a #b", "#comment",
	"@handle", "`tick", "!tag", "&anchor", "*alias", "|", ">", "%YAML", "'single'", `"double"`, `back\slash`,
	"{flow}", "[list]", ",comma", " leading", "trailing ", "line1\nline2", "\n", "\r\n", "tab\there", "\x00nul",
	"\x07bell", "\x1b[31m", "del\x7f", "nel\u0085", "ls\u2028ps\u2029", "\ufeffbom", "\ufffe\uffff",
	"Zoë Ørsted", "山田 太郎", "🚀 team", "émoji ✈", "a\u0301", "\xff\xfeinvalid", "half\xc3",
	"---", "...", "--- x", "key:", "okta.com/id", "John.Doe", "00u1abc", strings.Repeat("long ", 100),
}

func TestAppendQuotedIsJSONAndYAML(t *testing.T) {
	t.Parallel()
	for _, s := range awkwardStrings {
		want := string([]rune(s)) // each invalid byte becomes U+FFFD
		q := appendQuoted(nil, s)
		var fromJSON string
		if err := json.Unmarshal(q, &fromJSON); err != nil {
			t.Errorf("appendQuoted(%q) = %s: not JSON: %v", s, q, err)
		} else if fromJSON != want {
			t.Errorf("appendQuoted(%q) as JSON: got %q, want %q", s, fromJSON, want)
		}
		var fromYAML string
		if err := yaml.Unmarshal(q, &fromYAML); err != nil {
			t.Errorf("appendQuoted(%q) = %s: not YAML: %v", s, q, err)
		} else if fromYAML != want {
			t.Errorf("appendQuoted(%q) as YAML: got %q, want %q", s, fromYAML, want)
		}
	}
}

func TestAppendYAMLStringReadsBackAsString(t *testing.T) {
	t.Parallel()
	for _, s := range awkwardStrings {
		want := string([]rune(s)) // each invalid byte becomes U+FFFD
		doc := append([]byte("k: "), appendYAMLString(nil, s)...)
		var got map[string]any
		if err := yaml.Unmarshal(doc, &got); err != nil {
			t.Errorf("%q: %s does not parse: %v", s, doc, err)
			continue
		}
		if v, ok := got["k"].(string); !ok || v != want {
			t.Errorf("%q: %s reads back as %#v, want the string %q", s, doc, got["k"], want)
		}
	}
}

func TestPlainSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"alice":       true,
		"John.Doe":    true,
		"okta.com/id": true,
		"r-d-emea":    true,
		"a_b":         true,
		"yes":         false,
		"Null":        false,
		"123":         false,
		"00u1":        false,
		"-dash":       false,
		".hidden":     false,
		"a b":         false,
		"a:b":         false,
		"":            false,
		"é":           false,
	} {
		if got := plainSafe(in); got != want {
			t.Errorf("plainSafe(%q): got %v, want %v", in, got, want)
		}
	}
}

// awkwardEntity holds an awkward string in every string field.
func awkwardEntity(s string, kind string) *Entity {
	e := &Entity{
		APIVersion: APIVersion,
		Kind:       kind,
		OktaID:     s,
		Metadata: Metadata{
			Name:        "n",
			Namespace:   "ns",
			Title:       s,
			Description: s,
			Labels:      []KeyValue{{"a", "b"}, {"example.com/x", "y"}},
			Annotations: []KeyValue{{"okta.com/id", s}, {"okta.com/profile.x", s}},
		},
	}
	p := &Profile{DisplayName: s, Email: s, Picture: s}
	if kind == KindUser {
		e.User = &UserSpec{Profile: p, MemberOf: []string{"a", "yes", "123"}}
	} else {
		e.Group = &GroupSpec{Type: s, Profile: p, Parent: "null", Children: []string{}, Members: []string{"a"}}
	}
	return e
}

func TestAppendYAMLEqualsAppendJSON(t *testing.T) {
	t.Parallel()
	for _, s := range awkwardStrings {
		for _, kind := range []string{KindUser, KindGroup} {
			checkYAMLEqualsJSON(t, awkwardEntity(s, kind))
		}
	}
}

func TestAppendYAMLLayout(t *testing.T) {
	t.Parallel()
	e := &Entity{
		APIVersion: APIVersion,
		Kind:       KindGroup,
		Metadata: Metadata{
			Name:        "platform-team",
			Title:       "Platform Team",
			Annotations: []KeyValue{{AnnotationID, "00g1"}},
		},
		Group: &GroupSpec{Type: "team", Parent: "engineering", Children: []string{}, Members: []string{"alice", "yes"}},
	}
	want := `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: platform-team
  title: "Platform Team"
  annotations:
    okta.com/id: "00g1"
spec:
  type: team
  parent: engineering
  children: []
  members:
    - alice
    - "yes"
`
	if got := string(AppendYAML(nil, e)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	wantJSON := `{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"platform-team","title":"Platform Team","annotations":{"okta.com/id":"00g1"}},"spec":{"type":"team","parent":"engineering","children":[],"members":["alice","yes"]}}`
	if got := string(AppendJSON(nil, e)); got != wantJSON {
		t.Errorf("got\n%s\nwant\n%s", got, wantJSON)
	}
	if got, err := json.Marshal(e); err != nil || string(got) != wantJSON {
		t.Errorf("json.Marshal: got %s, %v; want %s", got, err, wantJSON)
	}
}

func TestAppendYAMLAppends(t *testing.T) {
	t.Parallel()
	e := awkwardEntity("x", KindUser)
	one := AppendYAML(nil, e)
	two := AppendYAML(AppendYAML([]byte("---\n"), e), e)
	if want := "---\n" + string(one) + string(one); string(two) != want {
		t.Errorf("appending twice: got %q, want %q", two, want)
	}
}

func TestMultiDocumentStreamParses(t *testing.T) {
	t.Parallel()
	res := Build(goldenScenarios()["default"], loadOrg(t))
	dec := yaml.NewDecoder(strings.NewReader(string(encodeStream(res.Entities))))
	n := 0
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("document %d: %v", n, err)
			}
			break
		}
		n++
	}
	if n != len(res.Entities) {
		t.Errorf("got %d documents, want %d", n, len(res.Entities))
	}
}

func FuzzAppendYAMLString(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := string([]rune(s)) // each invalid byte becomes U+FFFD
		doc := append([]byte("k: "), appendYAMLString(nil, s)...)
		var got map[string]string
		if err := yaml.Unmarshal(doc, &got); err != nil {
			t.Fatalf("%q: %s does not parse: %v", s, doc, err)
		}
		if got["k"] != want {
			t.Fatalf("%q: reads back as %q", s, got["k"])
		}
		var fromJSON string
		if err := json.Unmarshal(appendQuoted(nil, s), &fromJSON); err != nil || fromJSON != want {
			t.Fatalf("%q: JSON reads back as %q, %v", s, fromJSON, err)
		}
		if !utf8.Valid(doc) {
			t.Fatalf("%q: output is not UTF-8", s)
		}
	})
}
