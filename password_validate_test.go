package restauth

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	msgSimilarUsername  = "The password is too similar to the username."
	msgSimilarFirstName = "The password is too similar to the first name."
	msgSimilarLastName  = "The password is too similar to the last name."
	msgSimilarEmail     = "The password is too similar to the email address."
	msgShort8           = "This password is too short. It must contain at least 8 characters."
	msgCommon           = "This password is too common."
	msgNumeric          = "This password is entirely numeric."
)

// TestPasswordValidateMatchesDjango holds facts: each row's messages are what Django's
// validate_password returned for the same password and an unsaved
// django.contrib.auth.models.User with the same fields, under the four default
// validators (Debian's python3-django 3.2.25, whose UserAttributeSimilarityValidator has
// Django 4.2's exceeds_maximum_length_ratio).
func TestPasswordValidateMatchesDjango(t *testing.T) {
	t.Parallel()
	v := newPasswordValidator(PasswordConfig{})
	jsmith := passwordAttributes{Username: "johnsmith", FirstName: "John", LastName: "Smith", Email: "john.smith@example.com"}
	tests := []struct {
		password string
		attrs    passwordAttributes
		want     []string
	}{
		{"Xk9#mQ2$vL7!", passwordAttributes{}, nil},
		{"Xk9#mQ2$vL7!", jsmith, nil},
		{"", passwordAttributes{}, []string{msgShort8}},
		{"short", passwordAttributes{}, []string{msgShort8}},
		{"x", passwordAttributes{}, []string{msgShort8, msgCommon}},
		{"1234567", passwordAttributes{}, []string{msgShort8, msgCommon, msgNumeric}},
		{"12345678", passwordAttributes{}, []string{msgCommon, msgNumeric}},
		{"password", passwordAttributes{}, []string{msgCommon}},
		{"PassWord", passwordAttributes{}, []string{msgCommon}},
		{"  password\t", passwordAttributes{}, []string{msgCommon}},
		{"\x1cpassword\x1f", passwordAttributes{}, []string{msgCommon}}, // Python's strip() removes U+001C–U+001F
		{"4815162342", passwordAttributes{}, []string{msgCommon, msgNumeric}},
		{"98237645", passwordAttributes{}, []string{msgNumeric}},
		{"²³¹⁴⁵⁶⁷⁸", passwordAttributes{}, []string{msgNumeric}},
		{"٣٤٥٦٧٨٩٠١", passwordAttributes{}, []string{msgNumeric}},
		{"①②③④⑤⑥⑦⑧", passwordAttributes{}, []string{msgNumeric}},
		{"1234 5678", passwordAttributes{}, nil},
		{"johnsmith", passwordAttributes{Username: "johnsmith"}, []string{msgSimilarUsername}},
		{"JohnSmith1", passwordAttributes{Username: "johnsmith"}, []string{msgSimilarUsername}},
		{"htimsnhoj", passwordAttributes{Username: "johnsmith"}, []string{msgSimilarUsername}}, // quick_ratio ignores order
		{"johnny-b-goode", passwordAttributes{Username: "johnsmith", Email: "john.smith@example.com"}, nil},
		{"examplepass", passwordAttributes{Email: "john.smith@example.com"}, []string{msgSimilarEmail}},
		{"smith2000", passwordAttributes{FirstName: "John", LastName: "Smith"}, []string{msgSimilarLastName}},
		{"john1999x", passwordAttributes{FirstName: "John", LastName: "Smith"}, nil},
		{"a-very-long-password-with-john-in-it", passwordAttributes{FirstName: "John"}, nil},
		{strings.Repeat("j", 40), passwordAttributes{FirstName: "J"}, nil},
		{"jjjjjjjjjj", passwordAttributes{FirstName: "j"}, []string{msgCommon}},
		{"jjjjjjjjj", passwordAttributes{FirstName: "j"}, nil},
		{"abcdefghij", passwordAttributes{FirstName: "a"}, []string{msgCommon}},
		{"abcdefghijklmnopqrst", passwordAttributes{LastName: "ab"}, nil},
		{"ΣΊΣΥΦΟΣ99", passwordAttributes{Username: "σίσυφος"}, []string{msgSimilarUsername}},
		{"İstanbul1", passwordAttributes{Username: "istanbul"}, []string{msgSimilarUsername}},
		{"müller-lüdenscheidt", passwordAttributes{LastName: "Müller-Lüdenscheidt"}, []string{msgSimilarLastName}},
		{"zzzz", passwordAttributes{Username: "johnsmith"}, []string{msgShort8, msgCommon}},
		{"johnsmith", passwordAttributes{Username: "@@@"}, nil},
		// "@x" splits into "" and "x"; an empty password against the empty part is a
		// quick_ratio of 1.0 (both empty), which Django reports.
		{"", passwordAttributes{Email: "@x"}, []string{msgSimilarEmail, msgShort8}},
		{"12345", passwordAttributes{Username: "12345"}, []string{msgSimilarUsername, msgShort8, msgCommon, msgNumeric}},
		// Only the first similar attribute is reported, in Django's attribute order.
		{"qwerty", passwordAttributes{Username: "qwerty", FirstName: "qwerty", LastName: "qwerty", Email: "qwerty@qwerty.com"}, []string{msgSimilarUsername, msgShort8, msgCommon}},
		{"mary_ann_2024", passwordAttributes{FirstName: "Mary_Ann"}, []string{msgSimilarFirstName}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.password), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, v.Validate(tt.password, tt.attrs))
		})
	}
}

