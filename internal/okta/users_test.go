package okta

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUserProfileUnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    UserProfile
		wantErr bool
	}{
		"empty object": {in: `{}`},
		"null":         {in: `null`},
		"base attributes": {
			in:   `{"login":"ada@example.com","email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","managerId":"00u1","userType":"Employee"}`,
			want: UserProfile{Login: "ada@example.com", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", ManagerID: "00u1", UserType: "Employee"},
		},
		"null base attributes are empty": {
			in:   `{"login":"a@example.com","title":null,"manager":null}`,
			want: UserProfile{Login: "a@example.com"},
		},
		"custom attributes of every kind": {
			in: `{"login":"a","github":"ada","level":3,"ratio":0.5,"admin":true,"off":false,"skills":["go",1,null],"address":{"city":"Paris"},"gone":null}`,
			want: UserProfile{Login: "a", Custom: AttrsOf(map[string]any{
				"github": "ada", "level": 3.0, "ratio": 0.5, "admin": true, "off": false,
				"skills": []any{"go", 1.0, nil}, "address": map[string]any{"city": "Paris"},
			})},
		},
		"only null custom attributes": {
			in:   `{"login":"a","gone":null,"other":null}`,
			want: UserProfile{Login: "a"},
		},
		"escapes and non-ASCII": {
			in:   `{"displayName":"Jos\u00e9 \"Pepe\" M\u00fcller","lastName":"Müller","title":"a\\b\/c\n","k\u00e9y":"\ud83d\ude00"}`,
			want: UserProfile{DisplayName: `José "Pepe" Müller`, LastName: "Müller", Title: "a\\b/c\n", Custom: AttrsOf(map[string]any{"kéy": "😀"})},
		},
		"escaped base attribute name": {
			in:   `{"\u006cogin":"a"}`,
			want: UserProfile{Login: "a"},
		},
		"invalid UTF-8 is replaced": {
			in:   "{\"firstName\":\"a\xffb\",\"x\":\"\xfe\"}",
			want: UserProfile{FirstName: "a\ufffdb", Custom: AttrsOf(map[string]any{"x": "\ufffd"})},
		},
		"space around tokens": {
			in:   " \n{ \"login\" :\t\"a\" , \"n\" : [ 1 , 2 ] , \"m\" : null }\r\n",
			want: UserProfile{Login: "a", Custom: AttrsOf(map[string]any{"n": []any{1.0, 2.0}})},
		},
		"the last of duplicates counts": {
			in:   `{"login":"a","login":"b","x":1,"x":null,"y":null,"y":2,"title":1,"title":"t"}`,
			want: UserProfile{Login: "b", Title: "t", Custom: AttrsOf(map[string]any{"y": 2.0})},
		},
		"number base attribute":                       {in: `{"login":1}`, wantErr: true},
		"boolean base attribute":                      {in: `{"login":true}`, wantErr: true},
		"array base attribute":                        {in: `{"email":["a"]}`, wantErr: true},
		"object base attribute":                       {in: `{"email":{}}`, wantErr: true},
		"base attribute made a number by a duplicate": {in: `{"login":"a","login":2}`, wantErr: true},
		"not an object":                               {in: `["login"]`, wantErr: true},
		"a string":                                    {in: `"login"`, wantErr: true},
		"empty":                                       {in: ``, wantErr: true},
		"trailing comma":                              {in: `{"login":"a",}`, wantErr: true},
		"missing colon":                               {in: `{"login" "a"}`, wantErr: true},
		"missing value":                               {in: `{"login":}`, wantErr: true},
		"unterminated":                                {in: `{"login":"a"`, wantErr: true},
		"unterminated string":                         {in: `{"login":"a}`, wantErr: true},
		"unterminated array":                          {in: `{"x":[1,2}`, wantErr: true},
		"trailing garbage":                            {in: `{"login":"a"}x`, wantErr: true},
		"bad literal":                                 {in: `{"x":tru}`, wantErr: true},
		"number out of range":                         {in: `{"x":1e999}`, wantErr: true},
		"control character in a string":               {in: "{\"login\":\"a\tb\"}", wantErr: true},
		"bad escape":                                  {in: `{"login":"a\qb"}`, wantErr: true},
		"key that is not a string":                    {in: `{1:"a"}`, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
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
