package restauth

import "context"

// Transactor is an optional Store capability, found by type assertion: a store that can
// run several of its operations as one transaction implements it, so that changes that
// belong together (a state change and the mail it causes, kept in an outbox) are stored
// together or not at all. memstore, sqlitestore and pgstore implement it.
type Transactor interface {
	// InTx runs fn with tx, a view of the store whose operations all belong to one
	// transaction, and commits it when fn returns nil. When fn returns an error, or
	// panics, everything done through tx is rolled back and the error is returned (the
	// panic goes on). Operations on tx keep the Store contract, including its per-method
	// atomicity: a method that fails inside the transaction changes nothing and leaves the
	// transaction usable, so fn may handle, say, a *ConflictError and go on.
	//
	// InTx called on tx (or a view nested in it) does not begin another transaction: it
	// joins the outer one as a nested step (a savepoint), whose error rolls back only
	// what the nested fn did and is returned to the outer fn; what a nested fn did that
	// returned nil is committed or rolled back with the outer transaction.
	//
	// tx may be used only by fn's goroutine and only until fn returns. fn runs once (a
	// failed transaction is not retried, since fn may have done other things), so it
	// should be short and not wait for the network: while it runs, the store's other
	// writers may wait (memstore and sqlitestore let one transaction write at a time;
	// pgstore holds the row locks taken until the end). Isolation is the store's:
	// serializable in memstore and sqlitestore, READ COMMITTED in pgstore.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
}

// inTx runs fn in one transaction of the store when the store is a Transactor, and
// otherwise on the store itself: a store without the capability still runs every
// operation atomically on its own, but a failure halfway through fn leaves the steps
// before it in place. Operations that must not be split therefore call inTx instead of
// the store, and stay correct (only less tidy on failure) on such stores.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, st Store) error) error {
	if t, ok := s.store.(Transactor); ok {
		return t.InTx(ctx, fn)
	}
	return fn(ctx, s.store)
}
