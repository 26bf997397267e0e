package restauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// AuthMethod tells how a request was authenticated.
type AuthMethod uint8

const (
	// AuthNone: the request is anonymous.
	AuthNone AuthMethod = iota
	// AuthToken: "Authorization: Token <key>".
	AuthToken
	// AuthBasic: "Authorization: Basic …".
	AuthBasic
	// AuthSession: the session cookie.
	AuthSession
)

// String names the method in audit details: "none", "token", "basic" or "session".
func (m AuthMethod) String() string {
	switch m {
	case AuthToken:
		return "token"
	case AuthBasic:
		return "basic"
	case AuthSession:
		return "session"
	}
	return "none"
}

// requestAuth is who made a request, and how.
type requestAuth struct {
	user   *User
	token  *APIToken
	method AuthMethod
}

type contextKey struct{}

// UserFromContext returns the user Middleware authenticated, or nil and false for an
// anonymous request.
func UserFromContext(ctx context.Context) (*User, bool) {
	a, ok := ctx.Value(contextKey{}).(*requestAuth)
	if !ok || a.user == nil {
		return nil, false
	}
	return a.user, true
}

// AuthMethodFromContext tells how the request in ctx was authenticated.
func AuthMethodFromContext(ctx context.Context) AuthMethod {
	if a, ok := ctx.Value(contextKey{}).(*requestAuth); ok {
		return a.method
	}
	return AuthNone
}

// Middleware authenticates every request for the host app's own routes exactly as the
// /api/auth/ routes do (Token, then Basic, then the session cookie with CSRF checks on
// unsafe methods) and puts the user in the request context. A bad credential is answered
// with 401; an anonymous request passes through (wrap with RequireUser to refuse it).
func (s *Service) Middleware(next http.Handler) http.Handler {
	return s.loadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = s.withClient(r)
		auth, err := s.authenticate(r, false)
		if err == nil {
			err = s.checkMFA(r.Context(), auth, false)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, &auth)))
	}))
}

