package restauth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// confirmationsTo counts the confirmation mails sent to email so far.
func (e *testEnv) confirmationsTo(email string) int {
	n := 0
	for _, m := range e.mailer.Messages() {
		if len(m.To) == 1 && m.To[0] == email && strings.HasSuffix(m.Subject, "Please Confirm Your E-mail Address") {
			n++
		}
	}
	return n
}

// Adding and removing one address again and again must not flood its inbox: the
// confirmation links share RateLimits.ResendPerEmail (and its key) with the resend
// routes. Over the limit the address is still added, and the answer does not change.
func TestAddEmailConfirmationLimitedPerAddress(t *testing.T) {
	t.Parallel()
	// Mails go to the address as added; the limit's key ignores case.
	const victim = "Victim@Example.com"
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.ResendPerEmail = restauth.RateRule{Limit: 1, Window: 3 * time.Minute}
	}))
	u, key := e.register("cy", goodPassword, "cy@example.com")
	cycle := func() int64 {
		t.Helper()
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": victim}, withToken(key))
		require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
		id := int64(res.JSON(t)["id"].(float64))
		assert.Equal(t, emailJSON(id, victim, false, false, u.ID), res.JSON(t))
		return id
	}
	remove := func(id int64) {
		t.Helper()
		res := e.do(http.MethodPost, "/api/auth/emails/"+fmtFloat(float64(id))+"/remove/", nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	}
	for range 10 {
		remove(cycle())
	}
	assert.Equal(t, 1, e.confirmationsTo(victim), "one link in 3 minutes, not ten")

	// The key is the resend routes' one: the anonymous resend is refused too.
	id := cycle()
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "victim@example.com"}))

	// After the window, another add mails another link.
	remove(id)
	e.clock.Advance(3*time.Minute + time.Second)
	cycle()
	assert.Equal(t, 2, e.confirmationsTo(victim))

	// The resend route counts the key itself and is not refused its own mail.
	e.clock.Advance(3*time.Minute + time.Second)
	res := e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "victim@example.com"})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, 3, e.confirmationsTo(victim))
	assert.Len(t, e.addresses(t, u.ID), 2)
}
