package restauth

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/drf"
)

// nonFieldErrors is DRF's key for errors that belong to no single field.
const nonFieldErrors = drf.NonFieldErrors

// ValidationError holds DRF-style field errors: field name → messages. Errors that
// concern no single field are under "non_field_errors". The handler answers it with 400.
type ValidationError struct {
	Fields map[string][]string
	// Codes holds the machine codes of the messages, where the rule that refused has one:
	// Codes[field][i] names Fields[field][i] ("" for a message without one). They are
	// allauth's and Django's error codes ("password_too_short", "password_too_common",
	// "password_entirely_numeric", "password_too_similar", "email_taken",
	// "username_taken", "incorrect_code", ...), set where the rule lives, so a dialect that
	// shows codes (the headless one) never guesses them from a message. The 291 dialect
	// shows messages only. Read them with Code.
	Codes map[string][]string
	// causes are the sentinels the errors stand for (ErrEmailTaken, ...), so that callers
	// and dialects decide with errors.Is, never by reading a message.
	causes []error
}

// Error lists the fields and their messages, sorted by field.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("restauth: invalid input:")
	for _, k := range keys {
		b.WriteString(" " + k + ": " + strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// Unwrap exposes the sentinels the field errors stand for, such as ErrInvalidCredentials
// or ErrEmailTaken, to errors.Is.
func (e *ValidationError) Unwrap() []error { return e.causes }

// add appends a message to a field, creating the map on first use.
func (e *ValidationError) add(field string, msgs ...string) { e.drfFields().Add(field, msgs...) }

// drfFields is e's Fields as internal/drf records field messages in them.
func (e *ValidationError) drfFields() *drf.Errors { return (*drf.Errors)(&e.Fields) }

// addCoded appends a message with its machine code to a field.
func (e *ValidationError) addCoded(field, code, msg string) {
	e.add(field, msg)
	if e.Codes == nil {
		e.Codes = make(map[string][]string)
	}
	codes := e.Codes[field]
	for len(codes) < len(e.Fields[field])-1 {
		codes = append(codes, "") // earlier messages of the field without a code
	}
	e.Codes[field] = append(codes, code)
}

// Code returns the machine code of the i-th message of field (see Codes), "" when it has
// none.
func (e *ValidationError) Code(field string, i int) string {
	if codes := e.Codes[field]; i >= 0 && i < len(codes) {
		return codes[i]
	}
	return ""
}

// addCause appends a message to a field and records the sentinel it stands for; the
// messages carry the sentinel's machine code (causeCodes), if it has one.
func (e *ValidationError) addCause(cause error, field string, msgs ...string) {
	if code := causeCodes[cause]; code != "" {
		for _, m := range msgs {
			e.addCoded(field, code, m)
		}
	} else {
		e.add(field, msgs...)
	}
	e.causes = append(e.causes, cause)
}

// causeCodes are the machine codes (allauth's) of the refusals a sentinel stands for.
var causeCodes = map[error]string{
	ErrUsernameTaken:         "username_taken",
	ErrEmailTaken:            "email_taken",
	ErrInvalidMFACode:        "incorrect_code",
	ErrTooManyEmailAddresses: "max_email_addresses",
	ErrLastLoginMethod:       "no_password",
	ErrEmailNotVerified:      "unverified_email",
	ErrPasswordAlreadySet:    "password_set",
	// allauth has no code of its own for it; the address is somebody else's.
	ErrEmailVerifiedElsewhere: "email_taken",
}

// orNil returns e when it holds an error, else nil, so callers can collect errors and
// return them in one place.
func (e *ValidationError) orNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func fieldError(field string, msgs ...string) *ValidationError {
	e := &ValidationError{}
	e.add(field, msgs...)
	return e
}

// causedFieldError is fieldError standing for the sentinel cause.
func causedFieldError(cause error, field string, msgs ...string) *ValidationError {
	e := &ValidationError{}
	e.addCause(cause, field, msgs...)
	return e
}

// codedFieldError is a field error of one message with its machine code, standing for
// cause when it is not nil.
func codedFieldError(cause error, field, code, msg string) *ValidationError {
	e := &ValidationError{}
	e.addCoded(field, code, msg)
	if cause != nil {
		e.causes = append(e.causes, cause)
	}
	return e
}

// AuthError is a failed authentication: a credential was presented and is wrong. The
// handler answers 401 with {"detail": Detail} and a WWW-Authenticate challenge.
type AuthError struct {
	Detail string
	// Challenge is the WWW-Authenticate value: "Token", or `Basic realm="api"` for a bad
	// Basic header on login/ (the one route that authenticates by Basic alone).
	Challenge string
}

// Error names the failure for logs; clients see Detail.
func (e *AuthError) Error() string { return "restauth: authentication failed: " + e.Detail }

// PermissionError is answered with 403 {"detail": Detail}.
type PermissionError struct {
	Detail string
	cause  error
}

// Error names the refusal for logs; clients see Detail.
func (e *PermissionError) Error() string { return "restauth: permission denied: " + e.Detail }

// Unwrap exposes the sentinel the error stands for, such as ErrMFARequired.
func (e *PermissionError) Unwrap() error { return e.cause }

// ThrottledError is a refusal by a rate limit (errors.Is(err, ErrThrottled) holds). The
// 291 dialect answers it with 429 and Retry-After.
type ThrottledError struct {
	// RetryAfterSeconds is how long to wait before the next attempt can succeed, in whole
	// seconds rounded up (at least 1).
	RetryAfterSeconds int
	// Rule names the RateRule that refused (RateRule.Name).
	Rule string
}

// Error names the rule that refused, for logs.
func (e *ThrottledError) Error() string { return "restauth: throttled by " + e.Rule }

// Is makes every *ThrottledError match ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfter is RetryAfterSeconds as a duration.
func (e *ThrottledError) RetryAfter() time.Duration {
	return time.Duration(e.RetryAfterSeconds) * time.Second
}

var (
	// ErrInvalidCredentials is matched (errors.Is) by the *ValidationError a failed login returns.
	ErrInvalidCredentials = errors.New("restauth: invalid credentials")
	// ErrMFARequired is matched by the *PermissionError a login returns for a user who must
	// complete a second factor.
	ErrMFARequired = errors.New("restauth: MFA required")
	// ErrRegistrationClosed is matched by the *ValidationError Register returns when
	// registration is disabled.
	ErrRegistrationClosed = errors.New("restauth: registration is disabled")
	// ErrThrottled is matched by every *ThrottledError: a rate limit refused the operation.
	ErrThrottled = errors.New("restauth: throttled")
	// ErrEmailNotVerified is matched by the error a login (a *ValidationError) or a Basic
	// authentication (a *PermissionError) returns under mandatory verification for a user
	// whose primary address is not verified. The password was right.
	ErrEmailNotVerified = errors.New("restauth: e-mail address not verified")
	// ErrEmailTaken is matched by the *ValidationError of a registration or account
	// creation whose address another user holds verified.
	ErrEmailTaken = errors.New("restauth: e-mail address taken")
	// ErrUsernameTaken is matched by the *ValidationError of a registration, account
	// creation or profile update whose username another user holds.
	ErrUsernameTaken = errors.New("restauth: username taken")
	// ErrInvalidMFACode is matched (errors.Is) by the *ValidationError a login or an MFA
	// operation returns for a wrong, used or replayed second-factor code.
	ErrInvalidMFACode = errors.New("restauth: invalid MFA code")
	// ErrLastLoginMethod is matched by the *ValidationError DisconnectSocialAccount returns
	// when the account is the user's last way to log in.
	ErrLastLoginMethod = errors.New("restauth: last login method")
	// ErrPasswordResetDisabled is returned by RequestPasswordReset and
	// ConfirmPasswordReset when Config.DisablePasswordReset is set.
	ErrPasswordResetDisabled = errors.New("restauth: password reset is disabled")
	// ErrEmailVerifiedElsewhere is matched by the *ValidationError SetPrimaryEmail returns
	// for an unverified address another user holds verified: it cannot become the
	// caller's primary (and so User.Email) while it is that user's.
	ErrEmailVerifiedElsewhere = errors.New("restauth: e-mail address verified by another user")
	// ErrTooManyEmailAddresses is matched by the *ValidationError AddEmailAddress returns
	// when the user holds Config.MaxEmailAddresses addresses already.
	ErrTooManyEmailAddresses = errors.New("restauth: too many e-mail addresses")
	// ErrReauthenticationRequired is matched by the *PermissionError an operation returns
	// when its proof is the session's recent authentication (MFAProof.FromSession) and the
	// session's last authentication is not recent (Service.RecentlyAuthenticated): the
	// user must reauthenticate first (allauth's 401 with a pending "reauthenticate" flow).
	ErrReauthenticationRequired = errors.New("restauth: reauthentication required")
	// ErrPasswordAlreadySet is matched by the *ValidationError SetPassword returns for a
	// user who has a usable password (they change it with ChangePassword).
	ErrPasswordAlreadySet = errors.New("restauth: the user has a password")
	// ErrBusy is returned by the operations that hash or check a password (Login,
	// AuthenticatePassword, Register, ChangePassword, ConfirmPasswordReset, ...) when no
	// hashing slot could be had: PasswordConfig.MaxQueuedHashes callers were already
	// waiting, or the wait passed PasswordConfig.MaxHashWait. No password was checked and
	// nothing was stored; unknown users get it exactly as known ones do. The 291 dialect
	// answers it with 503 and Retry-After; a client should retry shortly.
	ErrBusy = errors.New("restauth: too busy, retry shortly")
	// ErrStoreTimeout is the cause of a request's context when Config.StoreTimeout passed
	// before the request's work was done (context.Cause tells it from the client's own
	// cancellation and from a deadline the host set); a store may also return it, wrapped,
	// when the database gave up on a statement for taking too long. The 291 dialect answers
	// 503 with Retry-After and logs it. A transaction the deadline cuts short is rolled
	// back; a store that cannot tell whether a commit it sent took effect returns another
	// error instead (pgstore.ErrCommitOutcomeUnknown), answered 500.
	ErrStoreTimeout = errors.New("restauth: the store did not answer in time")
	// ErrJWTInvalid is returned by AuthenticateJWT, RefreshJWT, IssueJWT and RevokeJWT for
	// a JSON Web Token that is malformed, tampered, signed by another key or algorithm,
	// expired, of the other use (a refresh token as access token), already exchanged
	// (rotated) or revoked, or whose user is gone, inactive or changed their password.
	ErrJWTInvalid = errors.New("restauth: invalid or expired token")
	// ErrCodeFlowDisabled is returned by the mailed-code operations (RequestLoginCode,
	// RequestPasswordResetCode, RequestEmailVerificationCode and their confirmations)
	// whose CodeConfig is not Enabled.
	ErrCodeFlowDisabled = errors.New("restauth: this code flow is disabled")
	// ErrCodeExpired is returned for a PendingCode that expired, whose attempts are used
	// up (CodeConfig.MaxAttempts) or whose code was used already: a new code must be asked
	// for (allauth then ends the flow).
	ErrCodeExpired = errors.New("restauth: the code expired")
	// ErrInvalidCode is matched by the *ValidationError (on "code", "Incorrect code.") of
	// a wrong mailed code; the attempt counts.
	ErrInvalidCode = errors.New("restauth: incorrect code")
	// ErrMFATrustDisabled is returned by IssueMFATrust unless Config.MFA.Enabled and
	// Config.MFA.TrustEnabled are set.
	ErrMFATrustDisabled = errors.New("restauth: MFA trust is disabled")

	// ErrWebAuthnDisabled is returned by the WebAuthn operations while
	// Config.WebAuthn.Enabled is off.
	ErrWebAuthnDisabled = errors.New("restauth: WebAuthn is disabled")
	// ErrPasskeyLoginDisabled is returned by the passkey login operations while
	// Config.WebAuthn.PasskeyLogin is off.
	ErrPasskeyLoginDisabled = errors.New("restauth: passkey login is disabled")
	// ErrPasskeySignupDisabled is returned by the passkey signup operations while
	// Config.WebAuthn.PasskeySignup is off.
	ErrPasskeySignupDisabled = errors.New("restauth: passkey signup is disabled")
	// ErrWebAuthnChallengeExpired is returned by a WebAuthn Finish operation whose state
	// is expired, already used, tampered with or of another ceremony: begin again.
	ErrWebAuthnChallengeExpired = errors.New("restauth: the WebAuthn challenge expired or was used")
	// ErrWebAuthnRefused is matched by the *ValidationError (field "credential") of a
	// WebAuthn Finish operation whose credential was refused: a bad or replayed signature,
	// another origin or relying party, an unknown credential or one of another user, a
	// malformed response, a credential registered already.
	ErrWebAuthnRefused = errors.New("restauth: WebAuthn credential refused")
	// ErrWebAuthnCloned is matched, with ErrWebAuthnRefused, when the authenticator's
	// signature counter went back (or did not move): a sign of a cloned key. The attempt
	// is refused and audited (AuditLoginFailed, "cloned webauthn credential").
	ErrWebAuthnCloned = errors.New("restauth: WebAuthn signature counter went back")
)

// Messages the reference sends, word for word.
const (
	msgBlank              = drf.MsgBlank
	msgNull               = drf.MsgNull
	msgInvalidEmail       = drf.MsgInvalidEmail
	msgInvalidCredentials = "Unable to log in with provided credentials."
	msgMustInclude        = `Must include "username" and "password".`
	msgMustIncludeEither  = `Must include either "username" or "email" and "password".`
	msgUsernameTaken      = "A user with that username already exists."
	msgInvalidUsername    = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
	msgEmailTaken         = "A user is already registered with this e-mail address."
	msgPasswordMismatch   = "The two password fields didn't match."
	// Django's SetPasswordForm uses a typographic apostrophe (U+2019), unlike registration.
	msgPasswordMismatchForm = "The two password fields didn\u2019t match."
	msgOldPasswordWrong     = "Your old password was entered incorrectly. Please enter it again."
	msgRegistrationDisabled = "Registration is disabled."
	msgEmailNotVerified     = "E-mail is not verified."
	msgMFARequired          = "MFA required for this user"
	msgNotAuthenticated     = "Authentication credentials were not provided."
	msgNotFound             = "Not found."
)

// WebAuthn messages; the reference has none, so these are restauth's own.
const (
	msgWebAuthnRefused        = "The security key was not accepted."
	msgWebAuthnRegistered     = "This security key is already registered."
	msgWebAuthnNameRequired   = "Enter a name for the security key."
	msgWebAuthnLastPasskey    = "This passkey is your only way to log in: add a password or another passkey first."
	msgWebAuthnNeedsPasskey   = "Set a password first, or add a passkey: a security key is a second step after the password."
	maxWebAuthnCredentialName = 100
)

// Sentinel errors every Store returns (possibly wrapped) so that the Service can tell
// "nothing there" and "would break a uniqueness rule" from real failures.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("restauth: not found")
	// ErrConflict means a write would break a uniqueness rule of the store.
	ErrConflict = errors.New("restauth: conflict")
)

// ConflictError is returned (wrapping ErrConflict) when a write breaks a uniqueness rule;
// Field names the rule so the Service can answer with the right message.
type ConflictError struct {
	// Field is one of "username", "email" (a verified address owned by another user),
	// "user_email" (the same address twice for one user), "token" (a key hash),
	// "social" (a provider and uid already linked), "totp" (the user already has a
	// TOTP device) or "webauthn" (a WebAuthn credential id already registered).
	Field string
}

// Error names the field in conflict.
func (e *ConflictError) Error() string { return "restauth: conflict on " + e.Field }

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *ConflictError) Unwrap() error { return ErrConflict }

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
	// SocialReasonSignupRequired: the provider account's user needs a signup step (see
	// SocialFlowCallback.SignupStep); it never reaches a dialect, which gets
	// SocialFlowResult.PendingSignup instead.
	SocialReasonSignupRequired SocialReason = "signup_required"
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
	// Next is where the failed flow was to end (the start's Next, when it was kept and
	// the flow could be opened), "" otherwise: a dialect that reports failures to the page
	// that started the flow (allauth headless: callback_url?error=…) sends the browser
	// there, else to Config.Social.ErrorRedirect.
	Next string
	// Connect is set when the failed flow is known to be a connect.
	Connect bool
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
