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
