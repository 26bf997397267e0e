package restauth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/otp"
	"github.com/restauth/restauth/internal/seal"
)

// MFA messages. The reference has no MFA API, so these are restauth's own.
const (
	msgIncorrectCode          = "Incorrect code."
	msgIncorrectPassword      = "Incorrect password."
	msgTOTPAlreadyActive      = "TOTP is already active."
	msgTOTPNotActive          = "TOTP is not active."
	msgNoPendingTOTP          = "No TOTP secret to activate: GET this route first."
	msgReauthenticate         = "Enter a current code or your password."
	msgMFACannotBeDeactivated = "MFA is required for every user; it cannot be deactivated."
	msgTOTPNeedsPassword      = "Set a password first: TOTP is a second step after the password."
)

// totpPurpose keys the AEAD that seals TOTP secrets at rest.
const totpPurpose = "restauth.mfa.totp-secret"

func mfaRequired() error { return &PermissionError{Detail: msgMFARequired, cause: ErrMFARequired} }

// totpNotActive refuses an MFA change of a user without an active TOTP device; its code
// "totp_not_active" lets a dialect answer as allauth does (a deactivation of nothing is done).
func totpNotActive() error {
	return codedFieldError(nil, nonFieldErrors, "totp_not_active", msgTOTPNotActive)
}

func incorrectCode(field string) error {
	return causedFieldError(ErrInvalidMFACode, field, msgIncorrectCode)
}

// TOTPStatus is a user's TOTP enrolment. While it is not active, Secret (base32) and URL
// (otpauth://) describe the pending secret to load into an authenticator app; once it is,
// Created is when the device was set up and LastUsed the start of the time step of the
// last code accepted (zero when none was since the activation's).
type TOTPStatus struct {
	Active   bool
	Secret   string
	URL      string
	Created  time.Time
	LastUsed time.Time
}

// sealTOTPSecret binds the sealed secret to its user, so a row copied to another user in
// the database does not open.
func (s *Service) sealTOTPSecret(userID int64, key []byte) []byte {
	return seal.Seal(seal.AEAD(s.cfg.Secret, totpPurpose), key, strconv.AppendInt(nil, userID, 10))
}

func (s *Service) openTOTPSecret(d *TOTPDevice) ([]byte, error) {
	key, err := seal.Open(seal.AEAD(s.cfg.Secret, totpPurpose), d.SealedSecret, strconv.AppendInt(nil, d.UserID, 10))
	if err != nil {
		// A changed Config.Secret, or a tampered row.
		return nil, errors.New("restauth: TOTP secret does not open under the configured Secret")
	}
	return key, nil
}

// activeTOTP returns the user's confirmed device, nil when they have none (or only a
// pending one).
func (s *Service) activeTOTP(ctx context.Context, userID int64) (*TOTPDevice, error) {
	d, err := s.store.TOTPDevice(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case !d.Confirmed:
		return nil, nil
	}
	return d, nil
}

// TOTPStatus reports the user's enrolment. When TOTP is not active it starts a new pending
// secret, replacing an earlier one: only the secret of the latest call can be activated,
// so a secret read by someone else (with the password, before the user enrols) is dead
// once the user fetches their own.
func (s *Service) TOTPStatus(ctx context.Context, u *User) (*TOTPStatus, error) {
	d, err := s.store.TOTPDevice(ctx, u.ID)
	switch {
	case err == nil && d.Confirmed:
		st := &TOTPStatus{Active: true, Created: d.Created}
		if d.LastStep > 0 {
			st.LastUsed = time.Unix(d.LastStep*otp.Period, 0).UTC()
		}
		return st, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return nil, err
	}
	key := otp.NewSecret()
	err = s.store.CreateTOTPDevice(ctx, &TOTPDevice{UserID: u.ID, SealedSecret: s.sealTOTPSecret(u.ID, key), Created: s.now().UTC()})
	switch {
	case errors.Is(err, ErrConflict):
		// Activated meanwhile, by a concurrent request.
		return &TOTPStatus{Active: true}, nil
	case err != nil:
		return nil, err
	}
	return s.pendingStatus(u, key), nil
}

