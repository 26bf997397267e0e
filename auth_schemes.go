package restauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

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
		return s.authenticateBasicHeader(ctx, cred, extra, basicChallenge(basicOnly))
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

// basicChallenge is the WWW-Authenticate value of a failed Basic request. DRF takes the
// challenge from the view's first authentication class, whichever class failed: that is
// InvenTree's token class everywhere (a Basic one would make browsers pop up a login
// dialog over the web UI's XHR) except on login/, which authenticates by Basic alone.
func basicChallenge(basicOnly bool) string {
	if basicOnly {
		return `Basic realm="api"`
	}
	return "Token"
}

// authenticateBasicHeader decodes Basic credentials as DRF does and checks them with
// AuthenticatePassword, which owns the limits and the audit; a failure carries challenge.
func (s *Service) authenticateBasicHeader(ctx context.Context, cred string, extra bool, challenge string) (requestAuth, error) {
	basicAuthError := func(detail string) error { return &AuthError{Detail: detail, Challenge: challenge} }
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

func (s *Service) authenticateSession(r *http.Request) (requestAuth, error) {
	u, err := s.SessionUser(r.Context())
	if err != nil || u == nil {
		return requestAuth{}, err
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
