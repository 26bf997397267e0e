package restauth

import (
	"context"
	"time"
)

// Store persists users, e-mail addresses, API tokens, social accounts and MFA records. It holds no
// rules beyond uniqueness, which it must enforce itself (so that concurrent requests on one
// or many instances cannot create duplicates):
//   - usernames are unique case-insensitively;
//   - a user holds an address at most once (case-insensitively);
//   - a verified address is owned by at most one user (case-insensitively);
//   - a user has at most one primary address;
//   - token key hashes are unique; (provider, uid) of social accounts are unique;
//   - a user has at most one TOTP device;
//   - WebAuthn credential ids are unique across all users (compared exactly).
//
// "Case-insensitively" is guaranteed for ASCII letters; memstore folds as strings.EqualFold,
// while the SQL stores fold ASCII only (their lower() functions differ beyond it), so the
// conformance suite checks ASCII only. When a write breaks two rules at once (a user
// re-adding, verified, an address they already hold), "user_email" wins over "email".
//
// Lookups of a missing record, writes naming a missing id, and creating a record for a
// missing user return an error matching ErrNotFound. Writes that would break a uniqueness
// rule return a *ConflictError (matching ErrConflict). Lists for a user without records
// (or an unknown user) are empty, not an error. Records returned are copies: changing them
// changes nothing in the store. Lists are ordered by ID ascending. Every method is safe
// for concurrent use, and each is atomic on its own: it changes all it documents or
// nothing. Operations that must be atomic together run through the optional Transactor.
//
// The methods are grouped in role interfaces, one per kind of record, so that code that
// needs one kind can ask for just that role; a Store plays them all.
type Store interface {
	UserStore
	EmailAddressStore
	TokenStore
	SocialAccountStore
	MFAStore
	UserSessionStore
	RefreshTokenStore
	WebAuthnStore
	OutboxStore
}

// UserStore is the Store's role for accounts (User).
type UserStore interface {
	// CreateUser stores u (its ID, assigned by the store, is written back) and, if email is
	// not nil, that address for the new user in the same atomic step (its ID and UserID are
	// written back); when email.Primary is true, u.Email is set to it. Either both are
	// stored or neither.
	CreateUser(ctx context.Context, u *User, email *EmailAddress) error
	// UserByID returns the user with that id.
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByUsername returns the user whose username equals username case-insensitively.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UsersByEmail returns the users (ordered by ID) that hold the address as an
	// EmailAddress or as User.Email, compared case-insensitively; an empty list if none
	// (always for "").
	UsersByEmail(ctx context.Context, email string) ([]*User, error)
	// UpdateUser applies upd to the user and returns the user as stored afterwards.
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	// DeleteUser removes the user with its addresses, tokens, social accounts, TOTP device,
	// recovery codes and WebAuthn credentials.
	DeleteUser(ctx context.Context, id int64) error
}

// EmailAddressStore is the Store's role for a user's e-mail addresses (EmailAddress). It
// keeps User.Email equal to the primary address whenever it changes which address is
// primary.
type EmailAddressStore interface {
	// EmailAddresses returns the user's addresses.
	EmailAddresses(ctx context.Context, userID int64) ([]EmailAddress, error)
	// EmailAddressByID returns one address.
	EmailAddressByID(ctx context.Context, id int64) (*EmailAddress, error)
	// AddEmailAddress stores e (assigning e.ID). If e.Primary, the user's other addresses
	// stop being primary and User.Email becomes e.Email, atomically.
	AddEmailAddress(ctx context.Context, e *EmailAddress) error
	// VerifyEmailAddress marks the address verified (verifying it again is no error) and
	// returns it; a *ConflictError with Field "email" if another user already holds it
	// verified. When makePrimaryIfNone is set and the user has no primary address, the
	// address also becomes primary (and User.Email).
	//
	// The "no primary yet" check is the store's, in the same atomic step as the write,
	// because only there can it stay true until the write lands: two addresses of one
	// user verified at once must leave exactly one primary. A caller that read the
	// addresses and then called SetPrimaryEmailAddress would, on PostgreSQL at READ
	// COMMITTED (even inside a Transactor's transaction, which sees only committed rows),
	// not see the other verification's uncommitted primary: the loser then either fails
	// on the one-primary index or takes the primary the winner has just set. The SQL
	// stores therefore check under the user's row lock (pgstore) or the database's
	// single write lock (sqlitestore), and memstore under its store lock; and stores
	// without a Transactor have no other way to make the pair atomic at all.
	VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*EmailAddress, error)
	// SetPrimaryEmailAddress makes the address the user's only primary one and sets User.Email.
	SetPrimaryEmailAddress(ctx context.Context, id int64) (*EmailAddress, error)
	// DeleteEmailAddress removes the address. If it was primary, User.Email becomes "".
	DeleteEmailAddress(ctx context.Context, id int64) error
}

