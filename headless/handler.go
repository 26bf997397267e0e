// Package headless serves django-allauth's headless API (allauth 65, the
// `/_allauth/{client}/v1/…` routes with `{status, data, meta}` envelopes and
// authentication flows) over the operations of a restauth.Service. It is its own package
// so that the compiler holds it to the Service's exported operations: every rule (rate
// limits, enumeration prevention, MFA gating, audit events, mail) is the operation's, and
// this package only decodes, calls and encodes.
//
// Two clients are served: "browser" (the session cookie, with Django's CSRF check on
// unsafe methods and the csrftoken cookie set on every answer) and "app" (the session is
// named by the X-Session-Token header and handed out in meta.session_token; no cookies).
package headless

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/restauth/restauth"
)

// Client is one of allauth's headless clients.
type Client string

const (
	// Browser is the browser client: session cookie and CSRF.
	Browser Client = "browser"
	// App is the app client: the X-Session-Token header, no cookies.
	App Client = "app"
)

// Options configure Handler.
type Options struct {
	// Prefix is the path the handler is mounted under. Default "/_allauth/".
	Prefix string
	// Client, when set, serves only that client at Prefix + "v1/…", without the {client}
	// segment: InvenTree mounts the browser client at "/api/auth/" this way
	// ("/api/auth/v1/auth/login"). Empty: both clients, at Prefix + "{client}/v1/…".
	Client Client
	// Logger receives the failures answered with 500. Default slog.Default().
	Logger *slog.Logger
	// AppJWT selects allauth's JWT token strategy for the app client: logins answer
	// meta.access_token and meta.refresh_token (Config.JWT), requests authenticate with
	// "Authorization: Bearer <access>", and tokens/refresh rotates the pair. Off: the
	// session token only (allauth's default strategy).
	AppJWT bool
}

// handler serves the headless routes.
type handler struct {
	svc    *restauth.Service
	opts   Options
	routes map[string]route
}

// route is one path's methods.
type route map[string]func(*call) *answer

// Handler returns the headless API of svc, to mount at opts.Prefix.
func Handler(svc *restauth.Service, opts Options) http.Handler {
	if opts.Prefix == "" {
		opts.Prefix = "/_allauth/"
	}
	if !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &handler{svc: svc, opts: opts}
	h.routes = h.routeTable()
	return h
}

// routeTable lists the served paths below "{client}/v1/". Paths of features that are off
// (phone, WebAuthn) are not listed and answer 404, as allauth does when their app or
// setting is off.
func (h *handler) routeTable() map[string]route {
	routes := map[string]route{
		"config":                   {http.MethodGet: h.config},
		"auth/session":             {http.MethodGet: h.session, http.MethodDelete: h.logout},
		"auth/login":               {http.MethodPost: h.login},
		"auth/signup":              {http.MethodPost: h.signup},
		"auth/reauthenticate":      {http.MethodPost: h.reauthenticate},
		"auth/2fa/authenticate":    {http.MethodPost: h.mfaAuthenticate},
		"auth/2fa/reauthenticate":  {http.MethodPost: h.mfaReauthenticate},
		"auth/password/request":    {http.MethodPost: h.passwordRequest},
		"auth/password/reset":      {http.MethodGet: h.passwordResetInfo, http.MethodPost: h.passwordReset},
		"auth/email/verify":        {http.MethodGet: h.emailVerifyInfo, http.MethodPost: h.emailVerify},
		"auth/email/verify/resend": {http.MethodPost: h.emailVerifyResend},
		"auth/provider/redirect":   {http.MethodPost: h.providerRedirect},
		callbackRoute:              {http.MethodGet: h.providerCallback},
		"auth/provider/token":      {http.MethodPost: h.providerToken},
		"auth/provider/signup":     {http.MethodGet: h.providerSignupInfo, http.MethodPost: h.providerSignup},
		"account/email": {
			http.MethodGet: h.emailGet, http.MethodPost: h.emailAdd, http.MethodPut: h.emailResend,
			http.MethodPatch: h.emailPrimary, http.MethodDelete: h.emailRemove,
		},
		"account/password/change":               {http.MethodPost: h.passwordChange},
		"account/providers":                     {http.MethodGet: h.providersGet, http.MethodDelete: h.providerDisconnect},
		"account/authenticators":                {http.MethodGet: h.authenticators},
		"account/authenticators/totp":           {http.MethodGet: h.totpGet, http.MethodPost: h.totpActivate, http.MethodDelete: h.totpDeactivate},
		"account/authenticators/recovery-codes": {http.MethodGet: h.recoveryCodesGet, http.MethodPost: h.recoveryCodesRegenerate},
		"auth/sessions":                         {http.MethodGet: h.sessions, http.MethodDelete: h.endSessions},
		"auth/code/request":                     {http.MethodPost: h.codeRequest},
		"auth/code/confirm":                     {http.MethodPost: h.codeConfirm},
		"auth/code/resend":                      {http.MethodPost: h.codeResend},
		"auth/2fa/trust":                        {http.MethodPost: h.mfaTrust},
		"tokens/refresh":                        {http.MethodPost: h.tokensRefresh},
	}
	h.webauthnRoutes(routes)
	return routes
}

// split returns the client and the route path of a request path, ok false when the path
// is not below the prefix or names no served client.
func (h *handler) split(path string) (Client, string, bool) {
	rest, ok := strings.CutPrefix(path, h.opts.Prefix)
	if !ok {
		return "", "", false
	}
	client := h.opts.Client
	if client == "" {
		var c string
		c, rest, ok = strings.Cut(rest, "/")
		if !ok || (Client(c) != Browser && Client(c) != App) {
			return "", "", false
		}
		client = Client(c)
	}
	rest, ok = strings.CutPrefix(rest, "v1/")
	return client, strings.TrimSuffix(rest, "/"), ok
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = h.svc.WithRequestClient(r)
	r = r.WithContext(restauth.WithDialect(r.Context(), restauth.DialectHeadless))
	client, path, ok := h.split(r.URL.Path)
	if !ok {
		writeAnswer(w, &answer{status: http.StatusNotFound})
		return
	}
	c := &call{h: h, client: client, w: w, r: r}
	c.serve(h.routes[routeOf(path)])
}
