package restauth

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The browser flow (login/, connect/, callback/).
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

// socialProvider is a configured provider with its lazily discovered OpenID Connect
// metadata.
type socialProvider struct {
	cfg SocialProvider

	mu        sync.Mutex
	discovery *oidc.Provider
	verifier  *oidc.IDTokenVerifier
	endpoint  oauth2.Endpoint
	userInfo  string
	// failedAt and failure remember a failed discovery for a few seconds, so an outage
	// of the provider does not queue every login behind a fresh timeout.
	failedAt time.Time
	failure  error
}

// discoveryTimeout bounds fetching a discovery document; discoveryRetry is how long a
// failure is remembered.
const (
	discoveryTimeout = 10 * time.Second
	discoveryRetry   = 5 * time.Second
)

func newSocialProvider(p SocialProvider) (*socialProvider, error) {
	if !validProviderID(p.ID) {
		return nil, fmt.Errorf("%w: social provider id %q must be 1-%d characters of a-z, 0-9, - and _", ErrConfig, p.ID, maxProviderIDLength)
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: social provider %q: %s", ErrConfig, p.ID, what)
	}
	absolute := func(raw string) bool {
		u, err := url.Parse(raw)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
	}
	if p.Issuer != "" {
		if p.AuthURL != "" || p.TokenURL != "" || p.UserInfoURL != "" || p.EmailsURL != "" {
			return nil, bad("set either Issuer (OpenID Connect) or AuthURL/TokenURL/UserInfoURL (OAuth2), not both")
		}
		if !absolute(p.Issuer) {
			return nil, bad("Issuer must be an absolute http(s) URL")
		}
		if !slices.Contains(p.Scopes, "openid") {
			if len(p.Scopes) == 0 {
				p.Scopes = []string{"openid", "email", "profile"}
			} else {
				p.Scopes = append([]string{"openid"}, p.Scopes...)
			}
		}
	} else {
		for _, e := range []struct{ name, v string }{{"AuthURL", p.AuthURL}, {"TokenURL", p.TokenURL}, {"UserInfoURL", p.UserInfoURL}} {
			if !absolute(e.v) {
				return nil, bad(e.name + " must be an absolute http(s) URL (or set Issuer for OpenID Connect)")
			}
		}
		if p.EmailsURL != "" && !absolute(p.EmailsURL) {
			return nil, bad("EmailsURL must be an absolute http(s) URL")
		}
	}
	for k := range p.AuthParams {
		switch k {
		case "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method":
			return nil, bad("AuthParams cannot set " + k)
		}
	}
	p.Scopes = slices.Clone(p.Scopes)
	f := &p.Fields
	defaultString(&f.UID, "sub")
	defaultString(&f.Email, "email")
	defaultString(&f.EmailVerified, "email_verified")
	defaultString(&f.Username, "preferred_username")
	defaultString(&f.Name, "name")
	defaultString(&f.FirstName, "given_name")
	defaultString(&f.LastName, "family_name")
	defaultString(&p.Name, p.ID)
	defaultString(&p.DisplayName, p.Name)
	sp := &socialProvider{cfg: p}
	if p.Issuer == "" {
		sp.endpoint = oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL}
		sp.userInfo = p.UserInfoURL
	}
	return sp, nil
}

func (p *socialProvider) configured() bool { return p.cfg.ClientID != "" }

func (p *socialProvider) isOIDC() bool { return p.cfg.Issuer != "" }

// ready discovers an OpenID Connect provider on first use. A failure is not kept beyond
// discoveryRetry: the next login after that tries again.
func (p *socialProvider) ready(ctx context.Context, client *http.Client, now func() time.Time) error {
	if !p.isOIDC() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovery != nil {
		return nil
	}
	if p.failure != nil && time.Since(p.failedAt) < discoveryRetry {
		return p.failure
	}
	// A browser that gives up must not make the discovery fail for everyone else.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	ctx = oidc.ClientContext(ctx, client)
	if p.cfg.issuerTemplate != "" {
		// Multi-tenant Microsoft announces a templated issuer; each token's issuer is
		// checked against its tid in verifyIDToken instead.
		ctx = oidc.InsecureIssuerURLContext(ctx, p.cfg.issuerTemplate)
	}
	d, err := oidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		p.failure, p.failedAt = err, time.Now()
		return err
	}
	p.discovery = d
	p.endpoint = d.Endpoint()
	p.userInfo = d.UserInfoEndpoint()
	p.verifier = d.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: now, SkipIssuerCheck: p.cfg.issuerTemplate != ""})
	p.failure = nil
	return nil
}

