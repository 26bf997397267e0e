package headless

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/restauth/restauth"
)

// The provider redirect flow of the browser client: auth/provider/redirect, an HTML form
// post, sends the browser to the provider; the provider sends it back to this dialect's
// callback, GET {mount}/v1/auth/provider/callback/{provider} (the redirect URI to register
// with the provider: SiteURL + Options.Prefix + "browser/v1/auth/provider/callback/{id}",
// or Prefix + "v1/…" for a mount with Options.Client), which ends the flow and sends the
// browser to the form's callback_url (with ?error=… on failure). The flow's rules are
// BeginSocialFlow's and FinishSocialFlow's.

// callbackRoute is the route of the provider callback, whose last segment is the provider.
const callbackRoute = "auth/provider/callback/{provider}"

// callbackPrefix starts the paths callbackRoute serves.
const callbackPrefix = "auth/provider/callback/"

// routeOf maps a request's route path to its route table key: the callback's provider
// segment is a parameter.
func routeOf(path string) string {
	if id, ok := strings.CutPrefix(path, callbackPrefix); ok && id != "" && !strings.Contains(id, "/") {
		return callbackRoute
	}
	return path
}

// processes are allauth's provider flow processes.
const (
	processLogin   = "login"
	processConnect = "connect"
)

// checkProcess is Django's choice field of a provider flow's process: login or connect.
func checkProcess(process string) (apiError, bool) {
	switch process {
	case processLogin, processConnect:
		return apiError{}, false
	case "":
		return required("process"), true
	}
	return apiError{Code: "invalid_choice", Param: "process", Message: "Select a valid choice. " + process + " is not one of the available choices."}, true
}

// callbackPath is the path of the provider callback of the browser client under this
// mount: built from Options only, never from a request, as the provider holds it
// registered.
func (h *handler) callbackPath(provider string) string {
	base := h.opts.Prefix
	if h.opts.Client == "" {
		base += string(Browser) + "/"
	}
	return base + "v1/" + callbackPrefix + url.PathEscape(provider)
}

// providerRedirect is POST auth/provider/redirect (browser client): a form with provider,
// callback_url, process and csrfmiddlewaretoken, answered with 302 to the provider.
func (h *handler) providerRedirect(c *call) *answer {
	if c.client != Browser {
		return statusOnly(http.StatusNotFound)
	}
	if err := c.r.ParseForm(); err != nil {
		return badRequest(apiError{Code: "invalid", Message: "Invalid form."})
	}
	form := c.r.PostForm
	provider, next, process := form.Get("provider"), form.Get("callback_url"), form.Get("process")
	var errs []apiError
	if provider == "" {
		errs = append(errs, required("provider"))
	}
	if next == "" {
		errs = append(errs, required("callback_url"))
	}
	if e, bad := checkProcess(process); bad {
		errs = append(errs, e)
	}
	if errs != nil {
		return badRequest(errs...)
	}
	start := restauth.SocialFlowStart{
		Provider:     provider,
		Connect:      process == processConnect,
		Next:         next,
		CallbackPath: h.callbackPath(provider),
	}
	if start.Connect {
		start.User = c.user
	}
	started, err := c.svc().BeginSocialFlow(c.ctx, start)
	if errors.Is(err, restauth.ErrNotFound) {
		return badRequest(apiError{Code: "invalid", Param: "provider", Message: "Unknown provider."})
	}
	if err != nil {
		return c.socialFailRedirect(err)
	}
	http.SetCookie(c.w, h.flowCookie(started.Flow))
	return redirect(c, started.AuthURL)
}

