package restauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func registration(username, email, p1, p2 string) map[string]any {
	body := map[string]any{"username": username, "password1": p1, "password2": p2}
	if email != "-" {
		body["email"] = email
	}
	return body
}

// tokenAnswer sets Config.RegistrationTokenAnswer: registration/ answers 201 {"key"}, for
// tests that need the token it hands out.
func tokenAnswer(c *restauth.Config) { c.RegistrationTokenAnswer = true }

// sessionUsername returns the username of the session res's sessionid cookie logs in, or
// "" when res sets no session cookie or the session is anonymous.
func (e *testEnv) sessionUsername(res response) string {
	e.t.Helper()
	c := findSessionCookie(e.t, res.Header())
	if c == nil {
		return ""
	}
	me := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(c.Value))
	if me.Code != http.StatusOK {
		return ""
	}
	name, _ := me.JSON(e.t)["username"].(string)
	return name
}

func TestRegistrationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, _ := e.register("taken", goodPassword, "verified@example.com")
	addrs, err := e.store.EmailAddresses(context.Background(), owner.ID)
	require.NoError(t, err)
	_, err = e.store.VerifyEmailAddress(context.Background(), addrs[0].ID, true)
	require.NoError(t, err)
	e.register("other", goodPassword, "unverified@example.com")

	tests := []struct {
		name string
		body any
		want map[string]any
	}{
		{"missing fields", map[string]any{}, map[string]any{
			"username": []any{"This field is required."}, "password1": []any{"This field is required."}, "password2": []any{"This field is required."}}},
		{"bad username", registration("bad name!", "-", goodPassword, goodPassword), map[string]any{
			"username": []any{"Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."}}},
		{"long username", registration(strings.Repeat("a", 151), "-", goodPassword, goodPassword), map[string]any{
			"username": []any{"Ensure this field has no more than 150 characters."}}},
		{"taken username, other case", registration("TAKEN", "-", goodPassword, goodPassword), map[string]any{
			"username": []any{"A user with that username already exists."}}},
		{"blank email", registration("newbie", "", goodPassword, goodPassword), map[string]any{
			"email": []any{"This field may not be blank."}}},
		{"invalid email", registration("newbie", "not-an-address", goodPassword, goodPassword), map[string]any{
			"email": []any{"Enter a valid email address."}}},
		{"verified email of another user", registration("newbie", "Verified@Example.com", goodPassword, goodPassword), map[string]any{
			"email": []any{"A user is already registered with this e-mail address."}}},
		{"short password", registration("newbie", "-", "Zq8#v", "Zq8#v"), map[string]any{
			"password1": []any{"This password is too short. It must contain at least 8 characters."}}},
		{"common password", registration("newbie", "-", "password", "password"), map[string]any{
			"password1": []any{"This password is too common."}}},
		{"numeric password", registration("newbie", "-", "3141592653589", "3141592653589"), map[string]any{
			"password1": []any{"This password is entirely numeric."}}},
		{"mismatch", registration("newbie", "-", goodPassword, goodPassword+"x"), map[string]any{
			"non_field_errors": []any{"The two password fields didn't match."}}},
		{"similar to username", registration("sebastian99", "-", "sebastian99!", "sebastian99!"), map[string]any{
			"non_field_errors": []any{"The password is too similar to the username."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/registration/", tc.body, withHeader("Authorization", ""))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	t.Run("a refused registration leaves no user behind", func(t *testing.T) {
		_, err := e.store.UserByUsername(context.Background(), "sebastian99")
		assert.ErrorIs(t, err, restauth.ErrNotFound)
		_, err = e.store.UserByUsername(context.Background(), "newbie")
		assert.ErrorIs(t, err, restauth.ErrNotFound)
	})
}

// TestRegistrationSuccess: as dj-rest-auth 7 with InvenTree's SESSION_LOGIN on, 204 with
// no body and the session logged in, and no token issued (nobody would see it); with
// Config.RegistrationTokenAnswer, 201 {"key"} and the session logged in too.
func TestRegistrationSuccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		configure func(*restauth.Config)
		status    int
	}{
		{"session answer (default)", func(*restauth.Config) {}, http.StatusNoContent},
		{"token answer", tokenAnswer, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &auditRecorder{}
			e := newEnv(t, tc.configure, withAudit(rec))
			res := e.do(http.MethodPost, "/api/auth/registration/", registration("paula", "Paula@Example.com", goodPassword, goodPassword))
			require.Equal(t, tc.status, res.Code, res.Body.String())
			assert.Contains(t, strings.Join(res.Header().Values("Set-Cookie"), ";"), "sessionid=", "the new user is logged in")
			assert.Equal(t, "paula", e.sessionUsername(res), "the session is the new user's")

			u, err := e.store.UserByUsername(context.Background(), "paula")
			require.NoError(t, err)
			tokens, err := e.store.Tokens(context.Background(), u.ID)
			require.NoError(t, err)
			var me response
			if tc.status == http.StatusNoContent {
				assert.Empty(t, res.Body.String(), "no body")
				assert.Empty(t, tokens, "no token nobody was shown")
				assert.NotContains(t, rec.takeKinds(), restauth.AuditTokenIssued)
				me = e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(findSessionCookie(t, res.Header()).Value))
			} else {
				key := res.JSON(t)["key"].(string)
				assert.Len(t, tokens, 1)
				assert.Contains(t, rec.takeKinds(), restauth.AuditTokenIssued)
				me = e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key))
			}
			require.Equal(t, http.StatusOK, me.Code)
			assert.Equal(t, "Paula@Example.com", me.JSON(t)["email"], "stored as sent")

			addrs, err := e.store.EmailAddresses(context.Background(), u.ID)
			require.NoError(t, err)
			require.Len(t, addrs, 1)
			assert.True(t, addrs[0].Primary)
			assert.False(t, addrs[0].Verified)

			t.Run("unverified address may be registered twice", func(t *testing.T) {
				res := e.do(http.MethodPost, "/api/auth/registration/", registration("paula2", "paula@example.com", goodPassword, goodPassword))
				assert.Equal(t, tc.status, res.Code, res.Body.String())
			})
			t.Run("without email", func(t *testing.T) {
				res := e.do(http.MethodPost, "/api/auth/registration/", registration("quinn", "-", goodPassword, goodPassword))
				assert.Equal(t, tc.status, res.Code, res.Body.String())
			})
		})
	}
}

