package memstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
	"github.com/restauth/restauth/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) restauth.Store { return memstore.New() })
}

// One memstore is its only instance; sharing it with itself still races its locks.
func TestStoreShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (restauth.Store, restauth.Store) {
		s := memstore.New()
		return s, s
	})
}

// The suite leaves ID values to the store; memstore promises 1, 2, … per record kind, with
// no gaps left by refused writes.
func TestIDsCountFromOnePerKind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := memstore.New()

	u := &restauth.User{Username: "a"}
	e := &restauth.EmailAddress{Email: "a@example.com", Verified: true, Primary: true}
	require.NoError(t, s.CreateUser(ctx, u, e))
	assert.Equal(t, int64(1), u.ID)
	assert.Equal(t, int64(1), e.ID)
	assert.Equal(t, int64(1), e.UserID)

	require.Error(t, s.CreateUser(ctx, &restauth.User{Username: "A"}, nil))
	u2 := &restauth.User{Username: "b"}
	require.NoError(t, s.CreateUser(ctx, u2, nil))
	assert.Equal(t, int64(2), u2.ID, "a refused creation uses no ID")

	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("k"))}
	require.NoError(t, s.CreateToken(ctx, tk))
	assert.Equal(t, int64(1), tk.ID)
	a := &restauth.SocialAccount{UserID: u.ID, Provider: "github", UID: "1"}
	require.NoError(t, s.CreateSocialAccount(ctx, a))
	assert.Equal(t, int64(1), a.ID)

	e2 := &restauth.EmailAddress{UserID: u2.ID, Email: "b@example.com"}
	require.NoError(t, s.AddEmailAddress(ctx, e2))
	assert.Equal(t, int64(2), e2.ID)

	// IDs are never reused, so an ID kept by a client cannot come to name another record.
	require.NoError(t, s.DeleteUser(ctx, u2.ID))
	u3 := &restauth.User{Username: "c"}
	require.NoError(t, s.CreateUser(ctx, u3, nil))
	assert.Equal(t, int64(3), u3.ID)
}

// Beyond the ASCII case-insensitivity the suite checks (all that SQL lower() is sure to
// do), memstore folds like strings.EqualFold, for usernames and addresses alike.
func TestUnicodeCaseFolding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stored, asked string
		same          bool
	}{
		{"élodie", "ÉLODIE", true},
		{"kelvin", "\u212aelvin", true}, // KELVIN SIGN folds to k
		{"ΣΑΣ", "σας", true},            // final sigma
		{"straße", "STRASSE", false},    // full folding is not simple folding
		{"élodie", "elodie", false},     // accents matter
		{"ǆemal", "ǅemal", true},        // title case
	} {
		t.Run(tc.stored+"/"+tc.asked, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.same, strings.EqualFold(tc.stored, tc.asked), "test case disagrees with EqualFold")
			ctx := t.Context()
			s := memstore.New()
			u := &restauth.User{Username: tc.stored}
			require.NoError(t, s.CreateUser(ctx, u, &restauth.EmailAddress{Email: tc.stored + "@example.com", Verified: true}))

			_, err := s.UserByUsername(ctx, tc.asked)
			us, err2 := s.UsersByEmail(ctx, tc.asked+"@example.com")
			require.NoError(t, err2)
			err3 := s.CreateUser(ctx, &restauth.User{Username: tc.asked}, nil)
			other := &restauth.User{Username: "other"}
			require.NoError(t, s.CreateUser(ctx, other, nil))
			err4 := s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: other.ID, Email: tc.asked + "@example.com", Verified: true})
			if tc.same {
				require.NoError(t, err)
				assert.Len(t, us, 1)
				assert.ErrorIs(t, err3, restauth.ErrConflict)
				assert.ErrorIs(t, err4, restauth.ErrConflict)
			} else {
				assert.ErrorIs(t, err, restauth.ErrNotFound)
				assert.Empty(t, us)
				assert.NoError(t, err3)
				assert.NoError(t, err4)
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	s := memstore.New()
	u := &restauth.User{Username: "a"}
	require.NoError(t, s.CreateUser(t.Context(), u, nil))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("k"))}
	require.NoError(t, s.CreateToken(t.Context(), tk))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, s.CreateUser(ctx, &restauth.User{Username: "b"}, nil), context.Canceled)
	_, err := s.UserByID(ctx, u.ID)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.TokenByHash(ctx, tk.KeyHash)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, s.DeleteUser(ctx, u.ID), context.Canceled)

	_, err = s.UserByUsername(t.Context(), "b")
	assert.ErrorIs(t, err, restauth.ErrNotFound, "a canceled write stores nothing")
	_, err = s.UserByID(t.Context(), u.ID)
	assert.NoError(t, err, "a canceled delete deletes nothing")
}

func TestErrorsNameTheRecord(t *testing.T) {
	t.Parallel()
	_, err := memstore.New().UserByID(t.Context(), 42)
	require.ErrorIs(t, err, restauth.ErrNotFound)
	assert.Contains(t, err.Error(), "42")
	var ce *restauth.ConflictError
	assert.False(t, errors.As(err, &ce))
}

// newTokenStore returns a store holding n tokens of one user and their hashes.
func newTokenStore(b *testing.B, n int) (*memstore.Store, [][32]byte) {
	ctx := context.Background()
	s := memstore.New()
	u := &restauth.User{Username: "bench"}
	require.NoError(b, s.CreateUser(ctx, u, nil))
	hashes := make([][32]byte, n)
	for i := range hashes {
		hashes[i] = sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
		require.NoError(b, s.CreateToken(ctx, &restauth.APIToken{
			UserID: u.ID, KeyHash: hashes[i], KeyPrefix: "inv-0123", KeySuffix: "abcd-20251201",
			Name: "bench", Created: time.Now(), Expiry: time.Now().AddDate(1, 0, 0),
		}))
	}
	return s, hashes
}

func BenchmarkTokenByHash(b *testing.B) {
	s, hashes := newTokenStore(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.TokenByHash(ctx, hashes[i%len(hashes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTokenByHashParallel shows that lookups from many requests share the read lock.
func BenchmarkTokenByHashParallel(b *testing.B) {
	s, hashes := newTokenStore(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.TokenByHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkTokenByHashMiss measures an unknown key, which anyone can send at will.
func BenchmarkTokenByHashMiss(b *testing.B) {
	s, _ := newTokenStore(b, 10_000)
	ctx := context.Background()
	miss := sha256.Sum256([]byte("unknown"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TokenByHash(ctx, miss); !errors.Is(err, restauth.ErrNotFound) {
			b.Fatal(err)
		}
	}
}
