package restauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// This file holds the WebAuthn assertion ceremonies: a credential as the second step of a
// password login (allauth's auth/webauthn/authenticate), a passkey logging in alone
// (auth/webauthn/login) and a credential confirming the user before a sensitive change
// (auth/webauthn/reauthenticate).

// mfaWebAuthn is the second factor of a login answered with a WebAuthn credential.
const mfaWebAuthn mfaMethod = "webauthn"

// errNoCredential: the user has no WebAuthn credential to assert.
func errNoCredential() error { return refusedCredential() }

// BeginWebAuthnSecondFactor starts the second step of a pending login (LoginResult.Pending)
// with one of the user's WebAuthn credentials: it returns the options for the browser's
// navigator.credentials.get ({"publicKey": PublicKeyCredentialRequestOptions}, JSON) and
// the state to keep in the session for CompleteLoginWithWebAuthn. Errors:
// ErrWebAuthnDisabled; ErrLoginExpired; a *ValidationError matching ErrWebAuthnRefused when
// the user has no credential.
func (s *Service) BeginWebAuthnSecondFactor(ctx context.Context, p PendingLogin) (json.RawMessage, WebAuthnState, error) {
	if err := s.webauthnEnabled(); err != nil {
		return nil, "", err
	}
	u, err := s.pendingUser(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return s.beginUserAssertion(ctx, u, webauthnState{Kind: ceremonySecondFactor, UserID: u.ID, AuthHash: p.AuthHash})
}

// CompleteLoginWithWebAuthn is CompleteLogin with a WebAuthn assertion (response: the
// browser's PublicKeyCredential as JSON) for the state of BeginWebAuthnSecondFactor in
// place of a code: the same limits (the login's and the second factor's, and
// RateLimits.WebAuthnFailedPerIP), the same events (AuditLoginSucceeded with
// "method=password+webauthn"), no token. Errors: ErrWebAuthnDisabled; ErrLoginExpired;
// ErrWebAuthnChallengeExpired; a *ThrottledError; a *ValidationError matching
// ErrWebAuthnRefused and ErrInvalidMFACode (and ErrWebAuthnCloned for a counter that went
// back), or ErrEmailNotVerified.
func (s *Service) CompleteLoginWithWebAuthn(ctx context.Context, p PendingLogin, state WebAuthnState, response []byte) (_ *LoginResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "CompleteLoginWithWebAuthn")
	defer opSpan.end(&opErr)
	if err := s.webauthnEnabled(); err != nil {
		return nil, err
	}
	return s.completeLogin(ctx, p, func(u *User) (mfaMethod, error) {
		err := s.userAssertion(ctx, u, state, ceremonySecondFactor, response, func(st *webauthnState) bool {
			return st.AuthHash == p.AuthHash
		})
		if err != nil {
			return mfaNone, err
		}
		return mfaWebAuthn, nil
	})
}

// BeginWebAuthnReauthentication starts confirming u, who is logged in, with one of their
// WebAuthn credentials before a sensitive change (allauth's reauthentication). Errors as
// BeginWebAuthnSecondFactor.
func (s *Service) BeginWebAuthnReauthentication(ctx context.Context, u *User) (json.RawMessage, WebAuthnState, error) {
	if err := s.webauthnEnabled(); err != nil {
		return nil, "", err
	}
	return s.beginUserAssertion(ctx, u, webauthnState{Kind: ceremonyReauth, UserID: u.ID})
}

// FinishWebAuthnReauthentication checks the assertion for the state of
// BeginWebAuthnReauthentication; nil means u has just proven themselves, which the dialect
// records (allauth's reauthentication timestamp). Failures count as second-factor
// attempts and emit AuditLoginFailed ("method=reauthentication"). Errors:
// ErrWebAuthnDisabled; ErrWebAuthnChallengeExpired; a *ThrottledError; a *ValidationError
// matching ErrWebAuthnRefused.
func (s *Service) FinishWebAuthnReauthentication(ctx context.Context, u *User, state WebAuthnState, response []byte) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "FinishWebAuthnReauthentication")
	defer opSpan.end(&opErr)
	if err := s.webauthnEnabled(); err != nil {
		return err
	}
	err := s.userAssertion(ctx, u, state, ceremonyReauth, response, nil)
	if errors.Is(err, ErrWebAuthnRefused) && !errors.Is(err, ErrWebAuthnCloned) { // recordUse audited a clone
		s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidWebAuthnCredential, Detail: "method=reauthentication"})
	}
	return err
}

