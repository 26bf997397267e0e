// Package memstore is an in-memory restauth.Store, for tests, examples and single-instance
// deployments that can afford to lose every account on restart.
//
// All data lives behind one sync.RWMutex: uniqueness checks and the writes they guard happen
// under the same lock, so concurrent requests cannot create duplicates, and reads (above all
// TokenByHash, on every token-authenticated request) share the lock. Store.InTx
// (restauth.Transactor) holds the write lock for a whole transaction and undoes it from
// copies of the records it changed.
package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/fold"
)

// Store is an in-memory restauth.Store. The zero value is not usable; create one with New.
// It is safe for concurrent use, and a restauth.Transactor (see InTx).
type Store struct {
	*state
	// tx is set in the view of a transaction (see InTx), whose methods run under the lock
	// the transaction holds and log what they change; nil in the store New returns.
	tx *txLog
}

// state is the data of a Store, shared by the Store and its transactions' views.
type state struct {
	mu sync.RWMutex

	lastUserID, lastEmailID, lastTokenID, lastSocialID, lastRecoveryID, lastRefreshID, lastWebAuthnID int64
	lastUserSessionID                                                                                 int64

	users  map[int64]*userRecord
	emails map[int64]*restauth.EmailAddress
	tokens map[int64]*restauth.APIToken
	social map[int64]*restauth.SocialAccount
	keys   map[int64]*restauth.WebAuthnCredential

	// Indexes; the values are the same pointers as in the maps above, so an update in
	// place is seen through both.
	byUsername map[string]*userRecord                  // folded username
	verified   map[string]*restauth.EmailAddress       // folded address → its verified row
	byEmail    map[string]map[int64]int                // folded address → user ID → references
	byHash     map[[32]byte]*restauth.APIToken         // key hash
	byUID      map[socialKey]*restauth.SocialAccount   // (provider, uid)
	byCredID   map[string]*restauth.WebAuthnCredential // WebAuthn credential id

	// outbox holds the mail outbox (outbox.go).
	outbox outbox
}

// userRecord is a user with its owned rows, each list in ID order (IDs only grow and rows
// are appended, so appending keeps them sorted).
type userRecord struct {
	user   restauth.User
	emails []*restauth.EmailAddress
	tokens []*restauth.APIToken
	social []*restauth.SocialAccount
	// totp is the user's TOTP device (nil: none); recovery holds their recovery codes.
	totp     *restauth.TOTPDevice
	recovery []*restauth.RecoveryCode
	// sessions is the user's session index (restauth.UserSessionStore).
	sessions []*restauth.UserSession
	// refresh holds the user's JWT refresh tokens (refresh.go).
	refresh []*restauth.RefreshToken
	// keys are the user's WebAuthn credentials.
	keys []*restauth.WebAuthnCredential
}

type socialKey struct{ provider, uid string }

