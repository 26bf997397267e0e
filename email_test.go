package restauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

var mailLinkPattern = regexp.MustCompile(`https?://\S+`)

// mailLink returns the one link of a mail's text part that is not the site URL itself,
// parsed.
func mailLink(t testing.TB, msg *restauth.Message) *url.URL {
	t.Helper()
	for _, l := range mailLinkPattern.FindAllString(msg.Text, -1) {
		u, err := url.Parse(l)
		require.NoError(t, err)
		if u.Path != "" && u.Path != "/" {
			return u
		}
	}
	t.Fatalf("no link in mail %q", msg.Text)
	return nil
}

// confirmationKey is the key of a confirmation mail's link: the ?key= of a host's page,
// or the last path segment of restauth's own confirmation page (the default link).
func confirmationKey(t testing.TB, msg *restauth.Message) string {
	t.Helper()
	link := mailLink(t, msg)
	key := link.Query().Get("key")
	if rest, ok := strings.CutPrefix(link.Path, "/api/auth/registration/account-confirm-email/"); ok && key == "" {
		key = strings.TrimSuffix(rest, "/")
	}
	require.NotEmpty(t, key)
	return key
}

// lastMail returns the newest mail and checks that n mails were sent in all.
func (e *testEnv) lastMail(t testing.TB, n int) *restauth.Message {
	t.Helper()
	msgs := e.mailer.Messages()
	require.Len(t, msgs, n)
	return msgs[n-1]
}

// lastMailTo returns the newest mail to addr.
func (e *testEnv) lastMailTo(t testing.TB, addr string) *restauth.Message {
	t.Helper()
	msgs := e.mailer.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].To) == 1 && msgs[i].To[0] == addr {
			return msgs[i]
		}
	}
	t.Fatalf("no mail to %s", addr)
	return nil
}

func (e *testEnv) addresses(t testing.TB, userID int64) []restauth.EmailAddress {
	t.Helper()
	addrs, err := e.store.EmailAddresses(context.Background(), userID)
	require.NoError(t, err)
	return addrs
}

func (e *testEnv) user(t testing.TB, id int64) *restauth.User {
	t.Helper()
	u, err := e.store.UserByID(context.Background(), id)
	require.NoError(t, err)
	return u
}

// verify marks an address verified directly in the store.
func (e *testEnv) verify(t testing.TB, id int64) {
	t.Helper()
	_, err := e.store.VerifyEmailAddress(context.Background(), id, true)
	require.NoError(t, err)
}

func emailJSON(id int64, email string, verified, primary bool, user int64) map[string]any {
	return map[string]any{"id": float64(id), "email": email, "verified": verified, "primary": primary, "user": float64(user)}
}

func TestEmailAddressList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("amy", goodPassword, "amy@example.com")
	_, otherKey := e.register("ben", goodPassword, "ben@example.com")
	first := e.addresses(t, u.ID)[0]
	added := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "amy2@example.com"}, withToken(key))
	require.Equal(t, http.StatusCreated, added.Code, added.Body.String())
	second := int64(added.JSON(t)["id"].(float64))

	res := e.do(http.MethodGet, "/api/auth/emails/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, []map[string]any{
		emailJSON(first.ID, "amy@example.com", false, true, u.ID),
		emailJSON(second, "amy2@example.com", false, false, u.ID),
	}, res.List(t), "a bare array of the caller's addresses only")

	res = e.do(http.MethodGet, "/api/auth/emails/?limit=1", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, map[string]any{
		"count": float64(2), "next": "http://testserver/api/auth/emails/?limit=1&offset=1", "previous": nil,
		"results": []any{emailJSON(first.ID, "amy@example.com", false, true, u.ID)},
	}, res.JSON(t))

	res = e.do(http.MethodGet, "/api/auth/emails/", nil, withToken(otherKey))
	require.Equal(t, http.StatusOK, res.Code)
	require.Len(t, res.List(t), 1)
	assert.Equal(t, "ben@example.com", res.List(t)[0]["email"])

	res = e.do(http.MethodGet, "/api/auth/emails/", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Code)
	assert.Equal(t, map[string]any{"detail": "Authentication credentials were not provided."}, res.JSON(t))

	res = e.do(http.MethodDelete, "/api/auth/emails/", nil, withToken(key))
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
	assert.Equal(t, "GET, POST, HEAD, OPTIONS", res.Header().Get("Allow"))
}

func TestEmailAddressAddErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("cleo", goodPassword, "cleo@example.com")
	other, _ := e.register("dan", goodPassword, "")

	tests := []struct {
		name string
		body any
		want map[string]any
	}{
		{"missing email", map[string]any{}, map[string]any{"email": []any{"This field is required."}}},
		{"blank email", map[string]any{"email": " "}, map[string]any{"email": []any{"This field may not be blank."}}},
		{"only tags", map[string]any{"email": "<b></b>"}, map[string]any{"email": []any{"This field may not be blank."}}},
		{"invalid email", map[string]any{"email": "not-an-address"}, map[string]any{"email": []any{"Enter a valid email address."}}},
		{"null email", map[string]any{"email": nil}, map[string]any{"email": []any{"This field may not be null."}}},
		{"too long", map[string]any{"email": strings.Repeat("a", 243) + "@example.com"}, map[string]any{
			"email": []any{"Ensure this field has no more than 254 characters."}}},
		{"same address in other case", map[string]any{"email": "CLEO@example.com"}, map[string]any{
			"non_field_errors": []any{"The fields user, email must make a unique set."}}},
		{"unknown user", map[string]any{"email": "x@example.com", "user": 9999}, map[string]any{
			"user": []any{`Invalid pk "9999" - object does not exist.`}}},
		{"another user", map[string]any{"email": "x@example.com", "user": other.ID}, map[string]any{
			"user": []any{"You can only add e-mail addresses to your own account."}}},
		{"user not a number", map[string]any{"email": "x@example.com", "user": "abc"}, map[string]any{
			"user": []any{"Incorrect type. Expected pk value, received str."}}},
		{"user a boolean", map[string]any{"email": "x@example.com", "user": true}, map[string]any{
			"user": []any{"Incorrect type. Expected pk value, received bool."}}},
		{"user null", map[string]any{"email": "x@example.com", "user": nil}, map[string]any{
			"user": []any{"This field may not be null."}}},
		{"all fields wrong", map[string]any{"user": 9999}, map[string]any{
			"email": []any{"This field is required."}, "user": []any{`Invalid pk "9999" - object does not exist.`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/emails/", tc.body, withToken(key))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	t.Run("nothing was added and nothing mailed", func(t *testing.T) {
		assert.Len(t, e.addresses(t, u.ID), 1)
		assert.Len(t, e.mailer.Messages(), 1, "only cleo's registration mail")
	})
	t.Run("anonymous", func(t *testing.T) {
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "x@example.com"})
		assert.Equal(t, http.StatusUnauthorized, res.Code)
	})
}

func TestEmailAddressAdd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("eve", goodPassword, "eve@example.com")
	mails := len(e.mailer.Messages())

	tests := []struct {
		name  string
		body  any
		email string
	}{
		{"verified and primary are read-only, tags stripped", map[string]any{
			"email": "<b>Eve.Work@Example.com</b>", "user": u.ID, "verified": true, "primary": true}, "Eve.Work@Example.com"},
		{"user omitted", map[string]any{"email": "eve2@example.com"}, "eve2@example.com"},
		{"user as a string", map[string]any{"email": "eve3@example.com", "user": fmt.Sprint(u.ID)}, "eve3@example.com"},
		{"form encoded", url.Values{"email": {"eve4@example.com"}, "user": {fmt.Sprint(u.ID)}}, "eve4@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/emails/", tc.body, withToken(key))
			require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
			got := res.JSON(t)
			id := int64(got["id"].(float64))
			assert.Equal(t, emailJSON(id, tc.email, false, false, u.ID), got)

			mails++
			msg := e.lastMail(t, mails)
			assert.Equal(t, []string{tc.email}, msg.To)
			assert.Equal(t, "[restauth] Please Confirm Your E-mail Address", msg.Subject)
			link := mailLink(t, msg)
			assert.True(t, strings.HasPrefix(link.Scheme+"://"+link.Host+link.Path, "http://testserver/api/auth/registration/account-confirm-email/"), link.String())
			assert.Equal(t, "eve@example.com", e.user(t, u.ID).Email, "User.email still mirrors the primary")
		})
	}
}

