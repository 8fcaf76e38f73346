package catalog

import (
	"strings"
	"unicode/utf8"
)

// kebabCase splits s into words the way lodash's kebabCase does (the
// peer's kebab-case-email and kebab-case-name strategies) and joins them
// with "-". raw is lodash's result: lower-cased words, non-ASCII letters
// included. clean is the same words transliterated to ASCII, symbols
// dropped, or empty when a word holds a letter with no ASCII spelling; it
// equals raw whenever raw is all ASCII.
//
// lodash first "deburrs" the string (Latin-1 and Latin Extended-A letters
// to ASCII, combining marks removed), removes apostrophes, then matches
// words with a regular expression whose alternatives, tried in order at
// each position, are:
//
//	U? L+ (?=B|U|$)      a capitalised or lower-case word ending at a break or capital
//	X+ (?=B|U Y|$)       capitals (or other letters) before a break or a capitalised word
//	U? Y+                a capitalised or lower-case word
//	U+                   capitals
//	\d*(1ST|2ND|3RD|\dTH) and the lower-case form, ordinals
//	\d+                  digits
//
// where U is an upper-case letter, L lower case, B a break (ASCII
// punctuation and space, general punctuation, Unicode spaces), X a letter
// that is not lower case and Y one that is not upper case (letters of other
// scripts count as both).
func kebabCase(s string) (raw, clean string) {
	rs := deburr(s)
	words := splitWords(rs)
	var rb, cb strings.Builder
	spellable := true
	for _, w := range words {
		lw := strings.ToLower(string(w))
		if rb.Len() > 0 {
			rb.WriteByte('-')
		}
		rb.WriteString(lw)
		cw, ok := asciiWord(lw)
		if !ok {
			// A word we cannot spell: a name of the other words would
			// mislead, so give none and let the caller fall back.
			cb.Reset()
			spellable = false
		}
		if cw == "" || !spellable {
			continue
		}
		if cb.Len() > 0 {
			cb.WriteByte('-')
		}
		cb.WriteString(cw)
	}
	return rb.String(), cb.String()
}

// asciiWord transliterates a lower-case word to ASCII letters and digits,
// dropping symbols. ok is false when the word holds a letter with no
// spelling.
func asciiWord(w string) (string, bool) {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return w, true
	}
	var b strings.Builder
	for _, r := range w {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		t, ok := transliterate(r)
		if !ok {
			return "", false
		}
		for _, c := range []byte(t) {
			if isAlnum(c) {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String(), true
}

// deburr maps Latin-1 and Latin Extended-A letters to ASCII as lodash does,
// removes combining diacritical marks, and removes apostrophes.
func deburr(s string) []rune {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if r != '\'' {
				rs = append(rs, r)
			}
		case r >= 0xc0 && r <= 0x17f:
			if t, ok := latinLetters[r]; ok {
				for _, c := range t {
					if c != '\'' {
						rs = append(rs, c)
					}
				}
			} else {
				rs = append(rs, r)
			}
		case r >= 0x300 && r <= 0x36f, r >= 0xfe20 && r <= 0xfe2f, r >= 0x20d0 && r <= 0x20ff:
			// combining marks
		case r == 0x2019:
			// right single quotation mark, an apostrophe to lodash
		default:
			rs = append(rs, r)
		}
	}
	return rs
}

// Character classes of lodash's word regular expression.
const (
	clsBreak = iota
	clsDigit
	clsUpper
	clsLower
	clsDingbat
	clsMisc // any other letter: both "not lower" and "not upper"
)

func charClass(r rune) int {
	switch {
	case 'a' <= r && r <= 'z', r >= 0xdf && r <= 0xf6, r >= 0xf8 && r <= 0xff:
		return clsLower
	case 'A' <= r && r <= 'Z', r >= 0xc0 && r <= 0xd6, r >= 0xd8 && r <= 0xde:
		return clsUpper
	case '0' <= r && r <= '9':
		return clsDigit
	case r <= 0x2f, r >= 0x3a && r <= 0x40, r >= 0x5b && r <= 0x60, r >= 0x7b && r <= 0xbf,
		r == 0xd7, r == 0xf7,
		r >= 0x2000 && r <= 0x206f,
		r == 0xfeff, r == 0x1680, r == 0x180e, r == 0x3000:
		return clsBreak
	case r >= 0x2700 && r <= 0x27bf:
		return clsDingbat
	}
	return clsMisc
}

