package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

var userTests = []test{
	{"CreateUser stores every field and writes the ID back", func(t *testing.T, s restauth.Store) {
		u := &restauth.User{
			Username:     "alice",
			Email:        "alice@example.com",
			FirstName:    "Alice",
			LastName:     "Liddell",
			PasswordHash: "pbkdf2_sha256$870000$salt$hash",
			IsActive:     true,
			IsStaff:      true,
			IsSuperuser:  true,
			DateJoined:   base,
			LastLogin:    base.Add(90 * time.Minute),
		}
		require.NoError(t, s.CreateUser(t.Context(), u, nil))
		require.Positive(t, u.ID)

		got, err := s.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		requireUserEqual(t, u, got)

		got, err = s.UserByUsername(t.Context(), "alice")
		require.NoError(t, err)
		requireUserEqual(t, u, got)
	}},
	{"CreateUser keeps zero LastLogin and false flags", func(t *testing.T, s restauth.Store) {
		u := &restauth.User{Username: "bob", DateJoined: base}
		require.NoError(t, s.CreateUser(t.Context(), u, nil))
		got, err := s.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		assert.True(t, got.LastLogin.IsZero(), "LastLogin %v", got.LastLogin)
		assert.False(t, got.IsActive || got.IsStaff || got.IsSuperuser)
		assert.False(t, got.HasUsablePassword())
		requireUserEqual(t, u, got)
	}},
	{"CreateUser assigns distinct ascending IDs", func(t *testing.T, s restauth.Store) {
		ids := []int64{createUser(t, s, "a").ID, createUser(t, s, "b").ID, createUser(t, s, "c").ID}
		requireAscending(t, ids)
	}},
	{"CreateUser rejects a username taken in another case", func(t *testing.T, s restauth.Store) {
		alice := createUser(t, s, "Alice")
		for _, name := range []string{"Alice", "alice", "ALICE", "aLiCe"} {
			err := s.CreateUser(t.Context(), sampleUser(name), nil)
			requireConflict(t, err, "username")
		}
		got, err := s.UserByUsername(t.Context(), "alice")
		require.NoError(t, err)
		assert.Equal(t, alice.ID, got.ID)
		assert.Equal(t, "Alice", got.Username, "the username keeps the case it was created with")
	}},
	{"UserByUsername matches case-insensitively", func(t *testing.T, s restauth.Store) {
		createUser(t, s, "someone")
		u := createUser(t, s, "MixedCase")
		for _, name := range []string{"MixedCase", "mixedcase", "MIXEDCASE"} {
			got, err := s.UserByUsername(t.Context(), name)
			require.NoError(t, err, name)
			assert.Equal(t, u.ID, got.ID, name)
		}
		_, err := s.UserByUsername(t.Context(), "MixedCas")
		requireNotFound(t, err)
	}},
	{"missing users are not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "present")
		missing := u.ID + 1000
		_, err := s.UserByID(t.Context(), missing)
		requireNotFound(t, err)
		_, err = s.UserByUsername(t.Context(), "absent")
		requireNotFound(t, err)
		name := "x"
		_, err = s.UpdateUser(t.Context(), missing, restauth.UserUpdate{FirstName: &name})
		requireNotFound(t, err)
		requireNotFound(t, s.DeleteUser(t.Context(), missing))
	}},
	{"UpdateUser changes only the non-nil fields", func(t *testing.T, s restauth.Store) {
		u := sampleUser("carol")
		u.Email = "carol@example.com"
		u.LastLogin = base.Add(time.Minute)
		require.NoError(t, s.CreateUser(t.Context(), u, nil))
		want := *u

		first := "Caroline"
		got, err := s.UpdateUser(t.Context(), u.ID, restauth.UserUpdate{FirstName: &first})
		require.NoError(t, err)
		want.FirstName = first
		requireUserEqual(t, &want, got)

		got, err = s.UpdateUser(t.Context(), u.ID, restauth.UserUpdate{})
		require.NoError(t, err)
		requireUserEqual(t, &want, got)

		name, last, hash := "caro", "Lewis", "!unusable"
		login := base.Add(48 * time.Hour)
		f, tr := false, true
		got, err = s.UpdateUser(t.Context(), u.ID, restauth.UserUpdate{
			Username: &name, LastName: &last, PasswordHash: &hash, LastLogin: &login,
			IsActive: &f, IsStaff: &tr, IsSuperuser: &tr,
		})
		require.NoError(t, err)
		want.Username, want.LastName, want.PasswordHash, want.LastLogin = name, last, hash, login
		want.IsActive, want.IsStaff, want.IsSuperuser = false, true, true
		requireUserEqual(t, &want, got)

		stored, err := s.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		requireUserEqual(t, &want, stored)
		assert.Equal(t, "carol@example.com", stored.Email, "UpdateUser must not touch Email")
	}},
	{"UpdateUser can clear LastLogin and flags", func(t *testing.T, s restauth.Store) {
		u := sampleUser("dave")
		u.LastLogin, u.IsStaff = base, true
		require.NoError(t, s.CreateUser(t.Context(), u, nil))
		var never time.Time
		f, empty := false, ""
		got, err := s.UpdateUser(t.Context(), u.ID, restauth.UserUpdate{LastLogin: &never, IsStaff: &f, IsActive: &f, FirstName: &empty})
		require.NoError(t, err)
		assert.True(t, got.LastLogin.IsZero())
		assert.False(t, got.IsStaff)
		assert.False(t, got.IsActive)
		assert.Empty(t, got.FirstName)
	}},
	{"UpdateUser username rules", func(t *testing.T, s restauth.Store) {
		alice := createUser(t, s, "alice")
		bob := createUser(t, s, "bob")

		taken := "ALICE"
		_, err := s.UpdateUser(t.Context(), bob.ID, restauth.UserUpdate{Username: &taken})
		requireConflict(t, err, "username")
		got, err := s.UserByID(t.Context(), bob.ID)
		require.NoError(t, err)
		assert.Equal(t, "bob", got.Username, "a refused rename changes nothing")

		// Changing the case of one's own name is no conflict.
		got, err = s.UpdateUser(t.Context(), alice.ID, restauth.UserUpdate{Username: &taken})
		require.NoError(t, err)
		assert.Equal(t, "ALICE", got.Username)
		got, err = s.UserByUsername(t.Context(), "alice")
		require.NoError(t, err)
		assert.Equal(t, alice.ID, got.ID)

		// A rename frees the old name and takes the new one.
		carol := "Carol"
		_, err = s.UpdateUser(t.Context(), bob.ID, restauth.UserUpdate{Username: &carol})
		require.NoError(t, err)
		_, err = s.UserByUsername(t.Context(), "bob")
		requireNotFound(t, err)
		requireConflict(t, s.CreateUser(t.Context(), sampleUser("carol"), nil), "username")
		require.NoError(t, s.CreateUser(t.Context(), sampleUser("BOB"), nil))
	}},
	{"CreateUser with a primary address sets User.Email", func(t *testing.T, s restauth.Store) {
		u := sampleUser("erin")
		e := &restauth.EmailAddress{Email: "Erin@Example.com", Verified: true, Primary: true}
		require.NoError(t, s.CreateUser(t.Context(), u, e))
		assert.Equal(t, "Erin@Example.com", u.Email, "u.Email written back")

		got, err := s.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, "Erin@Example.com", got.Email)

		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Positive(t, es[0].ID)
		assert.Equal(t, u.ID, es[0].UserID)
		assert.Equal(t, "Erin@Example.com", es[0].Email)
		assert.True(t, es[0].Verified)
		assert.True(t, es[0].Primary)
	}},
	{"CreateUser with a non-primary address keeps User.Email", func(t *testing.T, s restauth.Store) {
		u := sampleUser("frank")
		u.Email = "legacy@example.com"
		require.NoError(t, s.CreateUser(t.Context(), u, &restauth.EmailAddress{Email: "frank@example.com"}))
		requireUserEmail(t, s, u.ID, "legacy@example.com")

		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, u.ID, es[0].UserID)
		assert.Equal(t, "frank@example.com", es[0].Email)
		assert.False(t, es[0].Verified)
		assert.False(t, es[0].Primary)
	}},
	{"CreateUser stores nothing when the address conflicts", func(t *testing.T, s restauth.Store) {
		owner := createUser(t, s, "owner")
		addEmail(t, s, owner.ID, "taken@example.com", true, true)

		u := sampleUser("grace")
		err := s.CreateUser(t.Context(), u, &restauth.EmailAddress{Email: "TAKEN@example.COM", Verified: true, Primary: true})
		requireConflict(t, err, "email")
		_, err = s.UserByUsername(t.Context(), "grace")
		requireNotFound(t, err)
		us, err := s.UsersByEmail(t.Context(), "taken@example.com")
		require.NoError(t, err)
		assert.Equal(t, []int64{owner.ID}, userIDs(us))

		// The same address unverified is no conflict, and the username was not used up.
		u = sampleUser("grace")
		require.NoError(t, s.CreateUser(t.Context(), u, &restauth.EmailAddress{Email: "taken@example.com", Primary: true}))
		requireUserEmail(t, s, u.ID, "taken@example.com")
	}},
	{"CreateUser stores no address when the username conflicts", func(t *testing.T, s restauth.Store) {
		createUser(t, s, "heidi")
		err := s.CreateUser(t.Context(), sampleUser("HEIDI"), &restauth.EmailAddress{Email: "new@example.com", Verified: true, Primary: true})
		requireConflict(t, err, "username")
		us, err := s.UsersByEmail(t.Context(), "new@example.com")
		require.NoError(t, err)
		assert.Empty(t, us)

		// The verified address was not claimed by the refused user.
		other := createUser(t, s, "ivan")
		addEmail(t, s, other.ID, "new@example.com", true, false)
	}},
	{"UsersByEmail matches address rows case-insensitively", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		c := createUser(t, s, "c")
		d := createUser(t, s, "d")
		addEmail(t, s, a.ID, "shared@example.com", false, false)
		addEmail(t, s, b.ID, "other@example.com", true, true)
		addEmail(t, s, c.ID, "Shared@Example.COM", true, true) // also User.Email: listed once
		addEmail(t, s, d.ID, "SHARED@EXAMPLE.COM", false, true)

		for _, q := range []string{"shared@example.com", "SHARED@example.com"} {
			us, err := s.UsersByEmail(t.Context(), q)
			require.NoError(t, err)
			assert.Equal(t, []int64{a.ID, c.ID, d.ID}, userIDs(us), q)
			requireUserEmail(t, s, c.ID, "Shared@Example.COM")
			for _, u := range us {
				if u.ID == c.ID {
					assert.Equal(t, "c", u.Username, "whole users are returned")
					assert.Equal(t, "Shared@Example.COM", u.Email)
				}
			}
		}
	}},
	{"UsersByEmail matches User.Email case-insensitively", func(t *testing.T, s restauth.Store) {
		a := sampleUser("a")
		a.Email = "Legacy@Example.com"
		require.NoError(t, s.CreateUser(t.Context(), a, nil))
		b := createUser(t, s, "b")
		addEmail(t, s, b.ID, "legacy@example.com", false, false)
		createUser(t, s, "c")

		us, err := s.UsersByEmail(t.Context(), "LEGACY@EXAMPLE.COM")
		require.NoError(t, err)
		require.Equal(t, []int64{a.ID, b.ID}, userIDs(us))
		requireUserEqual(t, a, us[0])
	}},
	{"UsersByEmail returns an empty list when nobody has the address", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		addEmail(t, s, u.ID, "a@example.com", true, true)
		us, err := s.UsersByEmail(t.Context(), "nobody@example.com")
		require.NoError(t, err)
		assert.Empty(t, us)
		us, err = s.UsersByEmail(t.Context(), "a@example.co")
		require.NoError(t, err)
		assert.Empty(t, us)
	}},
	{"UsersByEmail follows address and User.Email changes", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first := addEmail(t, s, u.ID, "first@example.com", true, true)
		second := addEmail(t, s, u.ID, "second@example.com", true, false)
		require.NoError(t, s.DeleteEmailAddress(t.Context(), first.ID))
		us, err := s.UsersByEmail(t.Context(), "first@example.com")
		require.NoError(t, err)
		assert.Empty(t, us, "neither a row nor User.Email holds it any more")
		_, err = s.SetPrimaryEmailAddress(t.Context(), second.ID)
		require.NoError(t, err)
		us, err = s.UsersByEmail(t.Context(), "second@example.com")
		require.NoError(t, err)
		assert.Equal(t, []int64{u.ID}, userIDs(us))
	}},
	{"DeleteUser removes the user with its addresses, tokens and social accounts", func(t *testing.T, s restauth.Store) {
		gone := createUser(t, s, "gone")
		kept := createUser(t, s, "kept")
		ge := addEmail(t, s, gone.ID, "gone@example.com", true, true)
		ge2 := addEmail(t, s, gone.ID, "gone2@example.com", false, false)
		ke := addEmail(t, s, kept.ID, "kept@example.com", true, true)
		gt := createToken(t, s, gone.ID, "gone-token-key")
		kt := createToken(t, s, kept.ID, "kept-token-key")
		ga := createSocial(t, s, gone.ID, "github", "1")
		ka := createSocial(t, s, kept.ID, "github", "2")

		require.NoError(t, s.DeleteUser(t.Context(), gone.ID))
		ctx := t.Context()
		_, err := s.UserByID(ctx, gone.ID)
		requireNotFound(t, err)
		_, err = s.UserByUsername(ctx, "gone")
		requireNotFound(t, err)
		for _, id := range []int64{ge.ID, ge2.ID} {
			_, err = s.EmailAddressByID(ctx, id)
			requireNotFound(t, err)
		}
		us, err := s.UsersByEmail(ctx, "gone@example.com")
		require.NoError(t, err)
		assert.Empty(t, us)
		_, err = s.TokenByID(ctx, gt.ID)
		requireNotFound(t, err)
		_, err = s.TokenByHash(ctx, gt.KeyHash)
		requireNotFound(t, err)
		_, err = s.SocialAccountByUID(ctx, "github", "1")
		requireNotFound(t, err)
		requireNotFound(t, s.DeleteUser(ctx, gone.ID))

		// The other user keeps everything.
		_, err = s.EmailAddressByID(ctx, ke.ID)
		require.NoError(t, err)
		_, err = s.TokenByHash(ctx, kt.KeyHash)
		require.NoError(t, err)
		list, err := s.SocialAccounts(ctx, kept.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireSocialEqual(t, ka, &list[0])
		requireUserEmail(t, s, kept.ID, "kept@example.com")

		// What the deleted user held uniquely is free again.
		again := createUser(t, s, "GONE")
		addEmail(t, s, again.ID, "gone@example.com", true, true)
		createToken(t, s, again.ID, "gone-token-key")
		b := createSocial(t, s, again.ID, "github", "1")
		assert.NotEqual(t, ga.ID, b.ID)
	}},
	{"returned users are copies", func(t *testing.T, s restauth.Store) {
		u := sampleUser("judy")
		require.NoError(t, s.CreateUser(t.Context(), u, &restauth.EmailAddress{Email: "judy@example.com", Primary: true}))
		want := *u
		u.Username, u.FirstName, u.IsStaff = "changed", "changed", true // the caller's struct

		got, err := s.UserByID(t.Context(), want.ID)
		require.NoError(t, err)
		got.FirstName, got.Email = "changed", "changed"
		got, err = s.UserByUsername(t.Context(), "judy")
		require.NoError(t, err)
		got.LastName = "changed"
		us, err := s.UsersByEmail(t.Context(), "judy@example.com")
		require.NoError(t, err)
		require.Len(t, us, 1)
		us[0].PasswordHash = "changed"
		first := "Judith"
		got, err = s.UpdateUser(t.Context(), want.ID, restauth.UserUpdate{FirstName: &first})
		require.NoError(t, err)
		got.IsSuperuser = true
		want.FirstName = first

		got, err = s.UserByID(t.Context(), want.ID)
		require.NoError(t, err)
		requireUserEqual(t, &want, got)
	}},
}

