package restauth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/oauthflow"
	"github.com/restauth/restauth/internal/sso"
)

// The browser flow: BeginSocialFlow sends the browser to the provider, FinishSocialFlow
// takes it back. They hold every rule of the flow and know nothing of HTTP; a dialect
// carries the sealed flow in a cookie, judges where a start came from, opens the session
// and redirects (the 291 dialect: http_291_social.go).
//
// Origin: a start is something a link on any site could trigger, and a flow started by
// another site would log the victim in as the attacker's provider account (login CSRF) or,
// worse, link it to the victim's account (connect). A start the dialect judges cross-site
// is refused with cross_site_request. The callback has no such check: the provider's site
// legitimately sends the browser there.
//
// Binding: a start draws a random state, PKCE verifier and (OpenID Connect) nonce and
// seals them, with the provider, the mode and the connecting user, for a cookie of their
// own: AES-256-GCM under a key derived from Config.Secret (so it is both signed and
// unreadable), valid 10 minutes. Its name is derived from the state, so flows started in
// several tabs never overwrite each other, and nothing depends on the session cookie
// surviving the round trip — the usual cause of goth's "could not find a matching session
// for this request". The callback is given the sealed flow of the state it carries;
// without it (another browser, a forged or mismatched state) the flow fails. The state is
// remembered until the flow's expiry, so a replayed state fails even with a copy of the
// cookie.

// socialFlowTTL is how long a started flow may take to come back.
const socialFlowTTL = 10 * time.Minute

// maxSocialNext bounds the "next" URL kept in the flow cookie.
const maxSocialNext = 1024

// maxSocialState bounds the state a callback may carry: ours are 43 characters.
const maxSocialState = 256

// socialFlow is what the flow cookie holds (internal/oauthflow seals it).
type socialFlow = oauthflow.Flow

// SocialFlowStart asks BeginSocialFlow for a browser flow.
type SocialFlowStart struct {
	// Provider is the provider's ID.
	Provider string
	// Connect links the provider account to User instead of logging a user in.
	Connect bool
	// User is the user the browser is logged in as by its own session, for Connect: the
	// callback must come back to the same session. Leave it nil for a token-authenticated
	// request: a token can be replayed from anywhere, a session only by its browser.
	User *User
	// Next is where a successful flow should end (allauth headless: callback_url). It is
	// kept only when it resolves, against SiteURL, to SiteURL's origin; otherwise the flow
	// ends at Config.Social.LoginRedirect or Social.ConnectRedirect.
	Next string
	// CallbackPath is the path, on SiteURL, where the provider sends the browser back (the
	// redirect URI registered with the provider): the dialect's own callback route. Empty:
	// the 291 dialect's Prefix + "social/<provider>/callback/". It must start with a single
	// "/"; the flow seals it, so that the code exchange sends the same URI.
	CallbackPath string
	// CrossSite, when set, is why the dialect judges that another site sent the browser to
	// start this flow (the 291 dialect reads Sec-Fetch-Site, Origin and Referer): the start
	// fails with SocialReasonCrossSiteRequest, CrossSite being logged as its cause. A
	// dialect whose starts are protected otherwise (a POST checked for CSRF) leaves it nil.
	CrossSite error
}

// SocialFlowStarted is a started flow: send the browser to AuthURL, keeping Flow for the
// callback.
type SocialFlowStarted struct {
	// AuthURL is the provider's authorization URL.
	AuthURL string
	// Flow is the flow's sealed state.
	Flow SealedSocialFlow
}

// SealedSocialFlow is a flow's sealed state, meant for a cookie of its own: HttpOnly,
// SameSite=Lax (a Strict cookie would not come back with the provider's redirect), Secure
// on https, and limited to the callback's path.
type SealedSocialFlow struct {
	// Name is the cookie's name, SocialFlowCookieName of the flow's state.
	Name string
	// Value is the sealed state, bound to Name.
	Value string
	// MaxAge is how long the flow may take: the cookie's Max-Age.
	MaxAge time.Duration
	// Expires is when the flow expires, by the Service's clock.
	Expires time.Time
}

