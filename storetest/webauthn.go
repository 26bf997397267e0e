package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func sampleWebAuthn(userID int64, credID string) *restauth.WebAuthnCredential {
	return &restauth.WebAuthnCredential{
		UserID:          userID,
		CredentialID:    []byte("cred-" + credID),
		UserHandle:      []byte("handle-" + credID),
		PublicKey:       []byte{0xa5, 0x01, 0x02, 0x03, 0x26, byte(len(credID))},
		SignCount:       7,
		Transports:      []string{"usb", "nfc"},
		Flags:           0x1d, // UP, UV, BE, BS
		AAGUID:          []byte("0123456789abcdef"),
		AttestationType: "none",
		Passkey:         true,
		Name:            "key " + credID,
		Created:         base,
	}
}

func createWebAuthn(t *testing.T, s restauth.Store, userID int64, credID string) *restauth.WebAuthnCredential {
	t.Helper()
	c := sampleWebAuthn(userID, credID)
	require.NoError(t, s.CreateWebAuthnCredential(t.Context(), c))
	require.Positive(t, c.ID, "CreateWebAuthnCredential must write the assigned ID back")
	return c
}

func normWebAuthn(c restauth.WebAuthnCredential) restauth.WebAuthnCredential {
	c.Created, c.LastUsed = normTime(c.Created), normTime(c.LastUsed)
	if len(c.Transports) == 0 {
		c.Transports = nil // a SQL store may not tell NULL from empty
	}
	if len(c.AAGUID) == 0 {
		c.AAGUID = nil
	}
	if len(c.UserHandle) == 0 {
		c.UserHandle = nil
	}
	return c
}

func requireWebAuthnEqual(t *testing.T, want, got *restauth.WebAuthnCredential) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normWebAuthn(*want), normWebAuthn(*got))
}

func requireWebAuthn(t *testing.T, s restauth.Store, want *restauth.WebAuthnCredential) {
	t.Helper()
	got, err := s.WebAuthnCredentialByCredentialID(t.Context(), want.CredentialID)
	require.NoError(t, err)
	requireWebAuthnEqual(t, want, got)
}