var emailTests = []test{
	{"AddEmailAddress stores the address and writes the ID back", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e := restauth.EmailAddress{UserID: u.ID, Email: "A@Example.com", Verified: true}
		require.NoError(t, s.AddEmailAddress(t.Context(), &e))
		require.Positive(t, e.ID)

		got, err := s.EmailAddressByID(t.Context(), e.ID)
		require.NoError(t, err)
		assert.Equal(t, e, *got)
		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []restauth.EmailAddress{e}, es)
		requireUserEmail(t, s, u.ID, "") // not primary
	}},
	{"AddEmailAddress rejects an address the user already holds in any case", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first := addEmail(t, s, u.ID, "dup@example.com", false, true)
		for _, e := range []restauth.EmailAddress{
			{UserID: u.ID, Email: "dup@example.com"},
			{UserID: u.ID, Email: "DUP@Example.com", Verified: true},
			{UserID: u.ID, Email: "Dup@example.com", Primary: true},
		} {
			requireConflict(t, s.AddEmailAddress(t.Context(), &e), "user_email")
		}
		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []restauth.EmailAddress{first}, es, "refused additions change nothing")
		requireUserEmail(t, s, u.ID, "dup@example.com")
	}},
	{"several users may hold an address unverified", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		c := createUser(t, s, "c")
		addEmail(t, s, a.ID, "shared@example.com", false, false)
		addEmail(t, s, b.ID, "SHARED@example.com", true, false)
		addEmail(t, s, c.ID, "Shared@Example.com", false, true)
		us, err := s.UsersByEmail(t.Context(), "shared@example.com")
		require.NoError(t, err)
		assert.Equal(t, []int64{a.ID, b.ID, c.ID}, userIDs(us))
	}},
	{"AddEmailAddress rejects a verified address another user holds verified", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		addEmail(t, s, a.ID, "mine@example.com", true, false)
		e := restauth.EmailAddress{UserID: b.ID, Email: "MINE@example.com", Verified: true, Primary: true}
		requireConflict(t, s.AddEmailAddress(t.Context(), &e), "email")
		es, err := s.EmailAddresses(t.Context(), b.ID)
		require.NoError(t, err)
		assert.Empty(t, es)
		requireUserEmail(t, s, b.ID, "")
	}},
	{"AddEmailAddress for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e := restauth.EmailAddress{UserID: u.ID + 1000, Email: "orphan@example.com"}
		requireNotFound(t, s.AddEmailAddress(t.Context(), &e))
		us, err := s.UsersByEmail(t.Context(), "orphan@example.com")
		require.NoError(t, err)
		assert.Empty(t, us)
	}},
	{"AddEmailAddress with Primary replaces the primary and User.Email", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		otherPrimary := addEmail(t, s, other.ID, "b@example.com", true, true)

		first := addEmail(t, s, u.ID, "first@example.com", true, true)
		requireUserEmail(t, s, u.ID, "first@example.com")
		addEmail(t, s, u.ID, "plain@example.com", true, false)
		requireUserEmail(t, s, u.ID, "first@example.com")
		second := addEmail(t, s, u.ID, "second@example.com", false, true)
		requireUserEmail(t, s, u.ID, "second@example.com")

		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"second@example.com"}, primaries(es))
		got, err := s.EmailAddressByID(t.Context(), first.ID)
		require.NoError(t, err)
		assert.False(t, got.Primary)
		assert.True(t, got.Verified, "losing primary keeps the rest")
		got, err = s.EmailAddressByID(t.Context(), second.ID)
		require.NoError(t, err)
		assert.True(t, got.Primary)

		// Other users are untouched.
		got, err = s.EmailAddressByID(t.Context(), otherPrimary.ID)
		require.NoError(t, err)
		assert.True(t, got.Primary)
		requireUserEmail(t, s, other.ID, "b@example.com")
	}},
	{"SetPrimaryEmailAddress makes the address the only primary", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e1 := addEmail(t, s, u.ID, "one@example.com", true, true)
		e2 := addEmail(t, s, u.ID, "Two@example.com", true, false)
		e3 := addEmail(t, s, u.ID, "three@example.com", false, false)

		got, err := s.SetPrimaryEmailAddress(t.Context(), e2.ID)
		require.NoError(t, err)
		assert.Equal(t, restauth.EmailAddress{ID: e2.ID, UserID: u.ID, Email: "Two@example.com", Verified: true, Primary: true}, *got)
		requireUserEmail(t, s, u.ID, "Two@example.com")
		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"Two@example.com"}, primaries(es))

		_, err = s.SetPrimaryEmailAddress(t.Context(), e3.ID)
		require.NoError(t, err)
		requireUserEmail(t, s, u.ID, "three@example.com")
		es, err = s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"three@example.com"}, primaries(es))

		// Setting the current primary again is harmless.
		_, err = s.SetPrimaryEmailAddress(t.Context(), e3.ID)
		require.NoError(t, err)
		es, err = s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"three@example.com"}, primaries(es))
		assert.Equal(t, []int64{e1.ID, e2.ID, e3.ID}, emailIDs(es))
	}},
	{"DeleteEmailAddress of the primary clears User.Email", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		p := addEmail(t, s, u.ID, "primary@example.com", true, true)
		o := addEmail(t, s, u.ID, "other@example.com", true, false)

		require.NoError(t, s.DeleteEmailAddress(t.Context(), o.ID))
		requireUserEmail(t, s, u.ID, "primary@example.com")
		require.NoError(t, s.DeleteEmailAddress(t.Context(), p.ID))
		requireUserEmail(t, s, u.ID, "")

		_, err := s.EmailAddressByID(t.Context(), p.ID)
		requireNotFound(t, err)
		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Empty(t, es)
		requireNotFound(t, s.DeleteEmailAddress(t.Context(), p.ID))
	}},
	{"DeleteEmailAddress frees a verified address for other users", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		ea := addEmail(t, s, a.ID, "moving@example.com", true, false)
		eb := addEmail(t, s, b.ID, "moving@example.com", false, false)
		require.NoError(t, s.DeleteEmailAddress(t.Context(), ea.ID))
		got, err := s.VerifyEmailAddress(t.Context(), eb.ID, false)
		require.NoError(t, err)
		assert.True(t, got.Verified)
	}},
	{"missing addresses are not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e := addEmail(t, s, u.ID, "a@example.com", false, false)
		missing := e.ID + 1000
		_, err := s.EmailAddressByID(t.Context(), missing)
		requireNotFound(t, err)
		_, err = s.VerifyEmailAddress(t.Context(), missing, true)
		requireNotFound(t, err)
		_, err = s.SetPrimaryEmailAddress(t.Context(), missing)
		requireNotFound(t, err)
		requireNotFound(t, s.DeleteEmailAddress(t.Context(), missing))
	}},
	{"VerifyEmailAddress marks the address verified, repeatably", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e := addEmail(t, s, u.ID, "a@example.com", false, false)
		got, err := s.VerifyEmailAddress(t.Context(), e.ID, false)
		require.NoError(t, err)
		want := e
		want.Verified = true
		assert.Equal(t, want, *got)
		stored, err := s.EmailAddressByID(t.Context(), e.ID)
		require.NoError(t, err)
		assert.Equal(t, want, *stored)

		got, err = s.VerifyEmailAddress(t.Context(), e.ID, false)
		require.NoError(t, err, "verifying a verified address is not a conflict with itself")
		assert.Equal(t, want, *got)
		requireUserEmail(t, s, u.ID, "")
	}},
	{"VerifyEmailAddress conflicts when another user holds the address verified", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		ea := addEmail(t, s, a.ID, "Contested@example.com", false, false)
		eb := addEmail(t, s, b.ID, "contested@EXAMPLE.com", false, false)
		_, err := s.VerifyEmailAddress(t.Context(), ea.ID, false)
		require.NoError(t, err)

		_, err = s.VerifyEmailAddress(t.Context(), eb.ID, true)
		requireConflict(t, err, "email")
		got, err := s.EmailAddressByID(t.Context(), eb.ID)
		require.NoError(t, err)
		assert.False(t, got.Verified)
		assert.False(t, got.Primary, "a refused verification does not make the address primary")
		requireUserEmail(t, s, b.ID, "")
	}},
	{"VerifyEmailAddress makePrimaryIfNone", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e1 := addEmail(t, s, u.ID, "one@example.com", false, false)
		e2 := addEmail(t, s, u.ID, "two@example.com", false, false)
		e3 := addEmail(t, s, u.ID, "three@example.com", false, false)

		got, err := s.VerifyEmailAddress(t.Context(), e1.ID, false)
		require.NoError(t, err)
		assert.False(t, got.Primary, "without makePrimaryIfNone")
		requireUserEmail(t, s, u.ID, "")

		got, err = s.VerifyEmailAddress(t.Context(), e2.ID, true)
		require.NoError(t, err)
		assert.True(t, got.Primary, "the user had no primary")
		assert.True(t, got.Verified)
		requireUserEmail(t, s, u.ID, "two@example.com")

		got, err = s.VerifyEmailAddress(t.Context(), e3.ID, true)
		require.NoError(t, err)
		assert.False(t, got.Primary, "the user already has a primary")
		requireUserEmail(t, s, u.ID, "two@example.com")
		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"two@example.com"}, primaries(es))
	}},
	{"EmailAddresses lists only the user's addresses ordered by ID", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		var want []int64
		for i := range 6 {
			uid := a.ID
			if i%2 == 1 {
				uid = b.ID
			}
			e := addEmail(t, s, uid, fmt.Sprintf("addr%d@example.com", 5-i), false, false)
			if uid == a.ID {
				want = append(want, e.ID)
			}
		}
		es, err := s.EmailAddresses(t.Context(), a.ID)
		require.NoError(t, err)
		assert.Equal(t, want, emailIDs(es))
		requireAscending(t, emailIDs(es))
		for _, e := range es {
			assert.Equal(t, a.ID, e.UserID)
		}
	}},
	{"returned addresses are copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		e := addEmail(t, s, u.ID, "a@example.com", false, false)
		want := e
		e.Verified, e.Primary = true, true // the caller's struct

		got, err := s.EmailAddressByID(t.Context(), want.ID)
		require.NoError(t, err)
		got.Email, got.Verified = "changed@example.com", true
		es, err := s.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		es[0].Primary = true
		other := addEmail(t, s, u.ID, "b@example.com", false, false)
		got, err = s.SetPrimaryEmailAddress(t.Context(), other.ID)
		require.NoError(t, err)
		got.Email = "changed@example.com"
		got, err = s.VerifyEmailAddress(t.Context(), other.ID, false)
		require.NoError(t, err)
		got.Email = "changed@example.com"

		got, err = s.EmailAddressByID(t.Context(), want.ID)
		require.NoError(t, err)
		assert.Equal(t, want, *got)
		requireUserEmail(t, s, u.ID, "b@example.com")
	}},
}

