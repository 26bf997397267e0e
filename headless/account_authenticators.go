package headless

import (
	"errors"
	"net/http"
	"time"

	"github.com/restauth/restauth"
)

// This file serves account/authenticators and its TOTP and recovery-code routes through
// TOTPStatus, ActivateTOTP, DeactivateTOTP, RecoveryCodesStatus and
// RegenerateRecoveryCodes. The sensitive ones ask for a recent authentication as allauth
// does (401 with the reauthenticate flows): the deactivation and the regeneration take the
// session as their proof (MFAProof.FromSession, the operation's rule); the activation and
// the codes' status ask SessionRecentlyAuthenticatedAs first (the session, logged in as
// the caller: a bearer token's user borrows no other session's records). They answer 404
// while MFA is off, as allauth's routes do without its mfa app.

// timestamp is allauth's nullable Timestamp: nil (JSON null) for a zero time.
func timestamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return epochSeconds(t)
}

// epochSeconds is allauth's Timestamp: Unix seconds, with fractions.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// totpData is allauth's TOTPAuthenticator of an active device.
func totpData(st *restauth.TOTPStatus) map[string]any {
	return map[string]any{"type": "totp", "created_at": timestamp(st.Created), "last_used_at": timestamp(st.LastUsed)}
}

// recoveryData is allauth's RecoveryCodesAuthenticator; the codes are set up with the TOTP
// device, whose creation time they carry.
func recoveryData(st restauth.RecoveryCodesStatus, created time.Time) map[string]any {
	return map[string]any{
		"type": "recovery_codes", "created_at": timestamp(created), "last_used_at": timestamp(st.LastUsed),
		"total_code_count": st.Total, "unused_code_count": st.Remaining,
	}
}

// activeTOTP returns the user's TOTP status when it is active, nil otherwise, without
// starting a pending secret (TOTPStatus does for an inactive user).
func (c *call) activeTOTP() (*restauth.TOTPStatus, error) {
	types, err := c.svc().MFATypes(c.ctx, c.user)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		if t == "totp" {
			return c.svc().TOTPStatus(c.ctx, c.user)
		}
	}
	return nil, nil
}

// mfaGate answers a request that the authenticator routes cannot serve: 404 while MFA is
// off, 401 for an anonymous session; nil otherwise.
func (c *call) mfaGate() *answer {
	if !c.svc().Features().MFAEnabled {
		return statusOnly(http.StatusNotFound)
	}
	if c.user == nil {
		return c.authAnswer(nil)
	}
	return nil
}

// mfaFail answers an MFA operation's error: a session that is not recent asks for a
// reauthentication (401).
func (c *call) mfaFail(err error) *answer {
	if errors.Is(err, restauth.ErrReauthenticationRequired) {
		return c.reauthRequired(c.user)
	}
	return c.fail(err)
}

// authenticators is GET account/authenticators: the TOTP device and the recovery codes.
func (h *handler) authenticators(c *call) *answer {
	if a := c.mfaGate(); a != nil {
		return a
	}
	out := []map[string]any{}
	st, err := c.activeTOTP()
	if err != nil {
		return c.fail(err)
	}
	if st != nil {
		out = append(out, totpData(st))
		rc, err := c.svc().RecoveryCodesStatus(c.ctx, c.user.ID)
		if err != nil {
			return c.fail(err)
		}
		if rc.Total > 0 {
			out = append(out, recoveryData(rc, st.Created))
		}
	}
	if out, err = c.appendWebAuthnAuthenticators(out, st != nil); err != nil {
		return c.fail(err)
	}
	return ok(out)
}

// totpGet is GET account/authenticators/totp: the active device, or 404 with a new
// pending secret in meta (secret, totp_url) to activate, as allauth answers.
func (h *handler) totpGet(c *call) *answer {
	if a := c.mfaGate(); a != nil {
		return a
	}
	st, err := c.svc().TOTPStatus(c.ctx, c.user)
	if err != nil {
		return c.fail(err)
	}
	if !st.Active {
		return &answer{status: http.StatusNotFound, meta: map[string]any{"secret": st.Secret, "totp_url": st.URL}}
	}
	return ok(totpData(st))
}

