package restauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/sso"
)

// The 291 dialect of social login: InvenTree's providers/ and social/ account routes, and
// the browser flow as GETs (social/<id>/login/, connect/, callback/). The flow's rules are
// BeginSocialFlow's and FinishSocialFlow's; what stays here is HTTP: the flow cookie, the
// judgement of where a start came from, the session and the redirects. Every outcome of a
// flow but an unknown provider (404) is a redirect, never a JSON dead end: the browser is
// on its way between sites, not in the app.

// providerJSON describes one social login provider.
type providerJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Configured  bool   `json:"configured"`
	Login       string `json:"login"`
	Connect     string `json:"connect"`
	DisplayName string `json:"display_name"`
}

// providersJSON is InvenTree's SocialProviderListView answer: one object, never paginated.
type providersJSON struct {
	SSOEnabled               bool           `json:"sso_enabled"`
	SSORegistration          bool           `json:"sso_registration"`
	MFARequired              bool           `json:"mfa_required"`
	MFAEnabled               bool           `json:"mfa_enabled"`
	Providers                []providerJSON `json:"providers"`
	RegistrationEnabled      bool           `json:"registration_enabled"`
	PasswordForgottenEnabled bool           `json:"password_forgotten_enabled"`
}

// socialAccountJSON is allauth's SocialAccount as InvenTree's SocialAccountListView shows it.
type socialAccountJSON struct {
	ID         int64    `json:"id"`
	Provider   string   `json:"provider"`
	UID        string   `json:"uid"`
	LastLogin  jsonTime `json:"last_login"`
	DateJoined jsonTime `json:"date_joined"`
}

// socialURL is the absolute URL of a social route of provider id (see socialRouteURL).
func (d *api291) socialURL(id, action string) string {
	return socialRouteURL(&d.svc.cfg, id, action)
}

// handleProviders serves GET providers/.
func (d *api291) handleProviders(w http.ResponseWriter, r *http.Request) error {
	providers := d.svc.SocialProviders()
	list := make([]providerJSON, 0, len(providers))
	for _, p := range providers {
		list = append(list, providerJSON{
			ID:          p.ID,
			Name:        p.Name,
			Configured:  p.Configured,
			Login:       d.socialURL(p.ID, "login"),
			Connect:     d.socialURL(p.ID, "connect"),
			DisplayName: p.DisplayName,
		})
	}
	cfg := &d.svc.cfg
	drf.WriteJSON(w, http.StatusOK, providersJSON{
		SSOEnabled:               cfg.Social.Enabled,
		SSORegistration:          cfg.Social.Registration,
		MFARequired:              cfg.MFA.Enabled && cfg.MFA.Required,
		MFAEnabled:               cfg.MFA.Enabled,
		Providers:                list,
		RegistrationEnabled:      !cfg.DisableRegistration,
		PasswordForgottenEnabled: !cfg.DisablePasswordReset,
	})
	return nil
}

// handleSocialAccounts serves GET social/.
func (d *api291) handleSocialAccounts(w http.ResponseWriter, r *http.Request) error {
	accounts, err := d.svc.SocialAccounts(r.Context(), caller(r).ID)
	if err != nil {
		return err
	}
	out := make([]socialAccountJSON, len(accounts))
	for i, a := range accounts {
		out[i] = socialAccountJSON{ID: a.ID, Provider: a.Provider, UID: a.UID,
			LastLogin: jsonTime(a.LastLogin), DateJoined: jsonTime(a.DateJoined)}
	}
	drf.WriteList(w, r, out)
	return nil
}

// handleSocialDisconnect serves POST social/{id}/disconnect/; the body is ignored.
func (d *api291) handleSocialDisconnect(w http.ResponseWriter, r *http.Request) error {
	if err := d.svc.DisconnectSocialAccount(r.Context(), caller(r), pathID(r)); err != nil {
		return err
	}
	drf.WriteJSON(w, http.StatusOK, struct{}{})
	return nil
}

// handleSocialLogin serves GET social/{provider}/login/.
func (d *api291) handleSocialLogin(w http.ResponseWriter, r *http.Request) error {
	return d.startSocialFlow(w, r, false)
}

// handleSocialConnect serves GET social/{provider}/connect/.
func (d *api291) handleSocialConnect(w http.ResponseWriter, r *http.Request) error {
	return d.startSocialFlow(w, r, true)
}

