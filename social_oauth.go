package restauth

import (
	"cmp"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/restauth/restauth/internal/oauthflow"
)

// The browser flow (login/, connect/, callback/).
//
// Origin: login/ and connect/ are GETs a link on any site could point at, and a flow
// started by another site would log the victim in as the attacker's provider account
// (login CSRF) or, worse, link it to the victim's account (connect). Both refuse, with
// cross_site_request, a navigation the browser marks as coming from another origin unless
// its Origin/Referer is a trusted origin (see startAllowed). The callback has no such check:
// the provider's site legitimately sends the browser there.
//
// Binding: login/ and connect/ draw a random state, PKCE verifier and (OpenID Connect)
// nonce and keep them, with the provider, the mode and the connecting user, in a cookie
// of their own: AES-256-GCM under a key derived from Config.Secret (so it is both signed
// and unreadable), HttpOnly, SameSite=Lax (sent on the provider's top-level redirect back),
// Path limited to the social routes, valid 10 minutes. Its name is derived from the state,
// so flows started in several tabs never overwrite each other, and nothing depends on the
// session cookie surviving the round trip — the usual cause of goth's "could not find a
// matching session for this request". The callback finds the cookie through the state it
// is given; without the cookie of that state (another browser, a forged or mismatched
// state) the flow fails. The cookie is deleted by the callback and the state remembered
// until the flow's expiry, so a replayed state fails even with a copy of the cookie.

// socialFlowTTL is how long a started flow may take to come back.
const socialFlowTTL = 10 * time.Minute

// maxSocialNext bounds the "next" URL kept in the flow cookie.
const maxSocialNext = 1024

// Reasons a flow fails with; the error redirect carries one of them as sso_error.
const (
	reasonSSODisabled         = "sso_disabled"
	reasonLoginRequired       = "login_required"
	reasonCrossSiteRequest    = "cross_site_request"
	reasonProviderUnavailable = "provider_unavailable"
	reasonStateMissing        = "state_missing"
	reasonStateMismatch       = "state_mismatch"
	reasonFlowExpired         = "flow_expired"
	reasonFlowReplayed        = "flow_replayed"
	reasonAccessDenied        = "access_denied"
	reasonProviderError       = "provider_error"
	reasonCodeMissing         = "code_missing"
	reasonExchangeFailed      = "exchange_failed"
	reasonInvalidIDToken      = "invalid_id_token"
	reasonNonceMismatch       = "nonce_mismatch"
	reasonProfileFailed       = "profile_failed"
	reasonRegistrationClosed  = "registration_closed"
	reasonEmailInUse          = "email_in_use"
	reasonAccountInUse        = "account_in_use"
	reasonInactive            = "inactive"
	reasonEmailNotVerified    = "email_not_verified"
	reasonMFARequired         = "mfa_required"
	reasonServerError         = "server_error"
)

// socialFailure ends a flow with a reason; err, when set, is logged (never shown).
type socialFailure struct {
	reason string
	err    error
}

func (f *socialFailure) Error() string {
	if f.err != nil {
		return "restauth: social login failed: " + f.reason + ": " + f.err.Error()
	}
	return "restauth: social login failed: " + f.reason
}

func socialFail(reason string, err error) *socialFailure {
	return &socialFailure{reason: reason, err: err}
}

// socialFlow is what the flow cookie holds (internal/oauthflow seals it).
type socialFlow = oauthflow.Flow

// flowCookie is the flow cookie with value (empty: deleting it).
func (s *Service) flowCookie(name, value string) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     s.cfg.Prefix + "social/",
		MaxAge:   int(socialFlowTTL / time.Second),
		HttpOnly: true,
		Secure:   s.site.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}