func TestEmailAddressFirstAddressBecomesPrimaryOnVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("fay", goodPassword, "")
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "fay@example.com"}, withToken(key))
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	assert.Equal(t, false, res.JSON(t)["primary"], "not primary while unverified")
	assert.Equal(t, "", e.user(t, u.ID).Email)

	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirmationKey(t, e.lastMail(t, 1))})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	addrs := e.addresses(t, u.ID)
	require.Len(t, addrs, 1)
	assert.True(t, addrs[0].Verified)
	assert.True(t, addrs[0].Primary)
	assert.Equal(t, "fay@example.com", e.user(t, u.ID).Email)
}

func TestEmailAddressAddVerifiedElsewhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, _ := e.register("gus", goodPassword, "gus@example.com")
	e.verify(t, e.addresses(t, owner.ID)[0].ID)
	u, key := e.register("hal", goodPassword, "")
	before := len(e.mailer.Messages())

	// Refusing would tell the caller the address has an account; it is added, but no
	// confirmation goes to the other account's mailbox since it could never succeed.
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "GUS@example.com"}, withToken(key))
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	assert.Len(t, e.mailer.Messages(), before)
	verifyPath := fmt.Sprintf("/api/auth/emails/%d/verify/", e.addresses(t, u.ID)[0].ID)
	res = e.do(http.MethodPost, verifyPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	res = e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "gus@example.com"})
	require.Equal(t, http.StatusOK, res.Code)
	assert.Len(t, e.mailer.Messages(), before, "nor on request")

	// A key made while the address was free still cannot take it from its owner.
	theirs := e.addresses(t, owner.ID)[0].ID
	u2, key2 := e.register("ivo", goodPassword, "")
	res = e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "late@example.com"}, withToken(key2))
	require.Equal(t, http.StatusCreated, res.Code)
	lateKey := confirmationKey(t, e.lastMail(t, before+1))
	late, _ := e.register("jan", goodPassword, "late@example.com")
	e.verify(t, e.addresses(t, late.ID)[0].ID)
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": lateKey})
	assert.Equal(t, http.StatusOK, res.Code, "the reference answers ok")
	assert.Equal(t, map[string]any{"detail": "ok"}, res.JSON(t))
	assert.False(t, e.addresses(t, u2.ID)[0].Verified, "but nothing changed")

	// Once the owner lets the address go, the other user can verify it.
	ownerKey := e.login(t, "gus")
	res = e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "gus.new@example.com"}, withToken(ownerKey))
	require.Equal(t, http.StatusCreated, res.Code)
	newID := int64(res.JSON(t)["id"].(float64))
	e.verify(t, newID)
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/primary/", newID), nil, withToken(ownerKey))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", theirs), nil, withToken(ownerKey))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	n := len(e.mailer.Messages())
	res = e.do(http.MethodPost, verifyPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirmationKey(t, e.lastMail(t, n+1))})
	require.Equal(t, http.StatusOK, res.Code)
	assert.True(t, e.addresses(t, u.ID)[0].Verified)
	assert.Equal(t, "GUS@example.com", e.user(t, u.ID).Email, "verified and made primary")
}

// login logs a user in with goodPassword and returns the token key.
func (e *testEnv) login(t testing.TB, username string) string {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	return res.JSON(t)["key"].(string)
}

func TestEmailAddressActionsOnOthersAddresses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, _ := e.register("ida", goodPassword, "ida@example.com")
	theirs := e.addresses(t, owner.ID)[0].ID
	_, key := e.register("jon", goodPassword, "jon@example.com")

	for _, action := range []string{"primary", "verify", "remove"} {
		for _, tc := range []struct {
			name string
			id   int64
		}{{"another user's", theirs}, {"unknown", 9999}} {
			t.Run(action+" "+tc.name, func(t *testing.T) {
				path := fmt.Sprintf("/api/auth/emails/%d/%s/", tc.id, action)
				res := e.do(http.MethodPost, path, map[string]any{}, withToken(key))
				assert.Equal(t, http.StatusNotFound, res.Code)
				assert.Equal(t, map[string]any{"detail": "Not found."}, res.JSON(t))

				res = e.do(http.MethodPost, path, nil)
				assert.Equal(t, http.StatusUnauthorized, res.Code)
				res = e.do(http.MethodGet, path, nil, withToken(key))
				assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
			})
		}
	}
	addrs := e.addresses(t, owner.ID)
	require.Len(t, addrs, 1, "nothing happened to the other user's address")
	assert.True(t, addrs[0].Primary)
	assert.Len(t, e.mailer.Messages(), 2, "no mail for another user's address")
}

func TestEmailAddressVerifyAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("kim", goodPassword, "kim@example.com")
	addr := e.addresses(t, u.ID)[0]
	path := fmt.Sprintf("/api/auth/emails/%d/verify/", addr.ID)

	// The body is ignored, whatever it is.
	res := e.do(http.MethodPost, path, "not json", withToken(key), withHeader("Content-Type", "text/plain"))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, emailJSON(addr.ID, "kim@example.com", false, true, u.ID), res.JSON(t))
	msg := e.lastMail(t, 2)
	assert.Equal(t, []string{"kim@example.com"}, msg.To)

	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirmationKey(t, msg)})
	require.Equal(t, http.StatusOK, res.Code)

	res = e.do(http.MethodPost, path, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, emailJSON(addr.ID, "kim@example.com", true, true, u.ID), res.JSON(t))
	assert.Len(t, e.mailer.Messages(), 2, "no mail for a verified address")
}

func TestEmailAddressPrimaryRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("an unverified address cannot replace a verified primary", func(t *testing.T) {
		t.Parallel()
		u, key := e.register("lea", goodPassword, "lea@example.com")
		first := e.addresses(t, u.ID)[0]
		e.verify(t, first.ID)
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "lea2@example.com"}, withToken(key))
		require.Equal(t, http.StatusCreated, res.Code)
		second := int64(res.JSON(t)["id"].(float64))
		// The subtests share e and run in parallel: find this address's mail by recipient.
		key2 := confirmationKey(t, e.lastMailTo(t, "lea2@example.com"))

		path := fmt.Sprintf("/api/auth/emails/%d/primary/", second)
		res = e.do(http.MethodPost, path, nil, withToken(key))
		require.Equal(t, http.StatusBadRequest, res.Code)
		assert.Equal(t, map[string]any{"non_field_errors": []any{
			"An unverified e-mail address cannot replace a verified primary address. Verify it first."}}, res.JSON(t))
		assert.Equal(t, "lea@example.com", e.user(t, u.ID).Email)

		res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": key2})
		require.Equal(t, http.StatusOK, res.Code)
		res = e.do(http.MethodPost, path, nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, emailJSON(second, "lea2@example.com", true, true, u.ID), res.JSON(t))
		assert.Equal(t, "lea2@example.com", e.user(t, u.ID).Email, "User.email mirrors the primary")
		addrs := e.addresses(t, u.ID)
		assert.False(t, addrs[0].Primary)

		// Already primary: a no-op.
		res = e.do(http.MethodPost, path, nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code)
		assert.Equal(t, emailJSON(second, "lea2@example.com", true, true, u.ID), res.JSON(t))
	})
	t.Run("an unverified address may replace an unverified primary", func(t *testing.T) {
		t.Parallel()
		u, key := e.register("max", goodPassword, "max@example.com")
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "max2@example.com"}, withToken(key))
		require.Equal(t, http.StatusCreated, res.Code)
		second := int64(res.JSON(t)["id"].(float64))
		res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/primary/", second), nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, emailJSON(second, "max2@example.com", false, true, u.ID), res.JSON(t))
		assert.Equal(t, "max2@example.com", e.user(t, u.ID).Email)
	})
	t.Run("an unverified address may become primary when there is none", func(t *testing.T) {
		t.Parallel()
		u, key := e.register("ned", goodPassword, "")
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "ned@example.com"}, withToken(key))
		require.Equal(t, http.StatusCreated, res.Code)
		id := int64(res.JSON(t)["id"].(float64))
		res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/primary/", id), nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, "ned@example.com", e.user(t, u.ID).Email)
	})
}

func TestEmailAddressRemoveRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("ola", goodPassword, "ola@example.com")
	primary := e.addresses(t, u.ID)[0]
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "ola2@example.com"}, withToken(key))
	require.Equal(t, http.StatusCreated, res.Code)
	second := int64(res.JSON(t)["id"].(float64))

	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", primary.ID), nil, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{
		"You cannot remove your primary e-mail address while you have other addresses. Make another address primary first."}}, res.JSON(t))
	assert.Len(t, e.addresses(t, u.ID), 2)

	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", second), map[string]any{"ignored": true}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"id": nil, "email": "ola2@example.com", "verified": false, "primary": false, "user": float64(u.ID)}, res.JSON(t))
	assert.Len(t, e.addresses(t, u.ID), 1)

	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", second), nil, withToken(key))
	assert.Equal(t, http.StatusNotFound, res.Code, "gone")

	// The last address, primary or not, can go; User.email follows.
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", primary.ID), nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"id": nil, "email": "ola@example.com", "verified": false, "primary": true, "user": float64(u.ID)}, res.JSON(t))
	assert.Empty(t, e.addresses(t, u.ID))
	assert.Equal(t, "", e.user(t, u.ID).Email)
}

func TestVerifyEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("pia", goodPassword, "pia@example.com")
	key := confirmationKey(t, e.lastMail(t, 1))
	e.register("quin", goodPassword, "quin@example.com")
	otherKey := confirmationKey(t, e.lastMail(t, 2))

	tampered := []byte(key)
	tampered[len(tampered)-1] ^= 1
	// A key signed with another secret has a valid shape but a wrong signature.
	foreign := newEnv(t, func(c *restauth.Config) { c.Secret = []byte(strings.Repeat("x", 40)) })
	foreign.register("pia", goodPassword, "pia@example.com")
	foreignKey := confirmationKey(t, foreign.lastMail(t, 1))

	notFound := map[string]any{"detail": "Not found."}
	tests := []struct {
		name   string
		body   any
		status int
		want   map[string]any
	}{
		{"missing key", map[string]any{}, 400, map[string]any{"key": []any{"This field is required."}}},
		{"blank key", map[string]any{"key": ""}, 400, map[string]any{"key": []any{"This field may not be blank."}}},
		{"garbage", map[string]any{"key": "garbage"}, 404, notFound},
		{"tampered", map[string]any{"key": string(tampered)}, 404, notFound},
		{"other secret", map[string]any{"key": foreignKey}, 404, notFound},
		{"valid", map[string]any{"key": key}, 200, map[string]any{"detail": "ok"}},
		{"reused", map[string]any{"key": key}, 404, notFound},
		{"form encoded", url.Values{"key": {otherKey}}, 200, map[string]any{"detail": "ok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/registration/verify-email/", tc.body, withHeader("Authorization", ""))
			require.Equal(t, tc.status, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	addrs := e.addresses(t, u.ID)
	assert.True(t, addrs[0].Verified)

	t.Run("GET is not allowed", func(t *testing.T) {
		res := e.do(http.MethodGet, "/api/auth/registration/verify-email/", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
		assert.Equal(t, map[string]any{"detail": `Method "GET" not allowed.`}, res.JSON(t))
	})
}

func TestVerifyEmailKeyExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("rae", goodPassword, "rae@example.com")
	e.register("sid", goodPassword, "sid@example.com")
	msgs := e.mailer.Messages()
	require.Len(t, msgs, 2)
	rae, sid := confirmationKey(t, msgs[0]), confirmationKey(t, msgs[1])

	e.clock.Advance(72 * time.Hour)
	res := e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": rae})
	assert.Equal(t, http.StatusOK, res.Code, "valid for exactly 3 days")

	e.clock.Advance(time.Second)
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": sid})
	assert.Equal(t, http.StatusNotFound, res.Code, "expired")
	assert.Equal(t, map[string]any{"detail": "Not found."}, res.JSON(t))

	// A new key for the same address works after the old one expired.
	res = e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "sid@example.com"})
	require.Equal(t, http.StatusOK, res.Code)
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirmationKey(t, e.lastMail(t, 3))})
	assert.Equal(t, http.StatusOK, res.Code)

	t.Run("configurable expiry", func(t *testing.T) {
		e2 := newEnv(t, func(c *restauth.Config) { c.EmailConfirmationExpiry = time.Hour })
		e2.register("tom", goodPassword, "tom@example.com")
		k := confirmationKey(t, e2.lastMail(t, 1))
		e2.clock.Advance(time.Hour + time.Second)
		res := e2.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": k})
		assert.Equal(t, http.StatusNotFound, res.Code)
	})
}

func TestVerifyEmailOfRemovedAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("uli", goodPassword, "uli@example.com")
	confirm := confirmationKey(t, e.lastMail(t, 1))
	res := e.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", e.addresses(t, u.ID)[0].ID), nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirm})
	assert.Equal(t, http.StatusNotFound, res.Code)
	assert.Equal(t, map[string]any{"detail": "Not found."}, res.JSON(t))
}

func TestResendEmailVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("val", goodPassword, "Val@Example.com")
	verified, _ := e.register("wes", goodPassword, "wes@example.com")
	e.verify(t, e.addresses(t, verified.ID)[0].ID)
	mails := len(e.mailer.Messages())

	ok := map[string]any{"detail": "ok"}
	tests := []struct {
		name   string
		body   any
		status int
		want   map[string]any
		mailTo string
	}{
		{"empty body sends nothing", nil, 200, ok, ""},
		{"empty object sends nothing", map[string]any{}, 200, ok, ""},
		{"unknown address", map[string]any{"email": "nobody@example.com"}, 200, ok, ""},
		{"verified address", map[string]any{"email": "wes@example.com"}, 200, ok, ""},
		{"unverified address, other case", map[string]any{"email": "val@example.COM"}, 200, ok, "Val@Example.com"},
		{"invalid address", map[string]any{"email": "nope"}, 400, map[string]any{"email": []any{"Enter a valid email address."}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/registration/resend-email/", tc.body, withHeader("Authorization", ""))
			require.Equal(t, tc.status, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
			if tc.mailTo == "" {
				assert.Len(t, e.mailer.Messages(), mails)
				return
			}
			mails++
			msg := e.lastMail(t, mails)
			assert.Equal(t, []string{tc.mailTo}, msg.To)
			res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirmationKey(t, msg)})
			assert.Equal(t, http.StatusOK, res.Code)
		})
	}
	assert.True(t, e.addresses(t, u.ID)[0].Verified)
}

// TestMandatoryVerificationFlow follows a user through mandatory verification: register,
// read the mail, verify with its key, then log in.
func TestMandatoryVerificationFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		c.EmailVerification = restauth.VerificationMandatory
		c.SiteURL = "https://inventree.example.com/"
		c.SiteName = "InvenTree"
		c.Mail.SubjectPrefix = "[InvenTree] "
		c.Links.EmailConfirm = "/accounts/confirm-email/{key}/"
	})
	res := e.do(http.MethodPost, "/api/auth/registration/", registration("xena", "xena@example.com", goodPassword, goodPassword))
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"detail": "Verification e-mail sent."}, res.JSON(t))

	login := map[string]any{"username": "xena", "password": goodPassword}
	res = e.do(http.MethodPost, "/api/auth/login/", login)
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"E-mail is not verified."}}, res.JSON(t))

	msg := e.lastMail(t, 1)
	assert.Equal(t, []string{"xena@example.com"}, msg.To)
	assert.Equal(t, "[InvenTree] Please Confirm Your E-mail Address", msg.Subject)
	assert.Contains(t, msg.Text, "InvenTree")
	link := mailLink(t, msg)
	require.Equal(t, "inventree.example.com", link.Host)
	key, ok := strings.CutPrefix(link.Path, "/accounts/confirm-email/")
	require.True(t, ok, link.String())
	key = strings.TrimSuffix(key, "/")

	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": key})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())

	res = e.do(http.MethodPost, "/api/auth/login/", login)
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.NotEmpty(t, res.JSON(t)["key"])
}

func TestEmailConfigValidation(t *testing.T) {
	t.Parallel()
	base := func() restauth.Config {
		return restauth.Config{Store: newEnv(t).store, Secret: testSecret, SiteURL: "http://testserver"}
	}
	tests := []struct {
		name   string
		modify func(*restauth.Config)
	}{
		{"reset path without token", func(c *restauth.Config) { c.Links.PasswordReset = "/reset?uid={uid}" }},
		{"reset path without uid", func(c *restauth.Config) { c.Links.PasswordReset = "/reset?token={token}" }},
		{"reset path not a path", func(c *restauth.Config) { c.Links.PasswordReset = "https://evil.example/{uid}/{token}" }},
		{"confirm path without key", func(c *restauth.Config) { c.Links.EmailConfirm = "/verify" }},
		{"unknown template kind", func(c *restauth.Config) {
			c.Mail.Templates = map[restauth.MailKind]*restauth.MailTemplate{"nope": restauth.DefaultMailTemplates()[restauth.MailPasswordReset]}
		}},
		{"incomplete template", func(c *restauth.Config) {
			c.Mail.Templates = map[restauth.MailKind]*restauth.MailTemplate{restauth.MailPasswordReset: {}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.modify(&cfg)
			_, err := restauth.New(cfg)
			assert.ErrorIs(t, err, restauth.ErrConfig)
		})
	}
}

func TestEmailServiceMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.register("yara", goodPassword, "yara@example.com")
	other, _ := e.register("zed", goodPassword, "zed@example.com")

	_, err := e.svc.AddEmailAddress(ctx, u.ID, "bad")
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []string{"Enter a valid email address."}, verr.Fields["email"])

	addr, err := e.svc.AddEmailAddress(ctx, u.ID, " yara2@example.com ")
	require.NoError(t, err)
	assert.Equal(t, "yara2@example.com", addr.Email)

	theirs := e.addresses(t, other.ID)[0].ID
	_, err = e.svc.SetPrimaryEmail(ctx, u.ID, theirs)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = e.svc.RequestVerification(ctx, u.ID, theirs)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = e.svc.RemoveEmailAddress(ctx, u.ID, theirs)
	assert.ErrorIs(t, err, restauth.ErrNotFound)

	_, err = e.svc.VerifyEmail(ctx, "x:y:z")
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	require.NoError(t, e.svc.ResendVerification(ctx, ""))

	list, err := e.svc.EmailAddresses(ctx, u.ID)
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

