package restauth

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// This file holds the management of a user's WebAuthn credentials: adding one (a
// registration ceremony), listing, renaming and removing them (allauth's
// account/authenticators/webauthn routes).

// WebAuthnAdded is a credential FinishWebAuthnRegistration stored.
type WebAuthnAdded struct {
	Credential *WebAuthnCredential
	// RecoveryCodes are the user's first recovery codes, shown once, when this credential
	// is their first authenticator (as allauth generates them); nil otherwise.
	RecoveryCodes []string
}

// BeginWebAuthnRegistration starts adding a credential to u: it returns the options for
// the browser's navigator.credentials.create ({"publicKey": PublicKeyCredentialCreationOptions},
// JSON) and the state to keep in the session for FinishWebAuthnRegistration. With passkey
// set the credential is a passkey (a discoverable, resident credential, which can log in
// alone when Config.WebAuthn.PasskeyLogin is on); else a security key for the second step
// of a login. User verification is preferred; the user's credentials are excluded, so an
// authenticator is not registered twice. A user without a usable password may add only a
// passkey, and only while passkey login is on: a key that is a second step after a
// password they do not have would lock them out (their social logins are refused once
// they have a second factor). The session in ctx must be u's and recently authenticated
// (see mayChangeWebAuthn), as allauth asks. Errors: ErrWebAuthnDisabled, a
// *PermissionError matching ErrReauthenticationRequired, a *ValidationError.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, u *User, passkey bool) (json.RawMessage, WebAuthnState, error) {
	if err := s.mayChangeWebAuthn(ctx, u); err != nil {
		return nil, "", err
	}
	if !u.HasUsablePassword() && (!passkey || !s.cfg.WebAuthn.PasskeyLogin) {
		return nil, "", fieldError(nonFieldErrors, msgWebAuthnNeedsPasskey)
	}
	wu, _, err := s.webauthnUserOf(ctx, u)
	if err != nil {
		return nil, "", err
	}
	return s.beginRegistration(wu, webauthnState{Kind: ceremonyRegister, UserID: u.ID, Passkey: passkey}, passkey)
}

// beginRegistration runs the library's registration start for wu and seals st with it.
func (s *Service) beginRegistration(wu *webauthnUser, st webauthnState, passkey bool) (json.RawMessage, WebAuthnState, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	resident := protocol.ResidentKeyRequirementDiscouraged
	if passkey {
		resident = protocol.ResidentKeyRequirementRequired
	}
	exclude := webauthn.Credentials(wu.creds).CredentialDescriptors()
	creation, session, err := rp.BeginRegistration(wu,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: protocol.VerificationPreferred}),
		webauthn.WithResidentKeyRequirement(resident),
		webauthn.WithExclusions(exclude),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	)
	if err != nil {
		return nil, "", err
	}
	if st.Kind == ceremonySignup {
		// The passkey will be the account's only way in, and a passkey login needs user
		// verification: one made without it could never log in.
		requireUserVerification(session)
	}
	st.Session = *session
	state, err := s.sealState(st)
	if err != nil {
		return nil, "", err
	}
	options, err := optionsJSON(creation)
	return options, state, err
}