// beginUserAssertion starts an assertion by one of u's credentials, sealing st with it.
func (s *Service) beginUserAssertion(ctx context.Context, u *User, st webauthnState) (json.RawMessage, WebAuthnState, error) {
	wu, _, err := s.webauthnUserOf(ctx, u)
	if err != nil {
		return nil, "", err
	}
	if len(wu.creds) == 0 {
		return nil, "", errNoCredential()
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	assertion, session, err := rp.BeginLogin(wu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, "", err
	}
	return s.sealAssertion(st, assertion, session)
}

func (s *Service) sealAssertion(st webauthnState, assertion *protocol.CredentialAssertion, session *webauthn.SessionData) (json.RawMessage, WebAuthnState, error) {
	st.Session = *session
	state, err := s.sealState(st)
	if err != nil {
		return nil, "", err
	}
	options, err := optionsJSON(assertion)
	return options, state, err
}

// userAssertion checks an assertion by one of u's credentials for a state of kind (and
// bound, when match is given, as match says), counting it as a second-factor attempt of
// u and a WebAuthn attempt of the client's address before anything is checked; a success
// gives both back.
func (s *Service) userAssertion(ctx context.Context, u *User, state WebAuthnState, kind ceremony, response []byte, match func(*webauthnState) bool) error {
	if err := s.countAssertion(ctx); err != nil {
		return err
	}
	if err := s.countMFAAttempt(ctx, u.ID); err != nil {
		return err
	}
	st, err := s.openState(ctx, state, kind)
	if err != nil {
		return err
	}
	if st.UserID != u.ID || (match != nil && !match(st)) {
		return ErrWebAuthnChallengeExpired
	}
	wu, stored, err := s.webauthnUserOf(ctx, u)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return refusedCredential(ErrInvalidMFACode)
	}
	rp, err := s.relyingParty()
	if err != nil {
		return err
	}
	got, err := rp.ValidateLogin(wu, st.Session, parsed)
	if err != nil {
		return refusedCredential(ErrInvalidMFACode)
	}
	c := userCredential(stored, got.ID)
	if c == nil {
		return refusedCredential(ErrInvalidMFACode)
	}
	if err := s.recordUse(ctx, kind, u, c, got); err != nil {
		return withCause(err, ErrInvalidMFACode)
	}
	s.mfaSucceeded(ctx, u.ID)
	s.assertionSucceeded(ctx)
	return nil
}

// withCause adds cause to a *ValidationError err (returned as is otherwise).
func withCause(err, cause error) error {
	var verr *ValidationError
	if errors.As(err, &verr) {
		verr.causes = append(verr.causes, cause)
	}
	return err
}

// countAssertion counts one WebAuthn assertion of the client's address
// (RateLimits.WebAuthnFailedPerIP); assertionSucceeded gives it back.
func (s *Service) countAssertion(ctx context.Context) error {
	return s.throttleAddr(ctx, s.cfg.RateLimits.WebAuthnFailedPerIP)
}

func (s *Service) assertionSucceeded(ctx context.Context) {
	if key, ok := addrKey(ctx); ok {
		s.refundRate(ctx, s.cfg.RateLimits.WebAuthnFailedPerIP, key)
	}
}

// BeginPasskeyLogin starts a passkey login: a discoverable credential names its user, so
// no username is asked. It returns the options for navigator.credentials.get (no allowed
// credentials: the browser offers the site's passkeys) and the state to keep in the
// session for FinishPasskeyLogin. Errors: ErrWebAuthnDisabled, ErrPasskeyLoginDisabled.
func (s *Service) BeginPasskeyLogin(ctx context.Context) (json.RawMessage, WebAuthnState, error) {
	if err := s.passkeyLoginEnabled(); err != nil {
		return nil, "", err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, "", err
	}
	requireUserVerification(session)
	return s.sealAssertion(webauthnState{Kind: ceremonyPasskeyLogin}, assertion, session)
}

func (s *Service) passkeyLoginEnabled() error {
	if err := s.webauthnEnabled(); err != nil {
		return err
	}
	if !s.cfg.WebAuthn.PasskeyLogin {
		return ErrPasskeyLoginDisabled
	}
	return nil
}

