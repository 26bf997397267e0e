package restauth

import (
	"context"
	"sync"
	"time"
)

// cachingStore is the Store the Service uses while the token cache is on: the host's
// store, with every write that can change what a token authenticates as followed by the
// cache forgetting what it changed. Doing it here, under the Store interface, rather than
// in the operations means no operation needs to remember to (and none added later can
// forget to): revocations, logouts, password changes and resets, user updates,
// deactivation and deletion, address and second-factor changes all end in one of these
// methods. The forgetting follows the write even when it failed, whose outcome may be
// unknown.
//
// In a transaction's view, what to forget is collected and forgotten once InTx returns,
// after the commit: forgetting earlier would let a concurrent lookup read (and cache) the
// state the transaction is about to replace.
type cachingStore struct {
	Store
	cache *tokenCache

	// pending collects, in a transaction's view, what to forget after the commit.
	mu      *sync.Mutex
	pending *[]func()
}

// txCachingStore is a cachingStore over a store that is a Transactor, and one itself.
type txCachingStore struct{ cachingStore }

// newCachingStore puts inner behind the cache's decorator, keeping its Transactor
// capability (TokenUserStore is looked up on the inner store, see lookupToken).
func newCachingStore(inner Store, c *tokenCache) Store {
	cs := cachingStore{Store: inner, cache: c}
	if _, ok := inner.(Transactor); ok {
		return &txCachingStore{cs}
	}
	return &cs
}

// uncached returns the host's store.
func (s *cachingStore) uncached() Store { return s.Store }

// after runs f now, or in a transaction's view once the transaction is over.
func (s *cachingStore) after(f func()) {
	if s.pending == nil {
		f()
		return
	}
	s.mu.Lock()
	*s.pending = append(*s.pending, f)
	s.mu.Unlock()
}

func (s *cachingStore) forgetUser(id int64) { s.after(func() { s.cache.forgetUser(id) }) }

// InTx implements Transactor: fn's store is the transaction's, behind the decorator.
func (s *txCachingStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error {
	inner := s.Store.(Transactor) // newCachingStore and inTxView only make Transactors txCachingStores
	if s.pending != nil {         // a nested call joins the outer transaction and its list
		return inner.InTx(ctx, func(ctx context.Context, tx Store) error {
			return fn(ctx, s.inTxView(tx, s.mu, s.pending))
		})
	}
	var (
		mu      sync.Mutex
		pending []func()
	)
	defer func() {
		for _, f := range pending {
			f()
		}
	}()
	return inner.InTx(ctx, func(ctx context.Context, tx Store) error {
		return fn(ctx, s.inTxView(tx, &mu, &pending))
	})
}

// inTxView puts a transaction's view tx behind the decorator, collecting into pending;
// it stays a Transactor (for nested calls) only if tx is one.
func (s *txCachingStore) inTxView(tx Store, mu *sync.Mutex, pending *[]func()) Store {
	cs := cachingStore{Store: tx, cache: s.cache, mu: mu, pending: pending}
	if _, ok := tx.(Transactor); ok {
		return &txCachingStore{cs}
	}
	return &cs
}

// The writes below forget what they change.

func (s *cachingStore) UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error) {
	defer s.forgetUser(id)
	return s.Store.UpdateUser(ctx, id, upd)
}

func (s *cachingStore) DeleteUser(ctx context.Context, id int64) error {
	defer s.forgetUser(id)
	return s.Store.DeleteUser(ctx, id)
}

func (s *cachingStore) AddEmailAddress(ctx context.Context, e *EmailAddress) error {
	defer s.forgetUser(e.UserID)
	return s.Store.AddEmailAddress(ctx, e)
}

// forgetOwner forgets the owner of address e, or everything when the write failed
// without saying whose address it was.
func (s *cachingStore) forgetOwner(e *EmailAddress) {
	if e != nil {
		s.forgetUser(e.UserID)
	} else {
		s.forgetUser(0)
	}
}

func (s *cachingStore) VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*EmailAddress, error) {
	e, err := s.Store.VerifyEmailAddress(ctx, id, makePrimaryIfNone)
	s.forgetOwner(e)
	return e, err
}

func (s *cachingStore) SetPrimaryEmailAddress(ctx context.Context, id int64) (*EmailAddress, error) {
	e, err := s.Store.SetPrimaryEmailAddress(ctx, id)
	s.forgetOwner(e)
	return e, err
}

func (s *cachingStore) DeleteEmailAddress(ctx context.Context, id int64) error {
	e, _ := s.Store.EmailAddressByID(ctx, id) // whose it is, before it is gone
	defer s.forgetOwner(e)
	return s.Store.DeleteEmailAddress(ctx, id)
}

func (s *cachingStore) RevokeToken(ctx context.Context, id int64) error {
	defer s.after(func() { s.cache.forgetToken(id) })
	return s.Store.RevokeToken(ctx, id)
}

func (s *cachingStore) CreateTOTPDevice(ctx context.Context, d *TOTPDevice) error {
	defer s.forgetUser(d.UserID)
	return s.Store.CreateTOTPDevice(ctx, d)
}

func (s *cachingStore) UseTOTPStep(ctx context.Context, userID int64, sealedSecret []byte, step int64, confirm bool) (bool, error) {
	if confirm { // confirming enrols the device; spending a code changes nothing cached
		defer s.forgetUser(userID)
	}
	return s.Store.UseTOTPStep(ctx, userID, sealedSecret, step, confirm)
}

func (s *cachingStore) DeleteTOTPDevice(ctx context.Context, userID int64) error {
	defer s.forgetUser(userID)
	return s.Store.DeleteTOTPDevice(ctx, userID)
}

func (s *cachingStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][32]byte) error {
	defer s.forgetUser(userID)
	return s.Store.ReplaceRecoveryCodes(ctx, userID, hashes)
}

func (s *cachingStore) CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error {
	defer s.forgetUser(c.UserID)
	return s.Store.CreateWebAuthnCredential(ctx, c)
}

func (s *cachingStore) DeleteWebAuthnCredential(ctx context.Context, id int64) error {
	defer s.forgetUser(0) // the credential's id alone does not say whose it was
	return s.Store.DeleteWebAuthnCredential(ctx, id)
}

// touchCached records in the cache that the token was seen today, so that a cached token
// is not touched again on every request.
func (c *tokenCache) touchCached(hash [32]byte, today time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if e := c.entries[hash]; e != nil {
		e.t.LastSeen = today
	}
	c.mu.Unlock()
}