// TokenStore is the Store's role for API tokens (APIToken).
type TokenStore interface {
	// CreateToken stores t (assigning t.ID).
	CreateToken(ctx context.Context, t *APIToken) error
	// TokenByHash returns the token whose key hashes to hash, revoked or not. It is on
	// every token-authenticated request's path, so it must be cheap: it may leave
	// SealedKey nil, which authentication never reads.
	TokenByHash(ctx context.Context, hash [32]byte) (*APIToken, error)
	// TokenByID returns one token, SealedKey included.
	TokenByID(ctx context.Context, id int64) (*APIToken, error)
	// Tokens returns the user's tokens, revoked and expired ones included, SealedKey
	// included.
	Tokens(ctx context.Context, userID int64) ([]APIToken, error)
	// RevokeToken marks the token revoked; revoking a revoked token is not an error.
	RevokeToken(ctx context.Context, id int64) error
	// TouchToken sets the token's LastSeen to day.
	TouchToken(ctx context.Context, id int64, day time.Time) error
}

// SocialAccountStore is the Store's role for links to OAuth2/OIDC provider accounts
// (SocialAccount).
type SocialAccountStore interface {
	// CreateSocialAccount stores a (assigning a.ID).
	CreateSocialAccount(ctx context.Context, a *SocialAccount) error
	// SocialAccountByUID returns the account of that provider and uid (compared exactly).
	SocialAccountByUID(ctx context.Context, provider, uid string) (*SocialAccount, error)
	// SocialAccounts returns the user's social accounts.
	SocialAccounts(ctx context.Context, userID int64) ([]SocialAccount, error)
	// UpdateSocialAccountLogin sets LastLogin and ExtraData of the account.
	UpdateSocialAccountLogin(ctx context.Context, id int64, at time.Time, extra []byte) error
	// DeleteSocialAccount removes the account.
	DeleteSocialAccount(ctx context.Context, id int64) error
}

