package restauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// headerTransport adds fixed headers to every request, as a browser adds its fetch
// metadata and Referer.
type headerTransport struct {
	header http.Header
	base   http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.header {
		r.Header[k] = v
	}
	return h.base.RoundTrip(r)
}

// hopWith is hop with header added to the request.
func (b *ssoBrowser) hopWith(target string, header http.Header) *url.URL {
	b.t.Helper()
	prev := b.client.Transport
	base := prev
	if base == nil {
		base = http.DefaultTransport
	}
	b.client.Transport = headerTransport{header: header, base: base}
	defer func() { b.client.Transport = prev }()
	return b.hop(target)
}

// navigation is the headers of a browser navigation: Sec-Fetch-Site, then pairs of header
// name and value.
func navigation(site string, more ...string) http.Header {
	h := http.Header{}
	if site != "" {
		h.Set("Sec-Fetch-Site", site)
	}
	for i := 0; i+1 < len(more); i += 2 {
		h.Add(more[i], more[i+1])
	}
	return h
}

const trustedApp = "https://app.example.com"

// crossSiteEnv is an SSO server with the GitHub-shaped provider (answering as mallory's
// account), an extra trusted origin, open SSO registration and a password user "vic"
// (vic@example.com).
func crossSiteEnv(t *testing.T, configure ...func(*restauth.Config)) (*ssoEnv, *oauthProvider, *restauth.User) {
	t.Helper()
	p := newOAuthProvider(t)
	p.user = map[string]any{"id": 666, "login": "mallory", "email": "mallory@evil.example"}
	p.emails = []map[string]any{{"email": "mallory@evil.example", "primary": true, "verified": true}}
	e := newSSOEnv(t, append([]func(*restauth.Config){func(c *restauth.Config) {
		c.Social.Registration = true
		c.TrustedOrigins = []string{trustedApp}
		gh := p.githubAt()
		gh.DisplayName = "Company GitHub"
		c.Social.Providers = []restauth.SocialProvider{gh}
	}}, configure...)...)
	vic, _ := e.register("vic", goodPassword, "vic@example.com")
	e.verify(t, e.addresses(t, vic.ID)[0].ID) // notices go only to verified addresses
	return e, p, vic
}

