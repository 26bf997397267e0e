package restauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"

	"github.com/restauth/restauth/internal/csrf"
)

// Session keys. The auth hash ties a session to the password it was opened with, so a
// password change ends every other session (Django's session auth hash).
const (
	sessionUserKey = "_auth_user_id"
	sessionHashKey = "_auth_user_hash"
)

// sessionAuthHash is derived from the password hash, so it changes with the password.
func (s *Service) sessionAuthHash(u *User) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("restauth.session-auth-hash\x00"))
	mac.Write([]byte(u.PasswordHash))
	return hex.EncodeToString(mac.Sum(nil))
}

// loginSession logs u into the request's session through the Service's LoginSession
// (the session id renewed, so a session fixed by an attacker before login is worthless,
// and the session recorded in the user's session index) and rotates the CSRF cookie.
func (d *api291) loginSession(w http.ResponseWriter, r *http.Request, u *User) error {
	if err := d.svc.LoginSession(r.Context(), u); err != nil {
		return err
	}
	return d.svc.setCSRFCookie(w)
}

// CSRF, as Django does it for session-authenticated unsafe requests: the X-CSRFToken header
// must carry the csrftoken cookie's secret, and a browser's cross-origin request is refused.
const (
	csrfCookieName = "csrftoken"
	csrfHeaderName = "X-CSRFToken"
	csrfCookieAge  = 31449600 // Django's CSRF_COOKIE_AGE: one year
)

// checkCSRF is Django's CsrfViewMiddleware for a session-authenticated unsafe request:
// the origin check, then the header's token (a secret or a masked one, see internal/csrf)
// against the cookie's secret, with Django's reasons.
func (s *Service) checkCSRF(r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	// Django 4.2's reasons, word for word.
	return checkCSRFToken(r, r.Header.Get(csrfHeaderName), "CSRF token from the 'X-Csrftoken' HTTP header ")
}

// checkCSRFToken checks a request's CSRF token (a secret or a masked one) against the
// csrftoken cookie's secret; from names the token's source in Django's reasons.
func checkCSRFToken(r *http.Request, token, from string) error {
	cookie, err := r.Cookie(csrfCookieName)
	if err != nil {
		return csrfFailed("CSRF cookie not set.")
	}
	if problem := csrf.FormatProblem(cookie.Value, false); problem != "" {
		return csrfFailed("CSRF cookie " + problem + ".")
	}
	if token == "" {
		return csrfFailed("CSRF token missing.")
	}
	if problem := csrf.FormatProblem(token, true); problem != "" {
		return csrfFailed(from + problem + ".")
	}
	if len(token) == csrf.MaskedLen {
		token = csrf.Unmask(token)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(cookie.Value)) != 1 {
		return csrfFailed(from + "incorrect.")
	}
	return nil
}

// csrfFormField is Django's hidden form field for the CSRF token of an HTML form.
const csrfFormField = "csrfmiddlewaretoken"

// checkFormCSRF is Django's CsrfViewMiddleware for a server-rendered form's POST, which
// carries no X-CSRFToken header: the origin check, then the hidden csrfmiddlewaretoken
// field (token, else the header) against the csrftoken cookie. Unlike the API routes it
// applies to anonymous requests too: a forged confirmation is a state change.
func (d *api291) checkFormCSRF(r *http.Request, token string) error {
	if err := d.svc.checkOrigin(r); err != nil {
		return err
	}
	if token == "" {
		return checkCSRFToken(r, r.Header.Get(csrfHeaderName), "CSRF token from the 'X-Csrftoken' HTTP header ")
	}
	return checkCSRFToken(r, token, "CSRF token from POST ")
}

// formCSRFToken returns the secret a server-rendered form puts in its hidden field: the
// csrftoken cookie's when it is well formed, else a new one set on w (Django's get_token).
func (d *api291) formCSRFToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(csrfCookieName); err == nil && csrf.FormatProblem(c.Value, false) == "" {
		return c.Value, nil
	}
	return d.svc.newCSRFCookie(w)
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

// setCSRFCookie sets a fresh csrftoken cookie, as Django's rotate_token does at login, so
// a token read before login is worthless after it.
func (s *Service) setCSRFCookie(w http.ResponseWriter) error {
	_, err := s.newCSRFCookie(w)
	return err
}

// newCSRFCookie sets a new csrftoken cookie on w and returns its secret.
func (s *Service) newCSRFCookie(w http.ResponseWriter) (string, error) {
	secret, err := csrf.NewSecret()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     csrfCookieName,
		Value:    secret,
		Path:     "/",
		MaxAge:   csrfCookieAge,
		Secure:   s.site.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	})
	return secret, nil
}

// randomString draws n characters uniformly from alphabet with crypto/rand (the social
// flow's username suffixes); the algorithm lives with the CSRF secret it was written for.
func randomString(n int, alphabet string) (string, error) { return csrf.RandomString(n, alphabet) }