// MFAStore is the Store's role for multi-factor authentication: a user's TOTP device
// (TOTPDevice) and recovery codes (RecoveryCode). Its writes that spend a code are
// conditional single steps, so that a code is accepted once even by concurrent requests
// on many instances.
type MFAStore interface {
	// TOTPDevice returns the user's TOTP device, pending or confirmed.
	TOTPDevice(ctx context.Context, userID int64) (*TOTPDevice, error)
	// CreateTOTPDevice stores d as the user's device, atomically replacing a pending
	// (unconfirmed) one; when the user's device is confirmed it changes nothing and returns
	// a *ConflictError with Field "totp", so a new enrolment can never overwrite an active
	// authenticator.
	CreateTOTPDevice(ctx context.Context, d *TOTPDevice) error
	// UseTOTPStep records that a code of time step step, checked against the device whose
	// SealedSecret is sealedSecret, was accepted. Atomically, and only while the user's
	// device still holds that SealedSecret (it was not replaced meanwhile) and step is
	// greater than its LastStep — and, when confirm is set, only while it is pending — it
	// sets LastStep to step (and Confirmed to true when confirm is set) and reports true;
	// otherwise it changes nothing and reports false. So a code is accepted once, a device
	// is confirmed once, and a code checked against a replaced secret is refused, even by
	// concurrent requests on many instances. ErrNotFound when the user has no device.
	UseTOTPStep(ctx context.Context, userID int64, sealedSecret []byte, step int64, confirm bool) (bool, error)
	// DeleteTOTPDevice removes the user's device and all their recovery codes; removing
	// what does not exist is not an error.
	DeleteTOTPDevice(ctx context.Context, userID int64) error

	// RecoveryCodes returns the user's recovery codes, used ones included.
	RecoveryCodes(ctx context.Context, userID int64) ([]RecoveryCode, error)
	// ReplaceRecoveryCodes atomically replaces all the user's recovery codes with unused
	// ones of these hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][32]byte) error
	// UseRecoveryCode atomically marks the user's unused code of that hash used at at; an
	// error matching ErrNotFound when there is none (unknown, or already used), so a code
	// is accepted once even by concurrent requests.
	UseRecoveryCode(ctx context.Context, userID int64, hash [32]byte, at time.Time) error
}

// UserSessionStore is the Store's role for the index of a user's logged-in sessions
// (UserSession). Session stores (scs) are keyed by session and have no per-user index, so
// the Service writes a record at each session login and removes it at logout; the session
// itself stays in the session store. A record is found by its user and its session's hash
// (the session store's key), never by the hash alone, so a caller acting for one user
// cannot reach another user's sessions. Records go with their user (DeleteUser).
type UserSessionStore interface {
	// CreateUserSession stores s (assigning s.ID); ErrNotFound for a missing user.
	CreateUserSession(ctx context.Context, s *UserSession) error
	// UserSessions returns the user's session records, ordered by ID (so by creation).
	UserSessions(ctx context.Context, userID int64) ([]UserSession, error)
	// DeleteUserSession removes the user's record of that session hash; an error matching
	// ErrNotFound when the user has none (another user's session included).
	DeleteUserSession(ctx context.Context, userID int64, sessionHash string) error
	// DeleteUserSessions removes all the user's records except the one whose session hash
	// is except ("": none is kept), and reports how many it removed; an unknown user has
	// none to remove.
	DeleteUserSessions(ctx context.Context, userID int64, except string) (int, error)
}

// RefreshTokenStore is the Store's role for the refresh tokens of app clients' JSON Web
// Tokens (RefreshToken, see Service.IssueJWT). A token is found by its user and hash, and
// is exchanged once: ReplaceRefreshToken removes it and stores its successor in one atomic
// step, so that two requests racing with one refresh token cannot both get a new pair.
type RefreshTokenStore interface {
	// CreateRefreshToken stores t (assigning t.ID); ErrNotFound when t.UserID names no
	// user. It may also remove the user's tokens that expired before t.Created.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// ReplaceRefreshToken atomically removes next.UserID's token whose hash is old and
	// stores next (assigning next.ID); when the user has no token of hash old (it was
	// exchanged or removed already) it stores nothing and returns an error matching
	// ErrNotFound.
	ReplaceRefreshToken(ctx context.Context, old [32]byte, next *RefreshToken) error
	// DeleteRefreshTokens removes the user's tokens of family, or all the user's tokens
	// when family is ""; removing none is not an error.
	DeleteRefreshTokens(ctx context.Context, userID int64, family string) error
}

