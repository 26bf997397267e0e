package restauth

import (
	"context"
	"errors"
	"strings"

	"github.com/restauth/restauth/internal/validate"
)

// maxPasswordBytes bounds what is hashed: longer input is refused without hashing, so a
// megabyte "password" cannot buy a megabyte of hashing work.
const maxPasswordBytes = 4096

// LoginRequest is a login attempt: Username (matched case-insensitively) or, when
// Config.LoginByEmail is set, Email, with Password.
type LoginRequest struct {
	Username string
	// Email logs in by e-mail address instead of username when Config.LoginByEmail is
	// set (and is then preferred over Username, as dj-rest-auth does): it names the one
	// active user holding the address, preferring one who verified it. Ignored otherwise.
	Email    string
	Password string
	// MFACode is the second factor: a current TOTP code or an unused recovery code. Users
	// who need one and leave it empty get ErrMFARequired.
	MFACode string
	// MFATrust is a trust token of the user's (IssueMFATrust, "trust this browser"), if
	// the client holds one: when valid, the second factor is not asked for.
	MFATrust string
	// Defer makes a login whose user has an active TOTP device and that gave no MFACode
	// pending instead of refused: the result has Pending set and no Token, and the
	// browser's second-factor page finishes it with CompleteLogin (the reference's `mfa`
	// flow). A user who must enrol first (MFA.Required) still gets ErrMFARequired.
	Defer bool
	// WithoutToken skips the API token a completed login otherwise issues: a dialect whose
	// login is the session alone (the headless dialect) sets it, so no key nobody was
	// shown is left in the store. LoginResult.Token is then nil.
	WithoutToken bool
	// MailVerification mails a new confirmation link when the login is refused because
	// the address is unverified (mandatory verification), as allauth's login does; the
	// rule (which address, RateLimits.ResendPerEmail) is the operation's. With
	// Config.EmailVerificationByCode it mails a code instead, and the refusal is a
	// *VerificationPendingError carrying its PendingCode. The headless dialect sets it;
	// the 291 dialect does not (dj-rest-auth's login mails nothing).
	MailVerification bool
}

// LoginResult is a successful login: the user and the token issued for this login.
type LoginResult struct {
	User  *User
	Token *IssuedToken
	// MFAMethod is the second factor the login used: "" (none), "totp", "recovery_code"
	// or "trust" (a valid LoginRequest.MFATrust stood in for it).
	MFAMethod string
	// Pending is set, with no Token, when LoginRequest.Defer left the second factor due.
	Pending *PendingLogin
}

func invalidCredentials() error {
	return causedFieldError(ErrInvalidCredentials, nonFieldErrors, msgInvalidCredentials)
}

// Login checks credentials and issues a new API token for this login. Every login gets a
// token of its own, so logging out one client never logs out another.
//
// It owns the login policy, whoever calls it: the attempt counts towards
// RateLimits.LoginFailedPerIP (for the Client in ctx, see WithClient),
// LoginFailedPerAccount (per name and address) and LoginFailedPerAccountDaily before
// anything is checked, so a throttled attempt gets a *ThrottledError without hashing; a
// verified password gives the address's and the daily attempt back and a successful
// login clears the account's count from that address. It emits AuditLoginSucceeded and
// AuditTokenIssued, or AuditLoginFailed with the reason. Errors: a *ValidationError
// matching ErrInvalidCredentials, ErrEmailNotVerified or ErrInvalidMFACode; a
// *PermissionError matching ErrMFARequired; a *ThrottledError; ErrBusy when the password
// could not be checked because the hash queue is full (PasswordConfig.MaxQueuedHashes).
func (s *Service) Login(ctx context.Context, req LoginRequest) (_ *LoginResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "Login")
	defer opSpan.end(&opErr)
	login, byEmail := req.Username, false
	if s.cfg.LoginByEmail && req.Email != "" {
		login, byEmail = req.Email, true
	}
	if err := s.throttleLogin(ctx, login); err != nil {
		return nil, err
	}
	res, err := s.login(ctx, login, byEmail, req)
	if err == nil && res.Pending != nil {
		s.passwordAccepted(ctx, login, false) // as for ErrMFARequired: not a failed login
		return res, nil
	}
	if err != nil {
		if reason := loginFailure(err); reason != "" {
			s.auditLoginFailed(ctx, nil, login, AuditEvent{Method: AuditMethodPassword, Reason: reason})
		}
		if passwordVerified(err) {
			s.passwordAccepted(ctx, login, false) // e.g. MFA required: not a failed login
		}
		return nil, err
	}
	s.passwordAccepted(ctx, login, false)
	s.loginSucceeded(ctx, login)
	method := "method=password"
	if res.MFAMethod != "" {
		method += "+" + res.MFAMethod
	}
	s.audit(ctx, res.User, AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodPassword, MFAMethod: res.MFAMethod, Detail: method})
	if res.Token != nil {
		s.audit(ctx, res.User, AuditEvent{Kind: AuditTokenIssued, Detail: tokenDetail(&res.Token.Token)})
	}
	return res, nil
}

