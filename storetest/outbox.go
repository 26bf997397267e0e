package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// lease is the claim lease of the outbox tests.
const lease = time.Minute

func sampleMail(key string, due time.Time) *restauth.OutboxMail {
	return &restauth.OutboxMail{Key: key, Kind: "mail", UserID: 7, Email: key + "@example.com",
		Payload: []byte(`{"sealed":"` + key + `"}`), Created: base, Due: due}
}

func enqueue(t *testing.T, s restauth.Store, key string, due time.Time) *restauth.OutboxMail {
	t.Helper()
	m := sampleMail(key, due)
	require.NoError(t, s.EnqueueMail(t.Context(), m))
	require.Positive(t, m.ID, "EnqueueMail must write the assigned ID back")
	return m
}

func claim(t *testing.T, s restauth.Store, now time.Time, limit int) []restauth.OutboxMail {
	t.Helper()
	ms, err := s.ClaimMail(t.Context(), now, lease, limit)
	require.NoError(t, err)
	return ms
}

func mailKeys(ms []restauth.OutboxMail) []string {
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.Key
	}
	return keys
}

func normMail(m restauth.OutboxMail) restauth.OutboxMail {
	m.Created, m.Due, m.LeasedUntil = normTime(m.Created), normTime(m.Due), normTime(m.LeasedUntil)
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
	return m
}

var outboxTests = []test{
	{"a claimed mail comes back as enqueued, attempted once and leased", func(t *testing.T, s restauth.Store) {
		m := enqueue(t, s, "a", base)
		got := claim(t, s, base, 10)
		require.Len(t, got, 1)
		want := *m
		want.Attempts, want.LeasedUntil = 1, base.Add(lease)
		assert.Equal(t, normMail(want), normMail(got[0]))
	}},
	{"a nil payload stays nil", func(t *testing.T, s restauth.Store) {
		m := sampleMail("nil", base)
		m.Payload = nil
		require.NoError(t, s.EnqueueMail(t.Context(), m))
		got := claim(t, s, base, 1)
		require.Len(t, got, 1)
		assert.Empty(t, got[0].Payload)
	}},
	{"enqueuing a key again changes nothing", func(t *testing.T, s restauth.Store) {
		m := enqueue(t, s, "twice", base)
		again := sampleMail("twice", base.Add(time.Hour))
		again.Kind = "other"
		require.NoError(t, s.EnqueueMail(t.Context(), again), "a retried enqueue is no error")
		assert.Equal(t, m.ID, again.ID, "the stored mail's id is written back")
		got := claim(t, s, base, 10)
		require.Len(t, got, 1, "stored once")
		assert.Equal(t, "mail", got[0].Kind, "the first write stands")
	}},
	{"mail is claimed when due, earliest first, up to the limit", func(t *testing.T, s restauth.Store) {
		enqueue(t, s, "late", base.Add(3*time.Second))
		enqueue(t, s, "first", base)
		enqueue(t, s, "second", base.Add(time.Second))
		enqueue(t, s, "future", base.Add(time.Hour))
		now := base.Add(5 * time.Second)
		firsts := claim(t, s, now, 2)
		assert.Equal(t, []string{"first", "second"}, mailKeys(firsts))
		late := claim(t, s, now, 10)
		assert.Equal(t, []string{"late"}, mailKeys(late), "the future mail is not due")
		assert.Empty(t, claim(t, s, now, 10))
		for _, m := range append(firsts, late...) {
			require.NoError(t, s.DeleteMail(t.Context(), m.ID, m.Attempts))
		}
		assert.Equal(t, []string{"future"}, mailKeys(claim(t, s, base.Add(time.Hour), 10)))
	}},
	{"a leased mail is not claimed again until its lease ends", func(t *testing.T, s restauth.Store) {
		enqueue(t, s, "leased", base)
		first := claim(t, s, base, 1)
		require.Len(t, first, 1)
		assert.Empty(t, claim(t, s, base.Add(lease-time.Microsecond), 1), "still leased")
		second := claim(t, s, base.Add(lease), 1)
		require.Len(t, second, 1, "the lease ended: the mail is claimed again")
		assert.Equal(t, 2, second[0].Attempts)
		ctx := t.Context()
		requireNotFound(t, s.DeleteMail(ctx, first[0].ID, first[0].Attempts))
		requireNotFound(t, s.RetryMail(ctx, first[0].ID, first[0].Attempts, base))
		require.NoError(t, s.DeleteMail(ctx, second[0].ID, second[0].Attempts), "the current claim holds")
		assert.Empty(t, claim(t, s, base.Add(24*time.Hour), 1), "a deleted (sent or given-up) mail is gone")
		requireNotFound(t, s.DeleteMail(ctx, second[0].ID, second[0].Attempts))
	}},
	{"a retried mail is due again at its new time and unleased", func(t *testing.T, s restauth.Store) {
		enqueue(t, s, "retry", base)
		got := claim(t, s, base, 1)
		require.Len(t, got, 1)
		due := base.Add(30 * time.Second)
		require.NoError(t, s.RetryMail(t.Context(), got[0].ID, got[0].Attempts, due))
		assert.Empty(t, claim(t, s, due.Add(-time.Microsecond), 1), "not due yet")
		again := claim(t, s, due, 1)
		require.Len(t, again, 1, "due, though the first lease would still run")
		assert.Equal(t, 2, again[0].Attempts)
		assert.Equal(t, normTime(due), normTime(again[0].Due))
	}},
	{"unknown mail cannot be deleted or retried", func(t *testing.T, s restauth.Store) {
		requireNotFound(t, s.DeleteMail(t.Context(), 987654, 1))
		requireNotFound(t, s.RetryMail(t.Context(), 987654, 1, base))
	}},
	{"concurrent claims hand each mail to one claimer", func(t *testing.T, s restauth.Store) {
		raceClaims(t, [2]restauth.Store{s, s})
	}},
	{"mail enqueued in a rolled-back transaction is gone, in a committed one kept", func(t *testing.T, s restauth.Store) {
		tr := transactor(t, s)
		ctx := t.Context()
		err := tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			require.NoError(t, tx.EnqueueMail(ctx, sampleMail("rolled-back", base)))
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		require.NoError(t, tr.InTx(ctx, func(ctx context.Context, tx restauth.Store) error {
			return tx.EnqueueMail(ctx, sampleMail("committed", base))
		}))
		assert.Equal(t, []string{"committed"}, mailKeys(claim(t, s, base, 10)))
	}},
}

// Workers on two instances claim from one outbox.
func init() {
	sharedTests = append(sharedTests, sharedTest{"racing claims from two instances hand each mail to one claimer", raceClaims})
}

// raceClaims enqueues mails through stores[0] and claims them from goroutines alternating
// between the stores until none is left: each mail must be claimed exactly once.
func raceClaims(t *testing.T, stores [2]restauth.Store) {
	const mails, claimers = 40, 8
	for i := range mails {
		enqueue(t, stores[0], fmt.Sprintf("c%02d", i), base)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var errs []error
	startTogether(claimers, func(i int) {
		for {
			ms, err := stores[i%2].ClaimMail(context.Background(), base, lease, 3)
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			}
			for _, m := range ms {
				seen[m.ID]++
			}
			mu.Unlock()
			if err != nil || len(ms) == 0 {
				return
			}
		}
	})
	require.Empty(t, errs)
	assert.Len(t, seen, mails, "every mail claimed")
	for id, n := range seen {
		assert.Equal(t, 1, n, "mail %d claimed once", id)
	}
}
