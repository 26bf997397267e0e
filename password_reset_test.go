package restauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

const newPassword = "brand-new-passphrase-42"

// resetLink returns uid and token of a password-reset mail's link.
func resetLink(t testing.TB, msg *restauth.Message) (uid, token string) {
	t.Helper()
	q := mailLink(t, msg).Query()
	uid, token = q.Get("uid"), q.Get("token")
	require.NotEmpty(t, uid)
	require.NotEmpty(t, token)
	return uid, token
}

// requestReset asks for a reset link for email and returns its uid and token; n is the
// number of mails sent so far, the reset mail included.
func (e *testEnv) requestReset(t testing.TB, email string, n int) (uid, token string) {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": email}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	return resetLink(t, e.lastMail(t, n))
}

func confirmBody(uid, token, p1, p2 string) map[string]any {
	return map[string]any{"uid": uid, "token": token, "new_password1": p1, "new_password2": p2}
}

func (e *testEnv) confirmReset(uid, token string) response {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/auth/password/reset/confirm/", confirmBody(uid, token, newPassword, newPassword), withHeader("Authorization", ""))
}

func (e *testEnv) loginStatus(username, password string) int {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": password}).Code
}

var tokenInvalid = map[string]any{"token": []any{"Invalid value"}}

func TestPasswordResetRequestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name string
		body any
		want map[string]any
	}{
		{"missing", map[string]any{}, map[string]any{"email": []any{"This field is required."}}},
		{"blank", map[string]any{"email": ""}, map[string]any{"email": []any{"This field may not be blank."}}},
		{"invalid", map[string]any{"email": "no-at-sign"}, map[string]any{"email": []any{"Enter a valid email address."}}},
		{"not a string", map[string]any{"email": []string{"a@example.com"}}, map[string]any{"email": []any{"Not a valid string."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/password/reset/", tc.body)
			require.Equal(t, http.StatusBadRequest, res.Code)
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	res := e.do(http.MethodGet, "/api/auth/password/reset/", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)

	var verr *restauth.ValidationError
	require.ErrorAs(t, e.svc.RequestPasswordReset(context.Background(), "nope"), &verr)
	assert.Equal(t, []string{"Enter a valid email address."}, verr.Fields["email"])
}

// TestPasswordResetEnumeration: a known address, an unknown one and an inactive user's get
// the same status and the same body; only the known address gets a mail.
func TestPasswordResetEnumeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("anna", goodPassword, "Anna@Example.com")
	inactive, _ := e.register("bert", goodPassword, "bert@example.com")
	no := false
	_, err := e.store.UpdateUser(context.Background(), inactive.ID, restauth.UserUpdate{IsActive: &no})
	require.NoError(t, err)
	before := len(e.mailer.Messages())

	post := func(email string) response {
		// A hostile Host header must not end up in the link (reset poisoning).
		return e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": email},
			withHeader("Authorization", ""), func(r *http.Request) { r.Host = "evil.example" })
	}
	unknown := post("nobody@example.com")
	inactiveRes := post("bert@example.com")
	known := post("anna@example.com")
	for _, res := range []response{unknown, inactiveRes, known} {
		assert.Equal(t, http.StatusOK, res.Code)
		assert.Equal(t, `{"detail":"Password reset e-mail has been sent."}`, res.Body.String())
		assert.Equal(t, known.Header().Get("Content-Type"), res.Header().Get("Content-Type"))
		assert.Equal(t, known.Header().Get("Set-Cookie"), res.Header().Get("Set-Cookie"))
	}

	msgs := e.mailer.Messages()
	require.Len(t, msgs, before+1, "one mail, for the known address only")
	msg := msgs[before]
	assert.Equal(t, []string{"Anna@Example.com"}, msg.To, "sent to the address as the user holds it, not as submitted")
	assert.Equal(t, "[restauth] Password Reset E-mail", msg.Subject)
	assert.Contains(t, msg.Text, "anna", "the username is in the mail")
	link := mailLink(t, msg)
	assert.Equal(t, "http", link.Scheme)
	assert.Equal(t, "testserver", link.Host, "the link uses SiteURL, never the Host header")
	assert.Equal(t, "/platform/set-password", link.Path)
	assert.Equal(t, formatInt36(u.ID), link.Query().Get("uid"))
	assert.Regexp(t, `^[0-9a-z]+-[0-9a-f]{32}$`, link.Query().Get("token"))
	assert.NotContains(t, msg.HTML, "evil.example")
}

// formatInt36 is Django's int_to_base36, written out independently of the package's own.
func formatInt36(n int64) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 36 {
		b = append([]byte{digits[n%36]}, b...)
	}
	return string(b)
}

