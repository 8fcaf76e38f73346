package okta

import (
	"strings"
	"testing"
)

func TestNextLink(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		want   string
		values []string
	}{
		"none":      {"", nil},
		"self only": {"", []string{`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`}},
		"separate lines as Okta sends them": {
			"https://x.okta.com/api/v1/users?after=00u1&limit=200",
			[]string{
				`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`,
				`<https://x.okta.com/api/v1/users?after=00u1&limit=200>; rel="next"`,
			},
		},
		"one line, comma separated": {
			"https://x/b?after=2",
			[]string{`<https://x/a?x=1>; rel="self", <https://x/b?after=2>; rel="next"`},
		},
		"unquoted rel":               {"https://x/b", []string{`<https://x/b>; rel=next`}},
		"upper-case rel":             {"https://x/b", []string{`<https://x/b>; REL="NEXT"`}},
		"several relations":          {"https://x/b", []string{`<https://x/b>; rel="last next"`}},
		"other params first":         {"https://x/b", []string{`<https://x/b>; title="a, b; c"; rel="next"`}},
		"comma in the URL":           {"https://x/b?filter=a,b", []string{`<https://x/b?filter=a,b>; rel="next"`}},
		"spaces around":              {"https://x/b", []string{`  <https://x/b>  ;  rel = "next"  `}},
		"next before self":           {"https://x/n", []string{`<https://x/n>; rel="next"`, `<https://x/s>; rel="self"`}},
		"no separator between links": {"https://x/n", []string{`<https://x/s>; rel="self" <https://x/n>; rel="next"`}},
		"prev is not next":           {"", []string{`<https://x/p>; rel="prev"`}},
		"nextish is not next":        {"", []string{`<https://x/p>; rel="next-page"`}},
		"garbage":                    {"", []string{`rel="next"`, `<unterminated; rel="next"`, `;;,,<>`}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
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
