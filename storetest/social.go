package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

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
