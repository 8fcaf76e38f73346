package api

import (
	"strings"
	"testing"
)

func TestNoneMatch(t *testing.T) {
	t.Parallel()
	const plain = `"0123abcd"`
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"exact", []string{`"0123abcd"`}, true},
		{"the gzip representation's tag", []string{`"0123abcd-gzip"`}, false},
		{"weak prefix compares weakly", []string{`W/"0123abcd"`}, true},
		{"weak gzip", []string{`W/"0123abcd-gzip"`}, false},
		{"star", []string{`*`}, true},
		{"other tag", []string{`"ffff"`}, false},
		{"list with match last", []string{`"a", W/"b",  "0123abcd"`}, true},
		{"list without match", []string{`"a", "b"`}, false},
		{"second header line", []string{`"a"`, `"0123abcd"`}, true},
		{"comma inside a tag", []string{`"x,0123abcd", "y"`}, false},
		{"unquoted is malformed", []string{`0123abcd`}, false},
		{"unterminated", []string{`"0123abcd`}, false},
		{"prefix only", []string{`"0123abc"`}, false},
		{"longer", []string{`"0123abcdd"`}, false},
		{"empty", []string{``}, false},
		{"only commas", []string{` , ,`}, false},
		{"tabs and commas", []string{"\t,\"0123abcd\""}, true},
		{"star in a list", []string{`"a", *`}, true},
		{"malformed after a match", []string{`"0123abcd", bogus`}, false},
		{"malformed before a match", []string{`bogus, "0123abcd"`}, false},
		{"malformed line after a match", []string{`"0123abcd"`, `"a" "b"`}, false},
		{"a tag across lines", []string{`"a`, `b", "0123abcd"`}, true},
		{"no comma between tags", []string{`"a""0123abcd"`}, false},
		{"text after star", []string{`*x`}, false},
		{"lower-case weak prefix", []string{`w/"0123abcd"`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := noneMatch(tt.lines, plain); got != tt.want {
				t.Errorf("noneMatch(%q) = %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

// headerCase is a header value, its lines split at newlines (none when
// empty), and whether the predicate under test holds for it.
type headerCase struct {
	header string
	want   bool
}

// TestHeaderPredicates runs each negotiation predicate over header values,
// each case a subtest named by the header.
func TestHeaderPredicates(t *testing.T) {
	t.Parallel()
	predicates := []struct {
		name  string
		f     func([]string) bool
		cases []headerCase
	}{
		{"prefersHTML", prefersHTML, []headerCase{
			{"", false},
			{"*/*", false},
			{"text/html", true},
			{"Text/HTML", true},
			{"application/xhtml+xml", true},
			{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
			{"text/*", false},
			{"text/plain", false},
			{"application/json", false},
			{"text/html, application/json", true},
			{"text/html;q=0.5, application/json", false},
			{"application/json;q=0.5, text/html", true},
			{"application/*, text/html;q=0.9", false},
			{"text/html;q=0.9, */*", false},
			{"text/html;q=0", false},
		}},
		{"prefersJSON", prefersJSON, []headerCase{
			{"", false},
			{"*/*", false},
			{"application/json", true},
			{"Application/JSON", true},
			{"application/json; charset=utf-8", true},
			{"application/yaml", false},
			{"application/json, application/yaml", false},
			{"application/json;q=0.9, application/yaml", false},
			{"application/json;q=0.9, application/x-yaml", false},
			{"application/json;q=0.9, text/yaml", false},
			{"application/json, application/yaml;q=0.5", true},
			{"application/json, */*;q=0.1", true},
			{"application/json;q=0", false},
			{"application/*", false},
			{"text/html, application/json;q=0.9, */*;q=0.8", true},
			{"text/*, application/json;q=0.5", false},
			{"application/json;q=bogus", false},
			{"application/json;q=2", false},
			{"text/plain", false},
		}},
		{"acceptsGzip", acceptsGzip, []headerCase{
			{"", false},
			{"gzip", true},
			{"GZIP", true},
			{"x-gzip", true},
			{"gzip, deflate, br", true},
			{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
			{"deflate", false},
			{"gzip;q=0", false},
			{"*", true},
			{"*;q=0", false},
			{"gzip;q=0, *", false},
			{"identity", false},
			{"gzip ; q=0.5", true},
			{"gzip;q=0.001", true},
			{"gzip;q=1.000", true},
			{"gzip;q=1.", true},
			{"gzip;q=1.001", false},
			{"gzip;q=0.0001", false},
			{"gzip;q=.5", false},
			{"gzip;q=1e0", false},
			{"gzip;q=0x1p-1", false},
			{"gzip;q=+1", false},
			{"gzip;q=NaN", false},
			{"gzip;q=nan, gzip", true},
			{"gzip, gzip;q=nan", true},
			{"gzip;q=inf", false},
		}},
	}
	for _, p := range predicates {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range p.cases {
				t.Run(tt.header, func(t *testing.T) {
					t.Parallel()
					var lines []string
					if tt.header != "" {
						lines = strings.Split(tt.header, "\n")
					}
					if got := p.f(lines); got != tt.want {
						t.Errorf("%s(%q) = %v, want %v", p.name, tt.header, got, tt.want)
					}
				})
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, want string
	}{
		{"a=1&b=2", "a=1&b=2"},
		{"token=s3cret", "token=REDACTED"},
		{"a=1&token=s3cret&token=two", "a=1&token=REDACTED&token=REDACTED"},
		{"tok%65n=s3cret", "token=REDACTED"},
		{"Token=s3cret", "Token=REDACTED"},
		{"TOKEN=s3cret&page=2", "TOKEN=REDACTED&page=2"},
		{"access_token=s3cret", "access_token=REDACTED"},
		{"id_token=s3cret", "id_token=REDACTED"},
		{"client_secret=s3cret", "client_secret=REDACTED"},
		{"secret=s3cret", "secret=REDACTED"},
		{"password=s3cret", "password=REDACTED"},
		{"key=s3cret", "key=REDACTED"},
		{"api_key=s3cret", "api_key=REDACTED"},
		{"apikey=s3cret", "apikey=REDACTED"},
		{"ApiKey=s3cret", "ApiKey=REDACTED"},
		{"api-key=s3cret", "api-key=REDACTED"},
		{"X-Amz-Signature=s3cret", "X-Amz-Signature=REDACTED"},
		{"sig=s3cret", "sig=REDACTED"},
		{"client_assertion=s3cret", "client_assertion=REDACTED"},
		{"code=s3cret&state=xyz", "code=REDACTED&state=xyz"},
		{"accessToken=s3cret", "accessToken=REDACTED"},
		{"refresh_token=s3cret", "refresh_token=REDACTED"},
		{"SAMLResponse=s3cret", "SAMLResponse=REDACTED"},
		{"auth=s3cret", "auth=REDACTED"},
		{"shard=2&limit=200&after=00u1", "shard=2&limit=200&after=00u1"},
		{"token=s3cret;x", "[unparsable query]"},
		{"%zz=1", "[unparsable query]"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got := redactQuery(tt.raw)
			if got != tt.want {
				t.Errorf("redactQuery(%q) = %q, want %q", tt.raw, got, tt.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("redactQuery(%q) = %q, which holds the secret", tt.raw, got)
			}
		})
	}
}
