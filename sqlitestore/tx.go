package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/restauth/restauth"
)

// querier is what the methods query through: a pool, or a transaction in a view.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// w is what writes go through: the write pool, or the view's transaction.
func (s *Store) w() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.wdb
}

// r is what reads go through: the read pool, or the view's transaction (which holds the
// write connection, and must read its own writes).
func (s *Store) r() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.rdb
}

// stmtQuery runs the prepared statement st, or in a view its SQL q in the transaction (st
// is prepared on the read pool, which the transaction's connection is not part of).
func (s *Store) stmtQuery(ctx context.Context, st *sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if s.tx != nil {
		return s.tx.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// stmtQueryRow is stmtQuery for one row.
func (s *Store) stmtQueryRow(ctx context.Context, st *sql.Stmt, q string, args ...any) *sql.Row {
	if s.tx != nil {
		return s.tx.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// InTx implements restauth.Transactor: fn's store works in one transaction begun with
// BEGIN IMMEDIATE on the write connection, so that it holds SQLite's write lock from the
// start and transactions run one after the other (serializable), across processes too.
// Readers of the store outside the transaction go on meanwhile, seeing the state before
// it until it commits; writers wait for it. A nested InTx, and every method of the view
// that takes several statements, runs in a SAVEPOINT of the transaction.
//
// The view's DB is the write pool whose one connection the transaction holds: using it
// inside fn waits for the transaction, that is, forever. Close on the view is an error;
// SessionStore returns the store's own.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx restauth.Store) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, func() error { return fn(ctx, s) })
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: begin: %w", err)
	}
	view := &Store{
		wdb: s.wdb, rdb: s.rdb,
		tokenByHash: s.tokenByHash, userByID: s.userByID, tokenUserByHash: s.tokenUserByHash,
		cleanupInterval: s.cleanupInterval,
		tx:              tx, root: s,
	}
	done := false
	defer func() {
		if !done { // fn panicked
			_ = tx.Rollback()
		}
	}()
	err = fn(ctx, view)
	done = true
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	return nil
}

// savepoint runs fn in a savepoint of the view's transaction: released when fn returns
// nil, rolled back to when it returns an error or panics. SQLite resolves a savepoint's
// name to the innermost one of that name, so nesting needs no numbering.
func (s *Store) savepoint(ctx context.Context, fn func() error) (err error) {
	if _, err := s.tx.ExecContext(ctx, `SAVEPOINT restauth`); err != nil {
		return fmt.Errorf("sqlitestore: savepoint: %w", err)
	}
	done := false
	defer func() {
		if done && err == nil {
			return
		}
		// Undo fn's part even when ctx is done: the outer transaction may go on.
		bg := context.WithoutCancel(ctx)
		_, rerr := s.tx.ExecContext(bg, `ROLLBACK TO restauth`)
		if _, relErr := s.tx.ExecContext(bg, `RELEASE restauth`); rerr == nil {
			rerr = relErr
		}
		if done && rerr != nil {
			err = fmt.Errorf("%w (and rolling back to the savepoint: %v)", err, rerr)
		}
	}()
	err = fn()
	done = true
	if err != nil {
		return err
	}
	if _, err := s.tx.ExecContext(ctx, `RELEASE restauth`); err != nil {
		return fmt.Errorf("sqlitestore: release savepoint: %w", err)
	}
	return nil
}
