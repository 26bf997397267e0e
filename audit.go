package restauth

import (
	"context"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/djsign"
	"github.com/restauth/restauth/internal/fold"
	"github.com/restauth/restauth/internal/validate"
)

// AuditKind names what an AuditEvent records.
type AuditKind string

// The audit event kinds.
const (
	// AuditLoginSucceeded: a login with username and password (or a social login) opened
	// a session or issued a token. Requests authenticated with Basic on every call are not
	// logins and emit nothing when they succeed.
	AuditLoginSucceeded AuditKind = "login_succeeded"
	// AuditLoginFailed: a login was refused (wrong credentials, inactive or unknown user,
	// unverified e-mail, MFA required, a wrong MFA code), including failed Basic
	// credentials. It never holds the name that was typed (a password typed into the
	// username field would end up in the logs): Username is "", and Detail is the reason
	// followed by " login=<16 hex digits>", a keyed hash (HMAC with Config.Secret) of the
	// typed name, NFKC-normalised and case-folded, so failures of one name can still be
	// correlated. UserID is the user's where the operation knows who it is (MFA required,
	// a failed re-authentication), 0 for a refused login. Reason and Method say why and
	// how, typed.
	AuditLoginFailed AuditKind = "login_failed"
	// AuditLogout: a logout by an authenticated user.
	AuditLogout AuditKind = "logout"
	// AuditPasswordChanged: a user changed their own password.
	AuditPasswordChanged AuditKind = "password_changed"
	// AuditPasswordReset: a password was set with a reset link.
	AuditPasswordReset AuditKind = "password_reset"
	// AuditEmailAdded: a user added an e-mail address (Detail names its id, not the address).
	AuditEmailAdded AuditKind = "email_added"
	// AuditEmailVerified: an e-mail address was verified with a confirmation key.
	AuditEmailVerified AuditKind = "email_verified"
	// AuditTokenIssued: an API token was issued (at login, registration or on request).
	AuditTokenIssued AuditKind = "token_issued"
	// AuditTokenRevoked: a user revoked one of their API tokens.
	AuditTokenRevoked AuditKind = "token_revoked"
	// AuditSocialLinked: a provider account was linked to a user.
	AuditSocialLinked AuditKind = "social_linked"
	// AuditSocialUnlinked: a user disconnected a provider account.
	AuditSocialUnlinked AuditKind = "social_unlinked"
	// AuditMFAActivated: a user activated TOTP (and got their first recovery codes).
	AuditMFAActivated AuditKind = "mfa_activated"
	// AuditMFADeactivated: a user deactivated TOTP; their recovery codes are gone too.
	AuditMFADeactivated AuditKind = "mfa_deactivated"
	// AuditMFATrusted: a user who passed their second factor was given a trust token
	// ("trust this browser", IssueMFATrust).
	AuditMFATrusted AuditKind = "mfa_trusted"
	// AuditReauthenticated: a logged-in user confirmed their password (Reauthenticate) or
	// a second factor (ReauthenticateMFA, ReauthenticateSessionWithWebAuthn); Method names
	// which.
	AuditReauthenticated AuditKind = "reauthenticated"
	// AuditRecoveryCodesGenerated: a user replaced their recovery codes with new ones.
	AuditRecoveryCodesGenerated AuditKind = "recovery_codes_generated"
	// AuditThrottled: a rate limit refused a request; Rule names the rule, and Detail
	// ("rule=<name>").
	AuditThrottled AuditKind = "throttled"
	// AuditSignedUp: a new account was created by its user (allauth's user_signed_up):
	// Detail names the method, "method=password" (Register), "method=social
	// provider=<id>" or "method=passkey", and Method (AuditMethodPassword,
	// AuditMethodSocial, AuditMethodPasskey). Accounts an administrator creates (CreateUser)
	// and registrations that enumeration prevention only pretends to make emit none.
	AuditSignedUp AuditKind = "signed_up"
	// AuditUserDeactivated: an administrator deactivated a user (DeactivateUser).
	AuditUserDeactivated AuditKind = "user_deactivated"
	// AuditUserDeleted: an administrator deleted a user (DeleteUser).
	AuditUserDeleted AuditKind = "user_deleted"
	// AuditCredentialsRevoked: every API token and session of a user was ended
	// (RevokeAllCredentials, or a password reset under
	// Config.RevokeCredentialsOnPasswordReset); Detail counts them.
	AuditCredentialsRevoked AuditKind = "credentials_revoked"
)