// safeNext resolves a requested post-login target against SiteURL and keeps it only if it
// stays on SiteURL's origin; anything else (another host, a scheme-relative "//evil", a
// backslash trick, javascript:) is dropped in favour of the configured redirect.
func (s *Service) safeNext(raw string) string {
	if raw == "" || len(raw) > maxSocialNext || strings.ContainsAny(raw, "\\") {
		return ""
	}
	for _, r := range raw {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	abs := s.site.ResolveReference(u)
	if !sameOrigin(s.site, abs) {
		return ""
	}
	return abs.String()
}

// startAllowed reports whether a request may start a flow, judging where the browser says
// it came from. Fetch metadata decides when present: Sec-Fetch-Site "same-origin" (a page
// of this origin) and "none" (a typed URL, a bookmark) are allowed; "same-site",
// "cross-site" (or anything else) only when Origin and Referer name trusted origins, at
// least one of them present. Without Sec-Fetch-Site (an older browser, a non-browser
// client) an Origin or Referer naming another origin is refused, and their absence allowed.
func (ss *socialService) startAllowed(h http.Header) bool {
	var sources []string
	for _, name := range []string{"Origin", "Referer"} {
		for _, v := range h.Values(name) {
			if v != "" {
				sources = append(sources, v)
			}
		}
	}
	switch h.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		if len(sources) == 0 {
			return false
		}
	}
	for _, src := range sources {
		if !ss.trustedOrigins[originKey(src)] {
			return false
		}
	}
	return true
}

// originKey is the origin of an absolute http(s) URL (an Origin header, a Referer, a
// configured origin), lower-cased and without a default port, or "" for anything else
// ("null", a relative or opaque URL, user info).
func originKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch scheme {
	case "http":
		host = strings.TrimSuffix(host, ":80")
	case "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return ""
	}
	return scheme + "://" + host
}

