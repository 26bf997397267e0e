package hashers

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queueConfig has one hashing slot, so a test holds it with Acquire and every other
// caller must queue.
func queueConfig(maxQueued int, maxWait time.Duration) Config {
	cfg := cheapConfig(PBKDF2SHA256)
	cfg.MaxConcurrentHashes = 1
	cfg.MaxQueuedHashes = maxQueued
	cfg.MaxHashWait = maxWait
	return cfg
}

// TestHashQueueBound fills the slot and the queue with blocked callers and checks that
// the next one of every kind (Hash, Check on a real and an unusable hash, DummyCheck) is
// refused with ErrBusy without hashing and without waiting, and that the queued callers
// still hash once the slot frees. synctest's Wait tells when the waiters are blocked, so
// nothing here depends on timing.
func TestHashQueueBound(t *testing.T) {
	t.Parallel()
	for _, queued := range []int{0, 1, 3} {
		synctest.Test(t, func(t *testing.T) {
			h, err := New(queueConfig(queued, 0))
			require.NoError(t, err)
			ctx := context.Background()
			encoded, err := h.Hash(ctx, "hunter2")
			require.NoError(t, err)

			release, err := h.Acquire(ctx) // a long-running hash holds the only slot
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make([]error, queued)
			for i := range queued {
				wg.Go(func() { _, errs[i] = h.Hash(ctx, "hunter2") })
			}
			synctest.Wait()
			require.Equal(t, queued, h.QueueDepth(), "queued=%d: the waiters are in the queue", queued)
			hashes := h.HashCount()

			_, err = h.Hash(ctx, "hunter2")
			assert.ErrorIs(t, err, ErrBusy, "Hash")
			ok, rehash, err := h.Check(ctx, "hunter2", encoded)
			assert.ErrorIs(t, err, ErrBusy, "Check")
			assert.False(t, ok)
			assert.False(t, rehash)
			_, _, err = h.Check(ctx, "hunter2", "!unusable")
			assert.ErrorIs(t, err, ErrBusy, "Check of an unusable hash")
			assert.ErrorIs(t, h.DummyCheck(ctx, "hunter2"), ErrBusy, "DummyCheck, as for an unknown user")
			_, err = h.Acquire(ctx)
			assert.ErrorIs(t, err, ErrBusy, "Acquire")
			assert.Equal(t, hashes, h.HashCount(), "a refused caller hashes nothing")
			assert.Equal(t, queued, h.QueueDepth(), "a refused caller leaves the queue as it was")

			release()
			wg.Wait()
			for i, err := range errs {
				assert.NoError(t, err, "queued caller %d hashes once the slot frees", i)
			}
			assert.Zero(t, h.QueueDepth())
			assert.Empty(t, h.sem, "no slot leaked")
		})
	}
}

// TestHashQueueUnbounded keeps the old behaviour for a negative MaxQueuedHashes: every
// caller waits.
func TestHashQueueUnbounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h, err := New(queueConfig(-1, 0))
		require.NoError(t, err)
		ctx := context.Background()
		release, err := h.Acquire(ctx)
		require.NoError(t, err)
		var wg sync.WaitGroup
		const waiters = 50
		errs := make(chan error, waiters)
		for range waiters {
			wg.Go(func() { errs <- h.DummyCheck(ctx, "hunter2") })
		}
		synctest.Wait()
		assert.Equal(t, waiters, h.QueueDepth())
		release()
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		assert.Equal(t, int64(waiters+1), h.HashCount())
	})
}

// TestHashMaxWait: a queued caller gives up with ErrBusy once MaxHashWait passes (on
// synctest's fake clock), and a context ending first wins with its own error.
func TestHashMaxWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h, err := New(queueConfig(4, 2*time.Second))
		require.NoError(t, err)
		release, err := h.Acquire(context.Background())
		require.NoError(t, err)
		defer release()

		_, err = h.Hash(context.Background(), "hunter2")
		require.ErrorIs(t, err, ErrBusy)
		assert.Zero(t, h.QueueDepth(), "the caller left the queue")

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.ErrorIs(t, h.DummyCheck(ctx, "hunter2"), context.DeadlineExceeded)
		assert.Equal(t, int64(1), h.HashCount(), "only the held slot counted")
	})
}
