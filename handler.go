package restauth

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/restauth/restauth/internal/drf"
)

// route is one endpoint below a handler's prefix.
type route struct {
	// pattern is the path below the prefix, e.g. "emails/{id}/primary/"; {id} matches a
	// decimal integer and {name} any non-empty segment.
	pattern string
	// methods lists the allowed methods in DRF's order (HEAD is implied by GET).
	methods []string
	// public routes allow anonymous callers; a bad credential is still refused.
	public bool
	// basicOnly routes authenticate by Basic only: the login route ignores tokens and
	// sessions and never checks CSRF, like the reference.
	basicOnly bool
	// usesSession routes read or write the session even when a token authenticates the
	// request (login, logout, registration, password change); other routes skip loading
	// the session for token requests, since a valid token wins over a session cookie.
	usesSession bool
	// sameOrigin routes refuse browsers' cross-origin unsafe requests even from anonymous
	// callers, whom CSRF does not cover: login and registration open a session, and a
	// forged one would log the victim's browser into the attacker's account.
	sameOrigin bool
	// beforeMFA routes stay open, when MFA is required, to a user who has not enrolled
	// yet (with any credential, Basic included): the enrolment routes and logout.
	beforeMFA bool
	// page routes are server-rendered Django views, not DRF ones (allauth's
	// ConfirmEmailView): nobody is authenticated, so a session's X-CSRFToken rule and a
	// bad token do not apply; the handler checks the form's own CSRF token.
	page bool
	// name is reported by OPTIONS.
	name string
	// view is the rest of what OPTIONS reports: the description and the serializer's
	// fields (http_291_metadata.go); nil for Django views that are not DRF ones.
	view   *view
	handle handlerFunc

	segments []string
	allow    string
	// allowHeader is allow as a header value, shared by every answer: DRF sends Allow on
	// each response of a view, and assigning the same slice costs no allocation.
	allowHeader []string
}

// api291 is the InvenTree API 291 dialect (dj-rest-auth and allauth behind DRF): the
// handlers of /api/auth/ and /api/user/, in the http_291_*.go files. A handler decodes the
// request, calls one exported Service operation and encodes the answer; the rules live in
// the operations (a test, TestDialect291IsThin, holds the handler files to the exported
// API). The router in this file runs DRF's checks (authentication, CSRF, MFA gating,
// 404/401/405) before the handler.
type api291 struct {
	svc *Service
}

// handlerFunc serves one route. It returns an error instead of answering it: the router
// writes every error once, in DRF's shapes (writeError). A handler returns an error only
// before it has written anything.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// call carries what the router learnt about a request to the route's handler, through the
// request's context (one context value per request: it is also the request's Client, see
// ClientFromContext). Handlers read it with caller, callerToken, pathID and pathName.
type call struct {
	client Client
	auth   requestAuth
	id     int64
	param  string
	// prefix and route name the matched route for log lines (see logPath): a path can
	// hold a confirmation key, a pattern cannot.
	prefix string
	route  *route
}

// callOf returns the router's call for r; an empty one outside the router.
func callOf(r *http.Request) *call {
	if c, ok := r.Context().Value(clientKey{}).(*call); ok {
		return c
	}
	return &call{}
}

// caller is the authenticated user of the request, nil when anonymous.
func caller(r *http.Request) *User { return callOf(r).auth.user }

// callerToken is the token the request was authenticated with, nil for other methods.
func callerToken(r *http.Request) *APIToken { return callOf(r).auth.token }

// callerMethod tells how the request was authenticated.
func callerMethod(r *http.Request) AuthMethod { return callOf(r).auth.method }

// pathID is the route's {id} segment.
func pathID(r *http.Request) int64 { return callOf(r).id }

// pathName is the route's {name} segment.
func pathName(r *http.Request) string { return callOf(r).param }

// router dispatches requests below one prefix. Matching, authentication, permission and
// method checks run in DRF's order: authentication (and CSRF) first, so that a bad
// credential is 401 even on an unknown path, then 404, then 401 for anonymous callers of
// protected routes, then 405.
type router struct {
	svc    *Service
	prefix string
	static map[string]*route
	params []*route
	// withSession is the router wrapped in the session manager's LoadAndSave.
	withSession http.Handler
}

