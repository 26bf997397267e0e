package restauth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// Regression tests of security issue #16 (findings 7, 9, 11, 12 and 13). They go through
// the Service operations, so every dialect is held to them, and through HTTP where the
// answer's shape matters.

// Finding 7: a confirmation key named only an address id. After a restore that rewinds
// ids (here: a second store behind the same secret), an old key verified whichever
// address got that id, another user's included.
func TestConfirmationKeyAfterIDRewind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	before := newEnv(t)
	before.register("pia", goodPassword, "pia@example.com")
	oldKey := confirmationKey(t, before.lastMail(t, 1))

	tests := []struct {
		name  string
		setup func(e *testEnv) int64 // returns the user now holding address id 1
	}{
		{"same user id, another address", func(e *testEnv) int64 {
			u, _ := e.register("quin", goodPassword, "quin@example.com")
			return u.ID
		}},
		{"same address text, another user", func(e *testEnv) int64 {
			e.register("zed", goodPassword, "")
			u, _ := e.register("pia2", goodPassword, "pia@example.com")
			return u.ID
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			after := newEnv(t) // the same testSecret: the key's signature is genuine here
			owner := tt.setup(after)
			addrs := after.addresses(t, owner)
			require.Len(t, addrs, 1)
			require.Equal(t, int64(1), addrs[0].ID, "the rewound id names this user's address")

			_, err := after.svc.VerifyEmail(ctx, oldKey)
			require.ErrorIs(t, err, restauth.ErrNotFound)
			res := after.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": oldKey})
			assert.Equal(t, http.StatusNotFound, res.Code)
			assert.False(t, after.addresses(t, owner)[0].Verified, "another user's address stays unverified")
		})
	}

	// The key still does its job where it was made.
	verified, err := before.svc.VerifyEmail(ctx, oldKey)
	require.NoError(t, err)
	assert.True(t, verified.Verified)
}

// Finding 9: usernames are NFKC-normalised (Django's normalize_username) at registration,
// account creation, profile update and login, so a look-alike of a taken name is refused
// with the usual message.
func TestUsernameNFKC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)

	jess, _ := e.register("ｊｅｓｓ", goodPassword, "") // full-width letters
	assert.Equal(t, "jess", jess.Username, "stored in NFKC form")

	taken := map[string]any{"username": []any{"A user with that username already exists."}}
	for _, name := range []string{"ＪＥＳＳ", "jess", "Jess"} {
		res := e.do(http.MethodPost, "/api/auth/registration/", map[string]any{
			"username": name, "email": "look-alike@example.com", "password1": goodPassword, "password2": goodPassword,
		})
		require.Equal(t, http.StatusBadRequest, res.Code, name)
		assert.Equal(t, taken, res.JSON(t), name)
	}

	e.register("kim", goodPassword, "")
	_, err := e.svc.CreateUser(ctx, restauth.NewUser{Username: "\u212aim", Password: goodPassword}) // Kelvin sign
	require.ErrorIs(t, err, restauth.ErrUsernameTaken)
	admin, err := e.svc.CreateUser(ctx, restauth.NewUser{Username: "\ufb01le", Password: goodPassword}) // "fi" ligature
	require.NoError(t, err)
	assert.Equal(t, "file", admin.Username)

	other, key := e.register("other", goodPassword, "")
	_, err = e.svc.UpdateProfile(ctx, other.ID, restauth.ProfileUpdate{Username: ptr("ｊｅｓｓ")})
	require.ErrorIs(t, err, restauth.ErrUsernameTaken)
	res := e.do(http.MethodPatch, "/api/auth/user/", map[string]any{"username": "ＫＩＭ"}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, taken, res.JSON(t))
	res = e.do(http.MethodPatch, "/api/auth/user/", map[string]any{"username": "ｏｔｈｅｒ２"}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, "other2", e.user(t, other.ID).Username)
	_, err = e.svc.UpdateProfile(ctx, other.ID, restauth.ProfileUpdate{Username: ptr("a\u00bd")}) // "½" holds a fraction slash
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.NotEmpty(t, verr.Fields["username"], "the NFKC form is what is checked")

	// Login finds the account by the name's NFKC form.
	got, err := e.svc.Login(ctx, restauth.LoginRequest{Username: "ｊｅｓｓ", Password: goodPassword})
	require.NoError(t, err)
	assert.Equal(t, jess.ID, got.User.ID)

	// An account stored before the rule keeps logging in by its stored name.
	legacy, _ := e.register("legacy", goodPassword, "")
	_, err = e.store.UpdateUser(ctx, legacy.ID, restauth.UserUpdate{Username: ptr("ｌｅｇａｃｙ")})
	require.NoError(t, err)
	got, err = e.svc.Login(ctx, restauth.LoginRequest{Username: "ｌｅｇａｃｙ", Password: goodPassword})
	require.NoError(t, err)
	assert.Equal(t, legacy.ID, got.User.ID)
}