// webAuthnTests pin the WebAuthnStore role.
var webAuthnTests = []test{
	{"CreateWebAuthnCredential stores every field", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		c := createWebAuthn(t, s, u.ID, "one")
		requireWebAuthn(t, s, c)
		list, err := s.WebAuthnCredentials(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireWebAuthnEqual(t, c, &list[0])
		assert.True(t, list[0].BackupEligible())
		assert.True(t, list[0].BackupState())
	}},
	{"CreateWebAuthnCredential keeps empty transports and AAGUID", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		c := &restauth.WebAuthnCredential{UserID: u.ID, CredentialID: []byte{0, 1, 2}, PublicKey: []byte{9}, Created: base}
		require.NoError(t, s.CreateWebAuthnCredential(t.Context(), c))
		requireWebAuthn(t, s, c)
	}},
	{"credential ids are unique across users", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		first := createWebAuthn(t, s, a.ID, "x")
		for _, uid := range []int64{a.ID, b.ID} {
			requireConflict(t, s.CreateWebAuthnCredential(t.Context(), sampleWebAuthn(uid, "x")), "webauthn")
		}
		requireWebAuthn(t, s, first)
		// Ids compare exactly: another case is another credential.
		createWebAuthn(t, s, b.ID, "X")
		list, err := s.WebAuthnCredentials(t.Context(), b.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
	}},
	{"WebAuthnCredentials lists a user's own, ascending", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		createWebAuthn(t, s, a.ID, "1")
		createWebAuthn(t, s, b.ID, "2")
		createWebAuthn(t, s, a.ID, "3")
		list, err := s.WebAuthnCredentials(t.Context(), a.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		requireAscending(t, []int64{list[0].ID, list[1].ID})
		assert.Equal(t, "key 1", list[0].Name)
		none, err := s.WebAuthnCredentials(t.Context(), b.ID+1000)
		require.NoError(t, err)
		assert.Empty(t, none)
	}},
	{"CreateWebAuthnCredential for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		requireNotFound(t, s.CreateWebAuthnCredential(t.Context(), sampleWebAuthn(u.ID+1000, "x")))
		_, err := s.WebAuthnCredentialByCredentialID(t.Context(), []byte("cred-x"))
		requireNotFound(t, err)
	}},
	{"missing credentials are not found", func(t *testing.T, s restauth.Store) {
		_, err := s.WebAuthnCredentialByCredentialID(t.Context(), []byte("nope"))
		requireNotFound(t, err)
		requireNotFound(t, s.RenameWebAuthnCredential(t.Context(), 999, "x"))
		requireNotFound(t, s.DeleteWebAuthnCredential(t.Context(), 999))
		_, err = s.UseWebAuthnCredential(t.Context(), 999, 1, 0, base)
		requireNotFound(t, err)
	}},
	{"UseWebAuthnCredential moves the counter forward only", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		c := createWebAuthn(t, s, u.ID, "x")
		at := base.Add(time.Hour)
		for _, n := range []uint32{7, 3, 0} {
			ok, err := s.UseWebAuthnCredential(t.Context(), c.ID, n, 0x01, at)
			require.NoError(t, err)
			assert.False(t, ok, "counter %d accepted after 7", n)
		}
		requireWebAuthn(t, s, c)
		ok, err := s.UseWebAuthnCredential(t.Context(), c.ID, 8, 0x0d, at)
		require.NoError(t, err)
		require.True(t, ok)
		c.SignCount, c.Flags, c.LastUsed = 8, 0x0d, at
		requireWebAuthn(t, s, c)
	}},
	{"UseWebAuthnCredential accepts a counter that stays 0", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		c := sampleWebAuthn(u.ID, "x")
		c.SignCount = 0
		require.NoError(t, s.CreateWebAuthnCredential(t.Context(), c))
		for i := range 2 {
			at := base.Add(time.Duration(i+1) * time.Minute)
			ok, err := s.UseWebAuthnCredential(t.Context(), c.ID, 0, 0x05, at)
			require.NoError(t, err)
			require.True(t, ok, "use %d", i)
			c.Flags, c.LastUsed = 0x05, at
			requireWebAuthn(t, s, c)
		}
	}},
	{"concurrent uses never lower the counter", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		c := createWebAuthn(t, s, u.ID, "x")
		const n = 20
		oks := make([]bool, n)
		errs := make([]error, n)
		startTogether(n, func(i int) {
			// Two uses report each counter: only one of each pair may be accepted.
			oks[i], errs[i] = s.UseWebAuthnCredential(t.Context(), c.ID, uint32(8+i/2), 0x01, base)
		})
		require.NoError(t, errors.Join(errs...))
		accepted := 0
		for _, ok := range oks {
			if ok {
				accepted++
			}
		}
		assert.LessOrEqual(t, accepted, n/2)
		assert.True(t, oks[n-1] || oks[n-2], "the highest counter is always accepted once")
		got, err := s.WebAuthnCredentialByCredentialID(t.Context(), c.CredentialID)
		require.NoError(t, err)
		assert.Equal(t, uint32(8+(n-1)/2), got.SignCount)
	}},
	{"RenameWebAuthnCredential and DeleteWebAuthnCredential", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		c := createWebAuthn(t, s, u.ID, "x")
		keep := createWebAuthn(t, s, u.ID, "y")
		require.NoError(t, s.RenameWebAuthnCredential(t.Context(), c.ID, "Yubikey"))
		c.Name = "Yubikey"
		requireWebAuthn(t, s, c)
		require.NoError(t, s.DeleteWebAuthnCredential(t.Context(), c.ID))
		_, err := s.WebAuthnCredentialByCredentialID(t.Context(), c.CredentialID)
		requireNotFound(t, err)
		list, err := s.WebAuthnCredentials(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireWebAuthnEqual(t, keep, &list[0])
		// The id is free again.
		createWebAuthn(t, s, u.ID, "x")
	}},
	{"DeleteUser removes the user's credentials", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		c := createWebAuthn(t, s, a.ID, "x")
		other := createWebAuthn(t, s, b.ID, "y")
		require.NoError(t, s.DeleteUser(t.Context(), a.ID))
		_, err := s.WebAuthnCredentialByCredentialID(t.Context(), c.CredentialID)
		requireNotFound(t, err)
		list, err := s.WebAuthnCredentials(t.Context(), a.ID)
		require.NoError(t, err)
		assert.Empty(t, list)
		requireWebAuthn(t, s, other)
		// The credential id may be registered again.
		createWebAuthn(t, s, b.ID, "x")
	}},
}