// AuditEvent is one security-relevant event. It never holds passwords, token keys,
// confirmation keys, session ids, reset links or e-mail addresses; Detail holds ids
// (such as "token_id=5") and short reasons only.
//
// Events are emitted by the operations themselves, so calling the Service's methods
// directly (Login, ChangePassword, IssueToken, ...) emits the same events as the HTTP
// routes; the client's address and user agent come from the context (WithClient) and are
// empty when it names no client.
type AuditEvent struct {
	Kind AuditKind
	// Time is the Service's clock, in UTC.
	Time time.Time
	// UserID is the user concerned, 0 when none is known (a failed login, a throttled
	// anonymous request).
	UserID int64
	// Username is the user's name; "" when none is known and for AuditLoginFailed, which
	// never names what was typed (see there).
	Username string
	// IP is the client's address as the rate limits see it (Config.TrustedProxies; IPv6
	// grouped by /64), "" when the context names no client.
	IP string
	// UserAgent is the client's User-Agent (at most 200 bytes), "" when unknown.
	UserAgent string
	// Method is, as a field, the method Detail names: how a login was made or refused
	// (AuditLoginSucceeded, AuditLoginFailed: its first factor), how an account was
	// signed up (AuditSignedUp), or the factor an event concerns (AuditReauthenticated,
	// AuditMFAActivated, AuditMFADeactivated). It is one of the AuditMethod constants, so
	// hosts switch on it instead of parsing Detail; "" for the other kinds.
	Method string
	// MFAMethod is the second factor a login passed besides Method
	// (AuditLoginSucceeded): AuditMethodTOTP, AuditMethodRecoveryCode or
	// AuditMethodWebAuthn; "" when it needed none.
	MFAMethod string
	// Reason is why a login was refused (AuditLoginFailed), the text Detail starts with:
	// one of the AuditReason constants. "" for the other kinds.
	Reason string
	// Rule is the rate limit that refused the request (AuditThrottled), one of the Rule
	// constants or a host's own rule name; "" for the other kinds.
	Rule string
	// Detail is the event in words: ids, the method and short reasons, as documented on
	// each kind. Its text is stable; the fields above carry the same facts typed.
	Detail string
}

// The methods AuditEvent.Method and MFAMethod name.
const (
	// AuditMethodPassword: a username (or e-mail) and password, Login.
	AuditMethodPassword = "password"
	// AuditMethodBasic: HTTP Basic credentials on a request.
	AuditMethodBasic = "basic"
	// AuditMethodToken: an API token on a request (refused when MFA is required).
	AuditMethodToken = "token"
	// AuditMethodSession: a session cookie on a request (refused when MFA is required).
	AuditMethodSession = "session"
	// AuditMethodCode: a login code sent by e-mail (login by code).
	AuditMethodCode = "code"
	// AuditMethodMagicLink: a magic login link.
	AuditMethodMagicLink = "magic_link"
	// AuditMethodSocial: a social (OAuth / OpenID Connect) provider account.
	AuditMethodSocial = "social"
	// AuditMethodPasskey: a passkey (a discoverable WebAuthn credential) on its own.
	AuditMethodPasskey = "passkey"
	// AuditMethodMFAPage: the second step of a pending login, when it was refused.
	AuditMethodMFAPage = "mfa_page"
	// AuditMethodReauthenticate: a re-authentication of a logged-in user, when it was
	// refused, whichever factor it tried.
	AuditMethodReauthenticate = "reauthenticate"
	// AuditMethodTOTP: a TOTP code (a second factor).
	AuditMethodTOTP = "totp"
	// AuditMethodRecoveryCode: a recovery code (a second factor).
	AuditMethodRecoveryCode = "recovery_code"
	// AuditMethodWebAuthn: a WebAuthn security key (a second factor).
	AuditMethodWebAuthn = "webauthn"
)

