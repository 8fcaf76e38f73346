package catalog

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// maxNameLen is Backstage's limit on metadata.name.
const maxNameLen = 63

// suffixLen is the length of the id-derived suffix, dash included.
const suffixLen = 7

// naming is the outcome of a naming strategy for one object: raw is what
// the strategy alone gives (the peer's name, valid or not), name the valid
// name this package uses, reason why they differ.
type naming struct {
	raw, name, reason string
}

// exact reports whether the strategy's own name is used unchanged.
func (n naming) exact() bool { return n.reason == "" }

// userName names u with the given strategy.
func userName(strategy string, u *okta.User) naming {
	switch strategy {
	case UserNamingID:
		return finishName(u.ID, u.ID, false, u.ID)
	case UserNamingKebabCaseEmail:
		src, ok := emailOrLogin(&u.Profile)
		raw, clean := kebabCase(src)
		return finishKebab(raw, clean, ok, u.ID)
	case UserNamingSlugifyEmail:
		src, ok := emailOrLogin(&u.Profile)
		raw := slugifyEmail(src)
		n := finishName(raw, raw, true, u.ID)
		return notePeerGap(n, ok)
	case "", UserNamingStripDomainEmail:
		src, ok := emailOrLogin(&u.Profile)
		raw := src
		if i := strings.IndexByte(src, '@'); i >= 0 {
			raw = src[:i]
		} else if ok {
			// The peer takes substring(0, indexOf('@')): nothing.
			raw = ""
		}
		n := finishName(raw, raw, false, u.ID)
		if raw == "" && src != "" {
			// No "@": keep the whole value, made valid.
			n = finishName("", src, false, u.ID)
		}
		return notePeerGap(n, ok)
	default:
		attr := strings.TrimPrefix(strategy, NamingProfilePrefix)
		v, _ := u.Profile.Get(attr)
		return finishName(v, v, false, u.ID)
	}
}

// groupName names g with the given strategy.
func groupName(strategy string, g *okta.Group) naming {
	switch strategy {
	case GroupNamingID:
		return finishName(g.ID, g.ID, false, g.ID)
	case "", GroupNamingKebabCaseName:
		raw, clean := kebabCase(g.Profile.Name)
		return finishKebab(raw, clean, true, g.ID)
	case GroupNamingProfileName:
		return finishName(g.Profile.Name, g.Profile.Name, false, g.ID)
	default:
		attr := strings.TrimPrefix(strategy, NamingProfilePrefix)
		v, _ := g.Profile.Get(attr)
		return finishName(v, v, false, g.ID)
	}
}

// emailOrLogin returns the user's email, or their login when the email is
// absent (the peer fails on such users); ok is false in the latter case.
func emailOrLogin(p *okta.UserProfile) (string, bool) {
	if p.Email != "" {
		return p.Email, true
	}
	return p.Login, false
}

// notePeerGap marks a name built from the login instead of the missing
// email as a fallback: the peer has no name for such a user.
func notePeerGap(n naming, fromEmail bool) naming {
	if !fromEmail {
		n.raw = ""
		if n.reason == "" || n.reason == ReasonSanitized {
			n.reason = ReasonFallback
		}
	}
	return n
}

// finishName makes a valid name out of src, the strategy's raw name being
// raw. lower folds the result to lower case.
func finishName(raw, src string, lower bool, id string) naming {
	if raw == src && ValidName(raw) && (!lower || raw == strings.ToLower(raw)) {
		return naming{raw: raw, name: raw}
	}
	clean := sanitize(src, lower)
	return finishClean(raw, clean, lower, id)
}

// finishKebab finishes a kebab-case name: clean is the kebab-cased,
// transliterated form of the same words as raw.
func finishKebab(raw, clean string, fromEmail bool, id string) naming {
	var n naming
	if ValidName(raw) {
		n = naming{raw: raw, name: raw}
	} else {
		n = finishClean(raw, clean, true, id)
	}
	return notePeerGap(n, fromEmail)
}

func finishClean(raw, clean string, lower bool, id string) naming {
	switch {
	case clean == "":
		return naming{raw: raw, name: fallbackName(id, lower), reason: ReasonFallback}
	case len(clean) > maxNameLen:
		return naming{raw: raw, name: withSuffix(clean, idSuffix(id)), reason: ReasonTooLong}
	}
	return naming{raw: raw, name: clean, reason: ReasonSanitized}
}

