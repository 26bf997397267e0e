package restauth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubStore satisfies Store for the config checks, which only ask that one is set.
type stubStore struct{ Store }

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	base := func() Config {
		return Config{Store: stubStore{}, Secret: make([]byte, 32), SiteURL: "https://example.com/base/?q=1#f"}
	}
	tests := []struct {
		name  string
		in    func() Config
		check func(t *testing.T, c Config)
	}{
		{"zero config", base, func(t *testing.T, c Config) {
			assert.Equal(t, "https://example.com/base", c.SiteURL)
			assert.Equal(t, "/api/auth/", c.Prefix)
			assert.Equal(t, "/api/user/", c.UserPrefix)
			assert.Equal(t, VerificationOptional, c.EmailVerification)
			assert.Equal(t, 3*24*time.Hour, c.PasswordResetTimeout)
			assert.Equal(t, 3*24*time.Hour, c.EmailConfirmationExpiry)
			assert.Equal(t, TokenConfig{Prefix: "inv-", Lifetime: 365 * 24 * time.Hour, MaxPerUser: 100}, c.Tokens)
			assert.Equal(t, 20, c.MaxEmailAddresses)
			assert.Equal(t, LinkConfig{
				PasswordReset: "/platform/set-password?uid={uid}&token={token}",
				EmailConfirm:  "/api/auth/registration/account-confirm-email/{key}/",
				// allauth's HEADLESS_FRONTEND_URLS, for mails of flows the headless dialect started.
				HeadlessEmailConfirm:  "/account/verify-email/{key}",
				HeadlessPasswordReset: "/account/password/reset/key/{key}",
				Login:                 "/platform/login",
				AfterLogin:            "/platform",
			}, c.Links)
			assert.Equal(t, "[restauth] ", c.Mail.SubjectPrefix)
			assert.NotNil(t, c.Mail.Mailer)
			assert.Equal(t, "/platform/logged-in/", c.Social.LoginRedirect)
			assert.Equal(t, "/platform/logged-in/", c.Social.ConnectRedirect)
			assert.Equal(t, "/platform/login?sso_error={reason}", c.Social.ErrorRedirect)
			assert.Equal(t, DefaultRateLimits(), c.RateLimits)
			assert.NotNil(t, c.Limiter)
			assert.Equal(t, "argon2", c.Passwords.Algorithm)
			assert.Equal(t, defaultMinLength, c.Passwords.MinLength)
			assert.Positive(t, c.Passwords.MaxConcurrentHashes)
			assert.Equal(t, int64(1<<20), c.MaxBodyBytes)
			assert.NotNil(t, c.Logger)
			assert.NotNil(t, c.Now)
			assert.Empty(t, c.SiteName, "SiteName's default is taken where mail is rendered")
			assert.Empty(t, c.MFA.Issuer, "MFA.Issuer's default is taken where the otpauth URL is built")
		}},
		{"connect redirect follows login redirect", func() Config {
			c := base()
			c.Social.LoginRedirect = "/done/"
			return c
		}, func(t *testing.T, c Config) {
			assert.Equal(t, "/done/", c.Social.ConnectRedirect)
		}},
		{"set values are kept", func() Config {
			c := base()
			c.Tokens = TokenConfig{Prefix: "tok-", Lifetime: time.Hour, MaxPerUser: 7}
			c.Links.EmailConfirm = "/confirm/{key}/"
			c.Mail.SubjectPrefix = "[InvenTree] "
			c.Social.ConnectRedirect = "/settings/"
			return c
		}, func(t *testing.T, c Config) {
			assert.Equal(t, TokenConfig{Prefix: "tok-", Lifetime: time.Hour, MaxPerUser: 7}, c.Tokens)
			assert.Equal(t, "/confirm/{key}/", c.Links.EmailConfirm)
			assert.Equal(t, "[InvenTree] ", c.Mail.SubjectPrefix)
			assert.Equal(t, "/settings/", c.Social.ConnectRedirect)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.in()
			got, err := in.withDefaults()
			require.NoError(t, err)
			tc.check(t, got)
			// The caller's value is a copy and stays as it was.
			assert.Equal(t, tc.in(), in)
			// Defaults are settled: applying them again changes nothing.
			again, err := got.withDefaults()
			require.NoError(t, err)
			assert.Equal(t, got.Mail, again.Mail)
			assert.Equal(t, got.Social, again.Social)
			assert.Equal(t, got.Passwords, again.Passwords)
			assert.Equal(t, got.RateLimits, again.RateLimits)
			assert.Equal(t, got.SiteURL, again.SiteURL)
			assert.True(t, got.Limiter == again.Limiter, "the default limiter is kept")
		})
	}
}

func TestConfigWithDefaultsRefuses(t *testing.T) {
	t.Parallel()
	tests := map[string]func(c *Config){
		"no store":              func(c *Config) { c.Store = nil },
		"short secret":          func(c *Config) { c.Secret = c.Secret[:31] },
		"relative site":         func(c *Config) { c.SiteURL = "example.com" },
		"bad prefix":            func(c *Config) { c.Prefix = "api/auth" },
		"unknown verify mode":   func(c *Config) { c.EmailVerification = "sometimes" },
		"reset link no token":   func(c *Config) { c.Links.PasswordReset = "/reset?uid={uid}" },
		"confirm link no key":   func(c *Config) { c.Links.EmailConfirm = "/verify" },
		"login link not a path": func(c *Config) { c.Links.Login = "https://evil.example/login" },
		"duplicate rule name": func(c *Config) {
			c.RateLimits.ResetPerIP = RateRule{Name: RuleSignupIP, Limit: 1, Window: time.Minute}
		},
		"negative min length": func(c *Config) { c.Passwords.MinLength = -1 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Config{Store: stubStore{}, Secret: make([]byte, 32), SiteURL: "https://example.com"}
			mutate(&c)
			_, err := c.withDefaults()
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
}