// Compile-time checks of the interfaces Store implements.
var (
	_ restauth.Store      = (*Store)(nil)
	_ restauth.Transactor = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store {
	return &Store{state: &state{
		users:      make(map[int64]*userRecord),
		emails:     make(map[int64]*restauth.EmailAddress),
		tokens:     make(map[int64]*restauth.APIToken),
		social:     make(map[int64]*restauth.SocialAccount),
		keys:       make(map[int64]*restauth.WebAuthnCredential),
		byUsername: make(map[string]*userRecord),
		verified:   make(map[string]*restauth.EmailAddress),
		byEmail:    make(map[string]map[int64]int),
		byHash:     make(map[[32]byte]*restauth.APIToken),
		byUID:      make(map[socialKey]*restauth.SocialAccount),
		byCredID:   make(map[string]*restauth.WebAuthnCredential),
		outbox:     newOutbox(),
	}}
}

func notFound(kind string, id any) error {
	return fmt.Errorf("memstore: %s %v: %w", kind, id, restauth.ErrNotFound)
}

func conflict(field string) error { return &restauth.ConflictError{Field: field} }

// refEmail counts one more (delta 1) or one less (delta -1) reason for UsersByEmail to
// find user uid under address addr: an EmailAddress row or the User.Email field.
func (s *Store) refEmail(addr string, uid int64, delta int) {
	if addr == "" {
		return
	}
	k := fold.String(addr)
	m := s.byEmail[k]
	if m == nil {
		m = make(map[int64]int)
		s.byEmail[k] = m
	}
	if m[uid] += delta; m[uid] <= 0 {
		delete(m, uid)
		if len(m) == 0 {
			delete(s.byEmail, k)
		}
	}
}

// setUserEmail changes User.Email, keeping the UsersByEmail index in step.
func (s *Store) setUserEmail(r *userRecord, addr string) {
	s.refEmail(r.user.Email, r.user.ID, -1)
	r.user.Email = addr
	s.refEmail(addr, r.user.ID, 1)
}

// makePrimary makes e the only primary address of its user and mirrors it in User.Email.
func (s *Store) makePrimary(r *userRecord, e *restauth.EmailAddress) {
	for _, o := range r.emails {
		o.Primary = false
	}
	e.Primary = true
	s.setUserEmail(r, e.Email)
}

// holds reports whether the user already has the address, case-insensitively.
func (r *userRecord) holds(addr string) bool {
	for _, e := range r.emails {
		if strings.EqualFold(e.Email, addr) {
			return true
		}
	}
	return false
}

func copySocial(a *restauth.SocialAccount) restauth.SocialAccount {
	c := *a
	c.ExtraData = bytes.Clone(a.ExtraData)
	return c
}

// CreateUser implements restauth.Store. The ID of u (and, if given, of email, whose UserID
// is also set) is written back only when the user was stored.
func (s *Store) CreateUser(ctx context.Context, u *restauth.User, email *restauth.EmailAddress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()

	// Check every rule before changing anything, so that a conflict leaves no trace.
	nameKey := fold.String(u.Username)
	if _, taken := s.byUsername[nameKey]; taken {
		return conflict("username")
	}
	if email != nil && email.Verified {
		if _, taken := s.verified[fold.String(email.Email)]; taken {
			return conflict("email")
		}
	}

	s.lastUserID++
	s.touch(s.lastUserID)
	r := &userRecord{user: *u}
	r.user.ID = s.lastUserID
	r.user.Email = ""
	s.users[r.user.ID] = r
	s.byUsername[nameKey] = r
	s.setUserEmail(r, u.Email)
	if email != nil {
		e := s.insertEmail(r, *email)
		if e.Primary {
			s.setUserEmail(r, e.Email)
		}
		email.ID, email.UserID = e.ID, e.UserID
	}
	u.ID, u.Email = r.user.ID, r.user.Email
	return nil
}

// insertEmail stores a copy of e for the user, after the caller has checked the rules.
func (s *Store) insertEmail(r *userRecord, e restauth.EmailAddress) *restauth.EmailAddress {
	s.lastEmailID++
	e.ID, e.UserID = s.lastEmailID, r.user.ID
	p := &e
	s.emails[p.ID] = p
	r.emails = append(r.emails, p)
	s.refEmail(p.Email, r.user.ID, 1)
	if p.Verified {
		s.verified[fold.String(p.Email)] = p
	}
	return p
}

// UserByID implements restauth.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*restauth.User, error) {
	return lookupByID(ctx, s, s.users, "user", id, func(r *userRecord) *restauth.User { return clone(&r.user) })
}

// UserByUsername implements restauth.Store.
func (s *Store) UserByUsername(ctx context.Context, username string) (*restauth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := fold.String(username)
	s.rlock()
	defer s.runlock()
	r, ok := s.byUsername[k]
	if !ok {
		return nil, notFound("user", "by username")
	}
	return clone(&r.user), nil
}

