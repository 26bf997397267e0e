package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// ReleaseData holds the values of the rows a release-upgrade test writes, with plain SQL
// against the schema of the last release, before it opens the database with today's store.
// Each SQL store writes them in its own dialect (that part cannot be shared); CheckUpgraded
// then reads them back through the Store interface alone, so that every store is held to
// the same expectations. The rows are:
//
//   - users alice (email alice@example.com, name Alice Liddell, password hash PasswordHash,
//     active, staff, joined Joined, last login Login) and bob (joined Joined, nothing else);
//   - addresses alice@example.com (alice, verified, primary), Alice.Work@Example.com
//     (alice) and bob@example.com (bob);
//   - alice's tokens Key (prefix inv-0123, suffix a1b-20250630, name laptop, created
//     Joined, expiry Expiry, last seen Seen) and OldKey (prefix inv-9876, suffix
//     ffe-00000000, name old, created Joined, revoked);
//   - alice's social account github/4242 (last login Login, joined Joined, ExtraData);
//   - alice's confirmed TOTP device (Sealed, created Joined, last step LastStep);
//   - alice's recovery codes CodeFresh (unused) and CodeUsed (used at Login).
type ReleaseData struct {
	// Joined, Login, Expiry and Seen have microsecond precision, as stores keep it, with a
	// sub-second part where a store could drop one; Expiry and Seen are UTC days, the form
	// of token dates.
	Joined, Login, Expiry, Seen time.Time
	// Key, OldKey, CodeFresh and CodeUsed stand in for the hashes of secrets.
	Key, OldKey, CodeFresh, CodeUsed [32]byte
	// Sealed stands in for alice's sealed TOTP secret, ExtraData for her provider's data.
	Sealed, ExtraData []byte
	// LastStep is the TOTP step the release accepted last for alice.
	LastStep int64
	// PasswordHash is alice's password hash, in the Django format the release stored.
	PasswordHash string
	// Usernames are the users the release data holds.
	Usernames []string
	// UserTables are the tables of rows owned by users, which deleting the users empties.
	UserTables []string
}

// ReleaseFixture returns the values of the release data; each call returns a copy of its
// own, so that no test can change another's.
func ReleaseFixture() ReleaseData {
	return ReleaseData{
		Joined:       time.Date(2024, 3, 1, 10, 20, 30, 123456000, time.UTC),
		Login:        time.Date(2025, 1, 2, 3, 4, 5, 654321000, time.UTC),
		Expiry:       time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC),
		Seen:         time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
		Key:          sha256.Sum256([]byte("release-key")),
		OldKey:       sha256.Sum256([]byte("release-old-key")),
		CodeFresh:    sha256.Sum256([]byte("release-code-fresh")),
		CodeUsed:     sha256.Sum256([]byte("release-code-used")),
		Sealed:       []byte("sealed-by-the-release"),
		ExtraData:    []byte(`{"login": "alice", "id": 4242}`),
		LastStep:     58_000_000,
		PasswordHash: "pbkdf2_sha256$870000$salt$hash=",
		Usernames:    []string{"alice", "bob"},
		UserTables:   []string{"email_addresses", "api_tokens", "social_accounts", "totp_devices", "recovery_codes"},
	}
}

// DeleteReleaseUsers deletes the users of the release data from s, which leaves an upgraded
// store empty, ready for Run.
func DeleteReleaseUsers(t *testing.T, s restauth.Store) {
	t.Helper()
	for _, name := range ReleaseFixture().Usernames {
		u, err := s.UserByUsername(t.Context(), name)
		require.NoError(t, err)
		require.NoError(t, s.DeleteUser(t.Context(), u.ID))
	}
}

