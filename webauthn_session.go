package restauth

import "context"

// ReauthenticateSessionWithWebAuthn is ReauthenticateSession with a WebAuthn assertion:
// it checks response for the state of BeginWebAuthnReauthentication
// (FinishWebAuthnReauthentication, with its limits and events) and, when it holds, adds
// a reauthentication record ("mfa", type "webauthn") to the session in ctx. Errors are
// FinishWebAuthnReauthentication's.
func (s *Service) ReauthenticateSessionWithWebAuthn(ctx context.Context, u *User, state WebAuthnState, response []byte) (_ AuthRecord, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ReauthenticateSessionWithWebAuthn")
	defer opSpan.end(&opErr)
	if err := s.FinishWebAuthnReauthentication(ctx, u, state, response); err != nil {
		return AuthRecord{}, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditReauthenticated, Method: AuditMethodWebAuthn, Detail: "method=" + AuditMethodWebAuthn})
	rec := s.NewAuthRecord("mfa")
	rec.Type, rec.Reauthenticated = mfaRecordType(mfaWebAuthn), true
	return rec, s.putAuthRecords(ctx, append(s.SessionAuthRecords(ctx), rec))
}

// mayChangeWebAuthn is the rule of every change to u's WebAuthn credentials: WebAuthn is
// on, and (allauth's reauthentication_required on its webauthn views) the session in ctx is
// logged in as u and its last authentication recent (SessionRecentlyAuthenticatedAs). A ctx
// that carries no session (a host calling the operation outside a request) is not recent
// either. The refusal is ErrWebAuthnDisabled, or a *PermissionError matching
// ErrReauthenticationRequired, which the dialects answer with their reauthentication flow.
func (s *Service) mayChangeWebAuthn(ctx context.Context, u *User) error {
	if err := s.webauthnEnabled(); err != nil {
		return err
	}
	if !s.SessionRecentlyAuthenticatedAs(ctx, u) {
		return reauthenticationRequired()
	}
	return nil
}
