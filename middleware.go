package restauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/restauth/restauth/internal/clientip"
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
		// Config.StoreTimeout bounds the authentication only: the host's handler gets the
		// request's own context, for its work is the host's to bound.
		ar, stop := r, context.CancelFunc(func() {})
		if d := s.cfg.StoreTimeout; d > 0 {
			var ctx context.Context
			ctx, stop = context.WithTimeoutCause(r.Context(), d, ErrStoreTimeout)
			ar = r.WithContext(ctx)
		}
		auth, err := s.authenticate(ar, false)
		if err == nil {
			err = s.checkMFA(ar.Context(), auth, false)
		}
		if err != nil {
			s.writeError(w, ar, err)
			stop()
			return
		}
		stop()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, &auth)))
	}))
}

// AuthRequestHandler returns the handler of InvenTree's GET /auth/, for a reverse proxy's
// auth_request (nginx) or forward-auth (Traefik, Caddy) check: 200 when the request is
// authenticated by any scheme (Token, Basic, the session cookie), else 403, with an empty
// body either way. It authenticates exactly as Middleware does, MFA rules and the CSRF
// check of unsafe methods included (the proxy forwards the original request's method and
// headers), so a credential refused on the API is refused here. A store that fails is
// answered 503 and logged, not 403: an outage must not look like everybody logging out.
func (s *Service) AuthRequestHandler() http.Handler {
	return s.loadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = s.withClient(r)
		ctx := r.Context()
		if d := s.cfg.StoreTimeout; d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeoutCause(ctx, d, ErrStoreTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		// The answer depends on the credentials: no cache may keep it for another request.
		w.Header().Set("Cache-Control", "no-store")
		auth, err := s.authenticate(r, false)
		if err == nil {
			err = s.checkMFA(ctx, auth, false)
		}
		var (
			authErr *AuthError
			denied  *PermissionError
		)
		switch {
		case err == nil && auth.user != nil:
			w.WriteHeader(http.StatusOK)
		case err == nil || errors.As(err, &authErr) || errors.As(err, &denied) || errors.Is(err, ErrThrottled):
			w.WriteHeader(http.StatusForbidden)
		default:
			s.log.ErrorContext(ctx, "restauth: auth request could not be checked", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
		}
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

// clientIP returns the address to rate-limit r's client by: internal/clientip's Address
// of r.RemoteAddr and the X-Forwarded-For lines, which are read only when the peer is a
// trusted proxy (Config.TrustedProxies, Config.TrustSocketProxy). IPv6 clients are
// grouped by their /64.
func clientIP(r *http.Request, cfg *Config) string {
	return clientip.Address(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), cfg.TrustedProxies, cfg.TrustSocketProxy)
}

// withClient puts the request's Client (its address as Config.TrustedProxies tell it, and
// its user agent) into the request's context for the operations, unless a Client is there
// already (Middleware wrapping the handlers, or a host that set its own).
func (s *Service) withClient(r *http.Request) *http.Request {
	if _, ok := ClientFromContext(r.Context()); ok {
		return r
	}
	c := Client{Addr: clientIP(r, &s.cfg), UserAgent: r.UserAgent()}
	return r.WithContext(WithClient(r.Context(), c))
}