// socialRedirect answers a browser-flow step with 302 to target and no body.
func socialRedirect(w http.ResponseWriter, target string) {
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	// The callback URL carries the code and state; keep them out of Referer headers.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

// failRedirect ends a flow at the configured error URL, logging the cause. The reason
// comes from a fixed list; nothing the provider or the browser sent goes into the URL.
func (s *Service) failRedirect(w http.ResponseWriter, r *http.Request, p *socialProvider, f *socialFailure) {
	args := []any{"provider", p.cfg.ID, "reason", f.reason}
	if f.err != nil {
		args = append(args, "error", f.err)
	}
	if f.reason == reasonServerError {
		s.log.ErrorContext(r.Context(), "restauth: social login failed", args...)
	} else {
		s.log.InfoContext(r.Context(), "restauth: social login failed", args...)
	}
	socialRedirect(w, strings.ReplaceAll(s.social.errorRedirect, "{reason}", url.QueryEscape(f.reason)))
}

// lookupProvider finds a configured provider or answers 404.
func (s *Service) lookupProvider(w http.ResponseWriter, r *http.Request) *socialProvider {
	p := s.social.byID[pathName(r)]
	if p == nil || !p.configured() {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return nil
	}
	return p
}

func (s *Service) handleSocialLogin(w http.ResponseWriter, r *http.Request) error {
	s.startSocialFlow(w, r, false)
	return nil
}

func (s *Service) handleSocialConnect(w http.ResponseWriter, r *http.Request) error {
	s.startSocialFlow(w, r, true)
	return nil
}

// startSocialFlow serves GET social/{provider}/login/ and connect/: 302 to the provider.
// An optional ?next= (on SiteURL's origin) is where a successful flow ends.
func (s *Service) startSocialFlow(w http.ResponseWriter, r *http.Request, connect bool) {
	p := s.lookupProvider(w, r)
	if p == nil {
		return
	}
	if !s.cfg.Social.Enabled {
		s.failRedirect(w, r, p, socialFail(reasonSSODisabled, nil))
		return
	}
	if !s.social.startAllowed(r.Header) {
		s.failRedirect(w, r, p, socialFail(reasonCrossSiteRequest,
			fmt.Errorf("Sec-Fetch-Site %q", truncateBytes(r.Header.Get("Sec-Fetch-Site"), 20))))
		return
	}
	flow := &socialFlow{Provider: p.cfg.ID, Connect: connect, Next: s.safeNext(r.URL.Query().Get("next"))}
	if connect {
		// Connecting needs the browser's own login session: the callback checks that the
		// same user is still logged in there.
		if caller(r) == nil || callerMethod(r) != AuthSession {
			s.failRedirect(w, r, p, socialFail(reasonLoginRequired, nil))
			return
		}
		flow.UserID = caller(r).ID
	}
	if err := p.ready(r.Context(), s.social.client, s.now); err != nil {
		s.failRedirect(w, r, p, socialFail(reasonProviderUnavailable, err))
		return
	}
	var err error
	if flow.State, err = oauthflow.Random(32); err == nil {
		flow.Verifier = oauth2.GenerateVerifier()
		if p.isOIDC() {
			flow.Nonce, err = oauthflow.Random(32)
		}
	}
	if err != nil {
		s.failRedirect(w, r, p, socialFail(reasonServerError, err))
		return
	}
	flow.Expires = s.now().Add(socialFlowTTL).Unix()
	name := oauthflow.CookieName(flow.State)
	value, err := oauthflow.Seal(s.cfg.Secret, name, flow)
	if err != nil {
		s.failRedirect(w, r, p, socialFail(reasonServerError, err))
		return
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(flow.Verifier)}
	if flow.Nonce != "" {
		opts = append(opts, oidc.Nonce(flow.Nonce))
	}
	for k, v := range p.cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	http.SetCookie(w, s.flowCookie(name, value))
	socialRedirect(w, s.oauth2Config(p).AuthCodeURL(flow.State, opts...))
}

// handleSocialCallback serves GET social/{provider}/callback/: every outcome but a
// success is a redirect to the error URL.
func (s *Service) handleSocialCallback(w http.ResponseWriter, r *http.Request) error {
	p := s.lookupProvider(w, r)
	if p == nil {
		return nil
	}
	target, f := s.socialCallback(w, r, p)
	if f != nil {
		s.failRedirect(w, r, p, f)
		return nil
	}
	socialRedirect(w, target)
	return nil
}

func (s *Service) socialCallback(w http.ResponseWriter, r *http.Request, p *socialProvider) (string, *socialFailure) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		return "", socialFail(reasonStateMissing, nil)
	}
	if len(state) > 256 {
		return "", socialFail(reasonStateMismatch, nil)
	}
	name := oauthflow.CookieName(state)
	cookie, err := r.Cookie(name)
	if err != nil {
		return "", socialFail(reasonStateMismatch, nil)
	}
	// Whatever happens next, this flow is over.
	http.SetCookie(w, s.flowCookie(name, ""))
	flow, err := oauthflow.Open(s.cfg.Secret, name, cookie.Value)
	if err != nil {
		return "", socialFail(reasonStateMismatch, err)
	}
	if subtle.ConstantTimeCompare([]byte(flow.State), []byte(state)) != 1 || flow.Provider != p.cfg.ID {
		return "", socialFail(reasonStateMismatch, nil)
	}
	now := s.now()
	expires := time.Unix(flow.Expires, 0)
	if now.After(expires) {
		return "", socialFail(reasonFlowExpired, nil)
	}
	if !s.social.used.Consume(state, expires, now) {
		return "", socialFail(reasonFlowReplayed, nil)
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return "", socialFail(reasonAccessDenied, nil)
		}
		return "", socialFail(reasonProviderError, fmt.Errorf("provider error %q", truncateBytes(e, 100)))
	}
	code := q.Get("code")
	if code == "" {
		return "", socialFail(reasonCodeMissing, nil)
	}
	if !s.cfg.Social.Enabled {
		return "", socialFail(reasonSSODisabled, nil)
	}
	var sessionUser *User
	if callerMethod(r) == AuthSession {
		sessionUser = caller(r)
	}
	if flow.Connect && (sessionUser == nil || sessionUser.ID != flow.UserID) {
		return "", socialFail(reasonLoginRequired, nil)
	}
	if err := p.ready(ctx, s.social.client, s.now); err != nil {
		return "", socialFail(reasonProviderUnavailable, err)
	}
	prof, f := s.fetchProfile(ctx, p, flow, code)
	if f != nil {
		return "", f
	}
	if flow.Connect {
		if f := s.connectSocialAccount(ctx, p, prof, sessionUser); f != nil {
			return "", f
		}
		return cmp.Or(flow.Next, s.social.connectRedirect), nil
	}
	u, f := s.socialLogin(ctx, p, prof)
	if f != nil {
		return "", f
	}
	if err := s.loginSession(w, r, u); err != nil {
		return "", socialFail(reasonServerError, err)
	}
	s.audit(ctx, AuditLoginSucceeded, u, "method=social provider="+p.cfg.ID)
	return cmp.Or(flow.Next, s.social.loginRedirect), nil
}

// truncateBytes shortens untrusted text for a log line.
func truncateBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
