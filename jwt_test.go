package restauth_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// jwtAlgorithms are the three signing set-ups: the Secret-derived HS256 key and the two
// private key types.
func jwtAlgorithms(t *testing.T) []struct {
	name string
	key  crypto.Signer
} {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return []struct {
		name string
		key  crypto.Signer
	}{{"HS256", nil}, {"EdDSA", ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}, {"RS256", rsaKey}}
}

func TestJWTIssueAuthenticateRefreshRotates(t *testing.T) {
	t.Parallel()
	for _, tc := range jwtAlgorithms(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *restauth.Config) { c.JWT.PrivateKey = tc.key })
			ctx := context.Background()
			u, _ := e.register("alice", goodPassword, "alice@example.com")

			pair, err := e.svc.IssueJWT(ctx, u)
			require.NoError(t, err)
			tok, _, err := jwt.NewParser().ParseUnverified(pair.AccessToken, jwt.MapClaims{})
			require.NoError(t, err)
			assert.Equal(t, tc.name, tok.Method.Alg())
			assert.Equal(t, e.clock.Now().Add(300*time.Second).UTC(), pair.AccessExpires)
			assert.Equal(t, e.clock.Now().Add(86400*time.Second).UTC(), pair.RefreshExpires)

			got, sess, err := e.svc.AuthenticateJWT(ctx, pair.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, u.ID, got.ID)
			assert.Equal(t, pair.SessionID, sess.ID)
			_, _, err = e.svc.AuthenticateJWT(ctx, pair.RefreshToken)
			require.ErrorIs(t, err, restauth.ErrJWTInvalid, "a refresh token is no access token")
			_, err = e.svc.RefreshJWT(ctx, pair.AccessToken)
			require.ErrorIs(t, err, restauth.ErrJWTInvalid, "an access token is no refresh token")

			next, err := e.svc.RefreshJWT(ctx, pair.RefreshToken)
			require.NoError(t, err)
			assert.Equal(t, pair.SessionID, next.SessionID)
			assert.NotEqual(t, pair.RefreshToken, next.RefreshToken)

			// The rotated token is spent; presenting it again is a replay, which ends the
			// login: the newer refresh token dies too.
			_, err = e.svc.RefreshJWT(ctx, pair.RefreshToken)
			require.ErrorIs(t, err, restauth.ErrJWTInvalid)
			_, err = e.svc.RefreshJWT(ctx, next.RefreshToken)
			require.ErrorIs(t, err, restauth.ErrJWTInvalid)
		})
	}
}

func TestJWTRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := newEnv(t, func(c *restauth.Config) { c.Secret = []byte(strings.Repeat("another secret ", 4)) })
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "alice@example.com")
	pair, err := e.svc.IssueJWT(ctx, u)
	require.NoError(t, err)
	forged, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"sub": "1", "sid": pair.SessionID, "token_use": "access", "jti": "x", "iss": "http://testserver",
		"exp": e.clock.Now().Add(time.Minute).Unix(),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)

	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "not.a.jwt"},
		{"alg none", forged},
		{"tampered", tamperSignature(pair.AccessToken)},
		{"huge", strings.Repeat("a", 5000)},
	} {
		_, _, err := e.svc.AuthenticateJWT(ctx, tc.token)
		assert.ErrorIs(t, err, restauth.ErrJWTInvalid, tc.name)
	}
	_, _, err = other.svc.AuthenticateJWT(ctx, pair.AccessToken)
	assert.ErrorIs(t, err, restauth.ErrJWTInvalid, "another Secret derives another key")

	e.clock.Advance(301 * time.Second)
	_, _, err = e.svc.AuthenticateJWT(ctx, pair.AccessToken)
	assert.ErrorIs(t, err, restauth.ErrJWTInvalid, "expired access token")
	e.clock.Advance(86400 * time.Second)
	_, err = e.svc.RefreshJWT(ctx, pair.RefreshToken)
	assert.ErrorIs(t, err, restauth.ErrJWTInvalid, "expired refresh token")
}

func TestJWTRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		revoke func(e *testEnv, u *restauth.User, p *restauth.JWTPair)
		// accessDies: the access token is refused at once, not only after its minutes.
		accessDies bool
	}{
		{"logout", func(e *testEnv, u *restauth.User, p *restauth.JWTPair) {
			require.NoError(t, e.svc.RevokeJWT(ctx, u, p.SessionID))
		}, false},
		{"password change", func(e *testEnv, u *restauth.User, _ *restauth.JWTPair) {
			_, err := e.svc.ChangePassword(ctx, u, restauth.PasswordChange{Old: goodPassword, New1: goodPassword + "2", New2: goodPassword + "2"})
			require.NoError(t, err)
		}, true},
		{"revoke all credentials", func(e *testEnv, u *restauth.User, _ *restauth.JWTPair) {
			require.NoError(t, e.svc.RevokeAllCredentials(ctx, u.ID))
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u, _ := e.register("alice", goodPassword, "alice@example.com")
			pair, err := e.svc.IssueJWT(ctx, u)
			require.NoError(t, err)
			kept, err := e.svc.IssueJWT(ctx, u) // another login of the user
			require.NoError(t, err)
			tc.revoke(e, u, pair)
			_, err = e.svc.RefreshJWT(ctx, pair.RefreshToken)
			require.ErrorIs(t, err, restauth.ErrJWTInvalid)
			_, _, err = e.svc.AuthenticateJWT(ctx, pair.AccessToken)
			if tc.accessDies {
				require.ErrorIs(t, err, restauth.ErrJWTInvalid)
			} else {
				require.NoError(t, err)
			}
			if tc.name == "logout" {
				_, err = e.svc.RefreshJWT(ctx, kept.RefreshToken)
				require.NoError(t, err, "a logout ends its own login only")
			}
		})
	}
	e := newEnv(t)
	u, _ := e.register("bob", goodPassword, "")
	require.ErrorIs(t, e.svc.RevokeJWT(ctx, u, ""), restauth.ErrJWTInvalid)
	inactive := *u
	inactive.IsActive = false
	_, err := e.svc.IssueJWT(ctx, &inactive)
	require.ErrorIs(t, err, restauth.ErrJWTInvalid)
}

func TestJWTConcurrentRefreshOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "")
	pair, err := e.svc.IssueJWT(ctx, u)
	require.NoError(t, err)
	var mu sync.Mutex
	won := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := e.svc.RefreshJWT(ctx, pair.RefreshToken); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, won)
}

func TestJWTConfigChecks(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		jwt  restauth.JWTConfig
	}{
		{"small RSA key", restauth.JWTConfig{PrivateKey: small}},
		{"algorithm without key", restauth.JWTConfig{Algorithm: "RS256"}},
		{"unknown algorithm", restauth.JWTConfig{Algorithm: "none"}},
	} {
		_, err := restauth.New(restauth.Config{Store: newEnv(t).store, Secret: testSecret, SiteURL: "http://testserver", JWT: tc.jwt})
		assert.ErrorIs(t, err, restauth.ErrConfig, tc.name)
	}
}

// tamperSignature changes one character in the middle of a signed value's trailing
// signature (a JWT's, a magic link's) to another, so the signature's bytes always change;
// replacing the last characters could keep them, since the final base64url character of a
// 32-byte signature carries two padding bits, and made those tests fail now and then.
func tamperSignature(token string) string {
	i := len(token) - 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