// providerCallback is GET auth/provider/callback/{provider}: the provider's redirect
// back, answered with 302 to the flow's callback_url once the session is logged in (login)
// or the account connected (connect).
func (h *handler) providerCallback(c *call) *answer {
	if c.client != Browser {
		return statusOnly(http.StatusNotFound)
	}
	q := c.r.URL.Query()
	cb := restauth.SocialFlowCallback{
		Provider:      c.r.URL.Path[strings.LastIndex(c.r.URL.Path, "/")+1:],
		State:         q.Get("state"),
		Code:          q.Get("code"),
		ProviderError: q.Get("error"),
		SessionUser:   c.user,
		SignupStep:    true,
		MFAStep:       true,
		MFATrust:      c.mfaTrustCookie(),
	}
	name := restauth.SocialFlowCookieName(cb.State)
	var cookie *http.Cookie
	if name != "" { // r.Cookie("") would return any cookie
		cookie, _ = c.r.Cookie(name)
	}
	if cookie != nil {
		cb.SealedFlow = cookie.Value
		// Whatever the outcome, this flow is over.
		http.SetCookie(c.w, h.flowCookie(restauth.SealedSocialFlow{Name: name}))
	}
	res, err := c.svc().FinishSocialFlow(c.ctx, cb)
	if errors.Is(err, restauth.ErrNotFound) {
		return statusOnly(http.StatusNotFound)
	}
	if err != nil {
		return c.socialFailRedirect(err)
	}
	switch {
	case res.PendingSignup != nil:
		if a := c.keepPendingSignup(res.PendingSignup); a.status != http.StatusUnauthorized {
			return a
		}
	case res.Pending != nil:
		// The second factor is due: the front end finds mfa_authenticate pending.
		if a := c.pendSecondFactor(*res.Pending, c.socialRecord(cb.Provider, res)); a.status != http.StatusUnauthorized {
			return a
		}
	case !res.Connected:
		if a := c.socialLoginSession(cb.Provider, res); a.status != http.StatusOK {
			return a
		}
	}
	return redirect(c, res.Next)
}

// socialLoginSession logs the user of a finished social login into the session, with
// allauth's "socialaccount" authentication record.
func (c *call) socialLoginSession(provider string, res *restauth.SocialFlowResult) *answer {
	return c.loginSession(res.User, c.socialRecord(provider, res))
}

// socialRecord is allauth's "socialaccount" authentication record of a provider login.
func (c *call) socialRecord(provider string, res *restauth.SocialFlowResult) restauth.AuthRecord {
	rec := c.svc().NewAuthRecord("socialaccount")
	rec.Provider, rec.UID = provider, res.UID
	return rec
}

// socialFailRedirect sends the browser to where the failed flow was to end, with
// allauth's ?error= code ("cancelled" when the user declined at the provider, else
// "unknown") and error_process; without one, to Config.Social.ErrorRedirect.
func (c *call) socialFailRedirect(err error) *answer {
	var failed *restauth.SocialError
	if !errors.As(err, &failed) {
		return c.fail(err)
	}
	process := processLogin
	if failed.Connect {
		process = processConnect
	}
	code := "unknown"
	if failed.Reason == restauth.SocialReasonAccessDenied {
		code = "cancelled"
	}
	if failed.Next == "" {
		return redirect(c, strings.ReplaceAll(c.svc().SocialSettings().ErrorRedirect, "{reason}", url.QueryEscape(string(failed.Reason))))
	}
	target, perr := url.Parse(failed.Next)
	if perr != nil {
		return c.fail(perr)
	}
	v := target.Query()
	v.Set("error", code)
	v.Set("error_process", process)
	target.RawQuery = v.Encode()
	return redirect(c, target.String())
}

// redirect answers a browser-flow step with 302 to target. The callback URL carries the
// code and state: Referrer-Policy keeps them out of the next page's Referer.
func redirect(c *call, target string) *answer {
	h := c.w.Header()
	h.Set("Location", target)
	h.Set("Referrer-Policy", "no-referrer")
	return statusOnly(http.StatusFound)
}

// flowCookie is the cookie of a sealed flow (one without Value deletes it): HttpOnly,
// SameSite=Lax (sent on the provider's top-level redirect back), limited to the callbacks.
func (h *handler) flowCookie(f restauth.SealedSocialFlow) *http.Cookie {
	c := &http.Cookie{
		Name:     f.Name,
		Value:    f.Value,
		Path:     strings.TrimSuffix(h.callbackPath(""), "/"),
		MaxAge:   int(f.MaxAge / time.Second),
		HttpOnly: true,
		Secure:   h.svc.SocialSettings().SecureCookies,
		SameSite: http.SameSiteLaxMode,
	}
	if f.Value == "" {
		c.MaxAge = -1
	}
	return c
}