// CheckUpgraded checks, through the Store interface alone, that s, upgraded from a database
// that holds the rows ReleaseData describes, returns every one of them unchanged; then that
// it still enforces its rules on those rows (uniqueness, single-use steps and codes, IDs
// not reused) and that deleting the users takes their rows along. It leaves s without
// users; the caller checks with SQL that the UserTables are empty.
func CheckUpgraded(t *testing.T, s restauth.Store) {
	t.Helper()
	ctx := t.Context()
	rel := ReleaseFixture()

	alice, err := s.UserByUsername(ctx, "ALICE")
	require.NoError(t, err)
	assert.Equal(t, restauth.User{
		ID: alice.ID, Username: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell",
		PasswordHash: rel.PasswordHash, IsActive: true, IsStaff: true,
		DateJoined: rel.Joined, LastLogin: rel.Login,
	}, utcUser(*alice))
	bob, err := s.UserByUsername(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, restauth.User{ID: bob.ID, Username: "bob", DateJoined: rel.Joined}, utcUser(*bob))
	byID, err := s.UserByID(ctx, alice.ID)
	require.NoError(t, err)
	assert.Equal(t, utcUser(*alice), utcUser(*byID))
	byEmail, err := s.UsersByEmail(ctx, "ALICE.work@example.COM")
	require.NoError(t, err)
	require.Len(t, byEmail, 1)
	assert.Equal(t, alice.ID, byEmail[0].ID)

	addrs, err := s.EmailAddresses(ctx, alice.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []restauth.EmailAddress{
		{UserID: alice.ID, Email: "alice@example.com", Verified: true, Primary: true},
		{UserID: alice.ID, Email: "Alice.Work@Example.com"},
	}, withoutIDs(addrs))
	addrs, err = s.EmailAddresses(ctx, bob.ID)
	require.NoError(t, err)
	assert.Equal(t, []restauth.EmailAddress{{UserID: bob.ID, Email: "bob@example.com"}}, withoutIDs(addrs))

	tok, err := s.TokenByHash(ctx, rel.Key)
	require.NoError(t, err)
	assert.Equal(t, restauth.APIToken{
		ID: tok.ID, UserID: alice.ID, KeyHash: rel.Key, KeyPrefix: "inv-0123", KeySuffix: "a1b-20250630",
		Name: "laptop", Created: rel.Joined, Expiry: rel.Expiry, LastSeen: rel.Seen,
	}, utcToken(*tok))
	old, err := s.TokenByHash(ctx, rel.OldKey)
	require.NoError(t, err)
	assert.Equal(t, restauth.APIToken{
		ID: old.ID, UserID: alice.ID, KeyHash: rel.OldKey, KeyPrefix: "inv-9876", KeySuffix: "ffe-00000000",
		Name: "old", Created: rel.Joined, Revoked: true,
	}, utcToken(*old))
	toks, err := s.Tokens(ctx, alice.ID)
	require.NoError(t, err)
	assert.Len(t, toks, 2)
	if tus, ok := s.(restauth.TokenUserStore); ok {
		jt, ju, err := tus.TokenAndUserByHash(ctx, rel.Key)
		require.NoError(t, err)
		assert.Equal(t, tok.ID, jt.ID)
		assert.Equal(t, utcUser(*alice), utcUser(*ju))
	}

	sa, err := s.SocialAccountByUID(ctx, "github", "4242")
	require.NoError(t, err)
	assert.Equal(t, restauth.SocialAccount{
		ID: sa.ID, UserID: alice.ID, Provider: "github", UID: "4242",
		LastLogin: rel.Login, DateJoined: rel.Joined, ExtraData: rel.ExtraData,
	}, utcSocial(*sa))

	dev, err := s.TOTPDevice(ctx, alice.ID)
	require.NoError(t, err)
	assert.Equal(t, restauth.TOTPDevice{
		UserID: alice.ID, SealedSecret: rel.Sealed, Confirmed: true, Created: rel.Joined, LastStep: rel.LastStep,
	}, restauth.TOTPDevice{
		UserID: dev.UserID, SealedSecret: dev.SealedSecret, Confirmed: dev.Confirmed, Created: dev.Created.UTC(), LastStep: dev.LastStep,
	})
	ok, err := s.UseTOTPStep(ctx, alice.ID, rel.Sealed, rel.LastStep, false)
	require.NoError(t, err)
	assert.False(t, ok, "the step the release accepted last is still refused")
	ok, err = s.UseTOTPStep(ctx, alice.ID, rel.Sealed, rel.LastStep+1, false)
	require.NoError(t, err)
	assert.True(t, ok)

	codes, err := s.RecoveryCodes(ctx, alice.ID)
	require.NoError(t, err)
	require.Len(t, codes, 2)
	used := map[[32]byte]time.Time{}
	for _, c := range codes {
		assert.Equal(t, alice.ID, c.UserID)
		used[c.Hash] = c.Used.UTC()
	}
	assert.Equal(t, map[[32]byte]time.Time{rel.CodeFresh: {}, rel.CodeUsed: rel.Login}, used)
	assert.ErrorIs(t, s.UseRecoveryCode(ctx, alice.ID, rel.CodeUsed, rel.Login.Add(time.Hour)), restauth.ErrNotFound,
		"a code used under the release stays used")
	require.NoError(t, s.UseRecoveryCode(ctx, alice.ID, rel.CodeFresh, rel.Login.Add(time.Hour)))

	// The rules hold on the release's rows, and new rows get new IDs.
	assertConflict(t, s.CreateUser(ctx, &restauth.User{Username: "Alice"}, nil), "username")
	assertConflict(t, s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: bob.ID, Email: "ALICE@example.com", Verified: true}), "email")
	assertConflict(t, s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: bob.ID, Email: "BOB@example.com"}), "user_email")
	assertConflict(t, s.CreateToken(ctx, &restauth.APIToken{UserID: bob.ID, KeyHash: rel.Key, Created: rel.Login}), "token")
	assertConflict(t, s.CreateSocialAccount(ctx, &restauth.SocialAccount{UserID: bob.ID, Provider: "github", UID: "4242"}), "social")
	assertConflict(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: alice.ID, SealedSecret: []byte("x")}), "totp")
	carol := &restauth.User{Username: "carol", DateJoined: rel.Login}
	require.NoError(t, s.CreateUser(ctx, carol, nil))
	assert.Greater(t, carol.ID, bob.ID, "IDs are not reused after the upgrade")
	require.NoError(t, s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: carol.ID, Email: "carol@example.com"}))

	// Deleting the users takes every row of theirs along.
	for _, id := range []int64{alice.ID, bob.ID, carol.ID} {
		require.NoError(t, s.DeleteUser(ctx, id))
	}
	_, err = s.TokenByHash(ctx, rel.Key)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = s.SocialAccountByUID(ctx, "github", "4242")
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = s.TOTPDevice(ctx, alice.ID)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
}

// The utc helpers put a record's times in UTC, and only that, so that the release's values
// compare equal with what a store hands back in another location (unlike the norm helpers,
// they do not truncate: the release data must come back to the microsecond).

func utcUser(u restauth.User) restauth.User {
	u.DateJoined, u.LastLogin = u.DateJoined.UTC(), u.LastLogin.UTC()
	return u
}

func utcToken(t restauth.APIToken) restauth.APIToken {
	t.Created, t.Expiry, t.LastSeen = t.Created.UTC(), t.Expiry.UTC(), t.LastSeen.UTC()
	return t
}

func utcSocial(a restauth.SocialAccount) restauth.SocialAccount {
	a.LastLogin, a.DateJoined = a.LastLogin.UTC(), a.DateJoined.UTC()
	return a
}

// withoutIDs zeroes the addresses' IDs, which the release data does not fix.
func withoutIDs(es []restauth.EmailAddress) []restauth.EmailAddress {
	out := make([]restauth.EmailAddress, len(es))
	for i, e := range es {
		e.ID = 0
		out[i] = e
	}
	return out
}
