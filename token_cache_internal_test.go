package restauth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