// oauth2Config is the provider's client configuration; call it after ready.
func (s *Service) oauth2Config(p *socialProvider) *oauth2.Config {
	p.mu.Lock()
	endpoint := p.endpoint
	p.mu.Unlock()
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  s.socialURL(p.cfg.ID, "callback"),
		Scopes:       p.cfg.Scopes,
	}
}

// socialFlow is what the flow cookie holds.
type socialFlow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v"`
	Connect  bool   `json:"c,omitempty"`
	UserID   int64  `json:"u,omitempty"`
	Next     string `json:"r,omitempty"`
	Expires  int64  `json:"e"`
}

// flowCookieName is derived from the state, so concurrent flows have cookies of their own.
func flowCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "restauth_sso_" + hex.EncodeToString(sum[:8])
}

// flowPurpose keys the AEAD that seals flow cookies.
const flowPurpose = "restauth.social-flow-cookie"

func (s *Service) sealFlow(name string, f *socialFlow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealBytes(purposeAEAD(s.cfg.Secret, flowPurpose), plain, []byte(name))), nil
}

func (s *Service) openFlow(name, value string) (*socialFlow, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, err
	}
	plain, err := openBytes(purposeAEAD(s.cfg.Secret, flowPurpose), raw, []byte(name))
	if err != nil {
		return nil, err
	}
	var f socialFlow
	if err := json.Unmarshal(plain, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

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

// replayCache remembers consumed states until their flows expire.
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	lastPrune time.Time
}

// consume records state and reports whether it was new.
func (c *replayCache) consume(state string, expires, now time.Time) bool {
	sum := sha256.Sum256([]byte(state))
	key := string(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[string]time.Time)
	}
	if now.Sub(c.lastPrune) > time.Minute || now.Before(c.lastPrune) {
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
			}
		}
		c.lastPrune = now
	}
	if exp, ok := c.seen[key]; ok && !now.After(exp) {
		return false
	}
	c.seen[key] = expires
	return true
}