func TestRegistrationModes(t *testing.T) {
	t.Parallel()
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *restauth.Config) { c.DisableRegistration = true })
		res := e.do(http.MethodPost, "/api/auth/registration/", registration("rita", "-", goodPassword, goodPassword))
		assert.Equal(t, http.StatusBadRequest, res.Code)
		assert.Equal(t, map[string]any{"non_field_errors": []any{"Registration is disabled."}}, res.JSON(t))
		_, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "rita", Password1: goodPassword, Password2: goodPassword})
		assert.ErrorIs(t, err, restauth.ErrRegistrationClosed)
		prov := e.do(http.MethodGet, "/api/auth/providers/", nil)
		assert.Equal(t, false, prov.JSON(t)["registration_enabled"])
	})
	for _, answer := range []struct {
		name      string
		configure func(*restauth.Config)
	}{{"session answer", func(*restauth.Config) {}}, {"token answer", tokenAnswer}} {
		t.Run("mandatory verification, "+answer.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, answer.configure, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
			res := e.do(http.MethodPost, "/api/auth/registration/", registration("sam", "sam@example.com", goodPassword, goodPassword))
			require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
			assert.Equal(t, map[string]any{"detail": "Verification e-mail sent."}, res.JSON(t))
			assert.Empty(t, res.Header().Values("Set-Cookie"), "no session before verification")
		})
	}
}

func TestConcurrentRegistrationsOfOneUsername(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 50
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "Racer"
			if i%2 == 1 {
				name = "racer"
			}
			res := e.do(http.MethodPost, "/api/auth/registration/", registration(name, fmt.Sprintf("r%d@example.com", i), goodPassword, goodPassword))
			statuses[i] = res.Code
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusNoContent:
			created++
		default:
			assert.Equal(t, http.StatusBadRequest, s)
		}
	}
	assert.Equal(t, 1, created)
	u, err := e.store.UserByUsername(context.Background(), "RACER")
	require.NoError(t, err)
	users, err := e.store.UsersByEmail(context.Background(), u.Email)
	require.NoError(t, err)
	assert.Len(t, users, 1)
}

func TestRegisterServiceErrorsAreTyped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "x y", Password1: goodPassword, Password2: goodPassword})
	var verr *restauth.ValidationError
	require.True(t, errors.As(err, &verr))
	assert.Contains(t, verr.Fields, "username")
}

func TestRegistrationConcealsTakenAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
	owner, err := e.svc.CreateUser(context.Background(), restauth.NewUser{Username: "owner", Email: "owner@example.com", Password: goodPassword, EmailVerified: true})
	require.NoError(t, err)

	taken := e.do(http.MethodPost, "/api/auth/registration/", registration("intruder", "Owner@Example.com", goodPassword, goodPassword))
	fresh := e.do(http.MethodPost, "/api/auth/registration/", registration("newcomer", "new@example.com", goodPassword, goodPassword))
	require.Equal(t, http.StatusCreated, taken.Code, taken.Body.String())
	assert.Equal(t, fresh.Code, taken.Code)
	assert.Equal(t, fresh.Body.String(), taken.Body.String(), "a taken address answers like a new one")

	_, err = e.store.UserByUsername(context.Background(), "intruder")
	assert.ErrorIs(t, err, restauth.ErrNotFound, "nothing is created")
	var notice *restauth.Message
	for _, m := range e.mailer.Messages() {
		if m.To[0] == "owner@example.com" {
			notice = m
		}
	}
	require.NotNil(t, notice, "the owner is told")
	assert.Contains(t, notice.Text, owner.Username)

	t.Run("optional verification keeps the 400", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, err := e.svc.CreateUser(context.Background(), restauth.NewUser{Username: "owner", Email: "owner@example.com", Password: goodPassword, EmailVerified: true})
		require.NoError(t, err)
		res := e.do(http.MethodPost, "/api/auth/registration/", registration("intruder", "owner@example.com", goodPassword, goodPassword))
		assert.Equal(t, http.StatusBadRequest, res.Code)
	})
}

// TestRegisterWithoutToken: the operation issues no token (and audits none) when asked
// not to, and still does by default, for callers of Register itself.
func TestRegisterWithoutToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		withoutToken bool
	}{{"default issues a token", false}, {"WithoutToken issues none", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &auditRecorder{}
			e := newEnv(t, withAudit(rec))
			res, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "tess",
				Password1: goodPassword, Password2: goodPassword, WithoutToken: tc.withoutToken})
			require.NoError(t, err)
			require.NotNil(t, res.User, "the account is created either way")
			tokens, err := e.store.Tokens(context.Background(), res.User.ID)
			require.NoError(t, err)
			if tc.withoutToken {
				assert.Nil(t, res.Token)
				assert.Empty(t, tokens)
				assert.NotContains(t, rec.takeKinds(), restauth.AuditTokenIssued)
				return
			}
			require.NotNil(t, res.Token)
			assert.Len(t, tokens, 1)
			assert.Contains(t, rec.takeKinds(), restauth.AuditTokenIssued)
		})
	}
}