var tokenTests = []test{
	{"CreateToken stores every field; lookups by hash and ID agree", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := sampleToken(u.ID, "0123456789abcdef")
		tk.LastSeen = day(3)
		require.NoError(t, s.CreateToken(t.Context(), tk))
		require.Positive(t, tk.ID)

		got, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, tk, got)
		got, err = s.TokenByID(t.Context(), tk.ID)
		require.NoError(t, err)
		requireTokenEqual(t, tk, got)
		list, err := s.Tokens(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireTokenEqual(t, tk, &list[0])
	}},
	{"a new token is unrevoked and never seen", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "fresh-token-key")
		got, err := s.TokenByID(t.Context(), tk.ID)
		require.NoError(t, err)
		assert.False(t, got.Revoked)
		assert.True(t, got.LastSeen.IsZero(), "LastSeen %v", got.LastSeen)
	}},
	{"CreateToken rejects a hash already stored", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		first := createToken(t, s, a.ID, "same-key-material")
		for _, uid := range []int64{a.ID, b.ID} {
			dup := sampleToken(uid, "same-key-material")
			dup.Name = "dup"
			requireConflict(t, s.CreateToken(t.Context(), dup), "token")
		}
		got, err := s.TokenByHash(t.Context(), first.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, first, got)
		list, err := s.Tokens(t.Context(), b.ID)
		require.NoError(t, err)
		assert.Empty(t, list)
	}},
	{"CreateToken for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := sampleToken(u.ID+1000, "orphan-token-key")
		requireNotFound(t, s.CreateToken(t.Context(), tk))
		_, err := s.TokenByHash(t.Context(), tk.KeyHash)
		requireNotFound(t, err)
	}},
	{"missing tokens are not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "existing-token-key")
		_, err := s.TokenByHash(t.Context(), hashOf("unknown-token-key"))
		requireNotFound(t, err)
		_, err = s.TokenByHash(t.Context(), [32]byte{})
		requireNotFound(t, err)
		missing := tk.ID + 1000
		_, err = s.TokenByID(t.Context(), missing)
		requireNotFound(t, err)
		requireNotFound(t, s.RevokeToken(t.Context(), missing))
		requireNotFound(t, s.TouchToken(t.Context(), missing, day(1)))
	}},
	{"RevokeToken marks only that token revoked, idempotently", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "revoked-token-key")
		other := createToken(t, s, u.ID, "kept-token-key")
		require.NoError(t, s.RevokeToken(t.Context(), tk.ID))
		require.NoError(t, s.RevokeToken(t.Context(), tk.ID), "revoking twice is not an error")

		want := *tk
		want.Revoked = true
		got, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err, "a revoked token can still be looked up")
		requireTokenEqual(t, &want, got)
		got, err = s.TokenByID(t.Context(), tk.ID)
		require.NoError(t, err)
		requireTokenEqual(t, &want, got)
		got, err = s.TokenByID(t.Context(), other.ID)
		require.NoError(t, err)
		assert.False(t, got.Revoked)
	}},
	{"TouchToken sets LastSeen and nothing else", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "touched-token-key")
		other := createToken(t, s, u.ID, "untouched-token-key")
		require.NoError(t, s.TouchToken(t.Context(), tk.ID, day(10)))
		require.NoError(t, s.TouchToken(t.Context(), tk.ID, day(11)))

		want := *tk
		want.LastSeen = day(11)
		got, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, &want, got)
		got, err = s.TokenByID(t.Context(), other.ID)
		require.NoError(t, err)
		assert.True(t, got.LastSeen.IsZero())
	}},
	{"Tokens lists the user's tokens, revoked and expired included, ordered by ID", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		t1 := createToken(t, s, a.ID, "token-one-key")
		createToken(t, s, b.ID, "token-of-b-key")
		expired := sampleToken(a.ID, "expired-token-key")
		expired.Expiry = day(-400)
		require.NoError(t, s.CreateToken(t.Context(), expired))
		t3 := createToken(t, s, a.ID, "revoked-token-key")
		require.NoError(t, s.RevokeToken(t.Context(), t3.ID))

		list, err := s.Tokens(t.Context(), a.ID)
		require.NoError(t, err)
		ids := make([]int64, len(list))
		for i, tk := range list {
			ids[i] = tk.ID
			assert.Equal(t, a.ID, tk.UserID)
		}
		assert.Equal(t, []int64{t1.ID, expired.ID, t3.ID}, ids)
		requireAscending(t, ids)
		requireTokenEqual(t, expired, &list[1])
		assert.True(t, list[2].Revoked)
	}},
	{"returned tokens are copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "copied-token-key")
		want := *tk
		tk.Revoked, tk.Name, tk.KeyHash = true, "changed", [32]byte{1} // the caller's struct

		got, err := s.TokenByHash(t.Context(), want.KeyHash)
		require.NoError(t, err)
		got.Revoked, got.Name = true, "changed"
		got, err = s.TokenByID(t.Context(), want.ID)
		require.NoError(t, err)
		got.LastSeen = day(5)
		list, err := s.Tokens(t.Context(), u.ID)
		require.NoError(t, err)
		list[0].Revoked = true

		got, err = s.TokenByHash(t.Context(), want.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, &want, got)
		_, err = s.TokenByHash(t.Context(), [32]byte{1})
		requireNotFound(t, err)
	}},
}