func TestPasswordResetRecipients(t *testing.T) {
	t.Parallel()

	t.Run("verified holders are preferred", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.register("carl", goodPassword, "dup@example.com")
		holder, _ := e.register("dora", goodPassword, "dup@example.com")
		e.verify(t, e.addresses(t, holder.ID)[0].ID)
		before := len(e.mailer.Messages())
		uid, _ := e.requestReset(t, "dup@example.com", before+1)
		assert.Equal(t, formatInt36(holder.ID), uid)
	})
	t.Run("the oldest unverified holder when none is verified", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		a, _ := e.register("emil", goodPassword, "same@example.com")
		e.register("fred", goodPassword, "same@example.com")
		res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "same@example.com"})
		require.Equal(t, http.StatusOK, res.Code)
		msgs := e.mailer.Messages()
		require.Len(t, msgs, 3, "one reset mail per request, however many accounts hold the address (security #3)")
		uidA, _ := resetLink(t, msgs[2])
		assert.Equal(t, formatInt36(a.ID), uidA)
	})
	t.Run("a secondary address and an imported User.email", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		u, key := e.register("gina", goodPassword, "gina@example.com")
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "gina.alt@example.com"}, withToken(key))
		require.Equal(t, http.StatusCreated, res.Code)
		uid, _ := e.requestReset(t, "gina.alt@example.com", 3)
		assert.Equal(t, formatInt36(u.ID), uid)

		imported := &restauth.User{Username: "hugo", Email: "hugo@example.com", IsActive: true, PasswordHash: "!"}
		require.NoError(t, e.store.CreateUser(context.Background(), imported, nil))
		uid, token := e.requestReset(t, "HUGO@example.com", 4)
		assert.Equal(t, formatInt36(imported.ID), uid)
		res = e.confirmReset(uid, token)
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, http.StatusOK, e.loginStatus("hugo", newPassword), "an unusable password can be replaced by reset")
	})
	t.Run("site URL with a path and a custom link template", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *restauth.Config) {
			c.SiteURL = "https://example.com/inventree/"
			c.Links.PasswordReset = "/reset/{uid}/{token}/"
		})
		u, _ := e.register("ines", goodPassword, "ines@example.com")
		res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "ines@example.com"})
		require.Equal(t, http.StatusOK, res.Code)
		link := mailLink(t, e.lastMail(t, 2))
		parts := strings.Split(strings.TrimPrefix(link.Path, "/inventree/reset/"), "/")
		require.Len(t, parts, 3, link.String())
		assert.Equal(t, "https://example.com/inventree/reset/"+parts[0]+"/"+parts[1]+"/", link.String())
		assert.Equal(t, formatInt36(u.ID), parts[0])
		res = e.confirmReset(parts[0], parts[1])
		assert.Equal(t, http.StatusOK, res.Code, res.Body.String())
	})
}

func TestPasswordResetConfirmErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("jack", goodPassword, "jack@example.com")
	other, _ := e.register("kate", goodPassword, "kate@example.com")
	uid, token := e.requestReset(t, "jack@example.com", 3)
	_, otherToken := e.requestReset(t, "kate@example.com", 4)
	require.NotEqual(t, token, otherToken)
	_ = other

	flipped := []byte(token)
	if flipped[len(flipped)-1] == '0' {
		flipped[len(flipped)-1] = '1'
	} else {
		flipped[len(flipped)-1] = '0'
	}
	ts, hash, _ := strings.Cut(token, "-")
	long := strings.Repeat("x", 129)
	badUID := map[string]any{"uid": []any{"Invalid value"}}

	tests := []struct {
		name string
		body any
		want map[string]any
	}{
		{"missing everything", map[string]any{}, map[string]any{
			"uid": []any{"This field is required."}, "token": []any{"This field is required."},
			"new_password1": []any{"This field is required."}, "new_password2": []any{"This field is required."}}},
		{"blank uid", confirmBody("", token, newPassword, newPassword), map[string]any{"uid": []any{"This field may not be blank."}}},
		{"uid not base36", confirmBody("!!", token, newPassword, newPassword), badUID},
		{"uid in upper case", confirmBody(strings.ToUpper(uid)+"Z", token, newPassword, newPassword), badUID},
		{"uid too long", confirmBody(strings.Repeat("0", 13)+"1", token, newPassword, newPassword), badUID},
		{"unknown uid", confirmBody("zzzz", token, newPassword, newPassword), badUID},
		{"another user's uid", confirmBody(formatInt36(other.ID), token, newPassword, newPassword), tokenInvalid},
		{"another user's token", confirmBody(uid, otherToken, newPassword, newPassword), tokenInvalid},
		{"tampered token", confirmBody(uid, string(flipped), newPassword, newPassword), tokenInvalid},
		{"tampered timestamp", confirmBody(uid, ts+"0-"+hash, newPassword, newPassword), tokenInvalid},
		{"garbage token", confirmBody(uid, "garbage", newPassword, newPassword), tokenInvalid},
		{"mismatch", confirmBody(uid, token, newPassword, newPassword+"x"), map[string]any{
			"new_password2": []any{"The two password fields didn\u2019t match."}}},
		{"too short", confirmBody(uid, token, "Zq7#pW", "Zq7#pW"), map[string]any{
			"new_password2": []any{"This password is too short. It must contain at least 8 characters."}}},
		{"similar to the address", confirmBody(uid, token, "jack@example", "jack@example"), map[string]any{
			"new_password2": []any{"The password is too similar to the email address."}}},
		{"too long", confirmBody(uid, token, long, long), map[string]any{
			"new_password1": []any{"Ensure this field has no more than 128 characters."},
			"new_password2": []any{"Ensure this field has no more than 128 characters."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/password/reset/confirm/", tc.body, withHeader("Authorization", ""))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	t.Run("the password is unchanged", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, e.loginStatus("jack", goodPassword))
		_ = u
	})
}

func TestPasswordResetConfirm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, apiKey := e.register("lena", goodPassword, "lena@example.com")
	b := e.browser()
	status, _ := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "lena", "password": goodPassword})
	require.Equal(t, http.StatusOK, status)
	status, _ = b.do(http.MethodGet, "/api/auth/user/", nil)
	require.Equal(t, http.StatusOK, status)

	e.clock.Advance(time.Minute)
	uid, token := e.requestReset(t, "lena@example.com", 2)
	res := e.do(http.MethodPost, "/api/auth/password/reset/confirm/",
		url.Values{"uid": {uid}, "token": {token}, "new_password1": {newPassword}, "new_password2": {newPassword}})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"detail": "Password has been reset with the new password."}, res.JSON(t))
	assert.Empty(t, res.Header().Values("Set-Cookie"), "the user is not logged in")

	status, _ = b.do(http.MethodGet, "/api/auth/user/", nil)
	assert.Equal(t, http.StatusUnauthorized, status, "the session opened with the old password ended")
	res = e.do(http.MethodGet, "/api/auth/user/", nil, withToken(apiKey))
	assert.Equal(t, http.StatusOK, res.Code, "API tokens stay valid, as in the reference")

	assert.Equal(t, http.StatusBadRequest, e.loginStatus("lena", goodPassword))
	assert.Equal(t, http.StatusOK, e.loginStatus("lena", newPassword))

	res = e.confirmReset(uid, token)
	assert.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, tokenInvalid, res.JSON(t), "a used token is dead")

	res = e.do(http.MethodGet, "/api/auth/password/reset/confirm/", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
}

func TestPasswordResetTokenInvalidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, e *testEnv, key string)
	}{
		{"login", func(t *testing.T, e *testEnv, _ string) {
			require.Equal(t, http.StatusOK, e.loginStatus("mona", goodPassword))
		}},
		{"password change", func(t *testing.T, e *testEnv, key string) {
			res := e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{
				"old_password": goodPassword, "new_password1": "yet-another-passphrase", "new_password2": "yet-another-passphrase"}, withToken(key))
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		}},
		{"added e-mail address", func(t *testing.T, e *testEnv, key string) {
			res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "mona2@example.com"}, withToken(key))
			require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
		}},
		{"primary e-mail address changed", func(t *testing.T, e *testEnv, key string) {
			res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "mona2@example.com"}, withToken(key))
			require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
			uid, token := e.requestReset(t, "mona@example.com", len(e.mailer.Messages())+1)
			res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/primary/", int64(res.JSON(t)["id"].(float64))), nil, withToken(key))
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
			res = e.confirmReset(uid, token)
			assert.Equal(t, tokenInvalid, res.JSON(t), "a token made after the address was added dies when the primary changes")
		}},
		{"expiry", func(t *testing.T, e *testEnv, _ string) {
			e.clock.Advance(72*time.Hour + time.Second)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, key := e.register("mona", goodPassword, "mona@example.com")
			uid, token := e.requestReset(t, "mona@example.com", 2)
			tc.change(t, e, key)
			res := e.confirmReset(uid, token)
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tokenInvalid, res.JSON(t))
		})
	}
	t.Run("still valid after exactly 3 days", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.register("mona", goodPassword, "mona@example.com")
		uid, token := e.requestReset(t, "mona@example.com", 2)
		e.clock.Advance(72 * time.Hour)
		res := e.confirmReset(uid, token)
		assert.Equal(t, http.StatusOK, res.Code, res.Body.String())
	})
	t.Run("configurable timeout", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *restauth.Config) { c.PasswordResetTimeout = time.Hour })
		e.register("mona", goodPassword, "mona@example.com")
		uid, token := e.requestReset(t, "mona@example.com", 2)
		e.clock.Advance(time.Hour + time.Second)
		res := e.confirmReset(uid, token)
		assert.Equal(t, tokenInvalid, res.JSON(t))
	})
}

// TestPasswordResetMailEscapesUsername: user-provided values are escaped in the HTML part
// of the reset mail (a username imported without Django's validation, here).
func TestPasswordResetMailEscapesUsername(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.SiteName = `Shop <i>"Best"</i>` })
	hostile := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	u := &restauth.User{Username: hostile, IsActive: true, PasswordHash: "!"}
	require.NoError(t, e.store.CreateUser(context.Background(), u, &restauth.EmailAddress{Email: "victim@example.com", Primary: true}))

	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "victim@example.com"})
	require.Equal(t, http.StatusOK, res.Code)
	msg := e.lastMail(t, 1)
	assert.NotContains(t, msg.HTML, "<script>")
	assert.NotContains(t, msg.HTML, "<img")
	assert.NotContains(t, msg.HTML, "<i>")
	assert.Contains(t, msg.HTML, "&lt;script&gt;")
	assert.Contains(t, msg.Text, hostile, "the text part is text/plain: printed verbatim")
}

func TestPasswordResetServiceMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.register("nina", goodPassword, "nina@example.com")
	require.NoError(t, e.svc.RequestPasswordReset(ctx, "nina@example.com"))
	require.NoError(t, e.svc.RequestPasswordReset(ctx, "unknown@example.com"))
	uid, token := resetLink(t, e.lastMail(t, 2))

	_, err := e.svc.ConfirmPasswordReset(ctx, restauth.PasswordResetConfirm{UID: uid, Token: token + "0", New1: newPassword, New2: newPassword})
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, map[string][]string{"token": {"Invalid value"}}, verr.Fields)

	u, err := e.svc.ConfirmPasswordReset(ctx, restauth.PasswordResetConfirm{UID: uid, Token: token, New1: newPassword, New2: newPassword})
	require.NoError(t, err)
	assert.Equal(t, "nina", u.Username)
}

// A look-alike address that a store matches by Unicode case folding (the Kelvin sign K,
// U+212A, folds to "k") must not receive someone else's reset link: the mail goes to the
// address as the user holds it (Django's fix for CVE-2019-19844).
func TestPasswordResetLookAlikeAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("kim", goodPassword, "kim@kbank.example")
	e.verify(t, e.addresses(t, u.ID)[0].ID)
	before := len(e.mailer.Messages())

	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "kim@\u212abank.example"}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	for _, m := range e.mailer.Messages()[before:] {
		assert.Equal(t, []string{"kim@kbank.example"}, m.To, "only ever the owner's own address")
	}
	before = len(e.mailer.Messages())

	res = e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "KIM@KBANK.EXAMPLE"}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code)
	msgs := e.mailer.Messages()
	require.Len(t, msgs, before+1)
	assert.Equal(t, []string{"kim@kbank.example"}, msgs[before].To, "ASCII case is ignored; the stored spelling gets the mail")
}
