package restauth

import (
	"context"
	"encoding/hex"
	"log/slog"
	"strconv"
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
	// a failed re-authentication), 0 for a refused login.
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
	// AuditReauthenticated: a logged-in user confirmed their password (Reauthenticate).
	AuditReauthenticated AuditKind = "reauthenticated"
	// AuditRecoveryCodesGenerated: a user replaced their recovery codes with new ones.
	AuditRecoveryCodesGenerated AuditKind = "recovery_codes_generated"
	// AuditThrottled: a rate limit refused a request; Detail names the rule.
	AuditThrottled AuditKind = "throttled"
	// AuditSignedUp: a new account was created by its user (allauth's user_signed_up):
	// Detail names the method, "method=password" (Register), "method=social
	// provider=<id>" or "method=passkey". Accounts an administrator creates (CreateUser)
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
	Detail    string
}

// audit emits an event about u (nil if none) for the client in ctx (if any).
func (s *Service) audit(ctx context.Context, kind AuditKind, u *User, detail string) {
	e := AuditEvent{Kind: kind, Time: s.now().UTC(), Detail: detail, IP: clientAddr(ctx)}
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
	s.log.LogAttrs(ctx, slog.LevelInfo, "restauth: audit",
		slog.String("kind", string(e.Kind)),
		slog.Int64("user_id", e.UserID),
		slog.String("username", e.Username),
		slog.String("ip", e.IP),
		slog.String("detail", e.Detail))
}

// auditLoginFailed records a refused login: the user known (nil if none), the login
// that was typed and the reason. The event keeps the user's id but no name and only a
// keyed hash of the login, see AuditLoginFailed.
func (s *Service) auditLoginFailed(ctx context.Context, known *User, login, reason string) {
	var u *User
	if known != nil {
		u = &User{ID: known.ID}
	}
	s.audit(ctx, AuditLoginFailed, u, reason+" login="+s.loginDigest(login))
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
