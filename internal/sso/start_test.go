package sso

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStartAllowed(t *testing.T) {
	t.Parallel()
	trusted := []string{"https://example.com/", "https://app.example.net:443"}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"same-origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"}, true},
		{"typed URL", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"cross-site without source", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"cross-site from a trusted origin", map[string]string{"Sec-Fetch-Site": "same-site", "Referer": "https://app.example.net/page"}, true},
		{"cross-site from elsewhere", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"no metadata, no source", map[string]string{}, true},
		{"no metadata, foreign referer", map[string]string{"Referer": "https://evil.example/"}, false},
		{"no metadata, null origin", map[string]string{"Origin": "null"}, false},
		{"no metadata, own origin", map[string]string{"Origin": "https://EXAMPLE.com"}, true},
	} {
		h := http.Header{}
		for k, v := range tc.headers {
			h.Set(k, v)
		}
		assert.Equal(t, tc.want, StartAllowed(h, trusted), tc.name)
	}
}
