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