// FinishWebAuthnRegistration completes BeginWebAuthnRegistration with the browser's answer
// (response: the PublicKeyCredential as JSON) and stores the credential under name. The
// state is used up whatever the outcome. When the credential is the user's first
// authenticator (no TOTP, no other credential) they get their first recovery codes. It
// emits AuditMFAActivated ("method=webauthn") and mails MailWebAuthnAdded. Errors:
// ErrWebAuthnDisabled; ErrWebAuthnChallengeExpired; a *ValidationError for a blank or
// long name, or matching ErrWebAuthnRefused (a refused attestation, another origin or
// relying party, a credential registered already).
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, u *User, state WebAuthnState, name string, response []byte) (_ *WebAuthnAdded, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "FinishWebAuthnRegistration")
	defer opSpan.end(&opErr)
	if err := s.mayChangeWebAuthn(ctx, u); err != nil {
		return nil, err
	}
	name, err := credentialName(name)
	if err != nil {
		return nil, err
	}
	st, err := s.openState(ctx, state, ceremonyRegister)
	if err != nil {
		return nil, err
	}
	if st.UserID != u.ID {
		return nil, ErrWebAuthnChallengeExpired
	}
	wu, _, err := s.webauthnUserOf(ctx, u)
	if err != nil {
		return nil, err
	}
	c, err := s.createCredential(wu, st, response, name, u.ID)
	if err != nil {
		return nil, err
	}
	first, err := s.firstAuthenticator(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateWebAuthnCredential(ctx, c); err != nil {
		return nil, credentialConflict(err)
	}
	added := &WebAuthnAdded{Credential: c}
	if first {
		if added.RecoveryCodes, err = s.newRecoveryCodes(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditMFAActivated, Method: AuditMethodWebAuthn, Detail: "method=webauthn id=" + strconv.FormatInt(c.ID, 10)})
	s.notify(ctx, MailWebAuthnAdded, u, MailData{})
	return added, nil
}

// createCredential checks the browser's attestation against the state with the library
// and returns the credential as a record of userID (not stored yet).
func (s *Service) createCredential(wu *webauthnUser, st *webauthnState, response []byte, name string, userID int64) (*WebAuthnCredential, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refusedCredential()
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	cred, err := rp.CreateCredential(wu, st.Session, parsed)
	if err != nil {
		return nil, refusedCredential()
	}
	passkey := st.Passkey
	if rk := cred.Extensions.RK; rk != nil {
		passkey = *rk // what the authenticator reported (credProps) wins
	}
	return s.storedCredential(userID, wu.handle, cred, name, passkey), nil
}

// credentialConflict maps a store's refusal of a credential id registered already.
func credentialConflict(err error) error {
	var conflict *ConflictError
	if errors.As(err, &conflict) && conflict.Field == "webauthn" {
		e := causedFieldError(ErrWebAuthnRefused, "credential", msgWebAuthnRegistered)
		return e
	}
	return err
}

// firstAuthenticator reports whether the user has no authenticator yet (no active TOTP,
// no WebAuthn credential), so that a new one comes with recovery codes.
func (s *Service) firstAuthenticator(ctx context.Context, userID int64) (bool, error) {
	d, err := s.activeTOTP(ctx, userID)
	if err != nil || d != nil {
		return false, err
	}
	keys, err := s.store.WebAuthnCredentials(ctx, userID)
	return len(keys) == 0, err
}

// credentialName trims and checks a credential's name.
func credentialName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fieldError("name", msgWebAuthnNameRequired)
	case utf8.RuneCountInString(name) > maxWebAuthnCredentialName:
		return "", fieldError("name", "Ensure this field has no more than "+strconv.Itoa(maxWebAuthnCredentialName)+" characters.")
	}
	return name, nil
}

// ListWebAuthnCredentials returns the user's WebAuthn credentials, oldest first (an empty
// list while Config.WebAuthn is off).
func (s *Service) ListWebAuthnCredentials(ctx context.Context, userID int64) ([]WebAuthnCredential, error) {
	if !s.cfg.WebAuthn.Enabled {
		return []WebAuthnCredential{}, nil
	}
	return s.store.WebAuthnCredentials(ctx, userID)
}

