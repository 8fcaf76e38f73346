package okta

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProfileMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, want string
		in         any
	}{
		{"empty user", `{}`, UserProfile{}},
		{"empty group", `{}`, GroupProfile{}},
		{
			"base and custom attributes in sorted order",
			`{"alpha":true,"firstName":"Ada","githubUsername":"ada","lastName":"L","login":"a@example.com","zeta":1.5}`,
			UserProfile{Login: "a@example.com", FirstName: "Ada", LastName: "L", Custom: AttrsOf(map[string]any{"githubUsername": "ada", "zeta": 1.5, "alpha": true})},
		},
		{
			"custom values of every kind, a nil one left out",
			`{"big":1e+21,"f":false,"o":{"a":"x","b":1},"s":["go",2,null]}`,
			UserProfile{Custom: AttrsOf(map[string]any{"n": nil, "s": []any{"go", 2.0, nil}, "o": map[string]any{"b": 1.0, "a": "x"}, "big": 1e21, "f": false})},
		},
		{
			"escapes as encoding/json",
			`{"bad":"\ufffd","displayName":"\u003cAda \u0026 \"Bob\"\u003e\n","k\u003c":"a\\b","title":"José\u2028"}`,
			UserProfile{DisplayName: "<Ada & \"Bob\">\n", Title: "José\u2028", Custom: AttrsOf(map[string]any{"k<": "a\\b", "bad": "\xff"})},
		},
		{
			"a base attribute wins over a custom one of its name",
			`{"email":"custom","login":"base"}`,
			UserProfile{Login: "base", Custom: AttrsOf(map[string]any{"login": "custom", "email": "custom"})},
		},
		{
			"group",
			`{"description":"Engineers","dn":"CN=eng","name":"Eng"}`,
			GroupProfile{Name: "Eng", Description: "Engineers", Custom: AttrsOf(map[string]any{"dn": "CN=eng"})},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestProfileMarshalJSONUnsupportedValue(t *testing.T) {
	t.Parallel()
	p := UserProfile{Custom: AttrsOf(map[string]any{"f": func() {}})}
	if _, err := p.MarshalJSON(); err == nil {
		t.Errorf("got no error, want one")
	}
}

func TestProfileDecodingAllocatesOnlyItsStrings(t *testing.T) {
	in := []byte(`{"login":"ada@example.com","email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","title":null}`)
	var p UserProfile
	allocs := leastAllocs(100, func() {
		if err := p.UnmarshalJSON(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("got %v allocations, want at most 4 (one per string)", allocs)
	}
}

// FuzzUserProfile checks the profile decoder and encoder against encoding/json
// with a map, the way profiles were decoded and encoded before.
func FuzzUserProfile(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, ` { } `,
		`{"login":"a@example.com","email":null,"firstName":"José","skills":["go","k8s"],"n":1.5,"b":true,"o":{"x":null}}`,
		`{"login":"a","login":1}`, `{"login":1,"login":"a"}`, `{"x":1,"x":null}`,
		`{"title":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, "{\"a\":\"\xff\"}",
		`{"a":[1,{"b":[]}],"c":""}`, `{"a":}`, `{"a":1,}`, `[]`, `"s"`, `1`, `{"a":1e999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got UserProfile
		gotErr := got.UnmarshalJSON(in)
		var want UserProfile
		var wantCustom map[string]any
		wantErr := referenceUnmarshal(in, want.field, &wantCustom)
		want.Custom = AttrsOf(wantCustom)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%q: got error %v, want %v", in, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q: profile differs (-want +got):\n%s", in, diff)
		}
		b, err := got.MarshalJSON()
		if err != nil {
			t.Fatalf("%q: marshal: %v", in, err)
		}
		wantB, err := referenceMarshal(userProfileFields[:], got.field, got.Custom.Map())
		if err != nil {
			t.Fatalf("%q: reference marshal: %v", in, err)
		}
		if string(b) != string(wantB) {
			t.Fatalf("%q: got %s, want %s", in, b, wantB)
		}
		var again UserProfile
		if err := again.UnmarshalJSON(b); err != nil {
			t.Fatalf("%q: decode %s: %v", in, b, err)
		}
		if diff := cmp.Diff(got, again); diff != "" {
			t.Fatalf("%q: round trip differs (-want +got):\n%s", in, diff)
		}
	})
}

// referenceUnmarshal decodes a profile through a map, as unmarshalProfile
// did before it read the attributes itself.
func referenceUnmarshal(b []byte, field func(string) *string, custom *map[string]any) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*custom = nil
	for k, v := range raw {
		if f := field(k); f != nil {
			switch s := v.(type) {
			case string:
				*f = s
			case nil:
				*f = ""
			default:
				return fmt.Errorf("profile attribute %q: want a string, got %T", k, v)
			}
			continue
		}
		if v == nil {
			continue
		}
		if *custom == nil {
			*custom = make(map[string]any)
		}
		(*custom)[k] = v
	}
	return nil
}

// referenceMarshal encodes a profile through a map, as marshalProfile did
// before it appended the attributes itself.
func referenceMarshal(names []string, field func(string) *string, custom map[string]any) ([]byte, error) {
	out := make(map[string]any, len(names)+len(custom))
	for k, v := range custom {
		out[k] = v
	}
	for _, k := range names {
		if f := field(k); *f != "" {
			out[k] = *f
		}
	}
	return json.Marshal(out)
}

func TestAttrs(t *testing.T) {
	t.Parallel()
	var a Attrs
	for _, x := range []Attr{{"b", "1"}, {"a", 2.0}, {"c", true}, {"b", "again"}} {
		a.set(x.Name, x.Value)
	}
	a.set("c", nil)
	a.set("zz", nil)
	want := Attrs{{"a", 2.0}, {"b", "again"}}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("after set (-want +got):\n%s", diff)
	}
	if v, ok := a.Lookup("b"); !ok || v != "again" {
		t.Errorf("Lookup(b) = %v, %v; want again, true", v, ok)
	}
	if _, ok := a.Lookup("c"); ok {
		t.Error("Lookup(c) found a removed attribute")
	}
	if diff := cmp.Diff(want, AttrsOf(a.Map())); diff != "" {
		t.Errorf("AttrsOf(Map()) (-want +got):\n%s", diff)
	}
	if AttrsOf(map[string]any{"x": nil}) != nil || Attrs(nil).Map() != nil {
		t.Error("no attributes should give nil both ways")
	}
}
