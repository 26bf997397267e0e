package credcache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckRemembersSuccessesOnly(t *testing.T) {
	t.Parallel()
	var c Cache
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	calls := 0
	verify := func(ok bool, err error) func() (bool, bool, error) {
		return func() (bool, bool, error) { calls++; return ok, true, err }
	}
	good, bad := Key{1}, Key{2}

	ok, rehash, err := c.Check(ctx, good, now, verify(true, nil))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash, "the check that verified reports the rehash")
	ok, rehash, err = c.Check(ctx, good, now.Add(TTL-time.Second), verify(false, nil))
	require.NoError(t, err)
	assert.True(t, ok, "remembered within TTL")
	assert.False(t, rehash)
	assert.Equal(t, 1, calls)

	_, _, _ = c.Check(ctx, good, now.Add(TTL), verify(true, nil))
	assert.Equal(t, 2, calls, "after TTL it verifies again")

	for range 2 {
		ok, _, _ = c.Check(ctx, bad, now, verify(false, nil))
		assert.False(t, ok)
	}
	assert.Equal(t, 4, calls, "failures are never remembered")

	ok, _, err = c.Check(ctx, Key{3}, now, verify(true, errors.New("cancelled")))
	assert.Error(t, err)
	assert.False(t, ok, "a failed verification decides nothing")
}

func TestConcurrentChecksShareOneVerification(t *testing.T) {
	t.Parallel()
	var c Cache
	release := make(chan struct{})
	started := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	verify := func() (bool, bool, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		close(started)
		<-release
		return true, false, nil
	}
	now := time.Unix(1700000000, 0)
	var wg sync.WaitGroup
	results := make([]bool, 10)
	wg.Go(func() { results[0], _, _ = c.Check(context.Background(), Key{9}, now, verify) })
	<-started
	for i := 1; i < len(results); i++ {
		wg.Go(func() {
			results[i], _, _ = c.Check(context.Background(), Key{9}, now, func() (bool, bool, error) {
				t.Error("a second verification ran")
				return false, false, nil
			})
		})
	}
	close(release)
	wg.Wait()
	assert.Equal(t, 1, calls)
	for i, ok := range results {
		assert.True(t, ok, i)
	}
}

func TestFullCacheIsCleared(t *testing.T) {
	t.Parallel()
	var c Cache
	now := time.Unix(1700000000, 0)
	ok := func() (bool, bool, error) { return true, false, nil }
	for i := range MaxEntries + 1 {
		var k Key
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		_, _, _ = c.Check(context.Background(), k, now, ok)
	}
	assert.LessOrEqual(t, len(c.until), MaxEntries)
}
