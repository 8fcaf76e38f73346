package api

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// entityTagList is RFC 9110's If-None-Match, leniently: "*" or a list of
// entity tags (opaque tags holding any byte but '"'), with optional
// whitespace and empty list elements.
var (
	entityTagList = regexp.MustCompile(`^[ \t,]*((\*|(W/)?"[^"]*")[ \t]*(,[ \t,]*|$))*$`)
	entityTag     = regexp.MustCompile(`\*|(W/)?"[^"]*"`)
)

// referenceNoneMatch is noneMatch written another way: the field (its lines
// joined by commas) must be a list as entityTagList says, and then matches
// when it holds "*" or etag, with or without W/.
func referenceNoneMatch(lines []string, etag string) bool {
	field := strings.Join(lines, ",")
	if !entityTagList.MatchString(field) {
		return false
	}
	matched := false
	for _, elem := range entityTag.FindAllString(field, -1) {
		elem = strings.TrimPrefix(elem, "W/")
		matched = matched || elem == "*" || elem == etag
	}
	return matched
}

func FuzzIfNoneMatch(f *testing.F) {
	const etag = `"0123456789abcdef0123456789abcdef"`
	for _, seed := range []string{
		etag, `W/` + etag, `"0123456789abcdef0123456789abcdef-gzip"`, `*`, ``, ` , ,`,
		`"a", W/"b",  ` + etag, "\t," + etag, `"x,` + etag[1:] + `, "y"`, etag + `, bogus`,
		`bogus, ` + etag, `"unterminated`, `"a""b"`, `*x`, `w/` + etag, `W/`, `""`,
	} {
		f.Add(seed, etag)
	}
	f.Fuzz(func(t *testing.T, field, etag string) {
		if len(etag) < 2 || etag[0] != '"' || strings.IndexByte(etag[1:], '"') != len(etag)-2 {
			return // the server's tags are quoted and hold no quote
		}
		lines := strings.Split(field, "\n")
		got := noneMatch(lines, etag)
		if want := referenceNoneMatch(lines, etag); got != want {
			t.Fatalf("noneMatch(%q, %s) = %v, want %v", lines, etag, got, want)
		}
		// The lines of a field are one list.
		if joined := noneMatch([]string{strings.Join(lines, ",")}, etag); joined != got {
			t.Fatalf("noneMatch of the lines %q joined = %v, of the lines %v", lines, joined, got)
		}
	})
}

// FuzzAccept checks the Accept and Accept-Encoding negotiation for
// properties any answer must have: it never panics, does not depend on the
// order of the field's elements or on how they are split into lines, and
// a field that names neither JSON nor YAML (nor gzip) in any way gets JSON
// (gzip) once it lists application/json (gzip) too.
func FuzzAccept(f *testing.F) {
	for _, seed := range []string{
		"", "*/*", "application/json", "Application/JSON", "application/json; charset=utf-8",
		"application/json, application/yaml", "application/json;q=0.9, application/yaml",
		"application/json, */*;q=0.1", "application/json;q=0", "text/html, application/json;q=0.9, */*;q=0.8",
		"text/*, application/json;q=0.5", "application/json;q=bogus", "application/json;q=2",
		"gzip", "GZIP", "x-gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1", "gzip;q=0",
		"*;q=0", "gzip;q=0, *", "gzip ; q=0.5", "gzip;q=0.001", "gzip;q=1.000", "gzip;q=1.0001",
		"application/json;q=NaN", "application/json;q=Inf", "gzip;q=0x1p-1", "gzip;q=1e0", "gzip;q=.5",
		";;;,,,", "a/b;q=;q=1", "application/json;Q=0.5", "gzip;q=nan, gzip", "application/json;q=nan, application/json",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, field string) {
		elems := strings.Split(field, ",")
		reversed := slices.Clone(elems)
		slices.Reverse(reversed)
		json, gz := prefersJSON([]string{field}), acceptsGzip([]string{field})
		if got := prefersJSON([]string{strings.Join(reversed, ",")}); got != json {
			t.Fatalf("prefersJSON(%q) = %v, but %v with its elements reversed", field, json, got)
		}
		if got := acceptsGzip([]string{strings.Join(reversed, ",")}); got != gz {
			t.Fatalf("acceptsGzip(%q) = %v, but %v with its elements reversed", field, gz, got)
		}
		if got := prefersJSON(elems); got != json {
			t.Fatalf("prefersJSON(%q) = %v, but %v with its elements on lines of their own", field, json, got)
		}
		if got := acceptsGzip(elems); got != gz {
			t.Fatalf("acceptsGzip(%q) = %v, but %v with its elements on lines of their own", field, gz, got)
		}
		lower := strings.ToLower(field)
		if !strings.Contains(lower, "json") && !strings.Contains(lower, "yaml") && !strings.Contains(lower, "*") &&
			!prefersJSON([]string{field + ",application/json"}) {
			t.Fatalf("prefersJSON(%q) with application/json added = false, want true", field)
		}
		if !strings.Contains(lower, "gzip") && !acceptsGzip([]string{field + ",gzip"}) {
			t.Fatalf("acceptsGzip(%q) with gzip added = false, want true", field)
		}
	})
}
