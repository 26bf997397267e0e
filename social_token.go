package restauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
)

// The token flow: a native app runs the provider's authorization on the device and hands
// the tokens it received to the server (allauth headless's auth/provider/token). The
// tokens are checked against the provider, and the profile they prove then goes through
// the same account rules as the browser flow's (social_login.go).

// ProviderTokenLogin asks LoginWithProviderToken to log in, or connect, with tokens a
// client obtained from a provider by itself.
type ProviderTokenLogin struct {
	// Provider is the provider's ID.
	Provider string
	// ClientID is the client id the app obtained the tokens for: the provider's
	// ClientID, which is also the audience an ID token must carry.
	ClientID string
	// IDToken is the OpenID Connect ID token, required for an OpenID Connect provider.
	IDToken string
	// AccessToken is the access token, required for an OAuth2 provider; for OpenID
	// Connect it completes the profile from user-info and is checked against the ID
	// token's at_hash.
	AccessToken string
	// Connect links the provider account to User instead of logging a user in.
	Connect bool
	// User is the authenticated user, for Connect.
	User *User
	// SignupStep is SocialFlowCallback.SignupStep.
	SignupStep bool
	// MFAStep and MFATrust are SocialFlowCallback's: with MFAStep a user with a second
	// factor ends with SocialFlowResult.Pending.
	MFAStep  bool
	MFATrust string
}

// LoginWithProviderToken logs in with tokens a native app obtained from a provider: an
// OpenID Connect ID token is verified against the provider's published keys (issuer, our
// client id as audience, expiry); a plain OAuth2 provider's access token is refused unless
// the provider has SocialProvider.AccessTokenLogin (it names no audience), and is then
// checked by reading the provider's user-info with it, which the provider answers only
// for a live token. The profile is then handled as FinishSocialFlow does (find, link or
// create the user, the MFA and verification rules, the audit events), or, with Connect,
// linked to User.
//
// Every attempt counts towards RateLimits.ProviderTokenFailedPerIP before anything is
// checked (a *ThrottledError over it), and is given back when it succeeds.
//
// A provider unknown, without ClientID or with another client id matches ErrNotFound;
// every other failure is a *SocialError (SocialReasonInvalidIDToken for a refused ID
// token, SocialReasonProfileFailed for a refused access token), logged here.
func (s *Service) LoginWithProviderToken(ctx context.Context, req ProviderTokenLogin) (_ *SocialFlowResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "LoginWithProviderToken")
	defer opSpan.end(&opErr)
	rule := s.cfg.RateLimits.ProviderTokenFailedPerIP
	if err := s.throttleAddr(ctx, rule); err != nil {
		return nil, err
	}
	res, err := s.loginWithProviderTokenChecked(ctx, req)
	if key, ok := addrKey(ctx); ok && err == nil {
		s.refundRate(ctx, rule, key)
	}
	return res, err
}

// loginWithProviderTokenChecked is LoginWithProviderToken once the attempt is counted.
func (s *Service) loginWithProviderTokenChecked(ctx context.Context, req ProviderTokenLogin) (*SocialFlowResult, error) {
	p, err := s.configuredProvider(req.Provider)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(req.ClientID), []byte(p.cfg.ClientID)) != 1 {
		return nil, fmt.Errorf("social provider %q has another client id: %w", p.cfg.ID, ErrNotFound)
	}
	res, f := s.loginWithProviderToken(ctx, p, req)
	if f != nil {
		return nil, s.socialFailed(ctx, p, f)
	}
	return res, nil
}

func (s *Service) loginWithProviderToken(ctx context.Context, p *socialProvider, req ProviderTokenLogin) (*SocialFlowResult, *SocialError) {
	if !s.cfg.Social.Enabled {
		return nil, socialFail(SocialReasonSSODisabled, nil)
	}
	if req.Connect && req.User == nil {
		return nil, socialFail(SocialReasonLoginRequired, nil)
	}
	if req.IDToken == "" && req.AccessToken == "" {
		return nil, socialFail(SocialReasonProfileFailed, errors.New("no token"))
	}
	if !p.rt.IsOIDC() && !p.cfg.AccessTokenLogin {
		// An OAuth2 access token names no audience: any client of the provider may hold
		// it. Only an ID token (verified for our client id) says the login is ours.
		return nil, socialFail(SocialReasonProfileFailed, errors.New("a plain OAuth2 provider's access token names no audience (SocialProvider.AccessTokenLogin is off)"))
	}
	if err := p.rt.Ready(ctx); err != nil {
		return nil, socialFail(SocialReasonProviderUnavailable, err)
	}
	prof, f := s.keepProfile(p.rt.TokenProfile(ctx, req.IDToken, req.AccessToken))
	if f != nil {
		return nil, f
	}
	return s.applySocialProfile(ctx, p, prof, req.Connect, req.User, socialSteps{signup: req.SignupStep, mfa: req.MFAStep, trust: req.MFATrust})
}
