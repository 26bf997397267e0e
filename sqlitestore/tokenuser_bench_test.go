package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/sqlitestore"
)

// fillTokens stores n users with one token each, in one transaction through the store's
// DB, and returns the tokens' hashes.
func fillTokens(b *testing.B, s *sqlitestore.Store, n int) [][32]byte {
	b.Helper()
	ctx := context.Background()
	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(b, err)
	defer func() { _ = tx.Rollback() }()
	now := time.Now().UnixMicro()
	hashes := make([][32]byte, n)
	for i := range hashes {
		var seed [8]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(i))
		hashes[i] = sha256.Sum256(seed[:])
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, email, first_name, last_name, password, is_active, date_joined)
VALUES ('user' || ?, 'user' || ? || '@example.com', 'First', 'Last', 'pbkdf2_sha256$1$salt$hash', 1, ?)`, i, i, now)
		require.NoError(b, err)
		uid, err := res.LastInsertId()
		require.NoError(b, err)
		_, err = tx.ExecContext(ctx, `INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen)
VALUES (?, ?, 'inv-0123', 'abcd-20251201', 'bench', ?, ?, ?)`, uid, hashes[i][:], now, now+365*24*3600e6, now)
		require.NoError(b, err)
	}
	require.NoError(b, tx.Commit())
	return hashes
}

// BenchmarkTokenAndUserByHash is token authentication's store work: one token of 1,000,
// and random tokens of 100,000 (most of whose pages are not in SQLite's page cache unless
// it is sized for them).
func BenchmarkTokenAndUserByHash(b *testing.B) {
	for _, bc := range []struct {
		name   string
		n      int
		random bool
	}{{"1k-one", 1000, false}, {"100k-random", 100_000, true}} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := open(b)
			hashes := fillTokens(b, s, bc.n)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // as a request's
			defer cancel()
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h := hashes[bc.n/2]
				if bc.random {
					h = hashes[rng.IntN(bc.n)]
				}
				if _, _, err := s.TokenAndUserByHash(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