// startSocialFlow answers login/ and connect/ with 302 to the provider, setting the flow
// cookie. An optional ?next= (on SiteURL's origin) is where a successful flow ends.
func (d *api291) startSocialFlow(w http.ResponseWriter, r *http.Request, connect bool) error {
	start := SocialFlowStart{
		Provider:  pathName(r),
		Connect:   connect,
		Next:      r.URL.Query().Get("next"),
		CrossSite: d.crossSiteStart(r.Header),
	}
	if connect {
		start.User = sessionCaller(r)
	}
	started, err := d.svc.BeginSocialFlow(r.Context(), start)
	if err != nil {
		return d.socialFailed(w, err)
	}
	http.SetCookie(w, d.flowCookie(started.Flow))
	socialRedirect(w, started.AuthURL)
	return nil
}

// handleSocialCallback serves GET social/{provider}/callback/: 302 to where the flow ends,
// the error URL for every failure.
func (d *api291) handleSocialCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cb := SocialFlowCallback{
		Provider:      pathName(r),
		State:         q.Get("state"),
		Code:          q.Get("code"),
		ProviderError: q.Get("error"),
		SessionUser:   sessionCaller(r),
	}
	name := SocialFlowCookieName(cb.State)
	var cookie *http.Cookie
	if name != "" { // r.Cookie("") would return any cookie
		cookie, _ = r.Cookie(name)
	}
	if cookie != nil {
		cb.SealedFlow = cookie.Value
	}
	res, err := d.svc.FinishSocialFlow(r.Context(), cb)
	var failed *SocialError
	if err != nil && !errors.As(err, &failed) {
		return err // an unknown provider: 404, the flow cookie left alone
	}
	if cookie != nil {
		// Whatever the outcome, this flow is over.
		http.SetCookie(w, d.flowCookie(SealedSocialFlow{Name: name}))
	}
	if failed != nil {
		d.socialFailRedirect(w, failed.Reason)
		return nil
	}
	if !res.Connected {
		// The session is saved before the redirect, so that a store that refuses it ends
		// the flow at the error URL rather than at a 503 page in the middle of the browser's
		// way back. A social login issues no token, so nothing live is left behind; an
		// account the flow created stays linked, and a retry of the flow logs into it.
		err := d.loginSession(w, r, res.User)
		if err == nil {
			err = d.saveSession(w, r)
		}
		if err != nil {
			d.svc.cfg.Logger.ErrorContext(r.Context(), "restauth: social login failed",
				"provider", cb.Provider, "reason", string(SocialReasonServerError), "error", err)
			d.socialFailRedirect(w, SocialReasonServerError)
			return nil
		}
	}
	socialRedirect(w, res.Next)
	return nil
}

// sessionCaller is the caller when the request is authenticated by its session, nil
// otherwise: a connect flow must start and end in the same browser session, which a token
// (usable from anywhere) does not prove.
func sessionCaller(r *http.Request) *User {
	if callerMethod(r) != AuthSession {
		return nil
	}
	return caller(r)
}

// socialFailed ends a flow whose operation failed: a *SocialError (already logged by the
// operation) at the error URL, anything else (an unknown provider) as the router answers
// errors.
func (d *api291) socialFailed(w http.ResponseWriter, err error) error {
	var failed *SocialError
	if !errors.As(err, &failed) {
		return err
	}
	d.socialFailRedirect(w, failed.Reason)
	return nil
}

// socialFailRedirect answers with 302 to Config.Social.ErrorRedirect for reason. The
// reason comes from a fixed list; nothing the provider or the browser sent goes into the
// URL.
func (d *api291) socialFailRedirect(w http.ResponseWriter, reason SocialReason) {
	socialRedirect(w, strings.ReplaceAll(d.svc.cfg.Social.ErrorRedirect, "{reason}", url.QueryEscape(string(reason))))
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

// flowCookie is the cookie of a sealed flow; one without Value deletes it. It is HttpOnly,
// SameSite=Lax (sent on the provider's top-level redirect back) and its Path is limited to
// the social routes.
func (d *api291) flowCookie(f SealedSocialFlow) *http.Cookie {
	c := &http.Cookie{
		Name:     f.Name,
		Value:    f.Value,
		Path:     d.svc.cfg.Prefix + "social/",
		MaxAge:   int(f.MaxAge / time.Second),
		HttpOnly: true,
		Secure:   strings.HasPrefix(d.svc.cfg.SiteURL, "https:"),
		SameSite: http.SameSiteLaxMode,
	}
	if f.Value == "" {
		c.MaxAge = -1
	}
	return c
}

// crossSiteStart is nil when the request may start a flow (see sso.StartAllowed: the
// pages of SiteURL's origin and of Config.TrustedOrigins may send a browser to login/ and
// connect/), else what the browser said, for the log.
func (d *api291) crossSiteStart(h http.Header) error {
	if sso.StartAllowed(h, append([]string{d.svc.cfg.SiteURL}, d.svc.cfg.TrustedOrigins...)) {
		return nil
	}
	return fmt.Errorf("Sec-Fetch-Site %q", truncateBytes(h.Get("Sec-Fetch-Site"), 20))
}