// FinishPasskeyLogin completes BeginPasskeyLogin with the browser's assertion and logs the
// credential's user in without issuing a token (the session is the login; a dialect
// issues its own token). The credential names the user; an assertion whose user handle is
// another user's, by a credential of another relying party or origin, replayed, with a
// counter that went back, or without user verification (the UV flag) is refused. A passkey
// login is a login with a second factor (the key and the authenticator's own check of its
// user), so MFA is satisfied. Attempts count towards
// RateLimits.WebAuthnFailedPerIP (successes are given back); it emits AuditLoginSucceeded
// ("method=passkey") or AuditLoginFailed. Errors: ErrWebAuthnDisabled,
// ErrPasskeyLoginDisabled, ErrWebAuthnChallengeExpired, a *ThrottledError, a
// *ValidationError matching ErrWebAuthnRefused (ErrWebAuthnCloned) or ErrEmailNotVerified.
func (s *Service) FinishPasskeyLogin(ctx context.Context, state WebAuthnState, response []byte) (_ *LoginResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "FinishPasskeyLogin")
	defer opSpan.end(&opErr)
	if err := s.passkeyLoginEnabled(); err != nil {
		return nil, err
	}
	if err := s.countAssertion(ctx); err != nil {
		return nil, err
	}
	st, err := s.openState(ctx, state, ceremonyPasskeyLogin)
	if err != nil {
		return nil, err
	}
	u, err := s.passkeyAssertion(ctx, st, response)
	if err == nil {
		if err = s.checkVerified(ctx, u); errors.Is(err, errUnverified) {
			err = causedFieldError(ErrEmailNotVerified, nonFieldErrors, msgEmailNotVerified)
		}
	}
	if err == nil {
		now := s.now().UTC()
		u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now})
	}
	if err != nil {
		reason := loginFailure(err)
		if errors.Is(err, ErrWebAuthnRefused) {
			reason = AuditReasonInvalidWebAuthnCredential
		}
		if reason != "" && !errors.Is(err, ErrWebAuthnCloned) { // recordUse audited a clone
			s.auditLoginFailed(ctx, u, "", AuditEvent{Method: AuditMethodPasskey, Reason: reason, Detail: "method=" + AuditMethodPasskey})
		}
		return nil, err
	}
	s.assertionSucceeded(ctx)
	s.mfaSucceeded(ctx, u.ID)
	s.audit(ctx, u, AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodPasskey, Detail: "method=" + AuditMethodPasskey})
	return &LoginResult{User: u, MFAMethod: string(mfaWebAuthn)}, nil
}

// passkeyAssertion checks a discoverable assertion: the credential id names the stored
// credential and so its user, whose handle the assertion's user handle must be. It
// returns that user when the assertion is good, with the error otherwise (and the user
// when known, for the audit trail).
func (s *Service) passkeyAssertion(ctx context.Context, st *webauthnState, response []byte) (*User, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, refusedCredential()
	}
	var (
		owner  *User
		stored []WebAuthnCredential
		lookup error
	)
	handler := func(rawID, handle []byte) (webauthn.User, error) {
		c, err := s.store.WebAuthnCredentialByCredentialID(ctx, rawID)
		if err != nil {
			lookup = err
			return nil, err
		}
		u, err := s.store.UserByID(ctx, c.UserID)
		if err != nil {
			lookup = err
			return nil, err
		}
		owner = u
		if !bytes.Equal(handle, credentialHandle(c)) {
			return nil, errors.New("user handle of another user")
		}
		wu, keys, err := s.webauthnUserOf(ctx, u)
		if err != nil {
			lookup = err
			return nil, err
		}
		// The library compares the handle with the user's: the credential's is the one.
		wu.handle, stored = credentialHandle(c), keys
		return wu, nil
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	_, got, err := rp.ValidatePasskeyLogin(handler, st.Session, parsed)
	if lookup != nil && !errors.Is(lookup, ErrNotFound) {
		return owner, lookup // a store failure is not a refusal
	}
	if err != nil || owner == nil || !owner.IsActive {
		return owner, refusedCredential()
	}
	c := userCredential(stored, got.ID)
	if c == nil || !s.cfg.WebAuthn.Enabled {
		return owner, refusedCredential()
	}
	if err := s.recordUse(ctx, ceremonyPasskeyLogin, owner, c, got); err != nil {
		return owner, err
	}
	return owner, nil
}