// UsersByEmail implements restauth.Store.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]*restauth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := fold.String(email)
	s.rlock()
	defer s.runlock()
	refs := s.byEmail[k]
	out := make([]*restauth.User, 0, len(refs))
	for uid := range refs {
		out = append(out, clone(&s.users[uid].user))
	}
	slices.SortFunc(out, func(a, b *restauth.User) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateUser implements restauth.Store.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd restauth.UserUpdate) (*restauth.User, error) {
	var out *restauth.User
	err := s.withUser(ctx, id, func(r *userRecord) error {
		if upd.Username != nil {
			oldKey, newKey := fold.String(r.user.Username), fold.String(*upd.Username)
			// A user may change the case of their own name; only someone else's name conflicts.
			if o, taken := s.byUsername[newKey]; taken && o != r {
				return conflict("username")
			}
			delete(s.byUsername, oldKey)
			s.byUsername[newKey] = r
			r.user.Username = *upd.Username
		}
		u := &r.user
		setIf(&u.FirstName, upd.FirstName)
		setIf(&u.LastName, upd.LastName)
		setIf(&u.PasswordHash, upd.PasswordHash)
		setIf(&u.LastLogin, upd.LastLogin)
		setIf(&u.IsActive, upd.IsActive)
		setIf(&u.IsStaff, upd.IsStaff)
		setIf(&u.IsSuperuser, upd.IsSuperuser)
		out = clone(u)
		return nil
	})
	return out, err
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// DeleteUser implements restauth.Store.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.withUser(ctx, id, func(r *userRecord) error {
		for _, e := range r.emails {
			s.dropEmail(e)
		}
		for _, t := range r.tokens {
			delete(s.tokens, t.ID)
			delete(s.byHash, t.KeyHash)
		}
		for _, a := range r.social {
			delete(s.social, a.ID)
			delete(s.byUID, socialKey{a.Provider, a.UID})
		}
		for _, k := range r.keys {
			delete(s.keys, k.ID)
			delete(s.byCredID, string(k.CredentialID))
		}
		s.setUserEmail(r, "")
		delete(s.byUsername, fold.String(r.user.Username))
		delete(s.users, id)
		return nil
	})
}

// dropEmail removes e from the global maps and indexes (not from its user's list).
func (s *Store) dropEmail(e *restauth.EmailAddress) {
	delete(s.emails, e.ID)
	s.refEmail(e.Email, e.UserID, -1)
	if e.Verified {
		delete(s.verified, fold.String(e.Email))
	}
}

// EmailAddresses implements restauth.Store. An unknown user has no addresses.
func (s *Store) EmailAddresses(ctx context.Context, userID int64) ([]restauth.EmailAddress, error) {
	return listOfUser(ctx, s, userID, func(r *userRecord) []*restauth.EmailAddress { return r.emails }, deref)
}

// listOfUser returns copies (made by copyRow) of one of a user's record lists, read under
// the store's read lock; an unknown user has an empty list.
func listOfUser[T any](ctx context.Context, s *Store, userID int64, rows func(*userRecord) []*T, copyRow func(*T) T) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	var list []*T
	if r, ok := s.users[userID]; ok {
		list = rows(r)
	}
	out := make([]T, len(list))
	for i, row := range list {
		out[i] = copyRow(row)
	}
	return out, nil
}

// deref copies a record that holds no slices or maps.
func deref[T any](row *T) T { return *row }

// clone returns a copy of a record that holds no slices or maps.
func clone[T any](row *T) *T {
	c := *row
	return &c
}

// EmailAddressByID implements restauth.Store.
func (s *Store) EmailAddressByID(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	return lookupByID(ctx, s, s.emails, "email address", id, clone)
}

// lookupByID returns view(row) of the row of table (one of the store's maps by ID) with
// that id, read under the store's read lock; an unknown id is notFound(kind, id).
func lookupByID[T, V any](ctx context.Context, s *Store, table map[int64]*T, kind string, id int64, view func(*T) *V) (*V, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	row, ok := table[id]
	if !ok {
		return nil, notFound(kind, id)
	}
	return view(row), nil
}

// withRow runs fn on the row of table (one of the store's maps by ID) with that id, under
// the store's write lock; an unknown id is notFound(kind, id). owner names the user the
// row belongs to, whose records fn may change (in a transaction, they are logged first).
func withRow[T any](ctx context.Context, s *Store, table map[int64]*T, kind string, id int64, owner func(*T) int64, fn func(*T) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.lock()
	defer s.unlock()
	row, ok := table[id]
	if !ok {
		return notFound(kind, id)
	}
	s.touch(owner(row))
	return fn(row)
}

// The owners of rows, for withRow.
func userOf(r *userRecord) int64                  { return r.user.ID }
func emailOwner(e *restauth.EmailAddress) int64   { return e.UserID }
func tokenOwner(t *restauth.APIToken) int64       { return t.UserID }
func socialOwner(a *restauth.SocialAccount) int64 { return a.UserID }

// withUser runs fn on the user's record under the write lock; ErrNotFound for an unknown
// user.
func (s *Store) withUser(ctx context.Context, userID int64, fn func(*userRecord) error) error {
	return withRow(ctx, s, s.users, "user", userID, userOf, fn)
}
