package restauth

import "context"

// ReauthenticateSessionWithWebAuthn is ReauthenticateSession with a WebAuthn assertion:
// it checks response for the state of BeginWebAuthnReauthentication
// (FinishWebAuthnReauthentication, with its limits and events) and, when it holds, adds
// a reauthentication record ("mfa", type "webauthn") to the session in ctx. Errors are
// FinishWebAuthnReauthentication's.
func (s *Service) ReauthenticateSessionWithWebAuthn(ctx context.Context, u *User, state WebAuthnState, response []byte) (AuthRecord, error) {
	if err := s.FinishWebAuthnReauthentication(ctx, u, state, response); err != nil {
		return AuthRecord{}, err
	}
	s.audit(ctx, AuditReauthenticated, u, "method="+string(mfaWebAuthn))
	rec := s.NewAuthRecord("mfa")
	rec.Type, rec.Reauthenticated = mfaRecordType(mfaWebAuthn), true
	return rec, s.putAuthRecords(ctx, append(s.SessionAuthRecords(ctx), rec))
}