func (s *Service) pendingStatus(u *User, key []byte) *TOTPStatus {
	return &TOTPStatus{Secret: otp.SecretEncoding.EncodeToString(key), URL: otp.URL(s.mfaIssuer(), u.Username, key)}
}

// mfaIssuer names the site in authenticator apps. A colon would end the label's issuer
// part early, so the default is the host name without its port.
func (s *Service) mfaIssuer() string {
	issuer := s.cfg.MFA.Issuer
	if issuer == "" {
		issuer = s.cfg.SiteName
	}
	if issuer == "" {
		issuer = s.site.Hostname()
	}
	return strings.ReplaceAll(issuer, ":", " ")
}

// ActivateTOTP confirms the pending secret with a code from the user's app, and returns
// the user's first recovery codes (shown once). A user without a usable password (one who
// only logs in through a provider) is refused: social logins of TOTP users are refused,
// so activating would lock them out.
func (s *Service) ActivateTOTP(ctx context.Context, u *User, code string) (_ []string, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ActivateTOTP")
	defer opSpan.end(&opErr)
	if !u.HasUsablePassword() {
		return nil, fieldError(nonFieldErrors, msgTOTPNeedsPassword)
	}
	d, err := s.store.TOTPDevice(ctx, u.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fieldError(nonFieldErrors, msgNoPendingTOTP)
	case err != nil:
		return nil, err
	case d.Confirmed:
		return nil, fieldError(nonFieldErrors, msgTOTPAlreadyActive)
	}
	ok, err := s.useTOTPCode(ctx, d, code, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		// A concurrent activation may have won; then this one must not hand out a second
		// set of recovery codes.
		if now, err := s.activeTOTP(ctx, u.ID); err == nil && now != nil {
			return nil, fieldError(nonFieldErrors, msgTOTPAlreadyActive)
		}
		return nil, incorrectCode("code")
	}
	codes, err := s.newRecoveryCodes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditMFAActivated, Method: AuditMethodTOTP, Detail: "method=" + AuditMethodTOTP})
	s.notify(ctx, MailTOTPActivated, u, MailData{})
	return codes, nil
}

// useTOTPCode checks code against the device and consumes its time step, so the same code
// (or an older one) is refused afterwards — also on other instances — and a code checked
// against a secret replaced meanwhile is refused too.
func (s *Service) useTOTPCode(ctx context.Context, d *TOTPDevice, code string, confirm bool) (bool, error) {
	key, err := s.openTOTPSecret(d)
	if err != nil {
		return false, err
	}
	step, ok := otp.Match(key, code, s.now())
	if !ok {
		return false, nil
	}
	used, err := s.store.UseTOTPStep(ctx, d.UserID, d.SealedSecret, step, confirm)
	if errors.Is(err, ErrNotFound) {
		return false, nil // deleted meanwhile
	}
	return used, err
}

// MFAProof re-authenticates a user before a sensitive MFA change: a current code (TOTP or
// an unused recovery code), the account password, or the session's recent authentication.
type MFAProof struct {
	Code     string
	Password string
	// FromSession, with neither Code nor Password, takes the session in the operation's
	// context as the proof when it is logged in as the user and its last authentication
	// is recent (Service.SessionRecentlyAuthenticatedAs,
	// SessionConfig.ReauthenticationTimeout): allauth's rule for its headless routes,
	// which ask for a reauthentication beforehand instead of a proof with the request. A
	// session that is not recent, or not the user's (a request authenticated by a bearer
	// token), gives a *PermissionError matching ErrReauthenticationRequired.
	FromSession bool
}