// TestSocialStartCrossSite: login/ and connect/ refuse to start a flow the browser says
// another site sent it to, unless the page it came from is a trusted origin.
func TestSocialStartCrossSite(t *testing.T) {
	t.Parallel()
	const foreign = "https://evil.example/page"
	tests := []struct {
		name    string
		header  func(site string) http.Header
		allowed bool
	}{
		{"no headers (non-browser client)", func(string) http.Header { return navigation("") }, true},
		{"typed URL or bookmark", func(string) http.Header { return navigation("none") }, true},
		{"same origin", func(site string) http.Header { return navigation("same-origin", "Referer", site+"/platform/") }, true},
		{"cross-site from the site's origin", func(site string) http.Header {
			return navigation("cross-site", "Referer", site+"/platform/settings/account")
		}, true},
		{"same-site from a trusted origin", func(string) http.Header {
			return navigation("same-site", "Referer", "https://APP.example.com:443/settings")
		}, true},
		{"cross-site with a trusted Origin", func(string) http.Header { return navigation("cross-site", "Origin", trustedApp) }, true},
		{"no fetch metadata, Referer on the site", func(site string) http.Header { return navigation("", "Referer", site+"/x") }, true},

		{"cross-site from another site", func(string) http.Header { return navigation("cross-site", "Referer", foreign) }, false},
		{"same-site from an untrusted origin", func(string) http.Header {
			return navigation("same-site", "Referer", "https://other.example.com/")
		}, false},
		{"cross-site without Referer", func(string) http.Header { return navigation("cross-site") }, false},
		{"cross-site with Origin null", func(string) http.Header { return navigation("cross-site", "Origin", "null") }, false},
		{"cross-site, trusted Referer, foreign Origin", func(site string) http.Header {
			return navigation("cross-site", "Referer", site+"/", "Origin", "https://evil.example")
		}, false},
		{"cross-site, Referer on the site's host with another scheme", func(site string) http.Header {
			return navigation("cross-site", "Referer", strings.Replace(site, "http://", "https://", 1)+"/")
		}, false},
		{"unknown Sec-Fetch-Site without Referer", func(string) http.Header { return navigation("same-planet") }, false},
		{"no fetch metadata, foreign Referer", func(string) http.Header { return navigation("", "Referer", foreign) }, false},
		{"no fetch metadata, foreign Origin", func(string) http.Header { return navigation("", "Origin", "https://evil.example") }, false},
	}
	for _, tc := range tests {
		for _, connect := range []bool{true, false} {
			mode := "login"
			if connect {
				mode = "connect"
			}
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				e, p, vic := crossSiteEnv(t)
				b := e.ssoBrowser(p.srv.URL)
				if connect {
					b.login("vic", goodPassword)
				}
				mailsBefore := len(e.mailer.Messages())

				loc := b.hopWith("/api/auth/social/github/"+mode+"/", tc.header(e.srv.URL))
				if !tc.allowed {
					e.assertFailed(t, loc, "cross_site_request")
					assert.Empty(t, b.flowCookies(), "no flow was started")
					linked, err := e.store.SocialAccounts(t.Context(), vic.ID)
					require.NoError(t, err)
					assert.Empty(t, linked, "nothing was linked")
					_, err = e.store.UserByUsername(t.Context(), "mallory")
					require.ErrorIs(t, err, restauth.ErrNotFound, "nobody was created")
					if connect {
						assert.Equal(t, "vic", b.whoami())
					} else {
						assert.Equal(t, "", b.whoami())
					}
					assert.Len(t, e.mailer.Messages(), mailsBefore, "no mail")
					return
				}
				require.Equal(t, p.srv.URL+"/login/oauth/authorize", loc.Scheme+"://"+loc.Host+loc.Path, "the flow went to the provider")
				e.assertLanded(t, b.follow(loc.String()), "/platform/logged-in/")
				if connect {
					assert.Equal(t, "vic", b.whoami())
					linked, err := e.store.SocialAccounts(t.Context(), vic.ID)
					require.NoError(t, err)
					require.Len(t, linked, 1)
					assert.Equal(t, "666", linked[0].UID)
				} else {
					assert.Equal(t, "mallory", b.whoami())
				}
			})
		}
	}
}

// TestSocialCallbackCrossSite: the provider's site sends the browser to the callback, a
// cross-site navigation that must go through.
func TestSocialCallbackCrossSite(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"login", "connect"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e, p, vic := crossSiteEnv(t)
			b := e.ssoBrowser(p.srv.URL)
			if mode == "connect" {
				b.login("vic", goodPassword)
			}
			toProvider := b.hopWith("/api/auth/social/github/"+mode+"/", navigation("same-origin"))
			callback := b.hop(toProvider.String())
			require.Equal(t, "/api/auth/social/github/callback/", callback.Path)
			end := b.hopWith(callback.String(), navigation("cross-site", "Referer", p.srv.URL+"/"))
			e.assertLanded(t, end, "/platform/logged-in/")
			if mode == "connect" {
				assert.Equal(t, "vic", b.whoami())
				linked, err := e.store.SocialAccounts(t.Context(), vic.ID)
				require.NoError(t, err)
				assert.Len(t, linked, 1)
			} else {
				assert.Equal(t, "mallory", b.whoami())
			}
		})
	}
}

// connectedNotices are the "Third-Party Account Connected" mails sent so far.
func connectedNotices(e *ssoEnv) []*restauth.Message {
	var out []*restauth.Message
	for _, m := range e.mailer.Messages() {
		if strings.HasSuffix(m.Subject, "Third-Party Account Connected") {
			out = append(out, m)
		}
	}
	return out
}