func ptr[T any](v T) *T { return &v }

// Finding 11: a failed login's event never holds the typed name (a password typed into
// the username field would end up in the logs), only a keyed hash that correlates the
// failures of one name.
func TestAuditLoginFailedHoldsNoTypedName(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec))
	e.register("alice", goodPassword, "")
	rec.take()
	ctx := context.Background()
	const typo = "Tr0ub4dor&3-password-in-the-wrong-field"
	for _, name := range []string{typo, typo, "alice", "ALICE"} {
		_, err := e.svc.Login(ctx, restauth.LoginRequest{Username: name, Password: "wrong"})
		require.ErrorIs(t, err, restauth.ErrInvalidCredentials)
	}
	events := rec.take()
	require.Len(t, events, 4)
	var details []string
	for _, ev := range events {
		assert.Equal(t, restauth.AuditLoginFailed, ev.Kind)
		assert.Empty(t, ev.Username)
		assert.Zero(t, ev.UserID)
		assert.NotContains(t, ev.Detail, "Tr0ub4dor")
		assert.NotContains(t, ev.Detail, "alice")
		require.True(t, strings.HasPrefix(ev.Detail, "invalid credentials login="), ev.Detail)
		assert.Len(t, strings.TrimPrefix(ev.Detail, "invalid credentials login="), 16)
		details = append(details, ev.Detail)
	}
	assert.Equal(t, details[0], details[1], "failures of one name correlate")
	assert.Equal(t, details[2], details[3], "as logins compare names: case-insensitively")
	assert.NotEqual(t, details[0], details[2])
	other := newEnv(t, func(c *restauth.Config) { c.Secret = []byte(strings.Repeat("y", 40)) })
	assert.NotEqual(t, restauth.LoginDigest(e.svc, "alice"), restauth.LoginDigest(other.svc, "alice"), "the hash is keyed")
}