// totpActivate is POST account/authenticators/totp: the pending secret activated with a
// code from the app; recovery codes are generated with it.
func (h *handler) totpActivate(c *call) *answer {
	if a := c.mfaGate(); a != nil {
		return a
	}
	if !c.svc().SessionRecentlyAuthenticatedAs(c.ctx, c.user) {
		return c.reauthRequired(c.user)
	}
	var in codeInput
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Code == "" {
		return badRequest(required("code"))
	}
	if _, err := c.svc().ActivateTOTP(c.ctx, c.user, in.Code); err != nil {
		return c.mfaFail(err)
	}
	st, err := c.svc().TOTPStatus(c.ctx, c.user)
	if err != nil {
		return c.fail(err)
	}
	a := ok(totpData(st))
	a.meta = map[string]any{"recovery_codes_generated": true}
	return a
}

// isTOTPNotActive reports the operations' refusal of a change to a TOTP device the user
// does not have.
func isTOTPNotActive(err error) bool {
	var verr *restauth.ValidationError
	return errors.As(err, &verr) && verr.Code("non_field_errors", 0) == "totp_not_active"
}

// totpDeactivate is DELETE account/authenticators/totp: the device and the recovery codes
// removed, the session's recent authentication the proof. Without a device: 200.
func (h *handler) totpDeactivate(c *call) *answer {
	if a := c.mfaGate(); a != nil {
		return a
	}
	err := c.svc().DeactivateTOTP(c.ctx, c.user, restauth.MFAProof{FromSession: true})
	if err != nil && !isTOTPNotActive(err) {
		return c.mfaFail(err)
	}
	return statusOnly(http.StatusOK)
}

// recoveryCodesGet is GET account/authenticators/recovery-codes: the codes' counts; 404
// without codes. restauth keeps only a keyed hash of each code, so unused_codes is empty:
// the codes are shown once, by POST.
func (h *handler) recoveryCodesGet(c *call) *answer {
	if a := c.mfaGate(); a != nil {
		return a
	}
	if !c.svc().SessionRecentlyAuthenticatedAs(c.ctx, c.user) {
		return c.reauthRequired(c.user)
	}
	st, err := c.activeTOTP()
	if err != nil {
		return c.fail(err)
	}
	if st == nil {
		return statusOnly(http.StatusNotFound)
	}
	rc, err := c.svc().RecoveryCodesStatus(c.ctx, c.user.ID)
	if err != nil {
		return c.fail(err)
	}
	if rc.Total == 0 {
		return statusOnly(http.StatusNotFound)
	}
	d := recoveryData(rc, st.Created)
	d["unused_codes"] = []string{}
	return ok(d)
}

// recoveryCodesRegenerate is POST account/authenticators/recovery-codes: every code
// replaced by new ones, shown in unused_codes this once.
func (h *handler) recoveryCodesRegenerate(c *call) *answer {
	if a := c.mfaGate(); a != nil {
		return a
	}
	codes, err := c.svc().RegenerateRecoveryCodes(c.ctx, c.user, restauth.MFAProof{FromSession: true})
	if isTOTPNotActive(err) {
		return badRequest(apiError{Code: "cannot_generate_recovery_codes", Message: "You cannot generate recovery codes without having two-factor authentication enabled."})
	}
	if err != nil {
		return c.mfaFail(err)
	}
	st, err := c.svc().TOTPStatus(c.ctx, c.user)
	if err != nil {
		return c.fail(err)
	}
	d := recoveryData(restauth.RecoveryCodesStatus{Total: len(codes), Remaining: len(codes)}, st.Created)
	d["unused_codes"] = codes
	return ok(d)
}