// login is Login's checks after the attempt was counted.
func (s *Service) login(ctx context.Context, login string, byEmail bool, req LoginRequest) (*LoginResult, error) {
	password, mfaCode := req.Password, req.MFACode
	if login == "" {
		if s.cfg.LoginByEmail {
			return nil, fieldError(nonFieldErrors, msgMustIncludeEither)
		}
		return nil, fieldError(nonFieldErrors, msgMustInclude)
	}
	var u *User
	var err error
	if byEmail {
		u, err = s.checkEmailCredentials(ctx, login, password)
	} else {
		u, err = s.checkCredentials(ctx, login, password)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkVerified(ctx, u); err != nil {
		if errors.Is(err, errUnverified) {
			refusal := causedFieldError(ErrEmailNotVerified, nonFieldErrors, msgEmailNotVerified)
			if req.MailVerification {
				if p := s.mailVerificationOnRefusedLogin(ctx, u); p != nil {
					return nil, &VerificationPendingError{Code: p, err: refusal}
				}
			}
			return nil, refusal
		}
		return nil, err // a store failure is not a refusal
	}
	method := mfaTrust
	if !s.trusted(ctx, u, req.MFATrust) {
		if req.Defer {
			pending, err := s.pendingLogin(ctx, u, mfaCode)
			if err != nil {
				return nil, err
			}
			if pending != nil {
				return &LoginResult{User: u, Pending: pending}, nil
			}
		}
		if method, err = s.secondFactor(ctx, u, mfaCode); err != nil {
			return nil, err
		}
	}
	// Recording the login also invalidates password-reset links issued before it.
	now := s.now().UTC()
	if u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now}); err != nil {
		return nil, err
	}
	if req.WithoutToken {
		return &LoginResult{User: u, MFAMethod: string(method)}, nil
	}
	issued, err := s.issueToken(ctx, u.ID, "")
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: u, Token: issued, MFAMethod: string(method)}, nil
}

// errUnverified is checkVerified's refusal; each caller wraps it in its own error type.
var errUnverified = errors.New("unverified")

// checkVerified refuses, under mandatory verification, a user whose primary address is
// not verified (errUnverified); store failures are returned as they are.
func (s *Service) checkVerified(ctx context.Context, u *User) error {
	if s.cfg.EmailVerification != VerificationMandatory {
		return nil
	}
	verified, err := s.hasVerifiedPrimary(ctx, u)
	if err != nil {
		return err
	}
	if !verified {
		return errUnverified
	}
	return nil
}