// WebAuthnStore is the Store's role for WebAuthn credentials (WebAuthnCredential): security
// keys and passkeys. Its write after a use is a conditional single step, so that a
// signature counter never goes back, even under concurrent requests on many instances.
type WebAuthnStore interface {
	// CreateWebAuthnCredential stores c (assigning c.ID); a *ConflictError with Field
	// "webauthn" when any user already holds c.CredentialID.
	CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// WebAuthnCredentials returns the user's credentials.
	WebAuthnCredentials(ctx context.Context, userID int64) ([]WebAuthnCredential, error)
	// WebAuthnCredentialByCredentialID returns the credential of that credential id
	// (compared exactly), whoever holds it.
	WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (*WebAuthnCredential, error)
	// UseWebAuthnCredential records a use of credential id at at, with the counter and
	// flags the authenticator reported. Atomically, and only when signCount is greater
	// than the stored SignCount or both are 0 (an authenticator without a counter), it sets
	// SignCount, Flags and LastUsed and reports true; otherwise it changes nothing and
	// reports false, so two uses reporting the same counter are accepted once.
	UseWebAuthnCredential(ctx context.Context, id int64, signCount uint32, flags uint8, at time.Time) (bool, error)
	// RenameWebAuthnCredential sets the credential's Name.
	RenameWebAuthnCredential(ctx context.Context, id int64, name string) error
	// DeleteWebAuthnCredential removes the credential.
	DeleteWebAuthnCredential(ctx context.Context, id int64) error
}

// TokenUserStore is an optional Store capability, found by type assertion: a store that
// can load a token and its user in one round trip (a join) implements it, and token
// authentication — every API request — then costs one query instead of two.
type TokenUserStore interface {
	// TokenAndUserByHash returns the token whose key hashes to hash, revoked or not, and
	// its user; an error matching ErrNotFound when there is no such token.
	TokenAndUserByHash(ctx context.Context, hash [32]byte) (*APIToken, *User, error)
}

// InvalidationNotifier is an optional Store capability, found by type assertion: a store
// that several processes share and that can tell each of them when credentials changed,
// so that their token caches (Config.Tokens.Cache) forget at once what another process
// revoked, instead of within the cache's TTL.
type InvalidationNotifier interface {
	// WatchInvalidations subscribes to changes of what a token authenticates as: a
	// user's row, tokens, e-mail addresses or second factors, changed by any process. It
	// returns once the subscription is in place, so that every change committed after it
	// returned is reported, and then calls fn from a goroutine of its own, one call at a
	// time, after each such change committed: with the user's id, or with 0 when changes
	// may have been missed (the store lost its subscription and has just renewed it) and
	// everything must be forgotten. It stops calling fn when ctx ends.
	WatchInvalidations(ctx context.Context, fn func(userID int64)) error
}

// OutboxStore is the Store's role for the mail outbox (OutboxMail): the mails the Service
// has decided to send, kept until they are delivered or given up, so that no mail waits
// in a request and none is lost when the process stops. A background worker claims due
// mails with a lease, and a claim is proven by the attempt number it set: a worker whose
// lease ran out (and whose mail another worker claimed since) can no longer change it.
// Delivery is therefore at least once: a worker that sent a mail and died before
// DeleteMail leaves it to be sent again when its lease ends.
type OutboxStore interface {
	// EnqueueMail stores m (assigning m.ID; Attempts and LeasedUntil are stored as zero).
	// When a mail of m.Key is stored already it changes nothing and is no error, so that
	// an enqueue whose outcome is unknown can simply be retried; m.ID is then that mail's.
	EnqueueMail(ctx context.Context, m *OutboxMail) error
	// ClaimMail claims up to limit mails that are due at now (Due not after now) and not
	// leased (LeasedUntil zero or not after now), the earliest Due first (then by ID): in
	// one atomic step, each gets LeasedUntil now+lease and one more Attempts, and is
	// returned as stored afterwards. Concurrent claims, on one instance or many, never
	// return one mail to two claimers while its lease lasts.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMail, error)
	// DeleteMail removes a claimed mail, delivered or given up, if its Attempts still is
	// attempt (the claim is still the caller's); else an error matching ErrNotFound.
	DeleteMail(ctx context.Context, id int64, attempt int) error
	// RetryMail makes a claimed mail due again at due and ends its lease, if its Attempts
	// still is attempt; else an error matching ErrNotFound.
	RetryMail(ctx context.Context, id int64, attempt int, due time.Time) error
}