func newRouter(s *Service, prefix string, routes []*route) *router {
	rt := &router{svc: s, prefix: prefix, static: make(map[string]*route)}
	rt.withSession = s.loadAndSave(http.HandlerFunc(rt.serve))
	for _, r := range routes {
		methods := append([]string(nil), r.methods...)
		for _, m := range r.methods {
			if m == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
		r.allow = strings.Join(append(methods, http.MethodOptions), ", ")
		r.allowHeader = []string{r.allow}
		if strings.Contains(r.pattern, "{") {
			r.segments = strings.Split(r.pattern, "/")
			rt.params = append(rt.params, r)
		} else {
			rt.static[r.pattern] = r
		}
	}
	return rt
}

// match finds the route for a path below the prefix.
func (rt *router) match(rel string, c *call) *route {
	if r, ok := rt.static[rel]; ok {
		return r
	}
	if !strings.HasSuffix(rel, "/") {
		return nil
	}
	segs := strings.Split(rel, "/")
outer:
	for _, r := range rt.params {
		if len(r.segments) != len(segs) {
			continue
		}
		var id int64
		var param string
		for i, want := range r.segments {
			got := segs[i]
			switch want {
			case "{id}":
				n, err := strconv.ParseInt(got, 10, 64)
				if err != nil || n <= 0 || got[0] == '+' {
					continue outer
				}
				id = n
			case "{name}":
				if got == "" {
					continue outer
				}
				param = got
			default:
				if got != want {
					continue outer
				}
			}
		}
		c.id, c.param = id, param
		return r
	}
	return nil
}

// ServeHTTP loads the session unless the request authenticates by token on a route that
// does not use the session: the token path is every API client's hot path.
func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{}
	if outer, ok := ClientFromContext(r.Context()); ok {
		c.client = outer // the host's Middleware or its own WithClient
	} else {
		c.client = Client{Addr: clientIP(r, &rt.svc.cfg), UserAgent: r.UserAgent()}
	}
	ctx := r.Context()
	if d := rt.svc.cfg.StoreTimeout; d > 0 {
		// One timer per request bounds every store call of it (Config.StoreTimeout); the
		// cause tells writeError this deadline from the client's or the host's.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, ErrStoreTimeout)
		defer cancel()
	}
	r = r.WithContext(context.WithValue(ctx, clientKey{}, c))
	if scheme, _, _ := splitAuthorization(r.Header.Get("Authorization")); strings.EqualFold(scheme, "token") {
		if rte := rt.match(rt.relative(r), c); rte == nil || !rte.usesSession {
			rt.dispatch(w, r, rte, c) // matched once: this is the hot path
			return
		}
	}
	rt.withSession.ServeHTTP(w, r)
}

func (rt *router) relative(r *http.Request) string {
	rel, ok := strings.CutPrefix(r.URL.Path, rt.prefix)
	if !ok {
		// Mounted behind http.StripPrefix: the path is already relative.
		rel = strings.TrimPrefix(r.URL.Path, "/")
	}
	return rel
}

// serve matches the route and dispatches; it runs inside the session manager.
func (rt *router) serve(w http.ResponseWriter, r *http.Request) {
	c := callOf(r)
	rt.dispatch(w, r, rt.match(rt.relative(r), c), c)
}

