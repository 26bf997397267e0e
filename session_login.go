package restauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/csrf"
	"github.com/restauth/restauth/internal/resettoken"
)

// This file exports the session facilities a wire dialect outside the package (the
// headless dialect, package headless) needs: logging a session in and out, the
// authentication records and recent-authentication time a session keeps, a pending
// second-factor login kept in the session, the CSRF check and cookie, and the dialect
// that started a flow (so a mail carries that dialect's link). The rules stay here: the
// session auth hash, the renewal of the session id at login, Django's CSRF check.

// Dialect names the wire dialect a request arrived through. A mail sent by an operation
// carries the link of the dialect in its context (see WithDialect and LinkConfig).
type Dialect string

const (
	// Dialect291 is the InvenTree 291 / dj-rest-auth dialect (Handler); the default.
	Dialect291 Dialect = "291"
	// DialectHeadless is django-allauth's headless dialect (package headless).
	DialectHeadless Dialect = "headless"
)

type dialectKey struct{}

// WithDialect returns a context naming the dialect d, so that the mails an operation sends
// for that request (or later, in the background) carry d's links.
func WithDialect(ctx context.Context, d Dialect) context.Context {
	return context.WithValue(ctx, dialectKey{}, d)
}

// DialectFromContext returns the dialect WithDialect put into ctx, Dialect291 when none.
func DialectFromContext(ctx context.Context) Dialect {
	if d, ok := ctx.Value(dialectKey{}).(Dialect); ok {
		return d
	}
	return Dialect291
}

// WithRequestClient returns r with its Client (address as Config.TrustedProxies tell it,
// and user agent) in its context, for the per-address limits and the audit events, unless
// a Client is there already. Dialects outside the package call it first.
func (s *Service) WithRequestClient(r *http.Request) *http.Request { return s.withClient(r) }

// Features are the settings a dialect reports to its clients (allauth's config endpoint).
type Features struct {
	RegistrationOpen     bool
	LoginByEmail         bool
	EmailVerification    EmailVerification
	MFAEnabled           bool
	PasswordResetEnabled bool
	// WebAuthn, PasskeyLogin and PasskeySignup are Config.WebAuthn's switches (allauth's
	// "webauthn" in MFA_SUPPORTED_TYPES, MFA_PASSKEY_LOGIN_ENABLED, MFA_PASSKEY_SIGNUP_ENABLED).
	WebAuthn, PasskeyLogin, PasskeySignup bool
	// ReauthenticationTimeout is how long an authentication counts as recent
	// (Config.ReauthenticationTimeout).
	ReauthenticationTimeout time.Duration
	// LoginByCode, PasswordResetByCode and EmailVerificationByCode tell which mailed-code
	// flows are on (Config.LoginByCode.Enabled and the others).
	LoginByCode             bool
	PasswordResetByCode     bool
	EmailVerificationByCode bool
	// MFATrust tells whether a client may be trusted to skip the second factor
	// (Config.MFA.Enabled and Config.MFA.TrustEnabled); MFATrustCookieAge is how long.
	MFATrust          bool
	MFATrustCookieAge time.Duration
}

// Features returns the settings a dialect reports.
func (s *Service) Features() Features {
	return Features{
		RegistrationOpen:        !s.cfg.DisableRegistration,
		LoginByEmail:            s.cfg.LoginByEmail,
		EmailVerification:       s.cfg.EmailVerification,
		MFAEnabled:              s.cfg.MFA.Enabled,
		PasswordResetEnabled:    !s.cfg.DisablePasswordReset,
		ReauthenticationTimeout: s.cfg.ReauthenticationTimeout,
		WebAuthn:                s.cfg.WebAuthn.Enabled,
		PasskeyLogin:            s.cfg.WebAuthn.PasskeyLogin,
		PasskeySignup:           s.cfg.WebAuthn.PasskeySignup,
		LoginByCode:             s.cfg.LoginByCode.Enabled,
		PasswordResetByCode:     s.cfg.PasswordResetByCode.Enabled && !s.cfg.DisablePasswordReset,
		EmailVerificationByCode: s.cfg.EmailVerificationByCode.Enabled,
		MFATrust:                s.cfg.MFA.Enabled && s.cfg.MFA.TrustEnabled,
		MFATrustCookieAge:       s.cfg.MFA.TrustCookieAge,
	}
}

