package restauth

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/restauth/restauth/internal/commonpw"
)

// passwordAttributes are the user fields Django's UserAttributeSimilarityValidator
// compares a new password with (its DEFAULT_USER_ATTRIBUTES). Empty fields are skipped.
type passwordAttributes struct{ Username, FirstName, LastName, Email string }

// passwordValidator is Django's default AUTH_PASSWORD_VALIDATORS chain, as InvenTree
// configures it: UserAttributeSimilarityValidator, MinimumLengthValidator,
// CommonPasswordValidator, NumericPasswordValidator.
type passwordValidator struct {
	minLength                   int
	similarity, common, numeric bool
}

// Django's messages, word for word, so clients that match on them keep working.
const (
	msgTooSimilarFmt  = "The password is too similar to the %s."
	msgTooShortOne    = "This password is too short. It must contain at least %d character."
	msgTooShortOther  = "This password is too short. It must contain at least %d characters."
	msgTooCommon      = "This password is too common."
	msgEntirelyNumber = "This password is entirely numeric."
)

// maxSimilarity is Django's default UserAttributeSimilarityValidator max_similarity.
const maxSimilarity = 0.7

// newPasswordValidator builds the validator chain. MinLength 0 means the default 8;
// newPasswordHasher, which the Service calls on the same config, rejects negatives.
func newPasswordValidator(cfg PasswordConfig) *passwordValidator {
	minLength := cfg.MinLength
	if minLength <= 0 {
		minLength = defaultMinLength
	}
	return &passwordValidator{
		minLength:  minLength,
		similarity: !cfg.DisableSimilarityValidator,
		common:     !cfg.DisableCommonValidator,
		numeric:    !cfg.DisableNumericValidator,
	}
}

// Validate runs every enabled validator and returns all their messages in Django's
// order (as django.contrib.auth.password_validation.validate_password collects them),
// or nil when the password is acceptable. Messages never contain the password.
func (v *passwordValidator) Validate(password string, attrs passwordAttributes) []string {
	var errs []string
	if v.similarity {
		if field := similarAttribute(password, attrs); field != "" {
			errs = append(errs, fmt.Sprintf(msgTooSimilarFmt, field))
		}
	}
	// Python's len counts code points.
	if utf8.RuneCountInString(password) < v.minLength {
		format := msgTooShortOther // English ngettext: singular only for exactly 1
		if v.minLength == 1 {
			format = msgTooShortOne
		}
		errs = append(errs, fmt.Sprintf(format, v.minLength))
	}
	if v.common && commonpw.Contains(strings.TrimFunc(pyLower(password), pyIsSpace)) {
		errs = append(errs, msgTooCommon)
	}
	if v.numeric && pyIsDigitString(password) {
		errs = append(errs, msgEntirelyNumber)
	}
	return errs
}

// similarAttribute returns the verbose name of the first attribute (in Django's order)
// the password is too similar to, or "". It follows Django 4.2's
// UserAttributeSimilarityValidator.validate: the lower-cased password is compared with
// each lower-cased attribute, split on runs of non-word characters, and with the whole
// attribute; a part is "too similar" when SequenceMatcher(a=password, b=part).quick_ratio()
// reaches 0.7. Django calls only quick_ratio (the multiset upper bound), not ratio, so
// neither does this. Parts so short that the password is at least ten times longer are
// skipped first (exceeds_maximum_length_ratio), which also bounds the work.
func similarAttribute(password string, attrs passwordAttributes) string {
	pw := []rune(pyLower(password))
	for _, attr := range [...]struct{ value, name string }{
		{attrs.Username, "username"},
		{attrs.FirstName, "first name"},
		{attrs.LastName, "last name"},
		{attrs.Email, "email address"},
	} {
		if attr.value == "" {
			continue
		}
		lower := pyLower(attr.value)
		for _, part := range append(splitNonWord(lower), lower) {
			p := []rune(part)
			if exceedsMaximumLengthRatio(len(pw), len(p)) {
				continue
			}
			if quickRatio(pw, p) >= maxSimilarity {
				return attr.name
			}
		}
	}
	return ""
}

// exceedsMaximumLengthRatio is Django's exceeds_maximum_length_ratio: a value at most a
// tenth of the password's length, and shorter than max_similarity/2 of it, cannot reach
// the similarity threshold, so SequenceMatcher is skipped. Computed in float64 in the
// same order as Python so the boundary falls on the same lengths.
func exceedsMaximumLengthRatio(pwdLen, valueLen int) bool {
	lengthBoundSimilarity := maxSimilarity / 2 * float64(pwdLen)
	return pwdLen >= 10*valueLen && float64(valueLen) < lengthBoundSimilarity
}

// quickRatio is difflib.SequenceMatcher(a=a, b=b).quick_ratio(): 2·M/T where M is the
// size of the multiset intersection of the two sequences' elements and T the sum of
// their lengths (1.0 when both are empty). Junk heuristics (autojunk) play no part in
// quick_ratio, so none are needed.
func quickRatio(a, b []rune) float64 {
	if len(a)+len(b) == 0 {
		return 1.0
	}
	avail := make(map[rune]int, len(b))
	for _, r := range b {
		avail[r]++
	}
	matches := 0
	for _, r := range a {
		if avail[r] > 0 {
			matches++
		}
		avail[r]--
	}
	return 2.0 * float64(matches) / float64(len(a)+len(b))
}

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