// SocialFlowCookieName is the name of the cookie holding the flow of state (see
// SealedSocialFlow.Name), for a callback to find the flow it comes back to; "" for a
// state no flow has (empty or too long).
func SocialFlowCookieName(state string) string {
	if state == "" || len(state) > maxSocialState {
		return ""
	}
	return oauthflow.CookieName(state)
}

// SocialFlowCallback is what the provider sent the browser back with.
type SocialFlowCallback struct {
	// Provider is the provider's ID.
	Provider string
	// State, Code and ProviderError are the callback's state, code and error parameters.
	State         string
	Code          string
	ProviderError string
	// SealedFlow is the value of the cookie named SocialFlowCookieName(State), "" when the
	// browser sent none. Whatever the outcome, the flow is over: delete the cookie.
	SealedFlow string
	// SessionUser is the user the browser is logged in as by its session, nil otherwise
	// (see SocialFlowStart.User). A connect flow requires the user it started with.
	SessionUser *User
	// SignupStep tells that the dialect offers a signup step (allauth's provider signup):
	// a new provider account whose address another user holds, or any new one with
	// Config.Social.SignupForm, then ends with SocialFlowResult.PendingSignup instead of
	// failing with SocialReasonEmailInUse or creating the user at once.
	SignupStep bool
	// MFAStep tells that the dialect offers the second-factor step after a provider login
	// (allauth's mfa_authenticate stage): a user with a second factor then ends with
	// SocialFlowResult.Pending instead of failing with SocialReasonMFARequired.
	MFAStep bool
	// MFATrust is a trust token of the user's (IssueMFATrust) that the client holds: with
	// MFAStep it skips the second factor, as at Login.
	MFATrust string
}

// SocialFlowResult is a finished flow.
type SocialFlowResult struct {
	// User is the user the provider account logs in (the dialect opens its session), or,
	// when Connected, the session's user it was linked to.
	User *User
	// Connected tells a connect flow, which logs nobody in.
	Connected bool
	// UID is the provider account's id (SocialAccount.UID), for the session's
	// authentication record.
	UID string
	// PendingSignup, when set (only for a request with SignupStep), is a login that needs
	// the user's details first: User is nil; keep it in the session
	// (PutPendingSocialSignup) and finish with CompleteSocialSignup.
	PendingSignup *PendingSocialSignup
	// Pending, when set (only for a request with MFAStep), is a login whose second factor
	// is due: User is its user, not logged in yet; keep it in the session
	// (PutPendingLogin) and finish with CompleteLogin, as after a password.
	Pending *PendingLogin
	// Next is the absolute URL where the flow ends: the start's Next when it was kept,
	// else Config.Social.LoginRedirect or Social.ConnectRedirect.
	Next string
}

// BeginSocialFlow starts a browser flow with a configured provider: it checks that the
// flow may start (SSO enabled, not cross-site, a connect by a session's user), discovers
// an OpenID Connect provider on first use, and draws and seals the flow's state. A
// provider unknown or without ClientID matches ErrNotFound; every other failure is a
// *SocialError, logged here.
func (s *Service) BeginSocialFlow(ctx context.Context, req SocialFlowStart) (*SocialFlowStarted, error) {
	p, err := s.configuredProvider(req.Provider)
	if err != nil {
		return nil, err
	}
	started, f := s.beginSocialFlow(ctx, p, req)
	if f != nil {
		return nil, s.socialFailed(ctx, p, f)
	}
	return started, nil
}

