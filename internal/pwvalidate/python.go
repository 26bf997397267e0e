package pwvalidate

// Python's str semantics that Django's validators rely on, where Go's differ.

import (
	"strings"
	"unicode"
)

// splitNonWord is Python's re.split(r"\W+", s) for a str pattern: it splits on maximal
// runs of non-word characters and keeps empty leading and trailing parts. Python's
// Unicode \w is exactly letters (L*), numbers (N*) and "_".
func splitNonWord(s string) []string {
	var parts []string
	start, inSep := 0, false
	for i, r := range s {
		word := r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
		switch {
		case !word && !inSep:
			parts = append(parts, s[start:i])
			inSep = true
		case word && inSep:
			start, inSep = i, false
		}
	}
	if inSep {
		return append(parts, "")
	}
	return append(parts, s[start:])
}

// pyLower is Python's str.lower(). Go's simple case mapping agrees with Python's full
// mapping on every code point except U+0130 (İ → "i̇", two code points) and the
// context-dependent final sigma, handled here so lengths and matches agree with Django.
func pyLower(s string) string {
	special := false
	for _, r := range s {
		if r == 'İ' || r == 'Σ' {
			special = true
			break
		}
	}
	if !special {
		return strings.ToLower(s)
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i, r := range rs {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if isFinalSigma(rs, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// isFinalSigma is Unicode's Final_Sigma condition as CPython tests it: the sigma follows
// a cased letter (skipping case-ignorable characters) and is not followed by one.
func isFinalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

// isCased is Unicode's Cased property.
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable is Unicode's Case_Ignorable property: marks, format characters,
// modifiers, and the Word_Break MidLetter, MidNumLet and Single_Quote characters.
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '·', '\u0387', '\u055F', '\u05F4', '\u2018', '\u2019', '\u2024',
		'\u2027', '\uFE13', '\uFE52', '\uFE55', '\uFF07', '\uFF0E', '\uFF1A':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// pyIsSpace is Python's str.isspace() for one character: Go's unicode.IsSpace plus the
// information separators U+001C–U+001F, which Python counts as white space.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
}

// pyIsDigitString is Python's str.isdigit(), which Django's NumericPasswordValidator
// uses: non-empty and every character a decimal digit (Nd) or of Numeric_Type=Digit,
// such as superscripts and circled digits.
func pyIsDigitString(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) && !unicode.Is(pyNumericTypeDigit, r) {
			return false
		}
	}
	return true
}

// pyNumericTypeDigit lists the characters with Numeric_Type=Digit that are not decimal
// digits, taken from Python 3.11's unicodedata (Unicode 14): every one is in category
// No, which Go's unicode.IsDigit does not cover.
var pyNumericTypeDigit = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00B2, Hi: 0x00B3, Stride: 1},
		{Lo: 0x00B9, Hi: 0x00B9, Stride: 1},
		{Lo: 0x1369, Hi: 0x1371, Stride: 1},
		{Lo: 0x19DA, Hi: 0x19DA, Stride: 1},
		{Lo: 0x2070, Hi: 0x2070, Stride: 1},
		{Lo: 0x2074, Hi: 0x2079, Stride: 1},
		{Lo: 0x2080, Hi: 0x2089, Stride: 1},
		{Lo: 0x2460, Hi: 0x2468, Stride: 1},
		{Lo: 0x2474, Hi: 0x247C, Stride: 1},
		{Lo: 0x2488, Hi: 0x2490, Stride: 1},
		{Lo: 0x24EA, Hi: 0x24EA, Stride: 1},
		{Lo: 0x24F5, Hi: 0x24FD, Stride: 1},
		{Lo: 0x24FF, Hi: 0x24FF, Stride: 1},
		{Lo: 0x2776, Hi: 0x277E, Stride: 1},
		{Lo: 0x2780, Hi: 0x2788, Stride: 1},
		{Lo: 0x278A, Hi: 0x2792, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x10A40, Hi: 0x10A43, Stride: 1},
		{Lo: 0x10E60, Hi: 0x10E68, Stride: 1},
		{Lo: 0x11052, Hi: 0x1105A, Stride: 1},
		{Lo: 0x1F100, Hi: 0x1F10A, Stride: 1},
	},
	LatinOffset: 2, // ranges ending at or below U+00FF
}