func TestPasswordValidateEachMessage(t *testing.T) {
	t.Parallel()
	attrs := passwordAttributes{Username: "alice", FirstName: "Alice", LastName: "Liddell", Email: "alice@wonderland.example"}
	tests := []struct {
		name     string
		cfg      PasswordConfig
		password string
		attrs    passwordAttributes
		want     []string
	}{
		{"username", PasswordConfig{}, "alice-42", passwordAttributes{Username: "alice"}, []string{msgSimilarUsername}},
		{"first name", PasswordConfig{}, "Bartholomew", passwordAttributes{FirstName: "Bartholomew"}, []string{msgSimilarFirstName}},
		{"last name", PasswordConfig{}, "liddell!!", attrs, []string{msgSimilarLastName}},
		{"email part (and common)", PasswordConfig{}, "wonderland", attrs, []string{msgSimilarEmail, msgCommon}},
		{"whole email", PasswordConfig{}, "xalice@wonderland.example", passwordAttributes{Email: "alice@wonderland.example"}, []string{msgSimilarEmail}},
		{"too short", PasswordConfig{}, "Zq8#v", attrs, []string{msgShort8}},
		{"min length 12", PasswordConfig{MinLength: 12}, "Zq8#vLm2$kP", attrs, []string{"This password is too short. It must contain at least 12 characters."}},
		{"min length 1 singular", PasswordConfig{MinLength: 1}, "", passwordAttributes{}, []string{"This password is too short. It must contain at least 1 character."}},
		{"min length counts code points", PasswordConfig{}, "ÄÖÜäöüß€", attrs, nil},
		{"common", PasswordConfig{}, "iloveyou", attrs, []string{msgCommon}},
		{"numeric", PasswordConfig{}, "90817263545", attrs, []string{msgNumeric}},
		{"all four", PasswordConfig{}, "12345", passwordAttributes{Username: "12345"}, []string{msgSimilarUsername, msgShort8, msgCommon, msgNumeric}},
		{"similarity disabled", PasswordConfig{DisableSimilarityValidator: true}, "alice-42", attrs, nil},
		{"common disabled", PasswordConfig{DisableCommonValidator: true}, "iloveyou", attrs, nil},
		{"numeric disabled", PasswordConfig{DisableNumericValidator: true}, "90817263545", attrs, nil},
		{"all disabled but length", PasswordConfig{DisableSimilarityValidator: true, DisableCommonValidator: true, DisableNumericValidator: true}, "12345", passwordAttributes{Username: "12345"}, []string{msgShort8}},
		{"no attributes", PasswordConfig{}, "alice-42", passwordAttributes{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, newPasswordValidator(tt.cfg).Validate(tt.password, tt.attrs))
		})
	}
}

