// Package pwvalidate is Django's default AUTH_PASSWORD_VALIDATORS chain, as InvenTree
// configures it: UserAttributeSimilarityValidator, MinimumLengthValidator,
// CommonPasswordValidator and NumericPasswordValidator, with the Python string semantics
// (lower-casing, white space, digits, \W splitting) they depend on, so a password is
// refused exactly when Django would refuse it, with Django's own messages.
package pwvalidate

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/restauth/restauth/internal/commonpw"
)

// Attributes are the user fields Django's UserAttributeSimilarityValidator compares a
// new password with (its DEFAULT_USER_ATTRIBUTES). Empty fields are skipped.
type Attributes struct{ Username, FirstName, LastName, Email string }

// Validator is the validator chain; each field switches one of Django's validators.
type Validator struct {
	// MinLength is MinimumLengthValidator's min_length, counted in code points; the
	// length check always runs.
	MinLength int
	// Similarity, Common and Numeric enable UserAttributeSimilarityValidator,
	// CommonPasswordValidator and NumericPasswordValidator.
	Similarity, Common, Numeric bool
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

// Django's error codes of the validators (the code of each ValidationError they raise),
// which allauth's headless API shows beside the message.
const (
	CodeTooSimilar      = "password_too_similar"
	CodeTooShort        = "password_too_short"
	CodeTooCommon       = "password_too_common"
	CodeEntirelyNumeric = "password_entirely_numeric"
)

// Problem is one validator's refusal: Django's code and message.
type Problem struct{ Code, Message string }

// Validate runs every enabled validator and returns all their messages in Django's
// order (as django.contrib.auth.password_validation.validate_password collects them),
// or nil when the password is acceptable. Messages never contain the password.
func (v *Validator) Validate(password string, attrs Attributes) []string {
	var msgs []string
	for _, p := range v.Check(password, attrs) {
		msgs = append(msgs, p.Message)
	}
	return msgs
}

// Check is Validate with each message's code.
func (v *Validator) Check(password string, attrs Attributes) []Problem {
	var errs []Problem
	if v.Similarity {
		if field := similarAttribute(password, attrs); field != "" {
			errs = append(errs, Problem{CodeTooSimilar, fmt.Sprintf(msgTooSimilarFmt, field)})
		}
	}
	// Python's len counts code points.
	if utf8.RuneCountInString(password) < v.MinLength {
		format := msgTooShortOther // English ngettext: singular only for exactly 1
		if v.MinLength == 1 {
			format = msgTooShortOne
		}
		errs = append(errs, Problem{CodeTooShort, fmt.Sprintf(format, v.MinLength)})
	}
	if v.Common && commonpw.Contains(strings.TrimFunc(pyLower(password), pyIsSpace)) {
		errs = append(errs, Problem{CodeTooCommon, msgTooCommon})
	}
	if v.Numeric && pyIsDigitString(password) {
		errs = append(errs, Problem{CodeEntirelyNumeric, msgEntirelyNumber})
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
func similarAttribute(password string, attrs Attributes) string {
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