var socialTests = []test{
	{"CreateSocialAccount stores every field", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		a := createSocial(t, s, u.ID, "github", "12345")
		got, err := s.SocialAccountByUID(t.Context(), "github", "12345")
		require.NoError(t, err)
		requireSocialEqual(t, a, got)
		list, err := s.SocialAccounts(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireSocialEqual(t, a, &list[0])
	}},
	{"CreateSocialAccount keeps empty ExtraData and zero LastLogin", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		a := &restauth.SocialAccount{UserID: u.ID, Provider: "google", UID: "x", DateJoined: base}
		require.NoError(t, s.CreateSocialAccount(t.Context(), a))
		got, err := s.SocialAccountByUID(t.Context(), "google", "x")
		require.NoError(t, err)
		assert.Empty(t, got.ExtraData)
		assert.True(t, got.LastLogin.IsZero())
		requireSocialEqual(t, a, got)
	}},
	{"(provider, uid) is unique", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		first := createSocial(t, s, a.ID, "github", "42")
		for _, uid := range []int64{a.ID, b.ID} {
			requireConflict(t, s.CreateSocialAccount(t.Context(), sampleSocial(uid, "github", "42")), "social")
		}
		// Either half alone may repeat.
		createSocial(t, s, b.ID, "gitlab", "42")
		createSocial(t, s, b.ID, "github", "43")

		got, err := s.SocialAccountByUID(t.Context(), "github", "42")
		require.NoError(t, err)
		requireSocialEqual(t, first, got)
		got, err = s.SocialAccountByUID(t.Context(), "gitlab", "42")
		require.NoError(t, err)
		assert.Equal(t, b.ID, got.UserID)
	}},
	{"CreateSocialAccount for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		requireNotFound(t, s.CreateSocialAccount(t.Context(), sampleSocial(u.ID+1000, "github", "1")))
		_, err := s.SocialAccountByUID(t.Context(), "github", "1")
		requireNotFound(t, err)
	}},
	{"missing social accounts are not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		a := createSocial(t, s, u.ID, "github", "1")
		_, err := s.SocialAccountByUID(t.Context(), "github", "2")
		requireNotFound(t, err)
		_, err = s.SocialAccountByUID(t.Context(), "gitlab", "1")
		requireNotFound(t, err)
		missing := a.ID + 1000
		requireNotFound(t, s.UpdateSocialAccountLogin(t.Context(), missing, base, nil))
		requireNotFound(t, s.DeleteSocialAccount(t.Context(), missing))
	}},
	{"UpdateSocialAccountLogin sets LastLogin and ExtraData only", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		a := createSocial(t, s, u.ID, "github", "1")
		other := createSocial(t, s, u.ID, "github", "2")
		at := base.Add(72 * time.Hour)
		extra := []byte(`{"sub":"1","name":"new"}`)
		require.NoError(t, s.UpdateSocialAccountLogin(t.Context(), a.ID, at, extra))
		extra[2] = 'X' // the caller's slice

		want := *a
		want.LastLogin, want.ExtraData = at, []byte(`{"sub":"1","name":"new"}`)
		got, err := s.SocialAccountByUID(t.Context(), "github", "1")
		require.NoError(t, err)
		requireSocialEqual(t, &want, got)
		got, err = s.SocialAccountByUID(t.Context(), "github", "2")
		require.NoError(t, err)
		requireSocialEqual(t, other, got)

		require.NoError(t, s.UpdateSocialAccountLogin(t.Context(), a.ID, at, nil))
		got, err = s.SocialAccountByUID(t.Context(), "github", "1")
		require.NoError(t, err)
		assert.Empty(t, got.ExtraData)
	}},
	{"DeleteSocialAccount removes the account only", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		a := createSocial(t, s, u.ID, "github", "1")
		kept := createSocial(t, s, u.ID, "google", "1")
		require.NoError(t, s.DeleteSocialAccount(t.Context(), a.ID))
		_, err := s.SocialAccountByUID(t.Context(), "github", "1")
		requireNotFound(t, err)
		requireNotFound(t, s.DeleteSocialAccount(t.Context(), a.ID))
		list, err := s.SocialAccounts(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireSocialEqual(t, kept, &list[0])
		_, err = s.UserByID(t.Context(), u.ID)
		require.NoError(t, err, "the user stays")

		again := createSocial(t, s, u.ID, "github", "1")
		assert.NotEqual(t, a.ID, again.ID)
	}},
	{"SocialAccounts lists only the user's accounts ordered by ID", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		var want []int64
		for i := range 6 {
			uid := a.ID
			if i%3 == 1 {
				uid = b.ID
			}
			acc := createSocial(t, s, uid, "github", fmt.Sprint(100-i))
			if uid == a.ID {
				want = append(want, acc.ID)
			}
		}
		list, err := s.SocialAccounts(t.Context(), a.ID)
		require.NoError(t, err)
		ids := make([]int64, len(list))
		for i, acc := range list {
			ids[i] = acc.ID
			assert.Equal(t, a.ID, acc.UserID)
		}
		assert.Equal(t, want, ids)
		requireAscending(t, ids)
	}},
	{"returned social accounts and their ExtraData are copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		a := createSocial(t, s, u.ID, "github", "1")
		want := *a
		want.ExtraData = []byte(string(a.ExtraData))
		a.ExtraData[0], a.UID = 'X', "changed" // the caller's struct and slice

		got, err := s.SocialAccountByUID(t.Context(), "github", "1")
		require.NoError(t, err)
		got.ExtraData[0], got.Provider = 'Y', "changed"
		list, err := s.SocialAccounts(t.Context(), u.ID)
		require.NoError(t, err)
		list[0].ExtraData[0], list[0].UID = 'Z', "changed"

		got, err = s.SocialAccountByUID(t.Context(), "github", "1")
		require.NoError(t, err)
		requireSocialEqual(t, &want, got)
	}},
}