// Session keys of the authentication records (allauth's AUTHENTICATION_METHODS_SESSION_KEY).
const sessionAuthRecordsKey = "_auth_records"

// AuthRecord is one authentication of a session (allauth's authentication records): how
// and when the user proved who they are. A login starts the list; a reauthentication adds
// to it.
type AuthRecord struct {
	// Method is "password", "mfa", "code", "socialaccount" or "password_reset".
	Method string `json:"method"`
	// At is when it happened, in Unix seconds.
	At float64 `json:"at"`
	// Email or Username is the login name the password was given with.
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	// Type is the second factor of an "mfa" record: "totp", "recovery_codes" or "webauthn".
	Type string `json:"type,omitempty"`
	// Provider and UID name the provider account of a "socialaccount" record.
	Provider string `json:"provider,omitempty"`
	UID      string `json:"uid,omitempty"`
	// Reauthenticated is set on records added by a reauthentication.
	Reauthenticated bool `json:"reauthenticated,omitempty"`
}

// User returns the user with the given id (an error matching ErrNotFound when there is
// none), for a dialect that shows the user a key or a session names.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	return s.store.UserByID(ctx, id)
}

// NewAuthRecord returns a record of method happening now (the Service's clock).
func (s *Service) NewAuthRecord(method string) AuthRecord {
	return AuthRecord{Method: method, At: float64(s.now().UnixMicro()) / 1e6}
}

// LoginSession logs u into the session in ctx (loaded by the dialect from a cookie or a
// session token): the session id is renewed, so that an id fixed before the login is
// worthless after it, a session logged in as another user is emptied first (Django's
// flush), any pending login is dropped, and records start the session's authentication
// records. The session is recorded in the user's session index
// (UserSessions) under its new id, and the record of the old id, if it was logged in, is
// dropped. The CSRF token is the dialect's to rotate (RotateCSRFCookie).
func (s *Service) LoginSession(ctx context.Context, u *User, records ...AuthRecord) error {
	// A session logged in as somebody else (or as u under an older password) is not
	// carried over, as Django's login() flushes it: whatever the host or a flow kept in it
	// for that login must not reach this one. An anonymous session keeps its data.
	foreign := s.loggedInOtherThan(ctx, u.ID, s.sessionAuthHash(u))
	if err := s.renewSession(ctx); err != nil {
		return err
	}
	if foreign {
		if err := s.sessions.Clear(ctx); err != nil {
			return err
		}
	}
	s.DropPendingLogin(ctx)
	s.sessions.Put(ctx, sessionUserKey, u.ID)
	s.sessions.Put(ctx, sessionHashKey, s.sessionAuthHash(u))
	if err := s.indexSession(ctx, u); err != nil {
		return err
	}
	return s.putAuthRecords(ctx, records)
}

// loggedInOtherThan reports whether the session in ctx is logged in as someone other than
// the user of id uid and session auth hash hash (another user, or that user under an
// older password): such a session is emptied before a login, as Django's login()
// flushes it, so nothing kept for that login reaches the new one.
func (s *Service) loggedInOtherThan(ctx context.Context, uid int64, hash string) bool {
	prior := s.sessions.GetInt64(ctx, sessionUserKey)
	return prior != 0 && (prior != uid ||
		subtle.ConstantTimeCompare([]byte(s.sessions.GetString(ctx, sessionHashKey)), []byte(hash)) != 1)
}

// LogoutSession ends the session in ctx: its data is deleted from the store, its record
// from the user's session index, and a new, empty one takes its place.
func (s *Service) LogoutSession(ctx context.Context) error { return s.destroySession(ctx) }