// RequireUser answers 401 {"detail": "Authentication credentials were not provided."} to
// anonymous requests; use it inside Middleware.
func RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := UserFromContext(r.Context()); !ok {
			w.Header().Set("WWW-Authenticate", "Token")
			writeDetail(w, http.StatusUnauthorized, msgNotAuthenticated)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withClient puts the request's Client (its address as Config.TrustedProxies tell it, and
// its user agent) into the request's context for the operations, unless a Client is there
// already (Middleware wrapping the handlers, or a host that set its own).
func (s *Service) withClient(r *http.Request) *http.Request {
	if _, ok := ClientFromContext(r.Context()); ok {
		return r
	}
	c := Client{Addr: clientIP(r, s.cfg.TrustedProxies), UserAgent: r.UserAgent()}
	return r.WithContext(WithClient(r.Context(), c))
}

const asciiSpace = " \t\n\r\v\f"

// splitAuthorization splits an Authorization header the way DRF's get_authorization_header
// followed by bytes.split() does: the scheme, the credentials, and whether more
// whitespace-separated parts followed.
func splitAuthorization(h string) (scheme, cred string, extra bool) {
	h = strings.Trim(h, asciiSpace)
	i := strings.IndexAny(h, asciiSpace)
	if i < 0 {
		return h, "", false
	}
	scheme, rest := h[:i], strings.TrimLeft(h[i:], asciiSpace)
	if j := strings.IndexAny(rest, asciiSpace); j >= 0 {
		return scheme, rest[:j], true
	}
	return scheme, rest, false
}

// authenticate runs the authentication classes in the reference's order. A scheme that
// claims the request decides it: its failure is an *AuthError, never a fallback.
func (s *Service) authenticate(r *http.Request, basicOnly bool) (requestAuth, error) {
	ctx := r.Context()
	scheme, cred, extra := splitAuthorization(r.Header.Get("Authorization"))
	switch {
	case !basicOnly && strings.EqualFold(scheme, "token"):
		return s.authenticateTokenHeader(ctx, cred, extra)
	case strings.EqualFold(scheme, "basic"):
		// A browser that cached Basic credentials sends them with a cross-site form post
		// too, so unsafe requests from browsers get the same Origin / Fetch-Metadata check
		// as sessions, before any hashing; API clients send neither header and pass.
		if !isSafeMethod(r.Method) {
			if err := s.checkOrigin(r); err != nil {
				return requestAuth{}, err
			}
		}
		return s.authenticateBasicHeader(ctx, cred, extra)
	}
	if basicOnly {
		return requestAuth{}, nil
	}
	return s.authenticateSession(r)
}

func tokenAuthError(detail string) error { return &AuthError{Detail: detail, Challenge: "Token"} }

func (s *Service) authenticateTokenHeader(ctx context.Context, key string, extra bool) (requestAuth, error) {
	switch {
	case key == "":
		return requestAuth{}, tokenAuthError("Invalid token header. No credentials provided.")
	case extra:
		return requestAuth{}, tokenAuthError("Invalid token header. Token string should not contain spaces.")
	case !utf8.ValidString(key):
		return requestAuth{}, tokenAuthError("Invalid token header. Token string should not contain invalid characters.")
	}
	u, t, err := s.AuthenticateToken(ctx, key)
	if err != nil {
		return requestAuth{}, err
	}
	return requestAuth{user: u, token: t, method: AuthToken}, nil
}

func basicAuthError(detail string) error {
	return &AuthError{Detail: detail, Challenge: `Basic realm="api"`}
}

// authenticateBasicHeader decodes Basic credentials as DRF does and checks them with
// AuthenticatePassword, which owns the limits and the audit.
func (s *Service) authenticateBasicHeader(ctx context.Context, cred string, extra bool) (requestAuth, error) {
	switch {
	case cred == "":
		return requestAuth{}, basicAuthError("Invalid basic header. No credentials provided.")
	case extra:
		return requestAuth{}, basicAuthError("Invalid basic header. Credentials string should not contain spaces.")
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	decoded := string(raw)
	if !utf8.Valid(raw) {
		decoded = latin1(raw) // DRF's fallback when the bytes are not UTF-8
	}
	username, password, found := strings.Cut(decoded, ":")
	if err != nil || !found {
		return requestAuth{}, basicAuthError("Invalid basic header. Credentials not correctly base64 encoded.")
	}
	u, err := s.AuthenticatePassword(ctx, username, password)
	if errors.Is(err, ErrInvalidCredentials) {
		return requestAuth{}, basicAuthError("Invalid username/password.")
	}
	if err != nil {
		return requestAuth{}, err
	}
	return requestAuth{user: u, method: AuthBasic}, nil
}

// latin1 decodes ISO-8859-1: each byte is the code point of the same value.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// Session keys. The auth hash ties a session to the password it was opened with, so a
// password change ends every other session (Django's session auth hash).
const (
	sessionUserKey = "_auth_user_id"
	sessionHashKey = "_auth_user_hash"
)

func (s *Service) authenticateSession(r *http.Request) (requestAuth, error) {
	ctx := r.Context()
	uid := s.sessions.GetInt64(ctx, sessionUserKey)
	if uid == 0 {
		return requestAuth{}, nil
	}
	u, err := s.store.UserByID(ctx, uid)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return requestAuth{}, s.sessions.Destroy(ctx)
		}
		return requestAuth{}, err
	}
	stored := s.sessions.GetString(ctx, sessionHashKey)
	if !u.IsActive || subtle.ConstantTimeCompare([]byte(stored), []byte(s.sessionAuthHash(u))) != 1 {
		return requestAuth{}, s.sessions.Destroy(ctx)
	}
	if !isSafeMethod(r.Method) {
		if err := s.checkCSRF(r); err != nil {
			return requestAuth{}, err
		}
	}
	return requestAuth{user: u, method: AuthSession}, nil
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// sessionAuthHash is derived from the password hash, so it changes with the password.
func (s *Service) sessionAuthHash(u *User) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("restauth.session-auth-hash\x00"))
	mac.Write([]byte(u.PasswordHash))
	return hex.EncodeToString(mac.Sum(nil))
}

// loginSession logs u into the request's session, renewing the session id (so a session
// fixed by an attacker before login is worthless) and rotating the CSRF cookie. Sessions
// are the dialect's, not the operations': it is an api291 method, kept here beside the
// session keys and the CSRF cookie it shares with authenticateSession.
func (d *api291) loginSession(w http.ResponseWriter, r *http.Request, u *User) error {
	ctx := r.Context()
	if err := d.svc.sessions.RenewToken(ctx); err != nil {
		return err
	}
	d.svc.sessions.Put(ctx, sessionUserKey, u.ID)
	d.svc.sessions.Put(ctx, sessionHashKey, d.svc.sessionAuthHash(u))
	return d.svc.setCSRFCookie(w)
}

