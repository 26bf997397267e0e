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

// A trust token ("trust this browser") skips the second factor, so it must die with any
// change of the user's security setup, as allauth's fingerprint of the password and every
// authenticator: a key added or removed, or a new password (a user who changes it after
// a compromise must not leave the thief's trusted browser able to skip the second
// factor). A user whose only authenticator is a key can be trusted too.
func TestMFATrustFollowsKeysAndPassword(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, withWebAuthn(false, nil), func(c *restauth.Config) { c.MFA.TrustEnabled = true })
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	_, first := addKey(t, e, u, "Key", false)

	trusted := func(u *restauth.User, token string) bool {
		t.Helper()
		current, err := e.store.UserByID(ctx, u.ID)
		require.NoError(t, err)
		ok, err := e.svc.MFATrusted(ctx, current, token)
		require.NoError(t, err)
		return ok
	}
	issue := func() string {
		t.Helper()
		current, err := e.store.UserByID(ctx, u.ID)
		require.NoError(t, err)
		token, _, err := e.svc.IssueMFATrust(ctx, current)
		require.NoError(t, err, "a key is an authenticator to trust")
		return token
	}

	token := issue()
	require.True(t, trusted(u, token))
	_, second := addKey(t, e, u, "Spare", false)
	assert.False(t, trusted(u, token), "a key added voids the trust")

	token = issue()
	require.True(t, trusted(u, token))
	require.NoError(t, e.svc.RemoveWebAuthnCredentials(recentCtx(t, e, u), u, []int64{second.Credential.ID}))
	assert.False(t, trusted(u, token), "a key removed voids the trust")

	token = issue()
	require.True(t, trusted(u, token))
	_, err := e.svc.ChangePassword(recentCtx(t, e, u), u, restauth.PasswordChange{Old: goodPassword, New1: "a-whole-new-passphrase-9", New2: "a-whole-new-passphrase-9"})
	require.NoError(t, err)
	assert.False(t, trusted(u, token), "a new password voids the trust")
	assert.NotZero(t, first.Credential.ID)
}

// A passkey signup's passkey is the account's only way in, and a passkey login needs
// user verification: a passkey made without it would make an account nobody can log in
// to (and that only presence protects), so the signup refuses it and creates nothing.
func TestPasskeySignupNeedsUserVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(true, nil))
	su := verifiedSignup(t, e, "nova", "nova@example.com")
	k := newSoftKey()
	k.Auth.Options.UserNotVerified = true
	options, state, err := e.svc.BeginPasskeySignup(t.Context(), su)
	require.NoError(t, err)
	_, err = e.svc.FinishPasskeySignup(t.Context(), state, "Key", k.Create(t, options))
	require.ErrorIs(t, err, restauth.ErrWebAuthnRefused)
	_, err = e.store.UserByUsername(t.Context(), "nova")
	require.ErrorIs(t, err, restauth.ErrNotFound, "no account without a way in")

	k = newSoftKey()
	options, state, err = e.svc.BeginPasskeySignup(t.Context(), su)
	require.NoError(t, err)
	signup, err := e.svc.FinishPasskeySignup(t.Context(), state, "Key", k.Create(t, options))
	require.NoError(t, err)
	assert.Equal(t, "nova", signup.User.Username)
}