// RenameWebAuthnCredential renames one of u's credentials (id is WebAuthnCredential.ID).
// The session in ctx must be u's and recently authenticated (mayChangeWebAuthn). Errors:
// ErrWebAuthnDisabled; a *PermissionError matching ErrReauthenticationRequired; ErrNotFound for an id that is not u's; a *ValidationError
// for a blank or long name.
func (s *Service) RenameWebAuthnCredential(ctx context.Context, u *User, id int64, name string) (_ *WebAuthnCredential, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RenameWebAuthnCredential")
	defer opSpan.end(&opErr)
	if err := s.mayChangeWebAuthn(ctx, u); err != nil {
		return nil, err
	}
	name, err := credentialName(name)
	if err != nil {
		return nil, err
	}
	c, err := s.ownCredential(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if err := s.store.RenameWebAuthnCredential(ctx, c.ID, name); err != nil {
		return nil, err
	}
	c.Name = name
	return c, nil
}

// ownCredential returns u's credential id, ErrNotFound when it is not u's.
func (s *Service) ownCredential(ctx context.Context, u *User, id int64) (*WebAuthnCredential, error) {
	keys, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for i := range keys {
		if keys[i].ID == id {
			return &keys[i], nil
		}
	}
	return nil, ErrNotFound
}

// RemoveWebAuthnCredentials removes the listed credentials of u (allauth's DELETE takes a
// list), all or none, following allauth's rules for the last authenticator: when no
// authenticator is left (no TOTP, no credential) the recovery codes go too; while
// Config.MFA.Required holds, the last authenticator cannot be removed; and a user without
// a usable password or social account cannot remove their last passkey, their only way
// to log in. Each removal emits AuditMFADeactivated ("method=webauthn") and the user is
// mailed MailWebAuthnRemoved once. The session in ctx must be u's and recently
// authenticated (mayChangeWebAuthn). Errors: ErrWebAuthnDisabled; a *PermissionError
// matching ErrReauthenticationRequired; ErrNotFound when an id is not u's;
// a *PermissionError (MFA required); a *ValidationError matching ErrLastLoginMethod.
func (s *Service) RemoveWebAuthnCredentials(ctx context.Context, u *User, ids []int64) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RemoveWebAuthnCredentials")
	defer opSpan.end(&opErr)
	if err := s.mayChangeWebAuthn(ctx, u); err != nil {
		return err
	}
	keys, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	var remove, left []WebAuthnCredential
	for _, k := range keys {
		if slices.Contains(ids, k.ID) {
			remove = append(remove, k)
		} else {
			left = append(left, k)
		}
	}
	if len(remove) == 0 || len(remove) != len(uniqueIDs(ids)) {
		return ErrNotFound
	}
	totp, err := s.activeTOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	last := totp == nil && len(left) == 0
	if last && s.cfg.MFA.Required {
		return &PermissionError{Detail: msgMFACannotBeDeactivated}
	}
	if err := s.checkPasskeyNotLast(ctx, u, remove, left); err != nil {
		return err
	}
	for _, k := range remove {
		if err := s.store.DeleteWebAuthnCredential(ctx, k.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		s.audit(ctx, u, AuditEvent{Kind: AuditMFADeactivated, Method: AuditMethodWebAuthn, Detail: "method=webauthn id=" + strconv.FormatInt(k.ID, 10)})
	}
	if last {
		// No authenticator left: the recovery codes go too (DeleteTOTPDevice removes them
		// with a device the user does not have).
		if err := s.store.DeleteTOTPDevice(ctx, u.ID); err != nil {
			return err
		}
	}
	s.notify(ctx, MailWebAuthnRemoved, u, MailData{})
	return nil
}

func uniqueIDs(ids []int64) []int64 {
	c := slices.Clone(ids)
	slices.Sort(c)
	return slices.Compact(c)
}

// checkPasskeyNotLast refuses to remove the last passkey of a user who logs in with
// nothing else (no usable password, no social account), as DisconnectSocialAccount
// refuses the last social account.
func (s *Service) checkPasskeyNotLast(ctx context.Context, u *User, remove, left []WebAuthnCredential) error {
	if u.HasUsablePassword() || !slices.ContainsFunc(remove, func(c WebAuthnCredential) bool { return c.Passkey }) ||
		slices.ContainsFunc(left, func(c WebAuthnCredential) bool { return c.Passkey }) {
		return nil
	}
	social, err := s.store.SocialAccounts(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(social) > 0 {
		return nil
	}
	return causedFieldError(ErrLastLoginMethod, nonFieldErrors, msgWebAuthnLastPasskey)
}
