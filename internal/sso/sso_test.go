package sso

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClaimString(t *testing.T) {
	t.Parallel()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"id": 12345678901234567890, "data": {"name": "x", "n": 7}, "f": true}`))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	for path, want := range map[string]string{
		"id": "12345678901234567890", "data.name": "x", "data.n": "7", "f": "", "missing": "", "id.x": "",
	} {
		assert.Equal(t, want, claimString(m, path), path)
	}
	assert.Equal(t, "1.5", claimString(map[string]any{"v": 1.5}, "v"))
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	oauth := Config{ID: "plain", AuthURL: "https://p.example/a", TokenURL: "https://p.example/t", UserInfoURL: "https://p.example/u"}
	for name, c := range map[string]Config{
		"both kinds":       {Issuer: "https://sso.example", AuthURL: "https://p.example/a"},
		"relative issuer":  {Issuer: "/realms/x"},
		"no user-info":     {AuthURL: oauth.AuthURL, TokenURL: oauth.TokenURL},
		"user info in url": {AuthURL: "https://u:p@p.example/a", TokenURL: oauth.TokenURL, UserInfoURL: oauth.UserInfoURL},
		"bad emails url":   {AuthURL: oauth.AuthURL, TokenURL: oauth.TokenURL, UserInfoURL: oauth.UserInfoURL, EmailsURL: "ftp://x"},
		"reserved param":   {Issuer: "https://sso.example", AuthParams: map[string]string{"state": "x"}},
	} {
		_, err := New(c)
		assert.Error(t, err, name)
	}
	p, err := New(Config{Issuer: "https://sso.example", Scopes: []string{"email"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"openid", "email"}, p.cfg.Scopes, "openid is always requested")
	assert.Equal(t, "sub", p.cfg.Fields.UID)
	p, err = New(oauth)
	require.NoError(t, err)
	assert.Empty(t, p.cfg.Scopes)
	assert.False(t, p.IsOIDC())
}

func TestNewClientLimitsBodies(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(make([]byte, maxBodyBytes+10))
	}))
	defer srv.Close()
	res, err := NewClient(srv.Client()).Get(srv.URL)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Len(t, b, maxBodyBytes)
}

func TestURLChecks(t *testing.T) {
	t.Parallel()
	site, err := url.Parse("https://example.com")
	require.NoError(t, err)
	for raw, want := range map[string]string{
		"/x?a=1":                      "https://example.com/x?a=1",
		"https://EXAMPLE.com/y":       "https://EXAMPLE.com/y",
		"//evil.example/":             "",
		"https://evil.example/":       "",
		"/a\\b":                       "",
		"/a b":                        "",
		"javascript:alert(1)":         "",
		"https://u@example.com/":      "",
		"/" + strings.Repeat("a", 30): "",
	} {
		assert.Equal(t, want, SafeNext(site, raw, 30), raw)
	}
	for v, want := range map[string]string{
		"/done/":                           "https://example.com/done/",
		"https://example.com/e?r={reason}": "https://example.com/e?r={reason}",
		"//evil.example/":                  "",
		"https://evil.example/":            "",
		"/a b":                             "",
	} {
		got, ok := SiteRedirect(site, v)
		assert.Equal(t, want, got, v)
		assert.Equal(t, want != "", ok, v)
	}
	for raw, want := range map[string]string{
		"https://Example.COM:443": "https://example.com", "http://a.example:80/x": "http://a.example",
		"http://a.example:8080": "http://a.example:8080", "null": "", "ftp://a.example": "", "https://u@a.example": "",
	} {
		assert.Equal(t, want, OriginKey(raw), raw)
	}
	for raw, want := range map[string]string{
		"/login": "/login?e=r", "/login?x=1": "/login?x=1&e=r", "/login?": "/login?e=r", "/l?x=1&#f": "/l?x=1&e=r#f",
	} {
		assert.Equal(t, want, AddQueryParam(raw, "e", "r"), raw)
	}
}
