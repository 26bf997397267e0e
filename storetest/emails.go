package storetest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

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
