package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTokenName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"inventree python client":                   "inventree-python-client",
		"client<b>bold</b>":                         "clientbold",
		"Tom &amp; Jerry":                           "Tom-&-Jerry",
		"&lt;svg/onload=alert(document.domain)&gt;": "",
		"x&lt;b&gt;y":                               "xy",
		"  padded\u0007name  ":                      "paddedname",
	} {
		assert.Equal(t, want, TokenName(in, 100), "%q", in)
	}
}

func TestUsernameFrom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cands    []string
		maxLen   int
		fallback string
		want     string
	}{
		{[]string{"Bob Smith", "x"}, 150, "gh-user", "bobsmith"},
		{[]string{"", "ｊａｎｅ", ""}, 150, "gh-user", "jane"},
		{[]string{"!!!", "", "Ann Lee"}, 150, "gh-user", "annlee"},
		{[]string{"", "", ""}, 150, "gh-user", "gh-user"},
		{[]string{"abcdefgh"}, 5, "x", "abcde"},
		{nil, 3, "gh-user", "gh-"},
	} {
		assert.Equal(t, tc.want, UsernameFrom(tc.cands, tc.maxLen, tc.fallback), "%q", tc.cands)
	}
	assert.Equal(t, "hé", Clip("héllo", 2))
}