// refreshSessionHash keeps the current session valid after the user's own password change.
func (d *api291) refreshSessionHash(ctx context.Context, u *User) {
	if d.svc.sessions.GetInt64(ctx, sessionUserKey) == u.ID {
		d.svc.sessions.Put(ctx, sessionHashKey, d.svc.sessionAuthHash(u))
	}
}

// CSRF, as Django does it for session-authenticated unsafe requests: the X-CSRFToken header
// must carry the csrftoken cookie's secret, and a browser's cross-origin request is refused.
const (
	csrfCookieName = "csrftoken"
	csrfHeaderName = "X-CSRFToken"
	csrfSecretLen  = 32
	csrfChars      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	csrfCookieAge  = 31449600 // Django's CSRF_COOKIE_AGE: one year
)

func (s *Service) checkCSRF(r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	// Django 4.2's reasons, word for word.
	const fromHeader = "CSRF token from the 'X-Csrftoken' HTTP header "
	cookie, err := r.Cookie(csrfCookieName)
	if err != nil {
		return csrfFailed("CSRF cookie not set.")
	}
	if problem := csrfFormatProblem(cookie.Value, false); problem != "" {
		return csrfFailed("CSRF cookie " + problem + ".")
	}
	header := r.Header.Get(csrfHeaderName)
	if header == "" {
		return csrfFailed("CSRF token missing.")
	}
	if problem := csrfFormatProblem(header, true); problem != "" {
		return csrfFailed(fromHeader + problem + ".")
	}
	if len(header) == 2*csrfSecretLen {
		header = unmaskCSRF(header)
	}
	if subtle.ConstantTimeCompare([]byte(header), []byte(cookie.Value)) != 1 {
		return csrfFailed(fromHeader + "incorrect.")
	}
	return nil
}

// checkOrigin refuses a browser's cross-origin unsafe request (http.CrossOriginProtection:
// Sec-Fetch-Site, else Origin against the trusted origins). Requests that are not from a
// browser carry neither header and pass.
func (s *Service) checkOrigin(r *http.Request) error {
	if err := s.cop.Check(r); err != nil {
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = "the request's origin"
		}
		return csrfFailed("Origin checking failed - " + origin + " does not match any trusted origins.")
	}
	return nil
}

func csrfFailed(reason string) error { return &PermissionError{Detail: "CSRF Failed: " + reason} }

// csrfFormatProblem is Django's _check_token_format: a secret (or, from a header, also a
// masked token twice as long) of csrfChars only; "" when the format is right.
func csrfFormatProblem(token string, maskedAllowed bool) string {
	if len(token) != csrfSecretLen && (!maskedAllowed || len(token) != 2*csrfSecretLen) {
		return "has incorrect length"
	}
	if strings.IndexFunc(token, func(c rune) bool { return !strings.ContainsRune(csrfChars, c) }) >= 0 {
		return "has invalid characters"
	}
	return ""
}

// unmaskCSRF undoes Django's token masking (a 32-character mask followed by the secret
// shifted by it), so clients that send a masked token from a Django template keep working.
func unmaskCSRF(masked string) string {
	mask, cipher := masked[:csrfSecretLen], masked[csrfSecretLen:]
	out := make([]byte, csrfSecretLen)
	for i := range out {
		m := strings.IndexByte(csrfChars, mask[i])
		c := strings.IndexByte(csrfChars, cipher[i])
		if m < 0 || c < 0 {
			return ""
		}
		out[i] = csrfChars[(c-m+len(csrfChars))%len(csrfChars)]
	}
	return string(out)
}

func (s *Service) setCSRFCookie(w http.ResponseWriter) error {
	secret, err := randomString(csrfSecretLen, csrfChars)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     csrfCookieName,
		Value:    secret,
		Path:     "/",
		MaxAge:   csrfCookieAge,
		Secure:   s.site.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// randomString draws n characters uniformly from alphabet with crypto/rand.
func randomString(n int, alphabet string) (string, error) {
	out := make([]byte, n)
	limit := byte(256 - 256%len(alphabet))
	buf := make([]byte, n*2)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= limit {
				continue // rejection sampling keeps the draw unbiased
			}
			out[i] = alphabet[int(b)%len(alphabet)]
			i++
			if i == n {
				break
			}
		}
	}
	return string(out), nil
}