// socialRandom is n random bytes, base64url without padding.
func socialRandom(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
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
func (s *Service) lookupProvider(w http.ResponseWriter, c *call) *socialProvider {
	p := s.social.byID[c.param]
	if p == nil || !p.configured() {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return nil
	}
	return p
}

func (s *Service) handleSocialLogin(w http.ResponseWriter, r *http.Request, c *call) {
	s.startSocialFlow(w, r, c, false)
}

func (s *Service) handleSocialConnect(w http.ResponseWriter, r *http.Request, c *call) {
	s.startSocialFlow(w, r, c, true)
}

// startSocialFlow serves GET social/{provider}/login/ and connect/: 302 to the provider.
// An optional ?next= (on SiteURL's origin) is where a successful flow ends.
func (s *Service) startSocialFlow(w http.ResponseWriter, r *http.Request, c *call, connect bool) {
	p := s.lookupProvider(w, c)
	if p == nil {
		return
	}
	if !s.cfg.SSOEnabled {
		s.failRedirect(w, r, p, socialFail(reasonSSODisabled, nil))
		return
	}
	flow := &socialFlow{Provider: p.cfg.ID, Connect: connect, Next: s.safeNext(r.URL.Query().Get("next"))}
	if connect {
		// Connecting needs the browser's own login session: the callback checks that the
		// same user is still logged in there.
		if c.auth.user == nil || c.auth.method != AuthSession {
			s.failRedirect(w, r, p, socialFail(reasonLoginRequired, nil))
			return
		}
		flow.UserID = c.auth.user.ID
	}
	if err := p.ready(r.Context(), s.social.client, s.now); err != nil {
		s.failRedirect(w, r, p, socialFail(reasonProviderUnavailable, err))
		return
	}
	var err error
	if flow.State, err = socialRandom(32); err == nil {
		flow.Verifier = oauth2.GenerateVerifier()
		if p.isOIDC() {
			flow.Nonce, err = socialRandom(32)
		}
	}
	if err != nil {
		s.failRedirect(w, r, p, socialFail(reasonServerError, err))
		return
	}
	flow.Expires = s.now().Add(socialFlowTTL).Unix()
	name := flowCookieName(flow.State)
	value, err := s.sealFlow(name, flow)
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
func (s *Service) handleSocialCallback(w http.ResponseWriter, r *http.Request, c *call) {
	p := s.lookupProvider(w, c)
	if p == nil {
		return
	}
	target, f := s.socialCallback(w, r, c, p)
	if f != nil {
		s.failRedirect(w, r, p, f)
		return
	}
	socialRedirect(w, target)
}

func (s *Service) socialCallback(w http.ResponseWriter, r *http.Request, c *call, p *socialProvider) (string, *socialFailure) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		return "", socialFail(reasonStateMissing, nil)
	}
	if len(state) > 256 {
		return "", socialFail(reasonStateMismatch, nil)
	}
	name := flowCookieName(state)
	cookie, err := r.Cookie(name)
	if err != nil {
		return "", socialFail(reasonStateMismatch, nil)
	}
	// Whatever happens next, this flow is over.
	http.SetCookie(w, s.flowCookie(name, ""))
	flow, err := s.openFlow(name, cookie.Value)
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
	if !s.social.used.consume(state, expires, now) {
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
	if !s.cfg.SSOEnabled {
		return "", socialFail(reasonSSODisabled, nil)
	}
	var sessionUser *User
	if c.auth.method == AuthSession {
		sessionUser = c.auth.user
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
	s.audit(ctx, AuditLoginSucceeded, u, r, "method=social provider="+p.cfg.ID)
	return cmp.Or(flow.Next, s.social.loginRedirect), nil
}

// truncateBytes shortens untrusted text for a log line.
func truncateBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// socialProfile is what a provider tells about the account.
type socialProfile struct {
	UID           string
	Email         string
	EmailVerified bool
	Username      string
	FirstName     string
	LastName      string
	// Extra is the profile as JSON, kept in SocialAccount.ExtraData.
	Extra []byte
}

// fetchProfile exchanges the code (with the PKCE verifier) and reads the profile: from the
// verified ID token (completed from user-info) for OpenID Connect, from the user-info URL
// for OAuth2.
func (s *Service) fetchProfile(ctx context.Context, p *socialProvider, flow *socialFlow, code string) (*socialProfile, *socialFailure) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, s.social.client)
	tok, err := s.oauth2Config(p).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return nil, socialFail(reasonExchangeFailed, err)
	}
	var claims map[string]any
	if p.isOIDC() {
		claims, err = s.verifyIDToken(ctx, p, flow, tok)
		if err != nil {
			if errors.Is(err, errNonceMismatch) {
				return nil, socialFail(reasonNonceMismatch, err)
			}
			return nil, socialFail(reasonInvalidIDToken, err)
		}
		if claimString(claims, p.cfg.Fields.Email) == "" && p.userInfo != "" {
			info, err := s.getJSON(ctx, p.userInfo, tok)
			if err != nil {
				return nil, socialFail(reasonProfileFailed, err)
			}
			infoMap, ok := info.(map[string]any)
			if !ok || claimString(infoMap, "sub") != claimString(claims, "sub") {
				return nil, socialFail(reasonProfileFailed, errors.New("user-info does not describe the ID token's subject"))
			}
			for k, v := range infoMap {
				if _, has := claims[k]; !has {
					claims[k] = v
				}
			}
		}
	} else {
		info, err := s.getJSON(ctx, p.userInfo, tok)
		if err != nil {
			return nil, socialFail(reasonProfileFailed, err)
		}
		var ok bool
		if claims, ok = info.(map[string]any); !ok {
			return nil, socialFail(reasonProfileFailed, errors.New("user-info is not a JSON object"))
		}
	}
	fl := p.cfg.Fields
	prof := &socialProfile{
		UID:       claimString(claims, fl.UID),
		Email:     strings.TrimSpace(claimString(claims, fl.Email)),
		Username:  claimString(claims, fl.Username),
		FirstName: claimString(claims, fl.FirstName),
		LastName:  claimString(claims, fl.LastName),
	}
	if fl.EmailVerified != "-" {
		switch v := claimAt(claims, fl.EmailVerified).(type) {
		case bool:
			prof.EmailVerified = v
		case string:
			prof.EmailVerified = strings.EqualFold(v, "true")
		}
	}
	if prof.FirstName == "" && prof.LastName == "" {
		if name := strings.TrimSpace(claimString(claims, fl.Name)); name != "" {
			prof.FirstName, prof.LastName, _ = strings.Cut(name, " ")
		}
	}
	if p.cfg.EmailsURL != "" {
		// Without the list (a scope not granted) the account simply has no verified address.
		if err := s.readEmails(ctx, p.cfg.EmailsURL, tok, prof); err != nil {
			s.log.WarnContext(ctx, "restauth: could not read the provider's e-mail list", "provider", p.cfg.ID, "error", err)
		}
	}
	if prof.UID == "" || len(prof.UID) > 191 {
		return nil, socialFail(reasonProfileFailed, errors.New("the profile has no usable account id"))
	}
	if !validEmail(prof.Email) || len(prof.Email) > maxEmailLength {
		prof.Email, prof.EmailVerified = "", false
	}
	prof.FirstName = clipRunes(strings.TrimSpace(prof.FirstName), maxNameLength)
	prof.LastName = clipRunes(strings.TrimSpace(prof.LastName), maxNameLength)
	prof.Extra, _ = json.Marshal(claims)
	return prof, nil
}