func notLower(c int) bool { return c == clsUpper || c == clsMisc } // lodash rsMiscUpper
func notUpper(c int) bool { return c == clsLower || c == clsMisc } // lodash rsMiscLower

// splitWords returns the words lodash's unicode word expression matches in
// rs, in order.
func splitWords(rs []rune) [][]rune {
	n := len(rs)
	cls := make([]int, n)
	for i, r := range rs {
		cls[i] = charClass(r)
	}
	at := func(i int) int {
		if i >= n {
			return -1
		}
		return cls[i]
	}
	var words [][]rune
	for i := 0; i < n; {
		end := matchWord(rs, cls, at, i)
		if end <= i {
			i++
			continue
		}
		words = append(words, rs[i:end])
		i = end
	}
	return words
}

// matchWord returns the end of the word starting at i, or i when none
// starts there. It follows the alternatives of lodash's expression in
// order, with the backtracking a regular expression engine would do.
func matchWord(rs []rune, cls []int, at func(int) int, i int) int {
	n := len(rs)
	runOf := func(from int, ok func(int) bool) int {
		j := from
		for j < n && ok(cls[j]) {
			j++
		}
		return j
	}
	isLower := func(c int) bool { return c == clsLower }
	isUpper := func(c int) bool { return c == clsUpper }
	c := cls[i]

	// 1. U? L+ (?=B|U|$)
	{
		j := i
		if c == clsUpper {
			j++
		}
		if k := runOf(j, isLower); k > j {
			if k == n || cls[k] == clsBreak || cls[k] == clsUpper {
				return k
			}
		}
		// Without the optional capital, L+ would have to start at a capital.
	}
	// 2. X+ (?=B|U Y|$), backtracking from the longest run.
	if k := runOf(i, notLower); k > i {
		for p := k; p > i; p-- {
			if p == n || cls[p] == clsBreak || (cls[p] == clsUpper && notUpper(at(p+1))) {
				return p
			}
		}
	}
	// 3. U? Y+
	{
		j := i
		if c == clsUpper && notUpper(at(i+1)) {
			j++
		}
		if k := runOf(j, notUpper); k > j {
			return k
		}
	}
	// 4. U+
	if k := runOf(i, isUpper); k > i {
		return k
	}
	if c == clsDigit {
		// 5. and 6. ordinals, upper then lower case.
		if e := matchOrdinal(rs, i, "ST", "ND", "RD", "TH", func(r rune) bool { return 'a' <= r && r <= 'z' || r == '_' }); e > i {
			return e
		}
		if e := matchOrdinal(rs, i, "st", "nd", "rd", "th", func(r rune) bool { return 'A' <= r && r <= 'Z' || r == '_' }); e > i {
			return e
		}
		// 7. \d+
		return runOf(i, func(c int) bool { return c == clsDigit })
	}
	if c == clsDingbat {
		// 8. an emoji (dingbat), one character.
		return i + 1
	}
	return i
}

// matchOrdinal matches \d*(?:1st|2nd|3rd|(?![123])\dth)(?=\b|[follow]) at i
// with the given suffixes, trying the longest digit prefix first.
func matchOrdinal(rs []rune, i int, st, nd, rd, th string, follow func(rune) bool) int {
	n := len(rs)
	k := i
	for k < n && '0' <= rs[k] && rs[k] <= '9' {
		k++
	}
	has := func(p int, s string) bool {
		if p+len(s) > n {
			return false
		}
		for j := 0; j < len(s); j++ {
			if rs[p+j] != rune(s[j]) {
				return false
			}
		}
		return true
	}
	wordChar := func(r rune) bool {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	for d := k - 1; d >= i; d-- {
		var suf string
		switch rs[d] {
		case '1':
			suf = st
		case '2':
			suf = nd
		case '3':
			suf = rd
		default:
			suf = th
		}
		if !has(d+1, suf) {
			continue
		}
		e := d + 1 + len(suf)
		// (?=\b|[follow]): the last matched character is a word character,
		// so \b holds when the next one is not.
		if e == n || !wordChar(rs[e]) || follow(rs[e]) {
			return e
		}
	}
	return i
}
