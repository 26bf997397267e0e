package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func sampleUserSession(userID int64, hash string) *restauth.UserSession {
	return &restauth.UserSession{
		UserID: userID, SessionHash: hash, IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11) Firefox/140.0",
		Created: base, LastSeen: base.Add(90 * time.Second),
	}
}

func createUserSession(t *testing.T, s restauth.Store, userID int64, hash string) *restauth.UserSession {
	t.Helper()
	us := sampleUserSession(userID, hash)
	require.NoError(t, s.CreateUserSession(t.Context(), us))
	require.NotZero(t, us.ID)
	return us
}

func normUserSession(us restauth.UserSession) restauth.UserSession {
	us.Created, us.LastSeen = normTime(us.Created), normTime(us.LastSeen)
	return us
}

func userSessionHashes(t *testing.T, s restauth.Store, userID int64) []string {
	t.Helper()
	list, err := s.UserSessions(t.Context(), userID)
	require.NoError(t, err)
	hashes := []string{}
	for _, us := range list {
		hashes = append(hashes, us.SessionHash)
	}
	return hashes
}

var userSessionTests = []test{
	{"CreateUserSession stores every field", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		us := createUserSession(t, s, u.ID, "hash-1")
		bare := &restauth.UserSession{UserID: u.ID, SessionHash: "hash-2"}
		require.NoError(t, s.CreateUserSession(t.Context(), bare))
		list, err := s.UserSessions(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		assert.Equal(t, normUserSession(*us), normUserSession(list[0]))
		assert.Equal(t, *bare, list[1], "empty address and agent, zero times read back as they were")
	}},
	{"UserSessions are the user's own, ordered by ID", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		var ids []int64
		for i := range 4 {
			ids = append(ids, createUserSession(t, s, a.ID, fmt.Sprintf("a-%d", i)).ID)
			createUserSession(t, s, b.ID, fmt.Sprintf("b-%d", i))
		}
		list, err := s.UserSessions(t.Context(), a.ID)
		require.NoError(t, err)
		var got []int64
		for _, us := range list {
			assert.Equal(t, a.ID, us.UserID)
			got = append(got, us.ID)
		}
		assert.Equal(t, ids, got)
		assert.IsIncreasing(t, got)
	}},
	{"UserSessions of a user without any is empty", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		for _, id := range []int64{u.ID, u.ID + 1000} {
			list, err := s.UserSessions(t.Context(), id)
			require.NoError(t, err)
			assert.NotNil(t, list)
			assert.Empty(t, list)
		}
	}},
	{"CreateUserSession for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		requireNotFound(t, s.CreateUserSession(t.Context(), sampleUserSession(u.ID+1000, "h")))
	}},
	{"UserSessions returns copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		us := createUserSession(t, s, u.ID, "h")
		us.IP = "changed"
		list, err := s.UserSessions(t.Context(), u.ID)
		require.NoError(t, err)
		list[0].SessionHash = "changed too"
		assert.Equal(t, []string{"h"}, userSessionHashes(t, s, u.ID))
		assert.Equal(t, "203.0.113.7", list[0].IP)
	}},
	{"DeleteUserSession removes the user's record of that hash only", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		createUserSession(t, s, u.ID, "h1")
		createUserSession(t, s, u.ID, "h2")
		require.NoError(t, s.DeleteUserSession(t.Context(), u.ID, "h1"))
		assert.Equal(t, []string{"h2"}, userSessionHashes(t, s, u.ID))
		requireNotFound(t, s.DeleteUserSession(t.Context(), u.ID, "h1"))
		requireNotFound(t, s.DeleteUserSession(t.Context(), u.ID, "never"))
	}},
	{"DeleteUserSession of another user's session is not found and removes nothing", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		createUserSession(t, s, b.ID, "bs")
		requireNotFound(t, s.DeleteUserSession(t.Context(), a.ID, "bs"))
		requireNotFound(t, s.DeleteUserSession(t.Context(), b.ID+1000, "bs"))
		assert.Equal(t, []string{"bs"}, userSessionHashes(t, s, b.ID))
	}},
	{"DeleteUserSessions keeps the excepted one and other users' sessions", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		for _, h := range []string{"a1", "a2", "a3"} {
			createUserSession(t, s, a.ID, h)
		}
		createUserSession(t, s, b.ID, "b1")
		n, err := s.DeleteUserSessions(t.Context(), a.ID, "a2")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Equal(t, []string{"a2"}, userSessionHashes(t, s, a.ID))
		// A session of another user is never an exception that keeps it.
		n, err = s.DeleteUserSessions(t.Context(), a.ID, "b1")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Empty(t, userSessionHashes(t, s, a.ID))
		assert.Equal(t, []string{"b1"}, userSessionHashes(t, s, b.ID))
	}},
	{"DeleteUserSessions without exception removes them all", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		createUserSession(t, s, u.ID, "h1")
		createUserSession(t, s, u.ID, "h2")
		n, err := s.DeleteUserSessions(t.Context(), u.ID, "")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.Empty(t, userSessionHashes(t, s, u.ID))
		n, err = s.DeleteUserSessions(t.Context(), u.ID+1000, "")
		require.NoError(t, err, "an unknown user has none to remove")
		assert.Zero(t, n)
	}},
	{"DeleteUser removes the user's sessions", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		createUserSession(t, s, a.ID, "a1")
		createUserSession(t, s, b.ID, "b1")
		require.NoError(t, s.DeleteUser(t.Context(), a.ID))
		assert.Empty(t, userSessionHashes(t, s, a.ID))
		assert.Equal(t, []string{"b1"}, userSessionHashes(t, s, b.ID))
		// The id is not reused, nor the old records revived, by a new user of that name.
		c := createUser(t, s, "a")
		assert.Empty(t, userSessionHashes(t, s, c.ID))
	}},
	{"concurrent creations all land with distinct IDs", func(t *testing.T, s restauth.Store) {
		const n = 20
		u := createUser(t, s, "a")
		errs := make([]error, n)
		sessions := make([]*restauth.UserSession, n)
		startTogether(n, func(i int) {
			sessions[i] = sampleUserSession(u.ID, fmt.Sprintf("h-%d", i))
			errs[i] = s.CreateUserSession(t.Context(), sessions[i])
		})
		ids := map[int64]bool{}
		for i, err := range errs {
			require.NoError(t, err)
			ids[sessions[i].ID] = true
		}
		assert.Len(t, ids, n)
		assert.Len(t, userSessionHashes(t, s, u.ID), n)
	}},
	{"one of concurrent deletions of a session succeeds", func(t *testing.T, s restauth.Store) {
		const n = 10
		u := createUser(t, s, "a")
		createUserSession(t, s, u.ID, "h")
		createUserSession(t, s, u.ID, "kept")
		errs := make([]error, n)
		startTogether(n, func(i int) { errs[i] = s.DeleteUserSession(t.Context(), u.ID, "h") })
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				requireNotFound(t, err)
			}
		}
		assert.Equal(t, 1, ok)
		assert.Equal(t, []string{"kept"}, userSessionHashes(t, s, u.ID))
	}},
}