// dispatch runs the checks in DRF's order for a matched route (nil: unknown path).
func (rt *router) dispatch(w http.ResponseWriter, r *http.Request, rte *route, c *call) {
	s := rt.svc
	if rte != nil {
		w.Header()["Allow"] = rte.allowHeader
		c.prefix, c.route = rt.prefix, rte
	}

	var auth requestAuth
	var err error
	if rte == nil || !rte.page {
		auth, err = s.authenticate(r, rte != nil && rte.basicOnly)
	}
	if err == nil && rte != nil && rte.sameOrigin && !isSafeMethod(r.Method) {
		err = s.checkOrigin(r)
	}
	if err == nil && (rte == nil || !rte.basicOnly && !rte.page) {
		// Not on login/: it reads the credentials in the body, whatever Basic says, and
		// asks for the second factor itself.
		err = s.checkMFA(r.Context(), auth, rte != nil && rte.beforeMFA)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c.auth = auth
	if rte == nil {
		drf.WriteJSON(w, http.StatusNotFound, struct {
			Detail string `json:"detail"`
			URL    string `json:"url"`
		}{"API endpoint not found", drf.AbsoluteURL(r).String()})
		return
	}
	if !rte.public && auth.user == nil {
		w.Header().Set("WWW-Authenticate", "Token")
		writeDetail(w, http.StatusUnauthorized, msgNotAuthenticated)
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if method == http.MethodOptions {
		drf.WriteJSON(w, http.StatusOK, metadataFor(rte, auth))
		return
	}
	for _, m := range rte.methods {
		if m == method {
			if err := s.throttleAnonymousBody(r, rte, auth); err != nil {
				s.writeError(w, r, err)
				return
			}
			if err := rte.handle(w, r); err != nil {
				s.writeError(w, r, err)
			}
			return
		}
	}
	writeDetail(w, http.StatusMethodNotAllowed, `Method "`+r.Method+`" not allowed.`)
}

// throttleAnonymousBody counts an anonymous unsafe request to a public route under
// RateLimits.BodyPerIP before its handler reads the body: these are the requests anyone
// can send in bulk, and refusing them here costs no byte of the body (the operations'
// own per-address rules run only after it was decoded).
func (s *Service) throttleAnonymousBody(r *http.Request, rte *route, auth requestAuth) error {
	if !rte.public || auth.user != nil || isSafeMethod(r.Method) {
		return nil
	}
	return s.throttleAddr(r.Context(), s.cfg.RateLimits.BodyPerIP)
}

// Handler returns the http.Handler for the /api/auth/ routes, to be mounted at
// Config.Prefix (or behind http.StripPrefix). It loads and saves sessions itself.
func (s *Service) Handler() http.Handler {
	d := &api291{svc: s}
	return newRouter(s, s.cfg.Prefix, withViews(d.authRoutes(), d.authViews()))
}

// UserHandler returns the http.Handler for the companion /api/user/ routes InvenTree's
// clients call (me/, roles/, token/, tokens/), to be mounted at Config.UserPrefix.
func (s *Service) UserHandler() http.Handler {
	d := &api291{svc: s}
	return newRouter(s, s.cfg.UserPrefix, withViews(d.userRoutes(), d.userViews()))
}

// APIHandler returns the InvenTree-shaped handler of the whole /api/ tree, to be mounted
// at "/api/" (not behind http.StripPrefix): GET /api/ (server information, anonymous;
// Config.ServerName is its "server"), Handler at Config.Prefix and UserHandler at
// Config.UserPrefix (when those lie below /api/), with Config.MagicLink.Enabled the
// magic-link routes POST /api/email/generate/ and GET /api/email/login/
// (http_291_magic.go), and, for every other path below /api/,
// InvenTree's JSON 404 {"detail": "API endpoint not found", "url": …} after
// authentication, as DRF answers it. A host's own routes below /api/ are registered on
// its mux beside it: the longer pattern wins there.
func (s *Service) APIHandler() http.Handler {
	d := &api291{svc: s}
	mounts := []apiMount{{s.cfg.Prefix, s.Handler()}, {s.cfg.UserPrefix, s.UserHandler()}}
	if s.cfg.MagicLink.Enabled {
		mounts = append(mounts, apiMount{magicRoot, newRouter(s, magicRoot, withViews(d.magicRoutes(), d.magicViews()))})
	}
	return newAPIMux(newRouter(s, apiRoot, withViews(d.apiRoutes(), d.apiViews())), mounts...)
}

func (d *api291) authRoutes() []*route {
	post := []string{http.MethodPost}
	routes := []*route{
		{pattern: "login/", methods: post, public: true, basicOnly: true, usesSession: true, sameOrigin: true, name: "Login", handle: d.handleLogin},
		{pattern: "logout/", methods: post, public: true, usesSession: true, beforeMFA: true, name: "Logout", handle: d.handleLogout},
		{pattern: "user/", methods: []string{http.MethodGet, http.MethodPut, http.MethodPatch}, name: "User Details", handle: d.handleUserDetails},
		{pattern: "password/change/", methods: post, usesSession: true, name: "Password Change", handle: d.handlePasswordChange},
		{pattern: "registration/", methods: post, public: true, usesSession: true, sameOrigin: true, name: "Register", handle: d.handleRegister},
		{pattern: "providers/", methods: []string{http.MethodGet}, public: true, name: "Social Provider List", handle: d.handleProviders},
		{pattern: "password/reset/", methods: post, public: true, name: "Password Reset", handle: d.handlePasswordReset},
		{pattern: "password/reset/confirm/", methods: post, public: true, name: "Password Reset Confirm", handle: d.handlePasswordResetConfirm},
		{pattern: confirmPagePath + "{name}/", methods: []string{http.MethodGet, http.MethodPost}, public: true, page: true, name: "Confirm Email", handle: d.confirmEmailPage},
		{pattern: mfaPagePath, methods: []string{http.MethodGet, http.MethodPost}, public: true, page: true, usesSession: true, name: "Two-Factor Authenticate", handle: d.mfaPage},
		{pattern: "registration/verify-email/", methods: post, public: true, name: "Verify Email", handle: d.verifyEmail},
		{pattern: "registration/resend-email/", methods: post, public: true, name: "Resend Email Verification", handle: d.resendEmail},
		{pattern: "emails/", methods: []string{http.MethodGet, http.MethodPost}, name: "Email List", handle: d.emails},
		{pattern: "emails/{id}/primary/", methods: post, name: "Email Primary", handle: d.emailPrimary},
		{pattern: "emails/{id}/verify/", methods: post, name: "Email Verify", handle: d.emailVerify},
		{pattern: "emails/{id}/remove/", methods: post, name: "Email Remove", handle: d.emailRemove},
		{pattern: "social/", methods: []string{http.MethodGet}, name: "Social Account List", handle: d.handleSocialAccounts},
		{pattern: "social/{id}/disconnect/", methods: post, name: "Social Account Disconnect", handle: d.handleSocialDisconnect},
		// The browser flows are public: a failure (connect without a login session
		// included) is a redirect to the error URL, never a JSON dead end.
		{pattern: "social/{name}/login/", methods: []string{http.MethodGet}, public: true, usesSession: true, name: "Social Login", handle: d.handleSocialLogin},
		{pattern: "social/{name}/connect/", methods: []string{http.MethodGet}, public: true, usesSession: true, name: "Social Connect", handle: d.handleSocialConnect},
		{pattern: "social/{name}/callback/", methods: []string{http.MethodGet}, public: true, usesSession: true, name: "Social Callback", handle: d.handleSocialCallback},
	}
	if d.svc.cfg.MFA.Enabled {
		routes = append(routes,
			&route{pattern: "mfa/totp/", methods: []string{http.MethodGet, http.MethodPost, http.MethodDelete}, beforeMFA: true, name: "MFA TOTP", handle: d.totp},
			&route{pattern: "mfa/recovery-codes/", methods: []string{http.MethodGet, http.MethodPost}, beforeMFA: true, name: "MFA Recovery Codes", handle: d.recoveryCodes},
		)
	}
	return routes
}

func (d *api291) userRoutes() []*route {
	return []*route{
		{pattern: "me/", methods: []string{http.MethodGet, http.MethodPut, http.MethodPatch}, name: "Me", handle: d.handleMe},
		{pattern: "roles/", methods: []string{http.MethodGet}, name: "Role Details", handle: d.handleRoles},
		{pattern: "token/", methods: []string{http.MethodGet}, name: "Get Auth Token", handle: d.userToken},
		{pattern: "me/token/", methods: []string{http.MethodGet}, name: "Get Auth Token", handle: d.userToken},
		{pattern: "tokens/", methods: []string{http.MethodGet}, name: "Api Token List", handle: d.tokenList},
		{pattern: "tokens/{id}/", methods: []string{http.MethodGet, http.MethodDelete}, name: "Api Token Detail", handle: d.tokenDetail},
	}
}