// DeactivateTOTP removes the user's TOTP device and recovery codes after checking proof
// (see reauthenticated for its limits and events), emitting AuditMFADeactivated. It is
// refused while Config.MFA.Required holds, unless a WebAuthn credential stays.
func (s *Service) DeactivateTOTP(ctx context.Context, u *User, proof MFAProof) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "DeactivateTOTP")
	defer opSpan.end(&opErr)
	return s.reauthenticated(ctx, u, proof, func() error { return s.deactivateTOTP(ctx, u, proof) })
}

func (s *Service) deactivateTOTP(ctx context.Context, u *User, proof MFAProof) error {
	if s.cfg.MFA.Required {
		// Allowed only while another authenticator (a WebAuthn credential) stays.
		if keys, err := s.webauthnCount(ctx, u.ID); err != nil || keys == 0 {
			if err != nil {
				return err
			}
			return &PermissionError{Detail: msgMFACannotBeDeactivated}
		}
	}
	d, err := s.activeTOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	if d == nil {
		return totpNotActive()
	}
	if err := s.checkMFAProof(ctx, u, d, proof); err != nil {
		return err
	}
	if err := s.keepRecoveryCodes(ctx, u.ID, func() error { return s.store.DeleteTOTPDevice(ctx, u.ID) }); err != nil {
		return err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditMFADeactivated, Method: AuditMethodTOTP, Detail: "method=" + AuditMethodTOTP})
	s.notify(ctx, MailTOTPDeactivated, u, MailData{})
	return nil
}

// ResetMFA removes a user's TOTP device, WebAuthn credentials and recovery codes without any proof: for an
// administrator helping a user who lost both their device and their codes (after checking
// who they are), or after Config.Secret changed and sealed secrets no longer open. The
// user can then log in with the password alone (unless MFA.Required) and enrol again. It
// also clears the user's daily caps on failed logins and codes (RateLimits
// LoginFailedPerAccountDaily, MFAFailedPerUser), which a guesser may have used up.
func (s *Service) ResetMFA(ctx context.Context, userID int64) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ResetMFA")
	defer opSpan.end(&opErr)
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	emails, err := s.emailList(ctx, userID)
	if err != nil {
		return err
	}
	s.clearUserCaps(ctx, u, emails)
	d, err := s.activeTOTP(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTOTPDevice(ctx, userID); err != nil {
		return err
	}
	if d != nil {
		s.notify(ctx, MailTOTPDeactivated, u, MailData{})
	}
	if keys, err := s.deleteAllWebAuthn(ctx, u); err != nil {
		return err
	} else if keys {
		s.notify(ctx, MailWebAuthnRemoved, u, MailData{})
	}
	return nil
}

// checkMFAProof verifies a re-authentication; a code is consumed like at login. d is the
// user's TOTP device, nil when their second factors are WebAuthn credentials only (a
// recovery code or the password then).
func (s *Service) checkMFAProof(ctx context.Context, u *User, d *TOTPDevice, proof MFAProof) error {
	switch {
	case proof.Code != "":
		ok, _, err := s.useSecondFactor(ctx, u.ID, d, proof.Code)
		if err != nil {
			return err
		}
		if !ok {
			return incorrectCode("code")
		}
		return nil
	case proof.Password != "":
		ok, _, err := s.passwordMatches(ctx, u, proof.Password)
		if err != nil {
			return err
		}
		if !ok {
			return codedFieldError(nil, "password", "incorrect_password", msgIncorrectPassword)
		}
		return nil
	case proof.FromSession:
		if !s.SessionRecentlyAuthenticatedAs(ctx, u) {
			return reauthenticationRequired()
		}
		return nil
	}
	return fieldError(nonFieldErrors, msgReauthenticate)
}

// reauthenticationRequired refuses an operation whose session is not recently authenticated.
func reauthenticationRequired() error {
	return &PermissionError{Detail: msgReauthenticate, cause: ErrReauthenticationRequired}
}
