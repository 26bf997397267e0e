package memstore

import (
	"context"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/fold"
)

// txLog is what a transaction changed: a copy of each user's records (the user and every
// row owned by them) as they were before the transaction first changed them. Every write
// of the store changes the records of one user and the indexes derived from them, so
// putting those copies back undoes the transaction.
type txLog struct {
	// saved holds the records by user ID; nil for a user created by the transaction.
	saved map[int64]*userRecord
	// mails are the outbox mails the transaction (or one nested in it) enqueued, which
	// its rollback removes; outbox mails belong to no user.
	mails []int64
	// parent is the log of the transaction a nested one joined (nil for the outermost).
	parent *txLog
	// done is set when the transaction's fn has returned: its view may not be used any more.
	done bool
}

// InTx implements restauth.Transactor. The transaction holds the store's write lock from
// start to end, so transactions and single operations all run one after the other, and
// fn's view works under that lock. Each change first saves a copy of the records of the
// user it changes (a cost of one user's records, once per user per transaction); rollback
// puts the copies back. IDs assigned in a rolled-back transaction are not reused.
//
// Nested calls (InTx on the view) join the transaction, as restauth.Transactor says:
// their own log undoes only what they did.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx restauth.Store) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.tx == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.checkOpen()
	}
	view := &Store{state: s.state, tx: &txLog{saved: make(map[int64]*userRecord), parent: s.tx}}
	committed := false
	defer func() {
		view.tx.done = true
		if !committed {
			// fn failed or panicked (the panic goes on after the rollback).
			view.rollback()
		}
	}()
	if err := fn(ctx, view); err != nil {
		return err
	}
	committed = true
	return nil
}

// lock takes the store's write lock, unless s is a transaction's view, whose
// transaction holds it already.
func (s *Store) lock() {
	if s.tx != nil {
		s.checkOpen()
		return
	}
	s.mu.Lock()
}

func (s *Store) unlock() {
	if s.tx == nil {
		s.mu.Unlock()
	}
}

// rlock takes the store's read lock, unless s is a transaction's view.
func (s *Store) rlock() {
	if s.tx != nil {
		s.checkOpen()
		return
	}
	s.mu.RLock()
}

func (s *Store) runlock() {
	if s.tx == nil {
		s.mu.RUnlock()
	}
}

// checkOpen panics when a transaction's view is used after its fn returned: it would work
// without the lock, racing every other caller.
func (s *Store) checkOpen() {
	if s.tx.done {
		panic("memstore: a transaction's store used after the transaction ended")
	}
}

// touch saves, in a transaction's view, the records of user uid as they are, before the
// caller changes them: in the log of the view and of every transaction it is nested in
// that has not saved them yet (if a log has them, so do all outer ones). Outside a
// transaction it does nothing.
func (s *Store) touch(uid int64) {
	for l := s.tx; l != nil; l = l.parent {
		if _, ok := l.saved[uid]; ok {
			return
		}
		var c *userRecord
		if r, ok := s.users[uid]; ok {
			c = copyRecord(r)
		}
		l.saved[uid] = c
	}
}

// rollback puts back the records the view's log saved. All the current records of the
// users concerned leave the indexes before any saved one returns, so that a key that
// moved between two of them (a username, a verified address) ends where it was.
func (s *Store) rollback() {
	s.dropMails(s.tx.mails)
	for uid := range s.tx.saved {
		if r, ok := s.users[uid]; ok {
			s.unindex(r)
		}
	}
	for _, saved := range s.tx.saved {
		if saved != nil {
			// A copy: the saved record stays as it was for an outer transaction's log.
			s.index(copyRecord(saved))
		}
	}
}

// copyRecord returns a deep copy of r.
func copyRecord(r *userRecord) *userRecord {
	c := &userRecord{user: r.user}
	c.emails = copyRows(r.emails, clone)
	c.tokens = copyRows(r.tokens, copyToken)
	c.social = copyRows(r.social, func(a *restauth.SocialAccount) *restauth.SocialAccount {
		s := copySocial(a)
		return &s
	})
	if r.totp != nil {
		c.totp = copyDevice(r.totp)
	}
	c.recovery = copyRows(r.recovery, clone)
	c.sessions = copyRows(r.sessions, clone)
	c.refresh = copyRows(r.refresh, clone)
	c.keys = copyRows(r.keys, copyWebAuthn)
	return c
}

func copyRows[T any](rows []*T, cp func(*T) *T) []*T {
	if rows == nil {
		return nil
	}
	out := make([]*T, len(rows))
	for i, row := range rows {
		out[i] = cp(row)
	}
	return out
}

// index adds the user's record and its rows to the store's maps and indexes.
func (s *Store) index(r *userRecord) {
	uid := r.user.ID
	s.users[uid] = r
	s.byUsername[fold.String(r.user.Username)] = r
	s.refEmail(r.user.Email, uid, 1)
	for _, e := range r.emails {
		s.emails[e.ID] = e
		s.refEmail(e.Email, uid, 1)
		if e.Verified {
			s.verified[fold.String(e.Email)] = e
		}
	}
	for _, t := range r.tokens {
		s.tokens[t.ID] = t
		s.byHash[t.KeyHash] = t
	}
	for _, a := range r.social {
		s.social[a.ID] = a
		s.byUID[socialKey{a.Provider, a.UID}] = a
	}
	for _, k := range r.keys {
		s.keys[k.ID] = k
		s.byCredID[string(k.CredentialID)] = k
	}
}

// unindex removes what index added.
func (s *Store) unindex(r *userRecord) {
	uid := r.user.ID
	delete(s.users, uid)
	deleteIf(s.byUsername, fold.String(r.user.Username), r)
	s.refEmail(r.user.Email, uid, -1)
	for _, e := range r.emails {
		delete(s.emails, e.ID)
		s.refEmail(e.Email, uid, -1)
		if e.Verified {
			deleteIf(s.verified, fold.String(e.Email), e)
		}
	}
	for _, t := range r.tokens {
		delete(s.tokens, t.ID)
		deleteIf(s.byHash, t.KeyHash, t)
	}
	for _, a := range r.social {
		delete(s.social, a.ID)
		deleteIf(s.byUID, socialKey{a.Provider, a.UID}, a)
	}
	for _, k := range r.keys {
		delete(s.keys, k.ID)
		deleteIf(s.byCredID, string(k.CredentialID), k)
	}
}

// deleteIf deletes m[k] if it is v.
func deleteIf[K comparable, V comparable](m map[K]V, k K, v V) {
	if m[k] == v {
		delete(m, k)
	}
}
