package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/restauth/restauth"
)

// querier is what the methods run statements through: the pool, a transaction, or a
// savepointer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader is what reads go through: the pool, or the view's transaction.
func (s *Store) reader() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.pool
}

// writer is what writes of one statement go through: the pool (see autocommit), or in a view each in a
// savepoint of the transaction. A failed statement aborts a PostgreSQL transaction, so
// without the savepoint a write refused by a unique index (which a caller may expect and
// handle) would make every later statement of the transaction fail.
func (s *Store) writer() querier {
	if s.tx != nil {
		return savepointer{s.tx}
	}
	return autocommit{s.pool}
}

// savepointer runs each Exec and QueryRow in a savepoint of tx, rolled back when it fails.
type savepointer struct{ tx pgx.Tx }

func (sp savepointer) Exec(ctx context.Context, sql string, args ...any) (tag pgconn.CommandTag, err error) {
	err = pgx.BeginFunc(ctx, sp.tx, func(tx pgx.Tx) error {
		var err error
		tag, err = tx.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

func (sp savepointer) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return sp.tx.Query(ctx, sql, args...) // not used for writes
}

func (sp savepointer) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return savepointRow{ctx: ctx, tx: sp.tx, sql: sql, args: args}
}

// savepointRow runs its statement when scanned, in a savepoint of tx.
type savepointRow struct {
	ctx  context.Context
	tx   pgx.Tx
	sql  string
	args []any
}

func (r savepointRow) Scan(dest ...any) error {
	return pgx.BeginFunc(r.ctx, r.tx, func(tx pgx.Tx) error {
		return tx.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
	})
}

// InTx implements restauth.Transactor: fn's store works in one READ COMMITTED
// transaction (pgx.Tx) on a connection of the pool. Its methods keep their own locking
// (the user's row lock for changes of addresses and recovery codes), now held until the
// transaction ends, and each write runs in a savepoint, so that a refused write leaves
// the transaction usable; that costs two more round trips per write. A nested InTx runs
// in a savepoint too. Unlike the store's own transactions, fn is not run again after a
// serialization failure or a deadlock: the error is returned.
//
// Transactions that change several users should change them in a fixed order (say, by
// ID), or two of them may deadlock; PostgreSQL then fails one of them. Close on the view
// does nothing; SessionStore returns the store's own.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx restauth.Store) error) error {
	run := func(tx pgx.Tx) error { return fn(ctx, s.view(tx)) }
	if s.tx != nil {
		return pgx.BeginFunc(ctx, s.tx, run) // a savepoint
	}
	return s.runTx(ctx, run)
}

// view returns the store working in tx.
func (s *Store) view(tx pgx.Tx) *Store {
	root := s
	if s.root != nil {
		root = s.root
	}
	return &Store{pool: s.pool, opts: s.opts, q: s.q, tx: tx, root: root}
}
