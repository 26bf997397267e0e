package restauth

// SocialReason is the machine-readable reason a social flow failed. The reasons come from
// a fixed list, so a dialect may put one in a URL (the 291 dialect's error redirect carries
// it as sso_error): nothing the provider or the browser sent ever becomes a reason.
type SocialReason string

// The reasons BeginSocialFlow and FinishSocialFlow fail with, in a *SocialError.
const (
	// SocialReasonSSODisabled: Config.Social.Enabled is off.
	SocialReasonSSODisabled SocialReason = "sso_disabled"
	// SocialReasonLoginRequired: a connect flow without (or no longer with) the user's
	// own login session.
	SocialReasonLoginRequired SocialReason = "login_required"
	// SocialReasonCrossSiteRequest: another site sent the browser to start the flow.
	SocialReasonCrossSiteRequest SocialReason = "cross_site_request"
	// SocialReasonProviderUnavailable: the provider's discovery document could not be read.
	SocialReasonProviderUnavailable SocialReason = "provider_unavailable"
	// SocialReasonStateMissing: the callback carries no state.
	SocialReasonStateMissing SocialReason = "state_missing"
	// SocialReasonStateMismatch: the callback's state is not one this browser's flow
	// cookie holds (another browser, a forged or tampered state or cookie).
	SocialReasonStateMismatch SocialReason = "state_mismatch"
	// SocialReasonFlowExpired: the callback came after the flow's 10 minutes.
	SocialReasonFlowExpired SocialReason = "flow_expired"
	// SocialReasonFlowReplayed: the flow's callback was already used.
	SocialReasonFlowReplayed SocialReason = "flow_replayed"
	// SocialReasonAccessDenied: the user declined at the provider.
	SocialReasonAccessDenied SocialReason = "access_denied"
	// SocialReasonProviderError: the provider answered with another error.
	SocialReasonProviderError SocialReason = "provider_error"
	// SocialReasonCodeMissing: the callback carries neither a code nor an error.
	SocialReasonCodeMissing SocialReason = "code_missing"
	// SocialReasonExchangeFailed: the provider refused the code.
	SocialReasonExchangeFailed SocialReason = "exchange_failed"
	// SocialReasonInvalidIDToken: the OpenID Connect ID token failed verification.
	SocialReasonInvalidIDToken SocialReason = "invalid_id_token"
	// SocialReasonNonceMismatch: the ID token was not issued for this flow.
	SocialReasonNonceMismatch SocialReason = "nonce_mismatch"
	// SocialReasonProfileFailed: the provider's profile could not be read or has no
	// usable account id.
	SocialReasonProfileFailed SocialReason = "profile_failed"
	// SocialReasonRegistrationClosed: the provider account is unknown and
	// Config.Social.Registration is off.
	SocialReasonRegistrationClosed SocialReason = "registration_closed"
	// SocialReasonEmailInUse: a user holds the provider's address, and the account may
	// not be linked to them by it (see Config.Social.LinkByVerifiedEmail).
	SocialReasonEmailInUse SocialReason = "email_in_use"
	// SocialReasonAccountInUse: the provider account is linked to another user.
	SocialReasonAccountInUse SocialReason = "account_in_use"
	// SocialReasonInactive: the user is not active.
	SocialReasonInactive SocialReason = "inactive"
	// SocialReasonEmailNotVerified: Config.EmailVerification is mandatory and the user
	// has no verified primary address.
	SocialReasonEmailNotVerified SocialReason = "email_not_verified"
	// SocialReasonMFARequired: the user has a second factor (or every user must), which
	// only a password login asks for.
	SocialReasonMFARequired SocialReason = "mfa_required"
	// SocialReasonServerError: a store or other internal failure.
	SocialReasonServerError SocialReason = "server_error"
)

// SocialError is a failed social flow; match it with errors.As. Reason is what a dialect
// shows; Err, when set, is the cause, which the operation has already logged and no
// dialect may show (it can hold what the provider answered).
//
// It does not unwrap to Err on purpose: a flow failure is one decision, and a cause such as
// a store's ErrNotFound must not make it look like an unknown provider to a dialect.
type SocialError struct {
	Reason SocialReason
	Err    error
}

// Error names the reason and the cause, for logs.
func (e *SocialError) Error() string {
	if e.Err != nil {
		return "restauth: social login failed: " + string(e.Reason) + ": " + e.Err.Error()
	}
	return "restauth: social login failed: " + string(e.Reason)
}

func socialFail(reason SocialReason, err error) *SocialError {
	return &SocialError{Reason: reason, Err: err}
}