func (s *Service) beginSocialFlow(ctx context.Context, p *socialProvider, req SocialFlowStart) (_ *SocialFlowStarted, f *SocialError) {
	next := s.safeNext(req.Next)
	defer func() {
		if f != nil {
			f.Next, f.Connect = next, req.Connect
		}
	}()
	if !s.cfg.Social.Enabled {
		return nil, socialFail(SocialReasonSSODisabled, nil)
	}
	if req.CrossSite != nil {
		return nil, socialFail(SocialReasonCrossSiteRequest, req.CrossSite)
	}
	flow := &socialFlow{Provider: p.cfg.ID, Connect: req.Connect, Next: next}
	if req.CallbackPath != "" {
		if !strings.HasPrefix(req.CallbackPath, "/") || strings.HasPrefix(req.CallbackPath, "//") || strings.ContainsAny(req.CallbackPath, "?#\\") {
			return nil, socialFail(SocialReasonServerError, fmt.Errorf("callback path %q is not a path on SiteURL", truncateBytes(req.CallbackPath, 100)))
		}
		flow.Callback = s.cfg.SiteURL + req.CallbackPath
	}
	if req.Connect {
		// Connecting needs the browser's own login session: the callback checks that the
		// same user is still logged in there.
		if req.User == nil {
			return nil, socialFail(SocialReasonLoginRequired, nil)
		}
		flow.UserID = req.User.ID
	}
	if err := p.rt.Ready(ctx); err != nil {
		return nil, socialFail(SocialReasonProviderUnavailable, err)
	}
	var err error
	if flow.State, err = oauthflow.Random(32); err == nil {
		flow.Verifier = sso.NewVerifier()
		if p.rt.IsOIDC() {
			flow.Nonce, err = oauthflow.Random(32)
		}
	}
	if err != nil {
		return nil, socialFail(SocialReasonServerError, err)
	}
	expires := s.now().Add(socialFlowTTL)
	flow.Expires = expires.Unix()
	name := oauthflow.CookieName(flow.State)
	value, err := oauthflow.Seal(s.cfg.Secret, name, flow)
	if err != nil {
		return nil, socialFail(SocialReasonServerError, err)
	}
	return &SocialFlowStarted{
		AuthURL: p.rt.AuthCodeURL(flow.State, flow.Verifier, flow.Nonce, flow.Callback),
		Flow:    SealedSocialFlow{Name: name, Value: value, MaxAge: socialFlowTTL, Expires: expires},
	}, nil
}

// FinishSocialFlow completes a browser flow: it opens the sealed flow of the callback's
// state (once: a replay fails), exchanges the code with the PKCE verifier, verifies the
// profile, and then either links the provider account to the session's user (a connect)
// or finds or creates the user it logs in. It applies the rules of a social login: a user
// with TOTP (every user, when Config.MFA.Required) is refused, since only a password login
// asks for the second factor; an account is linked by e-mail only as
// Config.Social.LinkByVerifiedEmail allows, a user created only when Config.Social.Registration
// is on; mandatory verification is enforced; a refused login records and links nothing. It emits AuditSocialLinked for a new link and AuditLoginSucceeded ("method=social
// provider=<id>") for a login; the dialect then opens the session.
//
// A provider unknown or without ClientID matches ErrNotFound; every other failure is a
// *SocialError, logged here.
func (s *Service) FinishSocialFlow(ctx context.Context, cb SocialFlowCallback) (_ *SocialFlowResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "FinishSocialFlow")
	defer opSpan.end(&opErr)
	p, err := s.configuredProvider(cb.Provider)
	if err != nil {
		return nil, err
	}
	res, f := s.finishSocialFlow(ctx, p, cb)
	if f != nil {
		return nil, s.socialFailed(ctx, p, f)
	}
	return res, nil
}