// fallbackName derives a name from an Okta id: the id itself, made valid,
// or "okta-" and a hash of it when nothing of the id is usable.
func fallbackName(id string, lower bool) string {
	s := sanitize(id, lower)
	switch {
	case s == "":
		return "okta" + idSuffix(id)
	case len(s) > maxNameLen:
		return withSuffix(s, idSuffix(id))
	}
	return s
}

// withSuffix cuts name so that name+suffix fits 63 characters and still
// ends in a letter or digit, and appends suffix.
func withSuffix(name, suffix string) string {
	if len(name) > maxNameLen-len(suffix) {
		name = name[:maxNameLen-len(suffix)]
	}
	name = strings.TrimRight(name, "-_.")
	return name + suffix
}

// idSuffix returns "-" and six base32 characters of a hash of the Okta id:
// short, stable across runs, and lower case.
func idSuffix(id string) string {
	return hashSuffix(id, 0)
}

var suffixEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// hashSuffix is idSuffix for the n-th attempt, for when the first suffix
// collides too.
func hashSuffix(id string, n int) string {
	h := sha256.New()
	h.Write([]byte(id))
	for ; n > 0; n-- {
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var out [8]byte
	suffixEncoding.Encode(out[:], sum[:5])
	return "-" + string(out[:suffixLen-1])
}

// isSep reports whether c is a separator allowed inside a name.
func isSep(c byte) bool { return c == '-' || c == '_' || c == '.' }

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// sanitize turns s into the characters of a valid name: letters are
// transliterated to ASCII, every other character becomes a separator, a
// run of separators that is not a single allowed one becomes one "-", and
// separators are trimmed from both ends. The result may be longer than 63
// characters. It is empty when nothing is left, and also when s holds a
// letter with no ASCII spelling (Han, Kana, Hangul...): a name made of the
// rest would mislead, so the caller falls back to the Okta id.
func sanitize(s string, lower bool) string {
	b := make([]byte, 0, len(s))
	pending := 0     // separators (or invalid characters) seen since the last letter or digit
	var pendSep byte // the separator, when the run is a single allowed one
	emit := func(c byte) {
		if pending > 0 && len(b) > 0 {
			if pending == 1 && pendSep != 0 {
				b = append(b, pendSep)
			} else {
				b = append(b, '-')
			}
		}
		pending, pendSep = 0, 0
		if lower && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	sep := func(c byte) {
		pending++
		pendSep = c
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case isAlnum(c):
				emit(c)
			case isSep(c):
				sep(c)
			default:
				sep(0)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		t, ok := transliterate(r)
		if !ok {
			return ""
		}
		if t == "" {
			sep(0)
			continue
		}
		for j := 0; j < len(t); j++ {
			switch {
			case isAlnum(t[j]):
				emit(t[j])
			case t[j] == '\'':
				// the apostrophe of ŉ: part of the letter, not a break
			default:
				sep(0)
			}
		}
	}
	return string(b)
}

// transliterate returns an ASCII spelling of a non-ASCII rune: from the
// tables (lodash's deburr for Latin-1 and Latin Extended-A, then a few more
// Latin letters, then slugify's map for Greek, Cyrillic and other
// alphabets), else its compatibility decomposition without combining
// marks. It returns "", true for a character that is not a letter or digit
// (a separator to the caller) and false for a letter or digit with no
// spelling.
func transliterate(r rune) (string, bool) {
	if t, ok := latinLetters[r]; ok {
		return t, true
	}
	if t, ok := extraLetters[r]; ok {
		return t, true
	}
	if t, ok := slugChars[r]; ok && isAlnumString(t) {
		return t, true
	}
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
		return "", true
	}
	var buf [utf8.UTFMax * 4]byte
	d := norm.NFKD.AppendString(buf[:0], string(r))
	out := make([]byte, 0, len(d))
	for _, x := range string(d) {
		switch {
		case x < utf8.RuneSelf && isAlnum(byte(x)):
			out = append(out, byte(x))
		case unicode.Is(unicode.Mn, x):
		default:
			// Part of the decomposition has no spelling.
			return "", unicode.Is(unicode.Mn, r)
		}
	}
	if len(out) == 0 {
		// A lone combining mark: drop it.
		return "", unicode.Is(unicode.Mn, r)
	}
	return string(out), true
}

func isAlnumString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// extraLetters spells letters outside Latin-1 and Latin Extended-A that
// have no canonical decomposition.
var extraLetters = map[rune]string{
	'ƀ': "b", 'Ɓ': "B", 'ƈ': "c", 'Ƈ': "C", 'ƒ': "f", 'Ƒ': "F", 'ƙ': "k", 'Ƙ': "K",
	'ƚ': "l", 'ƞ': "n", 'Ɲ': "N", 'ƥ': "p", 'Ƥ': "P", 'ƫ': "t", 'ƭ': "t", 'Ƭ': "T",
	'ƴ': "y", 'Ƴ': "Y", 'ƶ': "z", 'Ƶ': "Z", 'ǥ': "g", 'Ǥ': "G", 'ȥ': "z", 'Ȥ': "Z",
	'ɓ': "b", 'ɗ': "d", 'ɠ': "g", 'ɨ': "i", 'ɲ': "n", 'ʉ': "u", 'ɖ': "d", 'Ɖ': "D",
	'Ə': "E", 'ə': "e", 'Ɛ': "E", 'ɛ': "e",
}

// latinLetters spells the letters of Latin-1 and Latin Extended-A as
// lodash's deburr does, so kebab-case names match the peer's.
var latinLetters = map[rune]string{
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "A", 'Å': "A",
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a",
	'Ç': "C", 'ç': "c", 'Ð': "D", 'ð': "d",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e",
	'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'Ñ': "N", 'ñ': "n",
	'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "O", 'Ø': "O",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u",
	'Ý': "Y", 'ý': "y", 'ÿ': "y",
	'Æ': "Ae", 'æ': "ae", 'Þ': "Th", 'þ': "th", 'ß': "ss",
	'Ā': "A", 'Ă': "A", 'Ą': "A", 'ā': "a", 'ă': "a", 'ą': "a",
	'Ć': "C", 'Ĉ': "C", 'Ċ': "C", 'Č': "C", 'ć': "c", 'ĉ': "c", 'ċ': "c", 'č': "c",
	'Ď': "D", 'Đ': "D", 'ď': "d", 'đ': "d",
	'Ē': "E", 'Ĕ': "E", 'Ė': "E", 'Ę': "E", 'Ě': "E", 'ē': "e", 'ĕ': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'Ĝ': "G", 'Ğ': "G", 'Ġ': "G", 'Ģ': "G", 'ĝ': "g", 'ğ': "g", 'ġ': "g", 'ģ': "g",
	'Ĥ': "H", 'Ħ': "H", 'ĥ': "h", 'ħ': "h",
	'Ĩ': "I", 'Ī': "I", 'Ĭ': "I", 'Į': "I", 'İ': "I", 'ĩ': "i", 'ī': "i", 'ĭ': "i", 'į': "i", 'ı': "i",
	'Ĵ': "J", 'ĵ': "j", 'Ķ': "K", 'ķ': "k", 'ĸ': "k",
	'Ĺ': "L", 'Ļ': "L", 'Ľ': "L", 'Ŀ': "L", 'Ł': "L", 'ĺ': "l", 'ļ': "l", 'ľ': "l", 'ŀ': "l", 'ł': "l",
	'Ń': "N", 'Ņ': "N", 'Ň': "N", 'Ŋ': "N", 'ń': "n", 'ņ': "n", 'ň': "n", 'ŋ': "n",
	'Ō': "O", 'Ŏ': "O", 'Ő': "O", 'ō': "o", 'ŏ': "o", 'ő': "o",
	'Ŕ': "R", 'Ŗ': "R", 'Ř': "R", 'ŕ': "r", 'ŗ': "r", 'ř': "r",
	'Ś': "S", 'Ŝ': "S", 'Ş': "S", 'Š': "S", 'ś': "s", 'ŝ': "s", 'ş': "s", 'š': "s",
	'Ţ': "T", 'Ť': "T", 'Ŧ': "T", 'ţ': "t", 'ť': "t", 'ŧ': "t",
	'Ũ': "U", 'Ū': "U", 'Ŭ': "U", 'Ů': "U", 'Ű': "U", 'Ų': "U", 'ũ': "u", 'ū': "u", 'ŭ': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'Ŵ': "W", 'ŵ': "w", 'Ŷ': "Y", 'ŷ': "y", 'Ÿ': "Y",
	'Ź': "Z", 'Ż': "Z", 'Ž': "Z", 'ź': "z", 'ż': "z", 'ž': "z",
	'Ĳ': "IJ", 'ĳ': "ij", 'Œ': "Oe", 'œ': "oe", 'ŉ': "'n", 'ſ': "s",
}