// Finding 12: a user's active tokens are capped; one more evicts the least recently used
// rather than refusing (which would lock the user out of logging in).
func TestTokenCapEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec), func(c *restauth.Config) { c.Tokens.MaxPerUser = 3 })
	u, first := e.register("tess", goodPassword, "") // token 1
	second, err := e.svc.IssueToken(ctx, u, "second")
	require.NoError(t, err)
	third, err := e.svc.IssueToken(ctx, u, "third")
	require.NoError(t, err)
	_, _, err = e.svc.AuthenticateToken(ctx, first) // the first is in use; the others never were
	require.NoError(t, err)
	rec.take()

	fourth, err := e.svc.IssueToken(ctx, u, "fourth")
	require.NoError(t, err)
	_, _, err = e.svc.AuthenticateToken(ctx, second.Key)
	require.Error(t, err, "the least recently used (never used, oldest) token was evicted")
	for _, key := range []string{first, third.Key, fourth.Key} {
		_, _, err = e.svc.AuthenticateToken(ctx, key)
		require.NoError(t, err)
	}
	events := rec.take()
	require.Len(t, events, 2)
	assert.Equal(t, restauth.AuditTokenRevoked, events[0].Kind)
	assert.Equal(t, fmt.Sprintf("token_id=%d reason=token_cap", second.Token.ID), events[0].Detail)
	assert.Equal(t, u.ID, events[0].UserID)
	assert.Equal(t, restauth.AuditTokenIssued, events[1].Kind)

	// Logins are capped alike.
	e.clock.Advance(24 * time.Hour)
	for range 3 {
		e.login(t, "tess")
	}
	tokens, err := e.store.Tokens(ctx, u.ID)
	require.NoError(t, err)
	active := 0
	for _, tok := range tokens {
		if !tok.Revoked {
			active++
		}
	}
	assert.Equal(t, 3, active)

	// -1 turns the cap off.
	off := newEnv(t, func(c *restauth.Config) { c.Tokens.MaxPerUser = -1 })
	v, _ := off.register("vic", goodPassword, "")
	for range 5 {
		_, err := off.svc.IssueToken(ctx, v, "")
		require.NoError(t, err)
	}
	tokens, err = off.store.Tokens(ctx, v.ID)
	require.NoError(t, err)
	for _, tok := range tokens {
		assert.False(t, tok.Revoked)
	}
	assert.Len(t, tokens, 6)
}

// Finding 12: a user's addresses are capped (allauth's ACCOUNT_MAX_EMAIL_ADDRESSES).
func TestEmailAddressCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, func(c *restauth.Config) { c.MaxEmailAddresses = 2 })
	u, key := e.register("cora", goodPassword, "cora@example.com")
	_, err := e.svc.AddEmailAddress(ctx, u.ID, "cora2@example.com")
	require.NoError(t, err)
	_, err = e.svc.AddEmailAddress(ctx, u.ID, "cora3@example.com")
	require.ErrorIs(t, err, restauth.ErrTooManyEmailAddresses)
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "cora3@example.com"}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"You cannot add more than 2 e-mail addresses."}}, res.JSON(t))
	assert.Len(t, e.addresses(t, u.ID), 2)

	// The default is 20.
	d := newEnv(t)
	w, _ := d.register("dora", goodPassword, "")
	for i := range 20 {
		_, err := d.svc.AddEmailAddress(ctx, w.ID, fmt.Sprintf("dora%d@example.com", i))
		require.NoError(t, err)
	}
	_, err = d.svc.AddEmailAddress(ctx, w.ID, "dora20@example.com")
	require.ErrorIs(t, err, restauth.ErrTooManyEmailAddresses)
}

// Finding 13: an address another user holds verified cannot become the caller's primary.
func TestSetPrimaryRefusesAddressVerifiedElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	owner, _ := e.register("owen", goodPassword, "shared@example.com")
	e.verify(t, e.addresses(t, owner.ID)[0].ID)
	squatter, key := e.register("sam", goodPassword, "")
	addr, err := e.svc.AddEmailAddress(ctx, squatter.ID, "Shared@example.com")
	require.NoError(t, err)

	_, err = e.svc.SetPrimaryEmail(ctx, squatter.ID, addr.ID)
	require.ErrorIs(t, err, restauth.ErrEmailVerifiedElsewhere)
	res := e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/primary/", addr.ID), nil, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{
		"This e-mail address is verified by another account; it cannot become your primary address.",
	}}, res.JSON(t))
	assert.Equal(t, "", e.user(t, squatter.ID).Email)
	assert.False(t, e.addresses(t, squatter.ID)[0].Primary)

	// Once the owner lets it go, it can.
	_, err = e.svc.RemoveEmailAddress(ctx, owner.ID, e.addresses(t, owner.ID)[0].ID)
	require.NoError(t, err)
	primary, err := e.svc.SetPrimaryEmail(ctx, squatter.ID, addr.ID)
	require.NoError(t, err)
	assert.True(t, primary.Primary)
}
