package restauth_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// A plain OAuth2 access token names no audience: the provider answers user-info for a
// token any of its clients obtained. Accepted alone by the token flow, a token the user
// granted another application (or another site's "log in with" button) logs that
// application in here as the user. The token flow refuses it unless the provider is
// marked as issuing tokens to this site's clients only (SocialProvider.AccessTokenLogin).
func TestProviderTokenRefusesBareOAuth2AccessToken(t *testing.T) {
	t.Parallel()
	for _, optIn := range []bool{false, true} {
		p := newOAuthProvider(t)
		p.user = map[string]any{"id": json.Number("4242"), "login": "octo", "email": "octo@example.com"}
		p.emails = []map[string]any{{"email": "octo@example.com", "primary": true, "verified": true}}
		e := newSSOEnv(t, func(c *restauth.Config) {
			c.Social.Registration = true
			c.Social.LinkByVerifiedEmail = true
			gh := p.githubAt()
			gh.AccessTokenLogin = optIn
			c.Social.Providers = []restauth.SocialProvider{gh}
		})
		ctx := t.Context()
		res, err := e.svc.LoginWithProviderToken(ctx, restauth.ProviderTokenLogin{
			Provider: "github", ClientID: oauthClientID, AccessToken: oauthAccessToken,
		})
		if !optIn {
			var failed *restauth.SocialError
			require.True(t, errors.As(err, &failed), "%v", err)
			assert.Equal(t, restauth.SocialReasonProfileFailed, failed.Reason)
			assert.Nil(t, res)
			_, err = e.store.SocialAccountByUID(ctx, "github", "4242")
			assert.ErrorIs(t, err, restauth.ErrNotFound, "nothing linked or created")
			_, err = e.store.UserByUsername(ctx, "octo")
			assert.ErrorIs(t, err, restauth.ErrNotFound)
			continue
		}
		require.NoError(t, err, "opted in: the access token is checked by user-info, as before")
		require.NotNil(t, res.User)
		assert.Equal(t, "octo", res.User.Username)
	}
}

// A passkey login stands for the password and the second factor together (it skips
// both), which holds only when the authenticator verified its user (a PIN, a
// biometric): an assertion with the UV flag clear proves possession of the key alone,
// so whoever picks up a PIN-less security key would log in. The options stay allauth's
// ("preferred", which every passkey platform satisfies); the assertion must carry UV.
func TestPasskeyLoginNeedsUserVerification(t *testing.T) {
	t.Parallel()
	audit := &auditLog{}
	e := newEnv(t, withWebAuthn(true, audit))
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	k, _ := addKey(t, e, u, "Key", true)

	options, state, err := e.svc.BeginPasskeyLogin(t.Context())
	require.NoError(t, err)
	k.Auth.Options.UserNotVerified = true
	res, err := e.svc.FinishPasskeyLogin(t.Context(), state, k.Get(t, options))
	require.ErrorIs(t, err, restauth.ErrWebAuthnRefused, "presence alone is one factor")
	assert.Nil(t, res)
	assert.True(t, audit.has(restauth.AuditLoginFailed, "invalid webauthn credential method=passkey"))

	k.Auth.Options.UserNotVerified = false
	options, state, err = e.svc.BeginPasskeyLogin(t.Context())
	require.NoError(t, err)
	res, err = e.svc.FinishPasskeyLogin(t.Context(), state, k.Get(t, options))
	require.NoError(t, err)
	assert.Equal(t, u.ID, res.User.ID)
}
