package catalog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// slugifyEmail is the peer's slugify-email strategy: the local part and the
// domain each slugified (npm slugify, lower case, "+" removed from the local
// part) and joined with "-". Letters are spelled as slugify's character map
// does for Latin scripts; other scripts are left as they are (and made
// valid by the caller).
func slugifyEmail(email string) string {
	local, domain, _ := strings.Cut(email, "@")
	if i := strings.IndexByte(domain, '@'); i >= 0 {
		// The peer splits on every "@" and keeps the first two parts.
		domain = domain[:i]
	}
	return slugify(local, true) + "-" + slugify(domain, false)
}

// slugify follows npm slugify with lower: true. In the local part the
// peer's remove option replaces slugify's default character filter, so
// only "+" is removed there; elsewhere characters outside
// [\w\s$*_+~.()'"!\-:@] are.
func slugify(s string, localPart bool) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	for _, r := range s {
		rep, ok := slugChars[r]
		if !ok {
			rep = string(r)
		}
		if rep == "-" {
			rep = " "
		}
		for _, c := range rep {
			if localPart {
				if c == '+' {
					continue
				}
			} else if !slugKeep(c) {
				continue
			}
			b.WriteRune(c)
		}
	}
	out := strings.TrimFunc(b.String(), jsSpace)
	var res strings.Builder
	inSpace := false
	for _, r := range out {
		if jsSpace(r) {
			inSpace = true
			continue
		}
		if inSpace {
			res.WriteByte('-')
			inSpace = false
		}
		res.WriteRune(r)
	}
	return strings.ToLower(res.String())
}

// slugKeep reports whether slugify's default filter keeps c.
func slugKeep(c rune) bool {
	switch {
	case c < utf8.RuneSelf && (isAlnum(byte(c)) || c == '_'):
		return true
	case jsSpace(c):
		return true
	}
	return strings.ContainsRune(`$*_+~.()'"!-:@`, c)
}

// jsSpace reports whether JavaScript's \s matches r.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a || r != 0x85 && unicode.Is(unicode.Zs, r)
}