var errNonceMismatch = errors.New("the ID token's nonce is not the flow's")

// verifyIDToken checks the ID token's signature, issuer, audience (our client id, and the
// authorised party when there are several audiences), expiry, nonce and, when present,
// access-token hash, and returns its claims.
func (s *Service) verifyIDToken(ctx context.Context, p *socialProvider, flow *socialFlow, tok *oauth2.Token) (map[string]any, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the token response has no id_token")
	}
	p.mu.Lock()
	verifier := p.verifier
	p.mu.Unlock()
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		return nil, err
	}
	// Decoded with UseNumber, so a numeric account id keeps every digit.
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	if p.cfg.issuerTemplate != "" {
		tid := claimString(claims, "tid")
		if tid == "" || idt.Issuer != strings.ReplaceAll(p.cfg.issuerTemplate, "{tenantid}", tid) {
			return nil, fmt.Errorf("issuer %q does not match the token's tenant", idt.Issuer)
		}
	}
	if len(idt.Audience) > 1 && claimString(claims, "azp") != p.cfg.ClientID {
		return nil, errors.New("the ID token has several audiences and another authorised party")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return nil, errNonceMismatch
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, err
		}
	}
	if idt.Subject == "" {
		return nil, errors.New("the ID token has no subject")
	}
	return claims, nil
}

// maxProfileBytes bounds every answer read from a provider.
const maxProfileBytes = 1 << 20

// limitedTransport caps response bodies from providers (discovery, keys, tokens,
// profiles), so a hostile or broken provider cannot make the server read without end.
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err == nil && res.Body != nil {
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(res.Body, maxProfileBytes), res.Body}
	}
	return res, err
}

// getJSON GETs url with the access token and decodes the JSON answer (numbers kept exact).
func (s *Service) getJSON(ctx context.Context, target string, tok *oauth2.Token) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	tok.SetAuthHeader(req)
	res, err := s.social.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", target, res.Status)
	}
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("GET %s: %w", target, err)
	}
	return v, nil
}

// readEmails takes the primary address (and whether it is verified) from a GitHub-shaped
// e-mail list.
func (s *Service) readEmails(ctx context.Context, target string, tok *oauth2.Token, prof *socialProfile) error {
	v, err := s.getJSON(ctx, target, tok)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		return errors.New("the e-mail list is not a JSON array")
	}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || m["primary"] != true {
			continue
		}
		prof.Email = strings.TrimSpace(claimString(m, "email"))
		prof.EmailVerified = m["verified"] == true
		return nil
	}
	return nil
}

// claimAt follows a dot-separated path through nested objects.
func claimAt(m map[string]any, path string) any {
	var cur any = m
	for part := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

// claimString is claimAt as a string: strings as they are, numbers in decimal.
func claimString(m map[string]any, path string) string {
	switch v := claimAt(m, path).(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