// The reasons AuditEvent.Reason names for a refused login.
const (
	// AuditReasonInvalidCredentials: a wrong password, or an unknown or inactive user.
	AuditReasonInvalidCredentials = "invalid credentials"
	// AuditReasonMFARequired: the credentials were right but a second factor is
	// required first (or the user must enrol one).
	AuditReasonMFARequired = "mfa required"
	// AuditReasonInvalidMFACode: a wrong or used second-factor code.
	AuditReasonInvalidMFACode = "invalid mfa code"
	// AuditReasonEmailNotVerified: the user's e-mail address is not verified yet.
	AuditReasonEmailNotVerified = "e-mail not verified"
	// AuditReasonInvalidRequest: the request was refused otherwise (a missing field, a
	// security key refused at a pending login's second step).
	AuditReasonInvalidRequest = "invalid request"
	// AuditReasonInvalidCode: a wrong or expired login code.
	AuditReasonInvalidCode = "invalid code"
	// AuditReasonInvalidWebAuthnCredential: a WebAuthn assertion was refused.
	AuditReasonInvalidWebAuthnCredential = "invalid webauthn credential"
	// AuditReasonClonedWebAuthnCredential: a WebAuthn credential's signature counter
	// went back: a cloned authenticator, or a concurrent use of one assertion.
	AuditReasonClonedWebAuthnCredential = "cloned webauthn credential"
)

// audit emits e about u (nil if none) for the client in ctx (if any). The operation sets
// e's Kind and what it knows (Method, Reason, Rule, Detail ...); audit sets the rest
// (Time, the user and the client), so that every event is filled in one place.
func (s *Service) audit(ctx context.Context, u *User, e AuditEvent) {
	e.Time, e.IP = s.now().UTC(), clientAddr(ctx)
	if u != nil {
		e.UserID, e.Username = u.ID, truncateBytes(u.Username, maxUsernameLength)
	}
	if c, ok := ClientFromContext(ctx); ok {
		e.UserAgent = truncateBytes(c.UserAgent, maxUserAgentBytes)
	}
	s.tel.recordAudit(ctx, &e)
	if s.cfg.Audit != nil {
		s.cfg.Audit(ctx, e)
		return
	}
	attrs := []slog.Attr{
		slog.String("kind", string(e.Kind)),
		slog.Int64("user_id", e.UserID),
		slog.String("username", e.Username),
		slog.String("ip", e.IP),
		slog.String("detail", e.Detail),
	}
	// The typed fields follow Detail, and only when set: most kinds have none, and a
	// log reader keeps the line it had.
	for _, f := range [...]struct{ key, value string }{
		{"method", e.Method}, {"mfa_method", e.MFAMethod}, {"reason", e.Reason}, {"rule", e.Rule},
	} {
		if f.value != "" {
			attrs = append(attrs, slog.String(f.key, f.value))
		}
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "restauth: audit", attrs...)
}

// auditLoginFailed records a refused login: the user known (nil if none), the login
// that was typed, and e with its Reason, Method and, in Detail, what the event's Detail
// says after the reason ("method=code"; "" for nothing). The event keeps the user's id
// but no name and only a keyed hash of the login, see AuditLoginFailed.
func (s *Service) auditLoginFailed(ctx context.Context, known *User, login string, e AuditEvent) {
	var u *User
	if known != nil {
		u = &User{ID: known.ID}
	}
	e.Kind, e.Detail = AuditLoginFailed, strings.TrimSpace(e.Reason+" "+e.Detail)+" login="+s.loginDigest(login)
	s.audit(ctx, u, e)
}

// loginDigest is the keyed hash of a login name AuditLoginFailed carries: the first 64
// bits, hex, of an HMAC with the Service secret (its own salt, so it matches no limiter
// key) over the name as logins compare it. Without the secret a dump of the audit log
// cannot be tested against a list of guessed names or passwords.
func (s *Service) loginDigest(login string) string {
	mac := djsign.SaltedHMAC("restauth.audit.login", s.cfg.Secret, fold.String(validate.NormalizeUsername(login)))
	return hex.EncodeToString(mac[:8])
}

// tokenDetail names a token in an event by its id, never by its key.
func tokenDetail(t *APIToken) string {
	return idDetail("token_id", t.ID)
}

// emailDetail names an e-mail address in an event by its id, never by the address.
func emailDetail(a *EmailAddress) string {
	return idDetail("email_address_id", a.ID)
}

// idDetail is "name=id".
func idDetail(name string, id int64) string {
	return name + "=" + strconv.FormatInt(id, 10)
}
