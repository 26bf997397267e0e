package restauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// hashesComputed is the Service's count of password hashes computed, so these tests can
// check that a concealed registration costs what a real one does without timing it.
func hashesComputed(_ *testing.T, svc *restauth.Service) int64 { return restauth.HashesComputed(svc) }

// weakPasswordErrors is what the password "a" gets.
var weakPasswordErrors = []any{"This password is too short. It must contain at least 8 characters.", "This password is too common."}

// mailsTo counts the messages sent to address so far.
func mailsTo(e *testEnv, address string) int {
	n := 0
	for _, m := range e.mailer.Messages() {
		if len(m.To) > 0 && strings.EqualFold(m.To[0], address) {
			n++
		}
	}
	return n
}

// TestRegistrationEnumerationPrevention: with mandatory verification, registering with an
// address another account holds verified answers exactly as the same registration with a
// free address does — the same errors when anything else is wrong (never the address's),
// the same success otherwise — at the same cost in password hashes, creating nothing, and
// mailing the owner only in place of a success.
func TestRegistrationEnumerationPrevention(t *testing.T) {
	t.Parallel()
	const takenAddr = "owner@example.com"
	tests := []struct {
		name string
		// username and passwords of the attempt; an empty username gets a fresh one for
		// each of the two attempts.
		username, p1, p2 string
		wantStatus       int
		want             map[string]any
		wantHashes       int64
	}{
		{name: "weak password", p1: "a", p2: "a", wantStatus: http.StatusBadRequest, want: map[string]any{
			"password1": weakPasswordErrors}},
		{name: "username also taken", username: "OWNER", p1: goodPassword, p2: goodPassword,
			wantStatus: http.StatusBadRequest, want: map[string]any{
				"username": []any{"A user with that username already exists."}}},
		{name: "invalid username and weak password", username: "bad name!", p1: "a", p2: "a",
			wantStatus: http.StatusBadRequest, want: map[string]any{
				"username":  []any{"Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."},
				"password1": weakPasswordErrors}},
		{name: "mismatched passwords", p1: goodPassword, p2: goodPassword + "x",
			wantStatus: http.StatusBadRequest, want: map[string]any{
				"non_field_errors": []any{"The two password fields didn't match."}}},
		{name: "password similar to the username", username: "sebastian99", p1: "sebastian99!", p2: "sebastian99!",
			wantStatus: http.StatusBadRequest, want: map[string]any{
				"non_field_errors": []any{"The password is too similar to the username."}}},
		{name: "valid request", p1: goodPassword, p2: goodPassword,
			wantStatus: http.StatusCreated, want: map[string]any{"detail": "Verification e-mail sent."}, wantHashes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
			ctx := context.Background()
			owner, err := e.svc.CreateUser(ctx, restauth.NewUser{Username: "owner", Email: takenAddr, Password: goodPassword, EmailVerified: true})
			require.NoError(t, err)

			attempt := func(username, email string) (response, int64) {
				if tc.username != "" {
					username = tc.username
				}
				before := hashesComputed(t, e.svc)
				res := e.do(http.MethodPost, "/api/auth/registration/", registration(username, email, tc.p1, tc.p2))
				return res, hashesComputed(t, e.svc) - before
			}
			notices := mailsTo(e, takenAddr)
			taken, takenHashes := attempt("intruder", "Owner@Example.com")
			noticed := mailsTo(e, takenAddr) - notices
			free, freeHashes := attempt("newcomer", "newcomer@example.com")

			require.Equal(t, tc.wantStatus, free.Code, free.Body.String())
			assert.Equal(t, tc.want, free.JSON(t))
			assert.Equal(t, free.Code, taken.Code, "status")
			assert.Equal(t, free.Body.String(), taken.Body.String(), "a taken address answers like a free one")
			assert.Equal(t, free.Header(), taken.Header(), "headers")
			assert.Equal(t, freeHashes, takenHashes, "a taken address costs the hashes a free one does")
			assert.Equal(t, tc.wantHashes, takenHashes, "hashes computed")

			users, err := e.store.UsersByEmail(ctx, takenAddr)
			require.NoError(t, err)
			require.Len(t, users, 1, "nothing is created for the taken address")
			assert.Equal(t, owner.ID, users[0].ID)
			if tc.username == "" {
				_, err = e.store.UserByUsername(ctx, "intruder")
				assert.ErrorIs(t, err, restauth.ErrNotFound, "nothing is created for the taken address")
			}

			if tc.wantStatus == http.StatusCreated {
				require.Equal(t, 1, noticed, "the owner is told, once")
				var notice *restauth.Message
				for _, m := range e.mailer.Messages() {
					if m.To[0] == takenAddr {
						notice = m
					}
				}
				assert.Contains(t, notice.Text, owner.Username)
				assert.Equal(t, 1, mailsTo(e, "newcomer@example.com"), "the free address gets its confirmation")
			} else {
				assert.Zero(t, noticed, "no notice for a registration that fails anyway")
				assert.Empty(t, e.mailer.Messages(), "no mail at all")
			}
		})
	}
}

// TestRegistrationEnumerationAllowed: where concealment does not apply — AllowEnumeration,
// or verification that is not mandatory — the taken address is reported alongside the
// other errors, as before.
func TestRegistrationEnumerationAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*restauth.Config)
	}{
		{"AllowEnumeration", func(c *restauth.Config) {
			c.EmailVerification = restauth.VerificationMandatory
			c.AllowEnumeration = true
		}},
		{"optional verification", func(c *restauth.Config) { c.EmailVerification = restauth.VerificationOptional }},
		{"no verification", func(c *restauth.Config) { c.EmailVerification = restauth.VerificationNone }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.configure)
			_, err := e.svc.CreateUser(context.Background(), restauth.NewUser{Username: "owner", Email: "owner@example.com", Password: goodPassword, EmailVerified: true})
			require.NoError(t, err)

			res := e.do(http.MethodPost, "/api/auth/registration/", registration("intruder", "owner@example.com", "a", "a"))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, map[string]any{
				"email":     []any{"A user is already registered with this e-mail address."},
				"password1": weakPasswordErrors,
			}, res.JSON(t))

			before := hashesComputed(t, e.svc)
			res = e.do(http.MethodPost, "/api/auth/registration/", registration("intruder", "owner@example.com", goodPassword, goodPassword))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, map[string]any{"email": []any{"A user is already registered with this e-mail address."}}, res.JSON(t))
			assert.Zero(t, hashesComputed(t, e.svc)-before, "a refusal costs no hash")
			assert.Empty(t, e.mailer.Messages(), "the owner is not mailed")
		})
	}
}
