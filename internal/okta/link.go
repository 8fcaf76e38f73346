package okta

import (
	"strings"
)

// nextLink returns the target of the first link with relation "next" among
// the Link header values, or "" when there is none. Okta sends "self" and
// "next" as separate Link header lines; a single line may also hold several
// comma-separated links, and a link may carry several relations
// (rel="next last"). Malformed parts are skipped.
//
// See https://developer.okta.com/docs/api/#pagination
func nextLink(values []string) string {
	for _, v := range values {
		for _, l := range parseLinks(v) {
			for _, rel := range strings.Fields(l.rel) {
				if strings.EqualFold(rel, "next") {
					return l.target
				}
			}
		}
	}
	return ""
}

type link struct {
	target string
	rel    string
}

// parseLinks parses one Link header value as in RFC 8288:
// `<target>; param=value; rel="a b", <target2>; rel=c`.
func parseLinks(s string) []link {
	var links []link
	for {
		start := strings.IndexByte(s, '<')
		if start < 0 {
			return links
		}
		end := strings.IndexByte(s[start:], '>')
		if end < 0 {
			return links
		}
		target := s[start+1 : start+end]
		if i := strings.LastIndexByte(target, '<'); i >= 0 {
			target = target[i+1:] // a URI never holds '<': the link starts at the last one
		}
		l := link{target: strings.TrimSpace(target)}
		s = s[start+end+1:]
		// Parameters run until a comma outside quotes.
		params, rest := splitParams(s)
		s = rest
		for _, p := range params {
			name, value, ok := strings.Cut(p, "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
				continue
			}
			value = strings.TrimSpace(value)
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			if l.rel == "" {
				l.rel = value
			}
		}
		if l.target != "" {
			links = append(links, l)
		}
	}
}

// splitParams splits the ";"-separated parameters that follow a link target
// up to the next comma outside quotes, and returns them and what follows.
func splitParams(s string) (params []string, rest string) {
	inQuote := false
	cur := strings.Builder{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
			continue
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			if p := strings.TrimSpace(cur.String()); p != "" {
				params = append(params, p)
			}
			cur.Reset()
			continue
		case c == ',' && !inQuote:
			if p := strings.TrimSpace(cur.String()); p != "" {
				params = append(params, p)
			}
			return params, s[i+1:]
		case c == '<' && !inQuote:
			// A new link without a separating comma: stop here.
			if p := strings.TrimSpace(cur.String()); p != "" {
				params = append(params, p)
			}
			return params, s[i:]
		}
		cur.WriteByte(c)
	}
	if p := strings.TrimSpace(cur.String()); p != "" {
		params = append(params, p)
	}
	return params, ""
}