// caseVariant spells name with the letters selected by the bits of i in upper case, so
// that distinct i below 1<<len(name) give distinct spellings of one username.
func caseVariant(name string, i int) string {
	b := []byte(name)
	for j := range b {
		if i>>j&1 == 1 {
			b[j] = strings.ToUpper(string(b[j]))[0]
		}
	}
	return string(b)
}

// startTogether runs n functions in goroutines released at the same moment, to make the
// races the store must survive as likely as possible, and waits for all of them.
func startTogether(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

var concurrencyTests = []test{
	{"one of 50 creations of a username in different cases succeeds", func(t *testing.T, s restauth.Store) {
		const n = 50
		ctx := t.Context()
		errs := make([]error, n)
		users := make([]*restauth.User, n)
		startTogether(n, func(i int) {
			users[i] = sampleUser(caseVariant("racingusername", i))
			errs[i] = s.CreateUser(ctx, users[i], nil)
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("two creations succeeded: %q and %q", users[winner].Username, users[i].Username)
				}
				winner = i
				continue
			}
			requireConflict(t, err, "username")
		}
		require.NotEqual(t, -1, winner, "no creation succeeded")
		got, err := s.UserByUsername(ctx, "RACINGUSERNAME")
		require.NoError(t, err)
		assert.Equal(t, users[winner].ID, got.ID)
		assert.Equal(t, users[winner].Username, got.Username)
	}},
	{"an address verified concurrently for two users ends verified for one", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		ea := addEmail(t, s, a.ID, "race@example.com", false, false)
		eb := addEmail(t, s, b.ID, "RACE@example.com", false, false)
		ids := []int64{ea.ID, eb.ID}

		const n = 20
		ctx := t.Context()
		errs := make([]error, n)
		startTogether(n, func(i int) {
			_, errs[i] = s.VerifyEmailAddress(ctx, ids[i%2], true)
		})
		won := map[int64]bool{}
		for i, err := range errs {
			if err == nil {
				won[ids[i%2]] = true
				continue
			}
			requireConflict(t, err, "email")
		}
		require.Len(t, won, 1, "verifications succeeded for %v", won)

		verified := 0
		for _, id := range ids {
			e, err := s.EmailAddressByID(ctx, id)
			require.NoError(t, err)
			if e.Verified {
				verified++
				assert.True(t, won[id], "the verified address is the one whose verifications succeeded")
				assert.True(t, e.Primary)
				requireUserEmail(t, s, e.UserID, e.Email)
			} else {
				assert.False(t, e.Primary)
				requireUserEmail(t, s, e.UserID, "")
			}
		}
		assert.Equal(t, 1, verified)
	}},
	{"concurrent token creation assigns distinct IDs", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		const n = 50
		ctx := t.Context()
		tokens := make([]*restauth.APIToken, n)
		errs := make([]error, n)
		startTogether(n, func(i int) {
			tokens[i] = sampleToken(u.ID, fmt.Sprintf("concurrent-token-%03d", i))
			errs[i] = s.CreateToken(ctx, tokens[i])
		})
		seen := map[int64]bool{}
		for i, err := range errs {
			require.NoError(t, err)
			require.Positive(t, tokens[i].ID)
			require.False(t, seen[tokens[i].ID], "ID %d assigned twice", tokens[i].ID)
			seen[tokens[i].ID] = true
			got, err := s.TokenByHash(ctx, tokens[i].KeyHash)
			require.NoError(t, err)
			assert.Equal(t, tokens[i].ID, got.ID)
		}
		list, err := s.Tokens(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, list, n)
		ids := make([]int64, n)
		for i, tk := range list {
			ids[i] = tk.ID
		}
		requireAscending(t, ids)
	}},
	{"concurrent updates of different fields all stick", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first, last, login, staff := "New first", "New last", base.Add(time.Hour), true
		updates := []restauth.UserUpdate{{FirstName: &first}, {LastName: &last}, {LastLogin: &login}, {IsStaff: &staff}}
		ctx := t.Context()
		for range 10 {
			errs := make([]error, len(updates))
			startTogether(len(updates), func(i int) {
				_, errs[i] = s.UpdateUser(ctx, u.ID, updates[i])
			})
			require.NoError(t, errors.Join(errs...))
		}
		want := *u
		want.FirstName, want.LastName, want.LastLogin, want.IsStaff = first, last, login, staff
		got, err := s.UserByID(ctx, u.ID)
		require.NoError(t, err)
		requireUserEqual(t, &want, got)
	}},
	{"concurrent primary additions leave exactly one primary", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		const n = 20
		ctx := t.Context()
		errs := make([]error, n)
		startTogether(n, func(i int) {
			errs[i] = s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: u.ID, Email: fmt.Sprintf("p%02d@example.com", i), Primary: true})
		})
		require.NoError(t, errors.Join(errs...))
		es, err := s.EmailAddresses(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, es, n)
		p := primaries(es)
		require.Len(t, p, 1)
		requireUserEmail(t, s, u.ID, p[0])
	}},
	{"concurrent readers and writers", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "shared-token-key")
		e := addEmail(t, s, u.ID, "a@example.com", false, false)
		ctx := t.Context()
		const n = 40
		errs := make([]error, n)
		startTogether(n, func(i int) {
			var err error
			switch i % 5 {
			case 0:
				_, err = s.TokenByHash(ctx, tk.KeyHash)
			case 1:
				err = s.TouchToken(ctx, tk.ID, day(i))
			case 2:
				_, err = s.UsersByEmail(ctx, "A@example.com")
			case 3:
				_, err = s.SetPrimaryEmailAddress(ctx, e.ID)
			case 4:
				err = s.CreateSocialAccount(ctx, sampleSocial(u.ID, "github", fmt.Sprint(i)))
			}
			errs[i] = err
		})
		require.NoError(t, errors.Join(errs...))
		list, err := s.SocialAccounts(ctx, u.ID)
		require.NoError(t, err)
		assert.Len(t, list, n/5)
		requireUserEmail(t, s, u.ID, "a@example.com")
	}},
}

