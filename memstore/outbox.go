package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/restauth/restauth"
)

// outbox is the mail outbox of a state (restauth.OutboxStore), under the store's lock.
type outbox struct {
	lastID int64
	mails  map[int64]*restauth.OutboxMail
	byKey  map[string]int64
}

func newOutbox() outbox {
	return outbox{mails: make(map[int64]*restauth.OutboxMail), byKey: make(map[string]int64)}
}

func copyMail(m *restauth.OutboxMail) restauth.OutboxMail {
	c := *m
	c.Payload = slices.Clone(m.Payload)
	return c
}

// EnqueueMail implements restauth.OutboxStore. In a transaction the mail is undone with
// it (see txLog.mails).
func (s *Store) EnqueueMail(ctx context.Context, m *restauth.OutboxMail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	if id, ok := s.outbox.byKey[m.Key]; ok {
		m.ID = id
		return nil
	}
	s.outbox.lastID++
	c := copyMail(m)
	c.ID, c.Attempts, c.LeasedUntil = s.outbox.lastID, 0, time.Time{}
	s.outbox.mails[c.ID] = &c
	s.outbox.byKey[c.Key] = c.ID
	for l := s.tx; l != nil; l = l.parent {
		l.mails = append(l.mails, c.ID)
	}
	m.ID = c.ID
	return nil
}

// ClaimMail implements restauth.OutboxStore, under the store's write lock.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]restauth.OutboxMail, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.lock()
	defer s.unlock()
	var due []*restauth.OutboxMail
	for _, m := range s.outbox.mails {
		if !m.Due.After(now) && !m.LeasedUntil.After(now) {
			due = append(due, m)
		}
	}
	slices.SortFunc(due, func(a, b *restauth.OutboxMail) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID))
	})
	if len(due) > limit {
		due = due[:max(limit, 0)]
	}
	out := make([]restauth.OutboxMail, len(due))
	for i, m := range due {
		m.Attempts++
		m.LeasedUntil = now.Add(lease)
		out[i] = copyMail(m)
	}
	return out, nil
}

// claimed returns the mail if its claim of attempt still holds.
func (s *Store) claimed(id int64, attempt int) (*restauth.OutboxMail, error) {
	m, ok := s.outbox.mails[id]
	if !ok || m.Attempts != attempt {
		return nil, notFound("outbox mail claim", id)
	}
	return m, nil
}

// DeleteMail implements restauth.OutboxStore.
func (s *Store) DeleteMail(ctx context.Context, id int64, attempt int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	m, err := s.claimed(id, attempt)
	if err != nil {
		return err
	}
	delete(s.outbox.mails, id)
	delete(s.outbox.byKey, m.Key)
	return nil
}

// RetryMail implements restauth.OutboxStore.
func (s *Store) RetryMail(ctx context.Context, id int64, attempt int, due time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	m, err := s.claimed(id, attempt)
	if err != nil {
		return err
	}
	m.Due, m.LeasedUntil = due, time.Time{}
	return nil
}

// dropMails removes the mails a rolled-back transaction enqueued.
func (s *Store) dropMails(ids []int64) {
	for _, id := range ids {
		if m, ok := s.outbox.mails[id]; ok {
			delete(s.outbox.mails, id)
			delete(s.outbox.byKey, m.Key)
		}
	}
}
