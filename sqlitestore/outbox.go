package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/restauth/restauth"
)

// outboxCols are the columns of a mail_outbox row, in restauth.OutboxMail's order.
const outboxCols = `id, idempotency_key, kind, user_id, email, payload, created, due, attempts, leased_until`

// EnqueueMail implements restauth.OutboxStore: a key stored already changes nothing.
func (s *Store) EnqueueMail(ctx context.Context, m *restauth.OutboxMail) error {
	var id int64
	err := s.w().QueryRowContext(ctx, `INSERT INTO mail_outbox (idempotency_key, kind, user_id, email, payload, created, due)
	VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = excluded.idempotency_key
	RETURNING id`,
		m.Key, m.Kind, m.UserID, m.Email, nullBlob(m.Payload), m.Created.UnixMicro(), m.Due.UnixMicro()).Scan(&id)
	if err != nil {
		return fmt.Errorf("sqlitestore: enqueue mail: %w", err)
	}
	m.ID = id
	return nil
}

// ClaimMail implements restauth.OutboxStore in one statement, which SQLite's single
// writer makes atomic: no two claims see one row unleased.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]restauth.OutboxMail, error) {
	at := now.UnixMicro()
	rows, err := s.w().QueryContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, leased_until = ?
	WHERE id IN (SELECT id FROM mail_outbox WHERE due <= ? AND (leased_until IS NULL OR leased_until <= ?) ORDER BY due, id LIMIT ?)
	RETURNING `+outboxCols,
		now.Add(lease).UnixMicro(), at, at, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim mail: %w", err)
	}
	defer rows.Close()
	var out []restauth.OutboxMail
	for rows.Next() {
		var m restauth.OutboxMail
		var created, due int64
		var leased sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Key, &m.Kind, &m.UserID, &m.Email, &m.Payload, &created, &due, &m.Attempts, &leased); err != nil {
			return nil, fmt.Errorf("sqlitestore: claim mail: %w", err)
		}
		m.Created, m.Due, m.LeasedUntil = time.UnixMicro(created).UTC(), time.UnixMicro(due).UTC(), fromMicros(leased)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: claim mail: %w", err)
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
	res, err := s.w().ExecContext(ctx, `DELETE FROM mail_outbox WHERE id = ? AND attempts = ?`, id, attempt)
	return claimResult(res, err, "delete mail", id)
}

// RetryMail implements restauth.OutboxStore.
func (s *Store) RetryMail(ctx context.Context, id int64, attempt int, due time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE mail_outbox SET due = ?, leased_until = NULL WHERE id = ? AND attempts = ?`,
		due.UnixMicro(), id, attempt)
	return claimResult(res, err, "retry mail", id)
}

// claimResult turns the result of a write conditioned on a claim into the contract's
// error: no row changed means the claim no longer holds.
func claimResult(res sql.Result, err error, op string, id int64) error {
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: %s %d: claim lost: %w", op, id, restauth.ErrNotFound)
	}
	return nil
}
