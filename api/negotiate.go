package api

import (
	"slices"
	"strconv"
	"strings"
)

// noneMatch reports whether an If-None-Match field (its header lines) matches
// the representation whose entity tag is etag: "*" matches, and so does a
// listed tag equal to it under the weak comparison RFC 9110 section 13.1.2
// requires (a W/ prefix is ignored). The lines are one list, as RFC 9110
// section 5.3 combines them. A malformed field matches nothing, so the full
// body is sent.
func noneMatch(lines []string, etag string) bool {
	tags, star, ok := entityTags(lines)
	if !ok {
		return false
	}
	if star {
		return true
	}
	for _, t := range tags {
		if t.tag == etag {
			return true
		}
	}
	return false
}

// listedTag is one element of an If-Match or If-None-Match list.
type listedTag struct {
	tag  string // with its quotes, without W/
	weak bool
}

// entityTags parses the lines of an If-Match or If-None-Match field into
// its entity tags, star reporting a "*" among them. ok is false for a
// malformed field.
func entityTags(lines []string) (tags []listedTag, star, ok bool) {
	field := strings.Join(lines, ",")
	for {
		field = strings.TrimLeft(field, " \t,")
		if field == "" {
			return tags, star, true
		}
		if field[0] == '*' {
			field = field[1:]
			star = true
		} else {
			weak := strings.HasPrefix(field, "W/")
			field = strings.TrimPrefix(field, "W/")
			if field == "" || field[0] != '"' {
				return nil, false, false
			}
			end := strings.IndexByte(field[1:], '"')
			if end < 0 {
				return nil, false, false
			}
			tags = append(tags, listedTag{tag: field[:end+2], weak: weak})
			field = field[end+2:]
		}
		// An element ends at a comma or the end of the field.
		if field = strings.TrimLeft(field, " \t"); field != "" && field[0] != ',' {
			return nil, false, false
		}
	}
}

// prefersHTML reports whether an Accept field prefers text/html to JSON:
// a browser's. Without Accept, or with */* alone, the answer is JSON.
func prefersHTML(lines []string) bool {
	qHTML, qJSON := weigh(lines, htmlMedia, jsonMedia)
	return qHTML.q > 0 && qHTML.specificity == 3 && qHTML.q >= qJSON.q
}

// prefersJSON reports whether an Accept field prefers application/json to
// YAML. Without Accept, or with */*, the answer is YAML, which is what
// Backstage reads.
func prefersJSON(lines []string) bool {
	qJSON, qYAML := weigh(lines, jsonMedia, yamlMedia)
	return qJSON.q > 0 && qJSON.q > qYAML.q
}

// A mediaType is one representation as the media ranges of an Accept field
// name it: by one of its own names (type/subtype, in lower case), or by one
// of its types with a wildcard subtype.
type mediaType struct {
	names []string
	types []string
}

// The representations the API negotiates between.
var (
	htmlMedia = mediaType{names: []string{"text/html", "application/xhtml+xml"}, types: []string{"text"}}
	jsonMedia = mediaType{names: []string{"application/json"}, types: []string{"application"}}
	yamlMedia = mediaType{
		names: []string{"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"},
		types: []string{"application", "text"},
	}
)

// specificity says how specifically the media range typ/sub (in lower
// case) names m: 3 by one of its names, 2 by one of its types with a
// wildcard subtype, 1 by */*, 0 not at all.
func (m mediaType) specificity(typ, sub string) int {
	switch {
	case slices.Contains(m.names, typ+"/"+sub):
		return 3
	case sub == "*" && slices.Contains(m.types, typ):
		return 2
	case typ == "*" && sub == "*":
		return 1
	}
	return 0
}

// weigh returns the weights an Accept field gives two representations:
// each the q of the most specific range that names it.
func weigh(lines []string, a, b mediaType) (wa, wb weight) {
	eachMediaRange(lines, func(typ, sub string, q float64) {
		if s := a.specificity(typ, sub); s > 0 {
			wa.offer(q, s)
		}
		if s := b.specificity(typ, sub); s > 0 {
			wb.offer(q, s)
		}
	})
	return wa, wb
}

// eachMediaRange calls f with the type and subtype, in lower case, and the
// q of every media range of an Accept field; elements that are not
// type/subtype are skipped.
func eachMediaRange(lines []string, f func(typ, sub string, q float64)) {
	eachElement(lines, func(value string, q float64) {
		typ, sub, ok := strings.Cut(value, "/")
		if !ok {
			return
		}
		f(strings.ToLower(strings.TrimSpace(typ)), strings.ToLower(strings.TrimSpace(sub)), q)
	})
}

// acceptsGzip reports whether an Accept-Encoding field allows gzip.
func acceptsGzip(lines []string) bool {
	var gz weight
	eachElement(lines, func(value string, q float64) {
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "gzip", "x-gzip":
			gz.offer(q, 2)
		case "*":
			gz.offer(q, 1)
		}
	})
	return gz.q > 0
}

// weight is the quality a content negotiation field gives one value: the q of
// the most specific element that matches it.
type weight struct {
	q           float64
	specificity int
}

func (w *weight) offer(q float64, specificity int) {
	if specificity > w.specificity || (specificity == w.specificity && q > w.q) {
		w.q, w.specificity = q, specificity
	}
}

// eachElement calls f with the value and the q parameter (default 1) of every
// element of a comma-separated negotiation field such as Accept.
func eachElement(lines []string, f func(value string, q float64)) {
	for _, line := range lines {
		for line != "" {
			var elem string
			elem, line, _ = strings.Cut(line, ",")
			value, params, _ := strings.Cut(elem, ";")
			if strings.TrimSpace(value) == "" {
				continue
			}
			q := 1.0
			for params != "" {
				var p string
				p, params, _ = strings.Cut(params, ";")
				k, v, _ := strings.Cut(p, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q = parseQ(strings.TrimSpace(v))
				}
			}
			f(value, q)
		}
	}
}

// parseQ parses a weight as RFC 9110 section 12.4.2 writes it: "0" or "1",
// with up to three decimals ("1" only with zeros). Anything else (NaN, 1e0,
// 0x1p-1, 2) is a weight of 0: not acceptable.
func parseQ(v string) float64 {
	whole, frac, _ := strings.Cut(v, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 || strings.Trim(frac, "0123456789") != "" ||
		(whole == "1" && strings.Trim(frac, "0") != "") {
		return 0
	}
	q, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0
	}
	return q
}