// tokenUserTests pin down the optional restauth.TokenUserStore capability; a store without
// it skips them.
var tokenUserTests = []test{
	{"TokenAndUserByHash agrees with TokenByHash and UserByID", func(t *testing.T, s restauth.Store) {
		joined, ok := s.(restauth.TokenUserStore)
		if !ok {
			t.Skip("the store does not implement restauth.TokenUserStore")
		}
		u := createUser(t, s, "joined")
		tk := createToken(t, s, u.ID, "inv-joined-key")
		require.NoError(t, s.RevokeToken(t.Context(), tk.ID))

		gotToken, gotUser, err := joined.TokenAndUserByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		wantToken, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		wantUser, err := s.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		requireTokenEqual(t, wantToken, gotToken)
		assert.True(t, gotToken.Revoked, "revoked tokens are returned too")
		assert.Equal(t, wantUser.Username, gotUser.Username)
		assert.Equal(t, wantUser.PasswordHash, gotUser.PasswordHash)
		assert.Equal(t, wantUser.ID, gotUser.ID)
		assert.True(t, wantUser.DateJoined.Equal(gotUser.DateJoined))

		_, _, err = joined.TokenAndUserByHash(t.Context(), [32]byte{1, 2, 3})
		assert.ErrorIs(t, err, restauth.ErrNotFound)
	}},
}
