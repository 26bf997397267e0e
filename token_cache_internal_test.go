package restauth

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A lookup that read the store before an invalidation and finishes after it does not put
// what it read back into the cache; a size-bounded cache stays within its size.
func TestTokenCacheGenerations(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := newTokenCache(TokenCacheConfig{Size: 2, TTL: time.Minute}, func() time.Time { return now })
	h := [32]byte{1}
	tk, u := &APIToken{ID: 7, UserID: 3}, &User{ID: 3}

	_, _, gen := c.get(h) // a lookup misses and goes to the store...
	c.forgetUser(3)       // ...while the user's tokens are revoked...
	c.put(gen, h, tk, u)  // ...and it finishes with what it read before
	got, _, gen := c.get(h)
	assert.Nil(t, got, "the stale read was not cached")

	c.put(gen, h, tk, u)
	got, gotUser, _ := c.get(h)
	if assert.NotNil(t, got) {
		assert.Equal(t, int64(7), got.ID)
		assert.Equal(t, int64(3), gotUser.ID)
	}
	c.forgetToken(7)
	got, _, gen = c.get(h)
	assert.Nil(t, got, "forgotten by token id")

	for i := range 5 {
		c.put(gen, [32]byte{byte(10 + i)}, &APIToken{ID: int64(10 + i)}, &User{ID: int64(i)})
	}
	assert.LessOrEqual(t, len(c.entries), 2)

	var off *tokenCache // the cache switched off: every call is a no-op
	got, _, gen = off.get(h)
	assert.Nil(t, got)
	off.put(gen, h, tk, u)
	off.forgetUser(0)
	assert.Nil(t, newTokenCache(TokenCacheConfig{}, time.Now))
}

// txFake is a Transactor whose transaction's view is itself, recording UpdateUser.
type txFake struct {
	Store
	updated []int64
}

func (f *txFake) UpdateUser(_ context.Context, id int64, _ UserUpdate) (*User, error) {
	f.updated = append(f.updated, id)
	return &User{ID: id}, nil
}

func (f *txFake) InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error {
	return fn(ctx, f)
}

// In a transaction, the decorator forgets what the writes changed once the transaction
// is over (after its commit), not while it runs, nested calls included.
func TestCachingStoreForgetsAfterTheTransaction(t *testing.T) {
	t.Parallel()
	c := newTokenCache(TokenCacheConfig{Size: 10, TTL: time.Hour}, time.Now)
	h := [32]byte{9}
	_, _, gen := c.get(h)
	c.put(gen, h, &APIToken{ID: 1, UserID: 3}, &User{ID: 3})
	fake := &txFake{}
	cs := newCachingStore(fake, c)
	tx, ok := cs.(Transactor)
	require.True(t, ok, "the decorator keeps the Transactor capability")

	err := tx.InTx(t.Context(), func(ctx context.Context, st Store) error {
		if _, err := st.UpdateUser(ctx, 3, UserUpdate{}); err != nil {
			return err
		}
		return st.(Transactor).InTx(ctx, func(ctx context.Context, st Store) error {
			_, err := st.UpdateUser(ctx, 3, UserUpdate{})
			got, _, _ := c.get(h)
			assert.NotNil(t, got, "still cached while the transaction runs")
			return err
		})
	})
	require.NoError(t, err)
	assert.Equal(t, []int64{3, 3}, fake.updated)
	got, _, _ := c.get(h)
	assert.Nil(t, got, "forgotten once the transaction is over")

	plain := newCachingStore(struct{ Store }{fake}, c)
	_, isTx := plain.(Transactor)
	assert.False(t, isTx, "a store without transactions gets none from the decorator")
}