// TestConcurrentVerificationOfOneAddress: two users added the same address; both keys are
// used ten times each, concurrently. The address ends up verified for at most one user.
func TestConcurrentVerificationOfOneAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const shared = "shared@example.com"
	var users []*restauth.User
	var keys []string
	for _, name := range []string{"alpha", "bravo"} {
		u, token := e.register(name, goodPassword, "")
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": shared}, withToken(token))
		require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
		users = append(users, u)
		keys = append(keys, confirmationKey(t, e.lastMail(t, len(users))))
	}

	const perKey = 10
	statuses := make([]int, 2*perKey)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": keys[i%2]})
			statuses[i] = res.Code
		}()
	}
	close(start)
	wg.Wait()

	for _, s := range statuses {
		assert.Contains(t, []int{http.StatusOK, http.StatusNotFound}, s)
	}
	verifiedFor := 0
	for _, u := range users {
		addrs := e.addresses(t, u.ID)
		require.Len(t, addrs, 1)
		if addrs[0].Verified {
			verifiedFor++
			assert.True(t, addrs[0].Primary)
			assert.Equal(t, shared, e.user(t, u.ID).Email)
		} else {
			assert.Equal(t, "", e.user(t, u.ID).Email)
		}
	}
	assert.LessOrEqual(t, verifiedFor, 1, "verified for at most one user")
	assert.Equal(t, 1, verifiedFor, "one of them won")
	users2, err := e.store.UsersByEmail(context.Background(), shared)
	require.NoError(t, err)
	assert.Len(t, users2, 2, "the loser keeps the address, unverified")
}

// TestEmailAddressesWithSession: the web UI's account page calls the address routes with
// its session cookie and X-CSRFToken.
func TestEmailAddressesWithSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("ulla", goodPassword, "ulla@example.com")
	b := e.browser()
	status, _ := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "ulla", "password": goodPassword})
	require.Equal(t, http.StatusOK, status)

	status, body := b.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "ulla2@example.com", "user": u.ID})
	require.Equal(t, http.StatusCreated, status, string(body))
	status, body = b.do(http.MethodGet, "/api/auth/emails/", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(body), "ulla2@example.com")

	b.sendCSRF = false
	status, body = b.do(http.MethodPost, fmt.Sprintf("/api/auth/emails/%d/remove/", e.addresses(t, u.ID)[1].ID), map[string]any{})
	assert.Equal(t, http.StatusForbidden, status, string(body))
	assert.Len(t, e.addresses(t, u.ID), 2)
}

func TestMailIsSentInTheBackgroundByDefault(t *testing.T) {
	t.Parallel()
	delivered := make(chan *restauth.Message, 8) // room for every mail, so Close cannot wait on the test
	e := newEnv(t, func(c *restauth.Config) {
		c.Mail.SendInRequest = false
		c.Mail.Mailer = restauth.MailerFunc(func(ctx context.Context, msg *restauth.Message) error {
			delivered <- msg
			return nil
		})
	})
	e.register("async", goodPassword, "async@example.com")
	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "async@example.com"})
	require.Equal(t, http.StatusOK, res.Code)
	require.NoError(t, e.svc.Close(context.Background()), "Close waits for background deliveries")
	var reset *restauth.Message
	for reset == nil {
		msg := <-delivered
		if strings.Contains(msg.Text, "uid=") {
			reset = msg
		}
	}
	assert.Equal(t, []string{"async@example.com"}, reset.To)
}