// AuthenticatePassword checks a username and password sent with a request (HTTP Basic
// authentication) without logging in: no token is issued and a success emits no event.
// Clients that send the password on every request are normal (InvenTree's Python client
// can), so it is limited like Login but gives back the attempts of a right password, the
// account's too (with a limiter that cannot give attempts back, only failures count).
// A failure emits AuditLoginFailed ("method=basic"). Errors: a *ValidationError matching
// ErrInvalidCredentials, a *PermissionError matching ErrEmailNotVerified (mandatory
// verification: the password must not be the way around it), a *ThrottledError, ErrBusy
// (the hash queue is full).
func (s *Service) AuthenticatePassword(ctx context.Context, username, password string) (*User, error) {
	countFirst := s.refunds()
	if countFirst {
		if err := s.throttleLogin(ctx, username); err != nil {
			return nil, err
		}
	}
	u, err := s.checkCredentialsWith(ctx, username, password, s.passwordMatchesCached)
	if err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			if !countFirst {
				if throttled := s.throttleLogin(ctx, username); throttled != nil {
					return nil, throttled
				}
			}
			s.auditLoginFailed(ctx, nil, username, AuditEvent{Method: AuditMethodBasic, Reason: AuditReasonInvalidCredentials, Detail: "method=" + AuditMethodBasic})
		}
		return nil, err
	}
	if countFirst {
		s.passwordAccepted(ctx, username, true)
	}
	if err := s.checkVerified(ctx, u); err != nil {
		if errors.Is(err, errUnverified) {
			return nil, &PermissionError{Detail: msgEmailNotVerified, cause: ErrEmailNotVerified}
		}
		return nil, err
	}
	return u, nil
}

// checkCredentials verifies a username and password. An unknown user, a user without a
// usable password and an inactive user all cost one password hash and fail the same way,
// so neither the answer nor its timing tells whether the account exists.
//
// The name is looked up as typed, then in its NFKC form (Django's normalize_username, the
// form every username is stored in since): accounts stored before that rule keep logging
// in by their stored name, and a name typed with compatibility characters ("ｊｅｓｓ")
// finds the account stored in plain letters.
func (s *Service) checkCredentials(ctx context.Context, username, password string) (*User, error) {
	return s.checkCredentialsWith(ctx, username, password, s.passwordMatches)
}

// passwordMatcher is passwordMatches or, for credentials sent with every request,
// passwordMatchesCached.
type passwordMatcher func(ctx context.Context, u *User, password string) (ok, rehash bool, err error)

// checkCredentialsWith is checkCredentials with the given password check.
func (s *Service) checkCredentialsWith(ctx context.Context, username, password string, matches passwordMatcher) (*User, error) {
	var u *User
	// A name with a NUL byte or invalid UTF-8 (a Basic header can carry one; the body
	// decoders refuse them) names nobody and is not looked up: a store that refuses such
	// text (PostgreSQL) would turn a wrong password into a 500.
	if username != "" && validate.Storable(username) {
		var err error
		u, err = s.store.UserByUsername(ctx, username)
		if n := validate.NormalizeUsername(username); errors.Is(err, ErrNotFound) && n != username {
			u, err = s.store.UserByUsername(ctx, n)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return s.checkPasswordWith(ctx, u, password, matches)
}

// checkEmailCredentials verifies an e-mail address and password: the address names the
// one active user holding it (preferring a user who verified it; allauth's
// filter_users_by_email), and anything else — nobody, or several users — fails like a
// wrong password, for the cost of one hash.
func (s *Service) checkEmailCredentials(ctx context.Context, email, password string) (*User, error) {
	var u *User
	if validate.Email(email) {
		holders, err := s.usersHoldingEmail(ctx, email)
		if err != nil {
			return nil, err
		}
		if len(holders) == 1 {
			u = holders[0].user
		}
	}
	return s.checkPassword(ctx, u, password)
}

// checkPassword checks password against u (nil: no such user) as checkCredentials does.
func (s *Service) checkPassword(ctx context.Context, u *User, password string) (*User, error) {
	return s.checkPasswordWith(ctx, u, password, s.passwordMatches)
}

func (s *Service) checkPasswordWith(ctx context.Context, u *User, password string, matches passwordMatcher) (*User, error) {
	ok, rehash, err := matches(ctx, u, password)
	if err != nil {
		return nil, err
	}
	if !ok || !u.IsActive {
		return nil, invalidCredentials()
	}
	if rehash {
		s.upgradePasswordHash(ctx, u, password)
	}
	return u, nil
}

// passwordMatches checks password against u's hash. No user (nil), a user without a
// usable password and a password longer than maxPasswordBytes cost one dummy hash and do
// not match, so the timing tells none of them from a wrong password; a cancelled request
// and a full hash queue (ErrBusy) are errors either way.
func (s *Service) passwordMatches(ctx context.Context, u *User, password string) (ok, rehash bool, err error) {
	if u == nil || !u.HasUsablePassword() || len(password) > maxPasswordBytes {
		if err := s.hasher.DummyCheck(ctx, password[:min(len(password), maxPasswordBytes)]); err != nil {
			return false, false, err // ErrBusy as for a known user: the refusal tells nothing
		}
		return false, false, ctx.Err()
	}
	return s.hasher.Check(ctx, password, u.PasswordHash)
}

// upgradePasswordHash re-hashes a password stored with an older algorithm or weaker
// parameters. A failure only postpones the upgrade to the next login.
func (s *Service) upgradePasswordHash(ctx context.Context, u *User, password string) {
	encoded, err := s.hasher.Hash(ctx, password)
	if err == nil {
		var updated *User
		updated, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: &encoded})
		if err == nil {
			*u = *updated
			return
		}
	}
	s.log.WarnContext(ctx, "restauth: could not upgrade password hash", "user_id", u.ID, "error", err)
}