// SessionUser returns the user the session in ctx is logged in as, or nil for an
// anonymous session. A session whose user is gone, inactive, or changed their password
// since (the session auth hash) is ended and counts as anonymous.
func (s *Service) SessionUser(ctx context.Context) (*User, error) {
	uid := s.sessions.GetInt64(ctx, sessionUserKey)
	if uid == 0 {
		return nil, nil
	}
	u, err := s.store.UserByID(ctx, uid)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, s.destroySession(ctx)
		}
		return nil, err
	}
	stored := s.sessions.GetString(ctx, sessionHashKey)
	if !u.IsActive || subtle.ConstantTimeCompare([]byte(stored), []byte(s.sessionAuthHash(u))) != 1 {
		return nil, s.destroySession(ctx)
	}
	return u, nil
}

// SessionAuthRecords returns the authentication records of the session in ctx.
func (s *Service) SessionAuthRecords(ctx context.Context) []AuthRecord {
	var records []AuthRecord
	if raw := s.sessions.GetString(ctx, sessionAuthRecordsKey); raw != "" {
		_ = json.Unmarshal([]byte(raw), &records) // a session of an older layout has none
	}
	return records
}

func (s *Service) putAuthRecords(ctx context.Context, records []AuthRecord) error {
	if len(records) == 0 {
		s.sessions.Remove(ctx, sessionAuthRecordsKey)
		return nil
	}
	raw, err := json.Marshal(records)
	if err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionAuthRecordsKey, string(raw))
	return nil
}

// SessionRecentlyAuthenticated reports whether the session in ctx holds an
// authentication record (a login or a reauthentication) recent enough for a sensitive
// change (RecentlyAuthenticated: within Config.ReauthenticationTimeout).
func (s *Service) SessionRecentlyAuthenticated(ctx context.Context) bool {
	records := s.SessionAuthRecords(ctx)
	if len(records) == 0 {
		return false
	}
	last := records[0].At
	for _, r := range records {
		last = max(last, r.At)
	}
	return s.RecentlyAuthenticated(time.UnixMicro(int64(last * 1e6)))
}

// ReauthenticateSession checks the proof of the logged-in user u — their password
// (Reauthenticate) or, when proof.Code is set, a current TOTP code or unused recovery
// code (ReauthenticateMFA) — with those operations' limits and audit events, and when it
// holds adds a reauthentication record to the session in ctx. Errors are theirs.
func (s *Service) ReauthenticateSession(ctx context.Context, u *User, proof MFAProof) (_ AuthRecord, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ReauthenticateSession")
	defer opSpan.end(&opErr)
	rec := s.NewAuthRecord("password")
	rec.Reauthenticated = true
	if proof.Code == "" {
		if _, err := s.Reauthenticate(ctx, u, proof.Password); err != nil {
			return AuthRecord{}, err
		}
	} else {
		method, err := s.reauthenticateMFA(ctx, u, proof.Code)
		if err != nil {
			return AuthRecord{}, err
		}
		rec.Method, rec.Type = "mfa", mfaRecordType(method)
	}
	return rec, s.putAuthRecords(ctx, append(s.SessionAuthRecords(ctx), rec))
}

// mfaRecordType is allauth's authenticator type of a second factor.
func mfaRecordType(m mfaMethod) string {
	if m == mfaRecovery {
		return "recovery_codes"
	}
	return string(m)
}

// MFARecord is the authentication record of the second factor a completed login used
// (LoginResult.MFAMethod), with ok false for a login without one — and for one that
// skipped it by MFA trust, which proves no factor now (allauth records none then).
func (s *Service) MFARecord(res *LoginResult) (AuthRecord, bool) {
	if res.MFAMethod == "" || mfaMethod(res.MFAMethod) == mfaTrust {
		return AuthRecord{}, false
	}
	rec := s.NewAuthRecord("mfa")
	rec.Type = mfaRecordType(mfaMethod(res.MFAMethod))
	return rec, true
}

