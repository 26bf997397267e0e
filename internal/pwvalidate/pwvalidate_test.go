package pwvalidate

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// djangoDefaults is the chain restauth builds from a zero PasswordConfig: InvenTree's
// four validators with Django's default min_length.
var djangoDefaults = Validator{MinLength: 8, Similarity: true, Common: true, Numeric: true}

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
	v := &djangoDefaults
	jsmith := Attributes{Username: "johnsmith", FirstName: "John", LastName: "Smith", Email: "john.smith@example.com"}
	tests := []struct {
		password string
		attrs    Attributes
		want     []string
	}{
		{"Xk9#mQ2$vL7!", Attributes{}, nil},
		{"Xk9#mQ2$vL7!", jsmith, nil},
		{"", Attributes{}, []string{msgShort8}},
		{"short", Attributes{}, []string{msgShort8}},
		{"x", Attributes{}, []string{msgShort8, msgCommon}},
		{"1234567", Attributes{}, []string{msgShort8, msgCommon, msgNumeric}},
		{"12345678", Attributes{}, []string{msgCommon, msgNumeric}},
		{"password", Attributes{}, []string{msgCommon}},
		{"PassWord", Attributes{}, []string{msgCommon}},
		{"  password\t", Attributes{}, []string{msgCommon}},
		{"\x1cpassword\x1f", Attributes{}, []string{msgCommon}}, // Python's strip() removes U+001C–U+001F
		{"4815162342", Attributes{}, []string{msgCommon, msgNumeric}},
		{"98237645", Attributes{}, []string{msgNumeric}},
		{"²³¹⁴⁵⁶⁷⁸", Attributes{}, []string{msgNumeric}},
		{"٣٤٥٦٧٨٩٠١", Attributes{}, []string{msgNumeric}},
		{"①②③④⑤⑥⑦⑧", Attributes{}, []string{msgNumeric}},
		{"1234 5678", Attributes{}, nil},
		{"johnsmith", Attributes{Username: "johnsmith"}, []string{msgSimilarUsername}},
		{"JohnSmith1", Attributes{Username: "johnsmith"}, []string{msgSimilarUsername}},
		{"htimsnhoj", Attributes{Username: "johnsmith"}, []string{msgSimilarUsername}}, // quick_ratio ignores order
		{"johnny-b-goode", Attributes{Username: "johnsmith", Email: "john.smith@example.com"}, nil},
		{"examplepass", Attributes{Email: "john.smith@example.com"}, []string{msgSimilarEmail}},
		{"smith2000", Attributes{FirstName: "John", LastName: "Smith"}, []string{msgSimilarLastName}},
		{"john1999x", Attributes{FirstName: "John", LastName: "Smith"}, nil},
		{"a-very-long-password-with-john-in-it", Attributes{FirstName: "John"}, nil},
		{strings.Repeat("j", 40), Attributes{FirstName: "J"}, nil},
		{"jjjjjjjjjj", Attributes{FirstName: "j"}, []string{msgCommon}},
		{"jjjjjjjjj", Attributes{FirstName: "j"}, nil},
		{"abcdefghij", Attributes{FirstName: "a"}, []string{msgCommon}},
		{"abcdefghijklmnopqrst", Attributes{LastName: "ab"}, nil},
		{"ΣΊΣΥΦΟΣ99", Attributes{Username: "σίσυφος"}, []string{msgSimilarUsername}},
		{"İstanbul1", Attributes{Username: "istanbul"}, []string{msgSimilarUsername}},
		{"müller-lüdenscheidt", Attributes{LastName: "Müller-Lüdenscheidt"}, []string{msgSimilarLastName}},
		{"zzzz", Attributes{Username: "johnsmith"}, []string{msgShort8, msgCommon}},
		{"johnsmith", Attributes{Username: "@@@"}, nil},
		// "@x" splits into "" and "x"; an empty password against the empty part is a
		// quick_ratio of 1.0 (both empty), which Django reports.
		{"", Attributes{Email: "@x"}, []string{msgSimilarEmail, msgShort8}},
		{"12345", Attributes{Username: "12345"}, []string{msgSimilarUsername, msgShort8, msgCommon, msgNumeric}},
		// Only the first similar attribute is reported, in Django's attribute order.
		{"qwerty", Attributes{Username: "qwerty", FirstName: "qwerty", LastName: "qwerty", Email: "qwerty@qwerty.com"}, []string{msgSimilarUsername, msgShort8, msgCommon}},
		{"mary_ann_2024", Attributes{FirstName: "Mary_Ann"}, []string{msgSimilarFirstName}},
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
	attrs := Attributes{Username: "alice", FirstName: "Alice", LastName: "Liddell", Email: "alice@wonderland.example"}
	tests := []struct {
		name     string
		cfg      Validator
		password string
		attrs    Attributes
		want     []string
	}{
		{"username", djangoDefaults, "alice-42", Attributes{Username: "alice"}, []string{msgSimilarUsername}},
		{"first name", djangoDefaults, "Bartholomew", Attributes{FirstName: "Bartholomew"}, []string{msgSimilarFirstName}},
		{"last name", djangoDefaults, "liddell!!", attrs, []string{msgSimilarLastName}},
		{"email part (and common)", djangoDefaults, "wonderland", attrs, []string{msgSimilarEmail, msgCommon}},
		{"whole email", djangoDefaults, "xalice@wonderland.example", Attributes{Email: "alice@wonderland.example"}, []string{msgSimilarEmail}},
		{"too short", djangoDefaults, "Zq8#v", attrs, []string{msgShort8}},
		{"min length 12", Validator{MinLength: 12, Similarity: true, Common: true, Numeric: true}, "Zq8#vLm2$kP", attrs, []string{"This password is too short. It must contain at least 12 characters."}},
		{"min length 1 singular", Validator{MinLength: 1, Similarity: true, Common: true, Numeric: true}, "", Attributes{}, []string{"This password is too short. It must contain at least 1 character."}},
		{"min length counts code points", djangoDefaults, "ÄÖÜäöüß€", attrs, nil},
		{"common", djangoDefaults, "iloveyou", attrs, []string{msgCommon}},
		{"numeric", djangoDefaults, "90817263545", attrs, []string{msgNumeric}},
		{"all four", djangoDefaults, "12345", Attributes{Username: "12345"}, []string{msgSimilarUsername, msgShort8, msgCommon, msgNumeric}},
		{"similarity disabled", Validator{MinLength: 8, Common: true, Numeric: true}, "alice-42", attrs, nil},
		{"common disabled", Validator{MinLength: 8, Similarity: true, Numeric: true}, "iloveyou", attrs, nil},
		{"numeric disabled", Validator{MinLength: 8, Similarity: true, Common: true}, "90817263545", attrs, nil},
		{"all disabled but length", Validator{MinLength: 8}, "12345", Attributes{Username: "12345"}, []string{msgShort8}},
		{"no attributes", djangoDefaults, "alice-42", Attributes{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.cfg.Validate(tt.password, tt.attrs))
		})
	}
}

