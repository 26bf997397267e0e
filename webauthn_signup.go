package restauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/restauth/restauth/internal/drf"
)

// This file holds passkey signup's core (allauth's auth/webauthn/signup): an account
// created with a passkey instead of a password, once its address is verified.

// VerifiedSignup is an account to create by passkey signup: a username and an address the
// person signing up has proven theirs by a code mailed to it, as allauth verifies it
// before the passkey is made. Only VerifyPasskeySignupCode makes one: Proof, a MAC under
// Config.Secret, binds the fields, so BeginPasskeySignup refuses one built from what a
// client sent (the account's address is stored verified). The dialect keeps it server
// side (the session) until the passkey is made.
type VerifiedSignup struct {
	Username string `json:"u"`
	Email    string `json:"e"`
	// Expires ends the verification: the signup must then start again.
	Expires time.Time `json:"x"`
	Proof   string    `json:"p"`
}

// BeginPasskeySignup starts creating the account su with a passkey: it checks the username
// and the address as registration does (free, valid), and returns the options for
// navigator.credentials.create (a resident key, user verification preferred) and the
// state to keep in the session for FinishPasskeySignup. It counts towards
// RateLimits.SignupPerIP. Errors: ErrWebAuthnDisabled, ErrPasskeyLoginDisabled,
// ErrPasskeySignupDisabled; ErrCodeExpired for a VerifiedSignup that expired or that
// VerifyPasskeySignupCode did not make; a *ValidationError matching ErrRegistrationClosed,
// ErrUsernameTaken or ErrEmailTaken; a *ThrottledError.
func (s *Service) BeginPasskeySignup(ctx context.Context, su VerifiedSignup) (json.RawMessage, WebAuthnState, error) {
	if err := s.passkeySignupEnabled(); err != nil {
		return nil, "", err
	}
	if err := s.checkVerifiedSignup(su); err != nil {
		return nil, "", err
	}
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.SignupPerIP); err != nil {
		return nil, "", err
	}
	if err := s.checkSignup(ctx, su); err != nil {
		return nil, "", err
	}
	// The account has no id before it exists, and a passkey's user handle is fixed when
	// it is made: a random one, kept with the credential (WebAuthnCredential.UserHandle).
	wu := &webauthnUser{handle: signupHandle(), name: su.Username, displayName: su.Username}
	return s.beginRegistration(wu, webauthnState{Kind: ceremonySignup, Passkey: true, Signup: &su}, true)
}

func (s *Service) passkeySignupEnabled() error {
	if err := s.passkeyLoginEnabled(); err != nil {
		return err
	}
	if !s.cfg.WebAuthn.PasskeySignup {
		return ErrPasskeySignupDisabled
	}
	return nil
}

// checkSignup applies registration's checks of a new account's username and address.
func (s *Service) checkSignup(ctx context.Context, su VerifiedSignup) error {
	if s.cfg.DisableRegistration {
		return causedFieldError(ErrRegistrationClosed, nonFieldErrors, msgRegistrationDisabled)
	}
	// checkNewAccount also checks a password; a passkey account has none, so the password
	// field is marked as checked already (an empty list), and dropped after.
	errs := ValidationError{Fields: map[string][]string{"password": {}}}
	if su.Email == "" {
		errs.add("email", drf.MsgRequired)
	}
	if err := s.checkNewAccount(ctx, &errs, su.Username, su.Email, "", "password"); err != nil {
		return err
	}
	delete(errs.Fields, "password")
	return errs.orNil()
}

// signupHandle is a new random user handle for an account that has no id yet (64 bytes,
// the most WebAuthn allows, so it cannot be taken for a decimal id).
func signupHandle() []byte {
	return []byte(rand.Text() + rand.Text())
}

// PasskeySignupResult is the account FinishPasskeySignup created.
type PasskeySignupResult struct {
	User       *User
	Credential *WebAuthnCredential
	// RecoveryCodes are the account's first recovery codes, shown once: the passkey is its
	// first authenticator.
	RecoveryCodes []string
}

// FinishPasskeySignup completes BeginPasskeySignup with the browser's attestation: it
// creates the account (no usable password, the address verified and primary) with the
// passkey named name, in one transaction when the store is a Transactor, and its first
// recovery codes; the dialect logs the user in as after a registration. It emits
// AuditMFAActivated ("method=webauthn … signup"). Errors: as BeginPasskeySignup (the
// username or address may have been taken meanwhile); ErrWebAuthnChallengeExpired; a
// *ValidationError for a blank or long name, or matching ErrWebAuthnRefused (also for a
// passkey made without user verification, which could never log in).
func (s *Service) FinishPasskeySignup(ctx context.Context, state WebAuthnState, name string, response []byte) (_ *PasskeySignupResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "FinishPasskeySignup")
	defer opSpan.end(&opErr)
	if err := s.passkeySignupEnabled(); err != nil {
		return nil, err
	}
	name, err := credentialName(name)
	if err != nil {
		return nil, err
	}
	st, err := s.openState(ctx, state, ceremonySignup)
	if err != nil {
		return nil, err
	}
	if st.Signup == nil {
		return nil, ErrWebAuthnChallengeExpired
	}
	su := *st.Signup
	wu := &webauthnUser{handle: st.Session.UserID, name: su.Username, displayName: su.Username}
	c, err := s.createCredential(wu, st, response, name, 0)
	if err != nil {
		return nil, err
	}
	if err := s.checkSignup(ctx, su); err != nil {
		return nil, err
	}
	u := &User{Username: su.Username, PasswordHash: unusablePassword(), IsActive: true, DateJoined: s.now().UTC()}
	err = s.inTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.CreateUser(ctx, u, &EmailAddress{Email: su.Email, Primary: true, Verified: true}); err != nil {
			return err
		}
		c.UserID = u.ID
		return tx.CreateWebAuthnCredential(ctx, c)
	})
	if err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) && conflict.Field != "webauthn" {
			return nil, s.checkSignup(ctx, su) // taken meanwhile: the field's error
		}
		return nil, credentialConflict(err)
	}
	codes, err := s.newRecoveryCodes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditSignedUp, Method: AuditMethodPasskey, Detail: "method=" + AuditMethodPasskey})
	s.audit(ctx, u, AuditEvent{Kind: AuditMFAActivated, Method: AuditMethodWebAuthn, Detail: "method=webauthn id=" + strconv.FormatInt(c.ID, 10) + " signup"})
	return &PasskeySignupResult{User: u, Credential: c, RecoveryCodes: codes}, nil
}

// unusablePassword is Django's make_password(None): "!" and random characters, a hash no
// password matches (User.HasUsablePassword).
func unusablePassword() string { return "!" + rand.Text() }