func (s *Service) finishSocialFlow(ctx context.Context, p *socialProvider, cb SocialFlowCallback) (_ *SocialFlowResult, f *SocialError) {
	var flow *socialFlow // known once opened
	defer func() {
		if f != nil && flow != nil {
			f.Next, f.Connect = flow.Next, flow.Connect
		}
	}()
	if cb.State == "" {
		return nil, socialFail(SocialReasonStateMissing, nil)
	}
	name := SocialFlowCookieName(cb.State)
	if name == "" || cb.SealedFlow == "" {
		return nil, socialFail(SocialReasonStateMismatch, nil)
	}
	opened, err := oauthflow.Open(s.cfg.Secret, name, cb.SealedFlow)
	if err != nil {
		return nil, socialFail(SocialReasonStateMismatch, err)
	}
	if subtle.ConstantTimeCompare([]byte(opened.State), []byte(cb.State)) != 1 || opened.Provider != p.cfg.ID {
		return nil, socialFail(SocialReasonStateMismatch, nil)
	}
	flow = opened
	now := s.now()
	expires := time.Unix(flow.Expires, 0)
	if now.After(expires) {
		return nil, socialFail(SocialReasonFlowExpired, nil)
	}
	if !s.social.used.Consume(cb.State, expires, now) {
		return nil, socialFail(SocialReasonFlowReplayed, nil)
	}
	if e := cb.ProviderError; e != "" {
		if e == "access_denied" {
			return nil, socialFail(SocialReasonAccessDenied, nil)
		}
		return nil, socialFail(SocialReasonProviderError, fmt.Errorf("provider error %q", truncateBytes(e, 100)))
	}
	if cb.Code == "" {
		return nil, socialFail(SocialReasonCodeMissing, nil)
	}
	if !s.cfg.Social.Enabled {
		return nil, socialFail(SocialReasonSSODisabled, nil)
	}
	if flow.Connect && (cb.SessionUser == nil || cb.SessionUser.ID != flow.UserID) {
		return nil, socialFail(SocialReasonLoginRequired, nil)
	}
	if err := p.rt.Ready(ctx); err != nil {
		return nil, socialFail(SocialReasonProviderUnavailable, err)
	}
	prof, f := s.fetchProfile(ctx, p, flow, cb.Code)
	if f != nil {
		return nil, f
	}
	res, f := s.applySocialProfile(ctx, p, prof, flow.Connect, cb.SessionUser, socialSteps{signup: cb.SignupStep, mfa: cb.MFAStep, trust: cb.MFATrust})
	if f != nil {
		return nil, f
	}
	res.Next = cmp.Or(flow.Next, s.cfg.Social.LoginRedirect)
	if res.Connected {
		res.Next = cmp.Or(flow.Next, s.cfg.Social.ConnectRedirect)
	}
	return res, nil
}

// applySocialProfile does what a verified profile is for: with connect, link it to the
// session's user; else log in the user it finds or creates (AuditLoginSucceeded).
// With steps.signup, a login that needs a signup step ends with the result's
// PendingSignup; with steps.mfa, one whose second factor is due with its Pending.
func (s *Service) applySocialProfile(ctx context.Context, p *socialProvider, prof *socialProfile, connect bool, sessionUser *User, steps socialSteps) (*SocialFlowResult, *SocialError) {
	if connect {
		if f := s.connectSocialAccount(ctx, p, prof, sessionUser); f != nil {
			return nil, f
		}
		return &SocialFlowResult{User: sessionUser, Connected: true, UID: prof.UID}, nil
	}
	u, pending, f := s.socialLogin(ctx, p, prof, steps)
	if f != nil && f.Reason == SocialReasonSignupRequired {
		return &SocialFlowResult{PendingSignup: s.pendingSocialSignup(p, prof)}, nil
	}
	if f != nil {
		return nil, f
	}
	if pending != nil {
		// CompleteLogin emits the login's event once the second factor passed.
		return &SocialFlowResult{User: u, UID: prof.UID, Pending: pending}, nil
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodSocial, Detail: "method=social provider=" + p.cfg.ID})
	return &SocialFlowResult{User: u, UID: prof.UID}, nil
}

// configuredProvider finds a provider a flow may use; the others do not exist for it.
func (s *Service) configuredProvider(id string) (*socialProvider, error) {
	p := s.social.byID[id]
	if p == nil || !p.configured() {
		return nil, fmt.Errorf("social provider %q: %w", truncateBytes(id, maxProviderIDLength), ErrNotFound)
	}
	return p, nil
}

// socialFailed logs a failed flow with its cause, which no dialect shows, and returns it
// as the operation's error. Failures the user can cause are logged at Info, internal ones
// at Error.
func (s *Service) socialFailed(ctx context.Context, p *socialProvider, f *SocialError) error {
	args := []any{"provider", p.cfg.ID, "reason", string(f.Reason)}
	if f.Err != nil {
		args = append(args, "error", f.Err)
	}
	if f.Reason == SocialReasonServerError {
		s.log.ErrorContext(ctx, "restauth: social login failed", args...)
	} else {
		s.log.InfoContext(ctx, "restauth: social login failed", args...)
	}
	return f
}

// safeNext keeps a requested post-login target only if it stays on SiteURL's origin
// (see sso.SafeNext); anything else falls back to the configured redirect.
func (s *Service) safeNext(raw string) string { return sso.SafeNext(s.site, raw, maxSocialNext) }

// truncateBytes shortens untrusted text for a log line.
func truncateBytes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