func TestPasswordValidateLongInputs(t *testing.T) {
	t.Parallel()
	// Long attributes and passwords stay cheap (quick_ratio is linear) and behave.
	v := newPasswordValidator(PasswordConfig{})
	long := strings.Repeat("abcdefghij", 1000)
	assert.Equal(t, []string{msgSimilarUsername}, v.Validate(long, passwordAttributes{Username: long}))
	assert.Nil(t, v.Validate(long, passwordAttributes{Username: "abc"}))
}

// The building blocks below are compared with CPython 3.11 outputs.

func TestPasswordQuickRatio(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"password", "drowssap", 1.0},
		{"abc", "xyz", 0.0},
		{"johnsmith", "john", 0.6153846153846154},
		{"", "", 1.0},
		{"aab", "abb", 0.6666666666666666},
		{"smith2000", "smith", 0.7142857142857143},
	} {
		assert.Equal(t, tt.want, quickRatio([]rune(tt.a), []rune(tt.b)), "%q %q", tt.a, tt.b)
	}
}

func TestPasswordSplitNonWord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"john.smith@example.com": {"john", "smith", "example", "com"},
		"@x":                     {"", "x"},
		"a..b":                   {"a", "b"},
		"_under_score_":          {"_under_score_"},
		"müller-lüdenscheidt":    {"müller", "lüdenscheidt"},
		"tab\tsep":               {"tab", "sep"},
		"":                       {""},
		"..":                     {"", ""},
		"x.":                     {"x", ""},
		"日本語テキスト":                {"日本語テキスト"},
		"a\u0301b":               {"a", "b"}, // combining marks are not \w in Python
	} {
		assert.Equal(t, want, splitNonWord(in), "%q", in)
	}
}

func TestPasswordPyLower(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ΣΊΣΥΦΟΣ":     "σίσυφος",
		"ΟΔΟΣ ΟΔΟΣ.":  "οδος οδος.",
		"Σ":           "σ",
		"AΣ":          "aς",
		"AΣB":         "aσb",
		"A'Σ'":        "a'ς'",
		"İSTANBUL":    "i̇stanbul",
		"ÀÉÎ":         "àéî",
		"ΑΣ\u0301":    "ας\u0301",
		"Plain ASCII": "plain ascii",
	} {
		assert.Equal(t, want, pyLower(in), "%q", in)
	}
}

func TestPasswordPyIsDigit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"":           false,
		"0123":       true,
		"²³":         true,
		"①":          true,
		"٣٤":         true,
		"१२३":        true,  // Devanagari
		"½":          false, // Numeric_Type=Numeric, not Digit
		"Ⅻ":          false,
		"12a":        false,
		"12 ":        false,
		"\U0001F101": true, // DIGIT ZERO COMMA
		"፩፱":         true, // Ethiopic digits, Numeric_Type=Digit in category No
	} {
		assert.Equal(t, want, pyIsDigitString(in), "%q", in)
	}
}

func TestPasswordNumericTypeDigitTable(t *testing.T) {
	t.Parallel()
	// Python 3.11: sum(c.isdigit() and not c.isdecimal() for c in map(chr, range(0x110000)))
	// is 128, all in category No.
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.Is(pyNumericTypeDigit, r) {
			n++
			require.True(t, unicode.Is(unicode.No, r), "%U", r)
		}
	}
	assert.Equal(t, 128, n)
}
