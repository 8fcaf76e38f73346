package okta

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUserProfileUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    UserProfile
		wantErr bool
	}{
		{name: "empty object", in: `{}`},
		{name: "null", in: `null`},
		{
			name: "base attributes",
			in:   `{"login":"ada@example.com","email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","managerId":"00u1","userType":"Employee"}`,
			want: UserProfile{Login: "ada@example.com", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", ManagerID: "00u1", UserType: "Employee"},
		},
		{
			name: "null base attributes are empty",
			in:   `{"login":"a@example.com","title":null,"manager":null}`,
			want: UserProfile{Login: "a@example.com"},
		},
		{
			name: "custom attributes of every kind",
			in:   `{"login":"a","github":"ada","level":3,"ratio":0.5,"admin":true,"off":false,"skills":["go",1,null],"address":{"city":"Paris"},"gone":null}`,
			want: UserProfile{Login: "a", Custom: AttrsOf(map[string]any{
				"github": "ada", "level": 3.0, "ratio": 0.5, "admin": true, "off": false,
				"skills": []any{"go", 1.0, nil}, "address": map[string]any{"city": "Paris"},
			})},
		},
		{
			name: "only null custom attributes",
			in:   `{"login":"a","gone":null,"other":null}`,
			want: UserProfile{Login: "a"},
		},
		{
			name: "escapes and non-ASCII",
			in:   `{"displayName":"Jos\u00e9 \"Pepe\" M\u00fcller","lastName":"Müller","title":"a\\b\/c\n","k\u00e9y":"\ud83d\ude00"}`,
			want: UserProfile{DisplayName: `José "Pepe" Müller`, LastName: "Müller", Title: "a\\b/c\n", Custom: AttrsOf(map[string]any{"kéy": "😀"})},
		},
		{
			name: "escaped base attribute name",
			in:   `{"\u006cogin":"a"}`,
			want: UserProfile{Login: "a"},
		},
		{
			name: "invalid UTF-8 is replaced",
			in:   "{\"firstName\":\"a\xffb\",\"x\":\"\xfe\"}",
			want: UserProfile{FirstName: "a\ufffdb", Custom: AttrsOf(map[string]any{"x": "\ufffd"})},
		},
		{
			name: "space around tokens",
			in:   " \n{ \"login\" :\t\"a\" , \"n\" : [ 1 , 2 ] , \"m\" : null }\r\n",
			want: UserProfile{Login: "a", Custom: AttrsOf(map[string]any{"n": []any{1.0, 2.0}})},
		},
		{
			name: "the last of duplicates counts",
			in:   `{"login":"a","login":"b","x":1,"x":null,"y":null,"y":2,"title":1,"title":"t"}`,
			want: UserProfile{Login: "b", Title: "t", Custom: AttrsOf(map[string]any{"y": 2.0})},
		},
		{name: "number base attribute", in: `{"login":1}`, wantErr: true},
		{name: "boolean base attribute", in: `{"login":true}`, wantErr: true},
		{name: "array base attribute", in: `{"email":["a"]}`, wantErr: true},
		{name: "object base attribute", in: `{"email":{}}`, wantErr: true},
		{name: "base attribute made a number by a duplicate", in: `{"login":"a","login":2}`, wantErr: true},
		{name: "not an object", in: `["login"]`, wantErr: true},
		{name: "a string", in: `"login"`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
		{name: "trailing comma", in: `{"login":"a",}`, wantErr: true},
		{name: "missing colon", in: `{"login" "a"}`, wantErr: true},
		{name: "missing value", in: `{"login":}`, wantErr: true},
		{name: "unterminated", in: `{"login":"a"`, wantErr: true},
		{name: "unterminated string", in: `{"login":"a}`, wantErr: true},
		{name: "unterminated array", in: `{"x":[1,2}`, wantErr: true},
		{name: "trailing garbage", in: `{"login":"a"}x`, wantErr: true},
		{name: "bad literal", in: `{"x":tru}`, wantErr: true},
		{name: "number out of range", in: `{"x":1e999}`, wantErr: true},
		{name: "control character in a string", in: "{\"login\":\"a\tb\"}", wantErr: true},
		{name: "bad escape", in: `{"login":"a\qb"}`, wantErr: true},
		{name: "key that is not a string", in: `{1:"a"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := UserProfile{Custom: AttrsOf(map[string]any{"stale": "x"})}
			err := got.UnmarshalJSON([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Errorf("got no error, want one (profile %+v)", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("profile differs (-want +got):\n%s", diff)
			}
			// As a field of a user, decoded by encoding/json.
			var u User
			if err := json.Unmarshal([]byte(`{"id":"00u1","profile":`+tc.in+`}`), &u); err != nil {
				t.Fatalf("user: got error %v, want none", err)
			}
			if diff := cmp.Diff(tc.want, u.Profile); diff != "" {
				t.Errorf("profile differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupProfileUnmarshalJSON(t *testing.T) {
	t.Parallel()
	var got GroupProfile
	in := `{"name":"Engineering","description":null,"samAccountName":"eng","dn":"CN=eng","windowsDomainQualifiedName":null}`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := GroupProfile{Name: "Engineering", Custom: AttrsOf(map[string]any{"samAccountName": "eng", "dn": "CN=eng"})}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile differs (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"name":7}`), &got); err == nil {
		t.Errorf("number name: got no error, want one")
	}
}

func TestProfileMarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"empty user", UserProfile{}, `{}`},
		{"empty group", GroupProfile{}, `{}`},
		{
			"base and custom attributes in sorted order",
			UserProfile{Login: "a@example.com", FirstName: "Ada", LastName: "L", Custom: AttrsOf(map[string]any{"githubUsername": "ada", "zeta": 1.5, "alpha": true})},
			`{"alpha":true,"firstName":"Ada","githubUsername":"ada","lastName":"L","login":"a@example.com","zeta":1.5}`,
		},
		{
			"custom values of every kind, a nil one left out",
			UserProfile{Custom: AttrsOf(map[string]any{"n": nil, "s": []any{"go", 2.0, nil}, "o": map[string]any{"b": 1.0, "a": "x"}, "big": 1e21, "f": false})},
			`{"big":1e+21,"f":false,"o":{"a":"x","b":1},"s":["go",2,null]}`,
		},
		{
			"escapes as encoding/json",
			UserProfile{DisplayName: "<Ada & \"Bob\">\n", Title: "José\u2028", Custom: AttrsOf(map[string]any{"k<": "a\\b", "bad": "\xff"})},
			`{"bad":"\ufffd","displayName":"\u003cAda \u0026 \"Bob\"\u003e\n","k\u003c":"a\\b","title":"José\u2028"}`,
		},
		{
			"a base attribute wins over a custom one of its name",
			UserProfile{Login: "base", Custom: AttrsOf(map[string]any{"login": "custom", "email": "custom"})},
			`{"email":"custom","login":"base"}`,
		},
		{
			"group",
			GroupProfile{Name: "Eng", Description: "Engineers", Custom: AttrsOf(map[string]any{"dn": "CN=eng"})},
			`{"description":"Engineers","dn":"CN=eng","name":"Eng"}`,
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
	allocs := testing.AllocsPerRun(100, func() {
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

// User.AppendJSON writes what encoding/json writes for a user.
func TestUserAppendJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	tests := map[string]User{
		"empty": {},
		"every field": {
			ID: "00u1", Status: StatusActive, Created: at, Activated: at.Add(time.Hour), StatusChanged: at.Add(2 * time.Hour),
			LastLogin: at.Add(3 * time.Hour), LastUpdated: at.Add(4 * time.Hour), PasswordChanged: at.Add(5 * time.Hour),
			Type: &TypeRef{ID: "oty1"},
			Profile: UserProfile{Login: "a@example.com", Email: "a@example.com", DisplayName: "<Ada & \"Bob\">",
				Custom: AttrsOf(map[string]any{"githubUsername": "ada", "level": 3.0, "skills": []any{"go"}})},
		},
		"some times, another zone, no type": {ID: "00u2", Status: StatusSuspended, Created: at.In(time.FixedZone("X", 3600)), LastUpdated: at.Add(time.Nanosecond)},
		"escapes in ids":                    {ID: "00u\u2028<", Status: "A\"B", Type: &TypeRef{ID: "t&"}},
	}
	for name, u := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(&u)
			if err != nil {
				t.Fatal(err)
			}
			got, err := u.AppendJSON([]byte("prefix"))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if string(got) != "prefix"+string(want) {
				t.Errorf("got  %s\nwant prefix%s", got, want)
			}
		})
	}
	bad := User{ID: "00u3", Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := bad.AppendJSON(nil); err == nil {
		t.Error("a year past 9999 encoded; encoding/json refuses it")
	}
}