// PutPendingLogin keeps p, a login whose second factor is due, in the session in ctx.
// The session id is renewed first: half a login must not ride on an id fixed before it.
// Any login of the session ends: a pending login is nobody's session yet; a session
// logged in as another user is emptied first, as LoginSession empties it.
func (s *Service) PutPendingLogin(ctx context.Context, p PendingLogin) error {
	// Emptied now if logged in as somebody else: the login this completes must not find
	// that user's data (LoginSession, which finishes it, sees no login left to compare).
	foreign := s.loggedInOtherThan(ctx, p.UserID, p.AuthHash)
	if err := s.renewSession(ctx); err != nil {
		return err
	}
	if foreign {
		if err := s.sessions.Clear(ctx); err != nil {
			return err
		}
	}
	s.sessions.Remove(ctx, sessionUserKey)
	s.sessions.Remove(ctx, sessionHashKey)
	s.sessions.Remove(ctx, sessionAuthRecordsKey)
	s.sessions.Put(ctx, sessionPendingUserKey, p.UserID)
	s.sessions.Put(ctx, sessionPendingHashKey, p.AuthHash)
	s.sessions.Put(ctx, sessionPendingExpiresKey, p.Expires.Unix())
	s.sessions.Remove(ctx, sessionPendingFirstKey)
	s.sessions.Remove(ctx, sessionPendingEmailKey)
	if p.FirstFactor != "" {
		s.sessions.Put(ctx, sessionPendingFirstKey, strings.TrimSpace(p.FirstFactor+" "+p.Provider))
	}
	if p.Email != "" {
		s.sessions.Put(ctx, sessionPendingEmailKey, p.Email)
	}
	return nil
}

// SessionPendingLogin returns the unexpired pending login of the session in ctx, if any.
func (s *Service) SessionPendingLogin(ctx context.Context) (PendingLogin, bool) {
	p := PendingLogin{
		UserID:   s.sessions.GetInt64(ctx, sessionPendingUserKey),
		AuthHash: s.sessions.GetString(ctx, sessionPendingHashKey),
		Expires:  time.Unix(s.sessions.GetInt64(ctx, sessionPendingExpiresKey), 0),
	}
	if p.UserID == 0 || p.AuthHash == "" || !s.now().Before(p.Expires) {
		return PendingLogin{}, false
	}
	p.FirstFactor, p.Provider, _ = strings.Cut(s.sessions.GetString(ctx, sessionPendingFirstKey), " ")
	p.Email = s.sessions.GetString(ctx, sessionPendingEmailKey)
	return p, true
}

// DropPendingLogin removes the pending login of the session in ctx.
func (s *Service) DropPendingLogin(ctx context.Context) {
	if s.sessions.Exists(ctx, sessionPendingUserKey) {
		s.sessions.Remove(ctx, sessionPendingUserKey)
		s.sessions.Remove(ctx, sessionPendingHashKey)
		s.sessions.Remove(ctx, sessionPendingExpiresKey)
		s.sessions.Remove(ctx, sessionPendingFirstKey)
		s.sessions.Remove(ctx, sessionPendingEmailKey)
	}
}

// PendingLoginTypes returns the second factors (allauth's authenticator types, in its
// order) the pending login's user can complete it with.
func (s *Service) PendingLoginTypes(ctx context.Context, p PendingLogin) ([]string, error) {
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return s.MFATypes(ctx, u)
}

