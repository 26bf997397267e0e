package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// test is one behaviour of the contract, run against a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s restauth.Store)
}

// Run runs the conformance suite against stores made by newStore, which is called once per
// subtest, from parallel subtests, and must return an empty store each time.
func Run(t *testing.T, newStore func(t *testing.T) restauth.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Users", userTests},
		{"EmailAddresses", emailTests},
		{"Tokens", tokenTests},
		{"SocialAccounts", socialTests},
		{"Concurrency", concurrencyTests},
		{"TokenUserStore", tokenUserTests},
		{"TOTP", totpTests},
		{"RecoveryCodes", recoveryCodeTests},
		{"MFAConcurrency", mfaConcurrencyTests},
		{"RefreshTokens", refreshTests},
		{"WebAuthn", webAuthnTests},
		{"Transactor", txTests},
		{"Outbox", outboxTests},
		{"UserSessions", userSessionTests},
		{"InvalidationNotifier", invalidationTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := newStore(t)
					require.NotNil(t, s, "newStore returned nil")
					tc.fn(t, s)
				})
			}
		})
	}
}

// base has microsecond precision, which every store keeps, and a non-zero sub-second part,
// so that a store that drops fractions of seconds fails.
var base = time.Date(2024, 11, 30, 9, 15, 42, 123456000, time.UTC)

// day returns a UTC midnight n days after 2024-12-01, the form of token dates.
func day(n int) time.Time { return time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func sampleUser(name string) *restauth.User {
	return &restauth.User{
		Username:     name,
		FirstName:    "First " + name,
		LastName:     "Last " + name,
		PasswordHash: "pbkdf2_sha256$870000$salt$hash-" + name,
		IsActive:     true,
		DateJoined:   base,
	}
}

func createUser(t *testing.T, s restauth.Store, name string) *restauth.User {
	t.Helper()
	u := sampleUser(name)
	require.NoError(t, s.CreateUser(t.Context(), u, nil))
	require.Positive(t, u.ID, "CreateUser must write the assigned ID back")
	return u
}

func addEmail(t *testing.T, s restauth.Store, userID int64, addr string, verified, primary bool) restauth.EmailAddress {
	t.Helper()
	e := restauth.EmailAddress{UserID: userID, Email: addr, Verified: verified, Primary: primary}
	require.NoError(t, s.AddEmailAddress(t.Context(), &e))
	require.Positive(t, e.ID, "AddEmailAddress must write the assigned ID back")
	return e
}

func sampleToken(userID int64, key string) *restauth.APIToken {
	return &restauth.APIToken{
		UserID:    userID,
		KeyHash:   hashOf(key),
		KeyPrefix: "inv-" + key[:4],
		KeySuffix: key[len(key)-4:] + "-20251201",
		Name:      "token " + key,
		Created:   base,
		Expiry:    day(365),
	}
}

func createToken(t *testing.T, s restauth.Store, userID int64, key string) *restauth.APIToken {
	t.Helper()
	tk := sampleToken(userID, key)
	require.NoError(t, s.CreateToken(t.Context(), tk))
	require.Positive(t, tk.ID, "CreateToken must write the assigned ID back")
	return tk
}

func sampleSocial(userID int64, provider, uid string) *restauth.SocialAccount {
	return &restauth.SocialAccount{
		UserID:     userID,
		Provider:   provider,
		UID:        uid,
		LastLogin:  base.Add(time.Hour),
		DateJoined: base,
		ExtraData:  []byte(`{"sub":"` + uid + `"}`),
	}
}

func createSocial(t *testing.T, s restauth.Store, userID int64, provider, uid string) *restauth.SocialAccount {
	t.Helper()
	a := sampleSocial(userID, provider, uid)
	require.NoError(t, s.CreateSocialAccount(t.Context(), a))
	require.Positive(t, a.ID, "CreateSocialAccount must write the assigned ID back")
	return a
}

// normTime makes times comparable across stores: SQL columns keep microseconds and may
// hand times back in another location, and NULL comes back as the zero time.
func normTime(tm time.Time) time.Time {
	if tm.IsZero() {
		return time.Time{}
	}
	return tm.UTC().Truncate(time.Microsecond)
}

func normUser(u restauth.User) restauth.User {
	u.DateJoined, u.LastLogin = normTime(u.DateJoined), normTime(u.LastLogin)
	return u
}

func normToken(tk restauth.APIToken) restauth.APIToken {
	tk.Created, tk.Expiry, tk.LastSeen = normTime(tk.Created), normTime(tk.Expiry), normTime(tk.LastSeen)
	return tk
}

func normSocial(a restauth.SocialAccount) restauth.SocialAccount {
	a.DateJoined, a.LastLogin = normTime(a.DateJoined), normTime(a.LastLogin)
	if len(a.ExtraData) == 0 {
		a.ExtraData = nil // a SQL store may not tell NULL from empty
	}
	return a
}

// The require*Equal helpers compare records field by field, times with time.Time.Equal
// semantics (normalised to UTC microseconds first, so that reflect-based equality agrees).

func requireUserEqual(t *testing.T, want, got *restauth.User) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normUser(*want), normUser(*got))
}

func requireTokenEqual(t *testing.T, want, got *restauth.APIToken) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normToken(*want), normToken(*got))
}

func requireSocialEqual(t *testing.T, want, got *restauth.SocialAccount) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normSocial(*want), normSocial(*got))
}

func requireNotFound(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, restauth.ErrNotFound)
	require.NotErrorIs(t, err, restauth.ErrConflict)
}

func requireConflict(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, restauth.ErrConflict)
	require.NotErrorIs(t, err, restauth.ErrNotFound)
	var ce *restauth.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, field, ce.Field)
}

func userIDs(us []*restauth.User) []int64 {
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func emailIDs(es []restauth.EmailAddress) []int64 {
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func primaries(es []restauth.EmailAddress) []string {
	var p []string
	for _, e := range es {
		if e.Primary {
			p = append(p, e.Email)
		}
	}
	return p
}

func requireUserEmail(t *testing.T, s restauth.Store, userID int64, want string) {
	t.Helper()
	u, err := s.UserByID(t.Context(), userID)
	require.NoError(t, err)
	require.Equal(t, want, u.Email, "User.Email")
}

func requireAscending(t *testing.T, ids []int64) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i-1], ids[i], "IDs must be ascending: %v", ids)
	}
}