// hasVerifiedPrimary reports whether the user's primary address is verified.
func (s *Service) hasVerifiedPrimary(ctx context.Context, u *User) (bool, error) {
	addrs, err := s.store.EmailAddresses(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.Primary && a.Verified {
			return true, nil
		}
	}
	return false, nil
}

// passwordVerified reports whether a refused login got past its password: only the
// refusals that come after the password was checked and found right (a second factor is
// needed, the address is not verified).
func passwordVerified(err error) bool {
	return errors.Is(err, ErrMFARequired) || errors.Is(err, ErrEmailNotVerified)
}

// loginFailure is the audit reason for a refused login, "" for an error that is not a
// refusal (a store failure).
func loginFailure(err error) string {
	var verr *ValidationError
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		return AuditReasonInvalidCredentials
	case errors.Is(err, ErrMFARequired):
		return AuditReasonMFARequired
	case errors.Is(err, ErrInvalidMFACode):
		return AuditReasonInvalidMFACode
	case errors.Is(err, ErrEmailNotVerified):
		return AuditReasonEmailNotVerified
	case errors.As(err, &verr):
		return AuditReasonInvalidRequest
	}
	return ""
}

// LogoutRequest names what a logout ends.
type LogoutRequest struct {
	// User is the caller, nil when anonymous (a logout then only ends the session).
	User *User
	// Token is the token the request was authenticated with, if any: it is revoked.
	Token *APIToken
	// Key is a token key presented otherwise (the reference accepts "Bearer <key>" on
	// logout): it is revoked when it is User's own, else ignored.
	Key string
}

// Logout revokes the token the request was authenticated with (or presented, see
// LogoutRequest.Key), if any, and emits AuditLogout for a known caller. Other tokens of
// the user stay valid; the dialect ends the session itself.
func (s *Service) Logout(ctx context.Context, req LogoutRequest) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "Logout")
	defer opSpan.end(&opErr)
	presented := req.Token
	if presented == nil && req.User != nil && req.Key != "" {
		t, err := s.store.TokenByHash(ctx, hashTokenKey(strings.ToLower(req.Key)))
		switch {
		case err == nil && t.UserID == req.User.ID:
			presented = t
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
	}
	if presented != nil {
		if err := s.store.RevokeToken(ctx, presented.ID); err != nil {
			return err
		}
	}
	if req.User != nil {
		detail := ""
		if presented != nil {
			detail = tokenDetail(presented)
		}
		s.audit(ctx, req.User, AuditEvent{Kind: AuditLogout, Detail: detail})
	}
	return nil
}