// MFATypes returns the second factors u has, as allauth names them ("recovery_codes",
// "totp", "webauthn"), in allauth's order; none when MFA is off.
func (s *Service) MFATypes(ctx context.Context, u *User) ([]string, error) {
	if !s.cfg.MFA.Enabled {
		return nil, nil
	}
	d, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil || !enrolled {
		return nil, err
	}
	types := []string{}
	rc, err := s.RecoveryCodesStatus(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if rc.Remaining > 0 {
		types = append(types, "recovery_codes")
	}
	if d != nil {
		types = append(types, "totp")
	}
	if n, err := s.webauthnCount(ctx, u.ID); err != nil {
		return nil, err
	} else if n > 0 {
		types = append(types, "webauthn")
	}
	return types, nil
}

// CheckCSRF is Django's CsrfViewMiddleware for an unsafe request: the origin check, then
// the X-CSRFToken header against the csrftoken cookie — or, for an HTML form post
// (application/x-www-form-urlencoded, such as allauth's provider redirect), the form's
// csrfmiddlewaretoken field when it has one; the form is then parsed into r.PostForm. It
// returns a *PermissionError with Django's reason.
func (s *Service) CheckCSRF(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if r.Body != nil && r.PostForm == nil {
			// ParseForm reads up to 10 MB of a body it finds unbounded, and this runs before
			// anything is authenticated: Config.MaxBodyBytes bounds it, as every other body.
			r.Body = http.MaxBytesReader(nil, r.Body, s.cfg.MaxBodyBytes)
		}
		if token := r.PostFormValue(csrfFormField); token != "" {
			if err := s.checkOrigin(r); err != nil {
				return err
			}
			return checkCSRFToken(r, token, "CSRF token from POST ")
		}
	}
	return s.checkCSRF(r)
}

// CSRFToken is Django's get_token: the csrftoken cookie's secret when it is well formed,
// else a new one, set on w. The cookie is readable by scripts, as Django's is.
func (s *Service) CSRFToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(csrfCookieName); err == nil && csrf.FormatProblem(c.Value, false) == "" {
		return c.Value, nil
	}
	return s.newCSRFCookie(w)
}

// RotateCSRFCookie sets a new csrftoken cookie on w, as Django's rotate_token does at
// login, so a token read before the login is worthless after it.
func (s *Service) RotateCSRFCookie(w http.ResponseWriter) error { return s.setCSRFCookie(w) }

// PasswordResetKey is the one-part key of a reset link (allauth's "{uidb36}-{token}"),
// which the headless dialect's links carry.
func passwordResetKey(uid, token string) string { return uid + "-" + token }

// splitPasswordResetKey splits a key made by passwordResetKey.
func splitPasswordResetKey(key string) (uid, token string) {
	uid, token, _ = strings.Cut(key, "-")
	return uid, token
}

// PasswordResetUser checks a reset key (allauth's one-part key of a headless reset link)
// without using it and returns its user. A key that does not name a user or whose token
// is malformed, tampered, expired or outdated gives a *ValidationError on "uid" or
// "token", as ConfirmPasswordReset does.
func (s *Service) PasswordResetUser(ctx context.Context, key string) (*User, error) {
	if s.cfg.DisablePasswordReset {
		return nil, resetDisabled()
	}
	uid, token := splitPasswordResetKey(key)
	u, err := s.resetUser(ctx, uid)
	if err != nil {
		return nil, err
	}
	emails, err := s.emailList(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !s.resetTokens().Check(resetTokenUser(u), emails, token, s.now()) {
		return nil, fieldError("token", msgInvalidValue)
	}
	return u, nil
}

// resetLink is the link of a reset mail, for the dialect in ctx.
func (s *Service) resetLink(ctx context.Context, u *User, token string) string {
	uid := resettoken.EncodeBase36(u.ID)
	if DialectFromContext(ctx) == DialectHeadless {
		return s.siteLink(s.cfg.Links.HeadlessPasswordReset, map[string]string{"key": passwordResetKey(uid, token)})
	}
	return s.siteLink(s.cfg.Links.PasswordReset, map[string]string{"uid": uid, "token": token})
}

// confirmLink is the link of a confirmation mail, for the dialect in ctx.
func (s *Service) confirmLink(ctx context.Context, key string) string {
	tmpl := s.cfg.Links.EmailConfirm
	if DialectFromContext(ctx) == DialectHeadless {
		tmpl = s.cfg.Links.HeadlessEmailConfirm
	}
	return s.siteLink(tmpl, map[string]string{"key": key})
}

// Now is the Service's clock (Config.Now), for a dialect that checks the expiry of what an
// operation handed it (a PendingCode it keeps) against the same time the operations use.
func (s *Service) Now() time.Time { return s.now() }
