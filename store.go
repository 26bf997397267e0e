package restauth

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every Store returns (possibly wrapped) so that the Service can tell
// "nothing there" and "would break a uniqueness rule" from real failures.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("restauth: not found")
	// ErrConflict means a write would break a uniqueness rule of the store.
	ErrConflict = errors.New("restauth: conflict")
)

// ConflictError is returned (wrapping ErrConflict) when a write breaks a uniqueness rule;
// Field names the rule so the Service can answer with the right message.
type ConflictError struct {
	// Field is one of "username", "email" (a verified address owned by another user),
	// "user_email" (the same address twice for one user), "token" (a key hash),
	// "social" (a provider and uid already linked) or "totp" (the user already has a
	// TOTP device).
	Field string
}

func (e *ConflictError) Error() string { return "restauth: conflict on " + e.Field }

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// User is an account. Email mirrors the user's primary EmailAddress ("" when none) for
// accounts the Service manages; an imported user may hold an Email with no address row,
// and UsersByEmail finds it by either.
type User struct {
	ID        int64
	Username  string
	Email     string
	FirstName string
	LastName  string
	// PasswordHash is a Django-encoded hash ("algorithm$…"). An empty value, or one starting
	// with "!", is an unusable password: nobody can log in with it.
	PasswordHash string
	IsActive     bool
	IsStaff      bool
	IsSuperuser  bool
	DateJoined   time.Time
	// LastLogin is the zero time when the user never logged in.
	LastLogin time.Time
}

// HasUsablePassword reports whether the user can log in with a password at all.
func (u *User) HasUsablePassword() bool {
	return u.PasswordHash != "" && u.PasswordHash[0] != '!'
}

// UserUpdate changes the fields that are non-nil and leaves the others as they are, so that
// concurrent updates of different fields (a profile edit and a login) never undo each other.
type UserUpdate struct {
	Username     *string
	FirstName    *string
	LastName     *string
	PasswordHash *string
	LastLogin    *time.Time
	IsActive     *bool
	IsStaff      *bool
	IsSuperuser  *bool
}

// EmailAddress is one of a user's e-mail addresses.
type EmailAddress struct {
	ID       int64
	UserID   int64
	Email    string
	Verified bool
	Primary  bool
}

// APIToken is an API token. The key itself is never stored: only its SHA-256 and the
// non-secret first and last characters used to show it masked.
type APIToken struct {
	ID      int64
	UserID  int64
	KeyHash [32]byte
	// KeyPrefix and KeySuffix are the first 8 and last 12 characters of the key, kept to
	// show the key masked ("inv-0123********…a1b-20241130"); together they carry 28 of its 160 random bits.
	KeyPrefix string
	KeySuffix string
	Name      string
	Created   time.Time
	// Expiry is the last day (UTC midnight) on which the token is accepted.
	Expiry time.Time
	// LastSeen is the UTC day the token was last used; zero when never used.
	LastSeen time.Time
	Revoked  bool
}

// SocialAccount links a user to an account at an OAuth2/OIDC provider.
type SocialAccount struct {
	ID         int64
	UserID     int64
	Provider   string
	UID        string
	LastLogin  time.Time
	DateJoined time.Time
	// ExtraData is the provider's profile as JSON, kept for the host app.
	ExtraData []byte
}

// TOTPDevice is a user's time-based one-time-password authenticator (RFC 6238). A user has
// at most one; it is pending until the user proves, with a code, that their app holds it.
type TOTPDevice struct {
	UserID int64
	// SealedSecret is the shared secret encrypted by the Service (AES-256-GCM under a key
	// derived from Config.Secret); a store keeps it as opaque bytes.
	SealedSecret []byte
	// Confirmed is false while enrolment is pending.
	Confirmed bool
	Created   time.Time
	// LastStep is the TOTP time step of the last code accepted (0: none). Codes of that step
	// or an earlier one are refused, so each code works once.
	LastStep int64
}

// RecoveryCode is one single-use MFA recovery code. The code itself is never stored.
type RecoveryCode struct {
	ID     int64
	UserID int64
	// Hash is a keyed HMAC of the code, computed by the Service.
	Hash [32]byte
	// Used is when the code was used; the zero time while it is unused.
	Used time.Time
}

// Store persists users, e-mail addresses, API tokens, social accounts and MFA records. It holds no
// rules beyond uniqueness, which it must enforce itself (so that concurrent requests on one
// or many instances cannot create duplicates):
//   - usernames are unique case-insensitively;
//   - a user holds an address at most once (case-insensitively);
//   - a verified address is owned by at most one user (case-insensitively);
//   - a user has at most one primary address;
//   - token key hashes are unique; (provider, uid) of social accounts are unique;
//   - a user has at most one TOTP device.
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
// for concurrent use.
type Store interface {
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
	// DeleteUser removes the user with its addresses, tokens, social accounts, TOTP device
	// and recovery codes.
	DeleteUser(ctx context.Context, id int64) error

	// EmailAddresses returns the user's addresses.
	EmailAddresses(ctx context.Context, userID int64) ([]EmailAddress, error)
	// EmailAddressByID returns one address.
	EmailAddressByID(ctx context.Context, id int64) (*EmailAddress, error)
	// AddEmailAddress stores e (assigning e.ID). If e.Primary, the user's other addresses
	// stop being primary and User.Email becomes e.Email, atomically.
	AddEmailAddress(ctx context.Context, e *EmailAddress) error
	// VerifyEmailAddress marks the address verified (verifying it again is no error) and
	// returns it; a *ConflictError with Field "email" if another user already holds it verified. When makePrimaryIfNone is set
	// and the user has no primary address, the address also becomes primary (and User.Email).
	VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*EmailAddress, error)
	// SetPrimaryEmailAddress makes the address the user's only primary one and sets User.Email.
	SetPrimaryEmailAddress(ctx context.Context, id int64) (*EmailAddress, error)
	// DeleteEmailAddress removes the address. If it was primary, User.Email becomes "".
	DeleteEmailAddress(ctx context.Context, id int64) error

	// CreateToken stores t (assigning t.ID).
	CreateToken(ctx context.Context, t *APIToken) error
	// TokenByHash returns the token whose key hashes to hash, revoked or not. It is on
	// every token-authenticated request's path, so it must be cheap.
	TokenByHash(ctx context.Context, hash [32]byte) (*APIToken, error)
	// TokenByID returns one token.
	TokenByID(ctx context.Context, id int64) (*APIToken, error)
	// Tokens returns the user's tokens, revoked and expired ones included.
	Tokens(ctx context.Context, userID int64) ([]APIToken, error)
	// RevokeToken marks the token revoked; revoking a revoked token is not an error.
	RevokeToken(ctx context.Context, id int64) error
	// TouchToken sets the token's LastSeen to day.
	TouchToken(ctx context.Context, id int64, day time.Time) error

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

// TokenUserStore is an optional Store capability, found by type assertion: a store that
// can load a token and its user in one round trip (a join) implements it, and token
// authentication — every API request — then costs one query instead of two.
type TokenUserStore interface {
	// TokenAndUserByHash returns the token whose key hashes to hash, revoked or not, and
	// its user; an error matching ErrNotFound when there is no such token.
	TokenAndUserByHash(ctx context.Context, hash [32]byte) (*APIToken, *User, error)
}
