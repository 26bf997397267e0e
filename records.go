package restauth

import "time"

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

// APIToken is an API token. The key itself is never stored in the clear: tokens are found
// by its SHA-256, shown masked by the non-secret first and last characters, and only a
// named token of Service.TokenByName keeps a sealed copy (SealedKey).
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
	// SealedKey is the key itself, encrypted by the Service (AES-256-GCM under a key
	// derived from Config.Secret, bound to the user and KeyHash), kept only for tokens
	// issued by Service.TokenByName so that the named token can be shown again, as
	// InvenTree's GetAuthToken does; nil for every other token. A copy of the database
	// without the Secret still yields no usable key. A store keeps it as opaque bytes
	// (NULL when nil) and returns it from TokenByID and Tokens; TokenByHash and
	// TokenAndUserByHash, which authenticate, may leave it nil.
	SealedKey []byte
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

// UserSession is the index record of one logged-in session of a user (allauth's
// usersessions): which session it is and what the user's session list shows of it.
type UserSession struct {
	// ID is the record's id, the opaque id a session list shows (never the hash).
	ID     int64
	UserID int64
	// SessionHash is the session store's key of the session: the SHA-256 of its id as scs
	// keys a hashed session (HashTokenInStore), which opens nothing by itself.
	SessionHash string
	// IP and UserAgent are the client's at the login (Client; UserAgent cut to 200 bytes).
	IP        string
	UserAgent string
	// Created is when the session logged in.
	Created time.Time
	// LastSeen is when the session was last known to be used; the login, for now.
	LastSeen time.Time
}

// RefreshToken is a refresh token of an app client's JSON Web Tokens (Service.IssueJWT),
// by the hash of its random id: the token itself, a signed JWT, is never stored.
type RefreshToken struct {
	ID     int64
	UserID int64
	// Hash is the SHA-256 of the token's id (its "jti" claim).
	Hash [32]byte
	// Family names the login the token descends from (its "sid" claim): every rotation
	// keeps it, so that a logout, or the reuse of a rotated token, can end the whole chain.
	Family  string
	Created time.Time
	Expires time.Time
}

// WebAuthnCredential is a user's WebAuthn public-key credential: a security key, or a
// passkey (a discoverable credential, also used to log in without a password). Only the
// public key is stored; the Service reads and writes the WebAuthn fields with
// github.com/go-webauthn/webauthn, and a store keeps them as opaque values.
type WebAuthnCredential struct {
	ID     int64
	UserID int64
	// CredentialID is the authenticator's credential id; unique across all users.
	CredentialID []byte
	// UserHandle is the WebAuthn user handle the credential was made for, when it is not
	// the user's default (their decimal id): a passkey made at signup, before the
	// account had an id, has a random one. nil for the default.
	UserHandle []byte
	// PublicKey is the credential's COSE public key.
	PublicKey []byte
	// SignCount is the authenticator's signature counter seen last (0: the authenticator
	// keeps none, as most passkeys).
	SignCount uint32
	// Transports are the transports the browser reported ("usb", "nfc", "internal", …).
	Transports []string
	// Flags are the authenticator-data flags of the last ceremony (WebAuthn §6.1: bit 0
	// user present, bit 2 user verified, bit 3 backup eligible, bit 4 backup state); see
	// BackupEligible and BackupState.
	Flags uint8
	// AAGUID names the authenticator model (16 bytes; all zero when not disclosed).
	AAGUID []byte
	// AttestationType is the attestation the credential was registered with ("none", …).
	AttestationType string
	// Passkey is set when the credential was registered as discoverable (resident), so
	// that it can log in without a username.
	Passkey bool
	// Name is the user's label for the credential.
	Name    string
	Created time.Time
	// LastUsed is when it was last used to authenticate; zero when never.
	LastUsed time.Time
}

// BackupEligible reports the credential's BE flag: it may be synced (a multi-device
// passkey). It cannot change after registration.
func (c *WebAuthnCredential) BackupEligible() bool { return c.Flags&0x08 != 0 }

// BackupState reports the credential's BS flag at its last use: it is backed up.
func (c *WebAuthnCredential) BackupState() bool { return c.Flags&0x10 != 0 }

// OutboxMail is a mail waiting in the outbox (OutboxStore). It holds what the mail is for,
// never a live secret: the Service mints links and keys when it sends, and seals under
// Config.Secret whatever else a mail carries (see mail_outbox.go). A store keeps Payload as
// opaque bytes.
type OutboxMail struct {
	ID int64
	// Key is unique among stored mails; the Service makes it random for each mail.
	Key string
	// Kind is the Service's name for the work (a password-reset request, a notice, …).
	Kind string
	// UserID is the user the mail concerns, 0 when not known yet (a reset request names
	// an address only; the worker finds its account).
	UserID int64
	// Email is the address asked for or written to.
	Email string
	// Payload is the rest of the intent, opaque to the store; nil when none.
	Payload []byte
	// Created is when the mail was enqueued.
	Created time.Time
	// Due is when the mail is to be sent next.
	Due time.Time
	// Attempts counts the claims so far.
	Attempts int
	// LeasedUntil is when the current claim ends; the zero time when unclaimed.
	LeasedUntil time.Time
}