// TestSocialConnectedNotice: linking a provider account to an existing user mails that
// user a notice; creating a user by SSO registration does not.
func TestSocialConnectedNotice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*restauth.Config)
		// run drives the flows in browser b against the provider p; vic exists.
		run func(t *testing.T, e *ssoEnv, p *oauthProvider, b *ssoBrowser, vic *restauth.User)
		// notice says whether vic gets exactly one notice (else nobody gets any).
		notice bool
	}{
		{"connect", nil, func(t *testing.T, e *ssoEnv, _ *oauthProvider, b *ssoBrowser, _ *restauth.User) {
			b.login("vic", goodPassword)
			e.assertLanded(t, b.follow("/api/auth/social/github/connect/"), "/platform/logged-in/")
		}, true},
		{"connecting the linked account again", nil, func(t *testing.T, e *ssoEnv, _ *oauthProvider, b *ssoBrowser, _ *restauth.User) {
			b.login("vic", goodPassword)
			e.assertLanded(t, b.follow("/api/auth/social/github/connect/"), "/platform/logged-in/")
			e.assertLanded(t, b.follow("/api/auth/social/github/connect/"), "/platform/logged-in/")
		}, true},
		{"connect refused (account in use)", nil, func(t *testing.T, e *ssoEnv, p *oauthProvider, b *ssoBrowser, _ *restauth.User) {
			e.assertLanded(t, e.ssoBrowser(p.srv.URL).follow("/api/auth/social/github/login/"), "/platform/logged-in/")
			b.login("vic", goodPassword)
			e.assertFailed(t, b.follow("/api/auth/social/github/connect/"), "account_in_use")
		}, false},
		{"connect with notices off", func(c *restauth.Config) { c.Mail.DisableSecurityNotifications = true },
			func(t *testing.T, e *ssoEnv, _ *oauthProvider, b *ssoBrowser, _ *restauth.User) {
				b.login("vic", goodPassword)
				e.assertLanded(t, b.follow("/api/auth/social/github/connect/"), "/platform/logged-in/")
			}, false},
		{"link by verified e-mail", func(c *restauth.Config) { c.Social.LinkByVerifiedEmail = true },
			func(t *testing.T, e *ssoEnv, p *oauthProvider, b *ssoBrowser, vic *restauth.User) {
				p.mu.Lock()
				p.emails = []map[string]any{{"email": "vic@example.com", "primary": true, "verified": true}}
				p.mu.Unlock()
				e.assertLanded(t, b.follow("/api/auth/social/github/login/"), "/platform/logged-in/")
				assert.Equal(t, "vic", b.whoami())
			}, true},
		{"SSO registration of a new user", nil, func(t *testing.T, e *ssoEnv, _ *oauthProvider, b *ssoBrowser, _ *restauth.User) {
			e.assertLanded(t, b.follow("/api/auth/social/github/login/"), "/platform/logged-in/")
			assert.Equal(t, "mallory", b.whoami())
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var configure []func(*restauth.Config)
			if tc.configure != nil {
				configure = append(configure, tc.configure)
			}
			e, p, vic := crossSiteEnv(t, configure...)
			tc.run(t, e, p, e.ssoBrowser(p.srv.URL), vic)
			notices := connectedNotices(e)
			if !tc.notice {
				assert.Empty(t, notices)
				return
			}
			require.Len(t, notices, 1)
			assert.Equal(t, []string{"vic@example.com"}, notices[0].To)
			assert.Equal(t, "[restauth] Third-Party Account Connected", notices[0].Subject)
			assert.Contains(t, notices[0].Text, "Company GitHub")
			assert.Contains(t, notices[0].HTML, "Company GitHub")
			assert.Contains(t, notices[0].Text, "vic")
		})
	}
}