func TestPasswordValidateLongInputs(t *testing.T) {
	t.Parallel()
	// Long attributes and passwords stay cheap (quick_ratio is linear) and behave.
	v := &djangoDefaults
	long := strings.Repeat("abcdefghij", 1000)
	assert.Equal(t, []string{msgSimilarUsername}, v.Validate(long, Attributes{Username: long}))
	assert.Nil(t, v.Validate(long, Attributes{Username: "abc"}))
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

// TestCheckCodes: each refusal carries Django's code beside the message Validate returns.
func TestCheckCodes(t *testing.T) {
	t.Parallel()
	jsmith := Attributes{Username: "johnsmith"}
	for _, tc := range []struct {
		password string
		want     []string
	}{
		{"johnsmith1", []string{CodeTooSimilar}},
		{"1234", []string{CodeTooShort, CodeTooCommon, CodeEntirelyNumeric}},
		{"password", []string{CodeTooCommon}},
		{"correct horse battery staple", nil},
	} {
		t.Run(tc.password, func(t *testing.T) {
			var codes, msgs []string
			for _, p := range djangoDefaults.Check(tc.password, jsmith) {
				codes, msgs = append(codes, p.Code), append(msgs, p.Message)
			}
			assert.Equal(t, tc.want, codes)
			assert.Equal(t, djangoDefaults.Validate(tc.password, jsmith), msgs)
		})
	}
}
