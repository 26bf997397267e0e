package pgstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// outboxQueries are the statements of the mail outbox (restauth.OutboxStore).
type outboxQueries struct {
	enqueue, claim, remove, retry string
}

const outboxCols = "id, idempotency_key, kind, user_id, email, payload, created, due, attempts, leased_until"

func newOutboxQueries(q func(string) string) outboxQueries {
	return outboxQueries{
		// A key stored already changes nothing; the no-op update returns its id.
		enqueue: q(`INSERT INTO {s}.mail_outbox (idempotency_key, kind, user_id, email, payload, created, due)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
RETURNING id`),
		// SKIP LOCKED lets concurrent claimers pass each other's rows; a row another
		// claim updated and committed meanwhile is re-checked against the WHERE clause
		// (READ COMMITTED), so no row is handed out twice while its lease lasts.
		claim: q(`UPDATE {s}.mail_outbox o SET attempts = o.attempts + 1, leased_until = $2
FROM (SELECT id FROM {s}.mail_outbox
	WHERE due <= $1 AND (leased_until IS NULL OR leased_until <= $1)
	ORDER BY due, id LIMIT $3 FOR UPDATE SKIP LOCKED) c
WHERE o.id = c.id
RETURNING o.id, o.idempotency_key, o.kind, o.user_id, o.email, o.payload, o.created, o.due, o.attempts, o.leased_until`),
		remove: q(`DELETE FROM {s}.mail_outbox WHERE id = $1 AND attempts = $2`),
		retry:  q(`UPDATE {s}.mail_outbox SET due = $3, leased_until = NULL WHERE id = $1 AND attempts = $2`),
	}
}

// EnqueueMail implements restauth.OutboxStore.
func (s *Store) EnqueueMail(ctx context.Context, m *restauth.OutboxMail) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.outbox.enqueue, m.Key, m.Kind, m.UserID, m.Email, m.Payload, ts(m.Created), ts(m.Due)).Scan(&id)
	if err != nil {
		return storeErr(err, "outbox mail", m.Key)
	}
	m.ID = id
	return nil
}

// ClaimMail implements restauth.OutboxStore in one statement.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]restauth.OutboxMail, error) {
	var out []restauth.OutboxMail
	claim := func(q querier) error {
		rows, err := q.Query(ctx, s.q.outbox.claim, ts(now), ts(now.Add(lease)), limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (restauth.OutboxMail, error) {
			var m restauth.OutboxMail
			var created, due, leased pgtype.Timestamptz
			var attempts int32
			err := row.Scan(&m.ID, &m.Key, &m.Kind, &m.UserID, &m.Email, &m.Payload, &created, &due, &attempts, &leased)
			m.Created, m.Due, m.LeasedUntil, m.Attempts = fromTS(created), fromTS(due), fromTS(leased), int(attempts)
			return m, err
		})
		return err
	}
	var err error
	if s.tx != nil {
		err = pgx.BeginFunc(ctx, s.tx, func(tx pgx.Tx) error { return claim(tx) })
	} else {
		err = claim(s.pool)
	}
	if err != nil {
		return nil, storeErr(err, "outbox claim", limit)
	}
	// RETURNING hands rows back in no promised order.
	slices.SortFunc(out, func(a, b restauth.OutboxMail) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// DeleteMail implements restauth.OutboxStore.
func (s *Store) DeleteMail(ctx context.Context, id int64, attempt int) error {
	tag, err := s.writer().Exec(ctx, s.q.outbox.remove, id, attempt)
	return claimResult(tag, err, id)
}

// RetryMail implements restauth.OutboxStore.
func (s *Store) RetryMail(ctx context.Context, id int64, attempt int, due time.Time) error {
	tag, err := s.writer().Exec(ctx, s.q.outbox.retry, id, attempt, ts(due))
	return claimResult(tag, err, id)
}

// claimResult is the contract's error for a write conditioned on a claim: no row changed
// means the claim no longer holds.
func claimResult(tag pgconn.CommandTag, err error, id int64) error {
	if err != nil {
		return storeErr(err, "outbox mail", id)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: outbox mail %d: claim lost: %w", id, restauth.ErrNotFound)
	}
	return nil
}
