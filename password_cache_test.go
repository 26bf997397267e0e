package restauth_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// Security finding 2: a right Basic password cost a full hash on every request, so a few
// scripts could starve login/. Verified credentials are remembered for a minute and
// concurrent checks share one hash; every change that matters still applies at once.
func TestBasicCredentialsCostOneHashAMinute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("scripted", goodPassword, "")
	me := func(password string) int {
		return e.do(http.MethodGet, "/api/user/me/", nil, withBasic("scripted", password)).Code
	}

	before := hashesOf(e)
	for range 50 {
		require.Equal(t, http.StatusOK, me(goodPassword))
	}
	assert.Equal(t, before+1, hashesOf(e), "50 Basic calls within a minute: one hash")

	// Concurrent calls with a credential not yet verified share one hash.
	e.clock.Advance(2 * time.Minute)
	before = hashesOf(e)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Go(func() { codes[i] = me(goodPassword) })
	}
	wg.Wait()
	for _, c := range codes {
		require.Equal(t, http.StatusOK, c)
	}
	assert.Equal(t, before+1, hashesOf(e), "20 parallel Basic calls: one hash")

	// Wrong passwords are never remembered: each costs its hash.
	before = hashesOf(e)
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, me("not-the-password"))
	}
	assert.Equal(t, before+3, hashesOf(e))

	// After the minute, the next call hashes again.
	e.clock.Advance(61 * time.Second)
	before = hashesOf(e)
	require.Equal(t, http.StatusOK, me(goodPassword))
	assert.Equal(t, before+1, hashesOf(e))

	// A password change (a new stored hash) ends the remembered credential at once.
	const newPassword = "another-long-secret-7"
	_, err := e.svc.ChangePassword(context.Background(), u, restauth.PasswordChange{Old: goodPassword, New1: newPassword, New2: newPassword})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, me(goodPassword), "the old password no longer works, remembered or not")
	assert.Equal(t, http.StatusOK, me(newPassword))

	// Deactivation applies at once too: the user is read on every request.
	inactive := false
	_, err = e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{IsActive: &inactive})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, me(newPassword))
}
