package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

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
	// A store's errors reach the Service's logs: a failed lookup must not carry what was
	// typed (a password typed into the username field would end up there).
	{"UserByUsername of a missing name is ErrNotFound and names no login", func(t *testing.T, s restauth.Store) {
		_, err := s.UserByUsername(t.Context(), "hunter2-typed-as-name")
		require.ErrorIs(t, err, restauth.ErrNotFound)
		assert.NotContains(t, err.Error(), "hunter2")
	}},
	// Accounts stored before restauth NFKC-normalised usernames may hold names that collide
	// with another only after NFKC (full-width "ｋｉｍ" beside "kim"): the store keeps both,
	// each found by its own stored name, so both keep logging in. Refusing new collisions is
	// the Service's rule (it normalises before the uniqueness check), not the store's.
	{"usernames equal only after NFKC stay distinct accounts", func(t *testing.T, s restauth.Store) {
		wide := &restauth.User{Username: "ｋｉｍ", DateJoined: base}
		plain := &restauth.User{Username: "kim", DateJoined: base}
		require.NoError(t, s.CreateUser(t.Context(), wide, nil))
		require.NoError(t, s.CreateUser(t.Context(), plain, nil))
		got, err := s.UserByUsername(t.Context(), "ｋｉｍ")
		require.NoError(t, err)
		assert.Equal(t, wide.ID, got.ID)
		got, err = s.UserByUsername(t.Context(), "KIM")
		require.NoError(t, err)
		assert.Equal(t, plain.ID, got.ID)
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
