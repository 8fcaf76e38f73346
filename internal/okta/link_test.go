package okta

import (
	"strings"
	"testing"
)

func TestNextLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{"none", nil, ""},
		{"self only", []string{`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`}, ""},
		{
			"separate lines as Okta sends them",
			[]string{
				`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`,
				`<https://x.okta.com/api/v1/users?after=00u1&limit=200>; rel="next"`,
			},
			"https://x.okta.com/api/v1/users?after=00u1&limit=200",
		},
		{
			"one line, comma separated",
			[]string{`<https://x/a?x=1>; rel="self", <https://x/b?after=2>; rel="next"`},
			"https://x/b?after=2",
		},
		{"unquoted rel", []string{`<https://x/b>; rel=next`}, "https://x/b"},
		{"upper-case rel", []string{`<https://x/b>; REL="NEXT"`}, "https://x/b"},
		{"several relations", []string{`<https://x/b>; rel="last next"`}, "https://x/b"},
		{"other params first", []string{`<https://x/b>; title="a, b; c"; rel="next"`}, "https://x/b"},
		{"comma in the URL", []string{`<https://x/b?filter=a,b>; rel="next"`}, "https://x/b?filter=a,b"},
		{"spaces around", []string{`  <https://x/b>  ;  rel = "next"  `}, "https://x/b"},
		{"next before self", []string{`<https://x/n>; rel="next"`, `<https://x/s>; rel="self"`}, "https://x/n"},
		{"no separator between links", []string{`<https://x/s>; rel="self" <https://x/n>; rel="next"`}, "https://x/n"},
		{"prev is not next", []string{`<https://x/p>; rel="prev"`}, ""},
		{"nextish is not next", []string{`<https://x/p>; rel="next-page"`}, ""},
		{"garbage", []string{`rel="next"`, `<unterminated; rel="next"`, `;;,,<>`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextLink(tt.values); got != tt.want {
				t.Errorf("nextLink(%q) = %q, want %q", tt.values, got, tt.want)
			}
		})
	}
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://x.okta.com/api/v1/users?after=00u1&limit=200>; rel="next"`)
	f.Add(`<https://x/a>; rel="self", <https://x/b>; rel="next"`)
	f.Add(`<https://x/b>; title="a, \"b\"; c"; rel=next`)
	f.Add(`<<>>;rel="next",<`)
	f.Fuzz(func(t *testing.T, s string) {
		got := nextLink([]string{s})
		if got == "" {
			return
		}
		// Whatever is returned was between angle brackets in the input.
		if !strings.Contains(s, "<"+got) && !strings.Contains(s, got+">") {
			t.Errorf("nextLink(%q) = %q, which is not a link target of the input", s, got)
		}
		if strings.ContainsAny(got, "<>") {
			t.Errorf("nextLink(%q) = %q, holds an angle bracket", s, got)
		}
	})
}
