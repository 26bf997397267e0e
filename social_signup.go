package restauth

import (
	"context"
	"encoding/json"
	"time"

	"github.com/restauth/restauth/internal/validate"
)

// The provider signup step (allauth headless's provider_signup): a social login whose user
// cannot be created at once — the provider's address is another user's and may not be
// linked, or Config.Social.SignupForm asks — is kept pending in the session with the
// provider's profile, and completed with the address and username the user gives.

// pendingSocialSignupKey holds the session's pending provider signup, as JSON.
const pendingSocialSignupKey = "_social_pending_signup"

// PendingSocialSignup is a social login waiting for the user's details: the provider
// account's verified profile, kept server-side in the session.
type PendingSocialSignup struct {
	Provider      string `json:"provider"`
	UID           string `json:"uid"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	// Username is the suggested username, derived from the profile.
	Username  string          `json:"username,omitempty"`
	FirstName string          `json:"first_name,omitempty"`
	LastName  string          `json:"last_name,omitempty"`
	Extra     json.RawMessage `json:"extra,omitempty"`
	// Expires is when the step must be done by (the flow's 10 minutes).
	Expires time.Time `json:"expires"`
}

func (s *Service) pendingSocialSignup(p *socialProvider, prof *socialProfile) *PendingSocialSignup {
	return &PendingSocialSignup{
		Provider: p.cfg.ID, UID: prof.UID, Email: prof.Email, EmailVerified: prof.EmailVerified,
		Username: usernameBase(prof, p.cfg.ID), FirstName: prof.FirstName, LastName: prof.LastName,
		Extra: prof.Extra, Expires: s.now().Add(socialFlowTTL),
	}
}

// PutPendingSocialSignup keeps p in the session in ctx (replacing any other).
func (s *Service) PutPendingSocialSignup(ctx context.Context, p *PendingSocialSignup) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	s.sessions.Put(ctx, pendingSocialSignupKey, string(raw))
	return nil
}

// SessionPendingSocialSignup returns the unexpired pending provider signup of the session
// in ctx, if any.
func (s *Service) SessionPendingSocialSignup(ctx context.Context) (*PendingSocialSignup, bool) {
	raw := s.sessions.GetString(ctx, pendingSocialSignupKey)
	if raw == "" {
		return nil, false
	}
	var p PendingSocialSignup
	if err := json.Unmarshal([]byte(raw), &p); err != nil || !s.now().Before(p.Expires) {
		return nil, false
	}
	return &p, true
}

// DropPendingSocialSignup removes the session's pending provider signup.
func (s *Service) DropPendingSocialSignup(ctx context.Context) {
	s.sessions.Remove(ctx, pendingSocialSignupKey)
}

// SocialSignupDetails are what the user gives to complete a provider signup.
type SocialSignupDetails struct {
	Email    string
	Username string
}

// CompleteSocialSignup creates the user of a pending provider signup with the address and
// username given (the registration rules: a valid username nobody holds, a valid address
// nobody holds verified; an empty username takes the suggested one), links the provider
// account and logs the user in as FinishSocialFlow does. The address counts as verified
// only when it is the one the provider asserted verified; otherwise it is mailed a
// confirmation, and with mandatory verification the login fails with
// SocialReasonEmailNotVerified. Input errors are a *ValidationError on "email" or
// "username"; a pending signup of an unknown provider matches ErrNotFound; every other
// failure is a *SocialError, logged here.
func (s *Service) CompleteSocialSignup(ctx context.Context, pending *PendingSocialSignup, in SocialSignupDetails) (_ *SocialFlowResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "CompleteSocialSignup")
	defer opSpan.end(&opErr)
	p, err := s.configuredProvider(pending.Provider)
	if err != nil {
		return nil, err
	}
	if !s.cfg.Social.Enabled {
		return nil, s.socialFailed(ctx, p, socialFail(SocialReasonSSODisabled, nil))
	}
	if !s.cfg.Social.Registration {
		return nil, s.socialFailed(ctx, p, socialFail(SocialReasonRegistrationClosed, nil))
	}
	if !s.now().Before(pending.Expires) {
		return nil, s.socialFailed(ctx, p, socialFail(SocialReasonFlowExpired, nil))
	}
	username := validate.NormalizeUsername(in.Username)
	if username == "" {
		username = pending.Username
	}
	var errs ValidationError
	if in.Email == "" && s.cfg.EmailVerification == VerificationMandatory {
		// An account that must verify its address needs one.
		errs.add("email", "This field is required.")
	}
	// checkNewAccount checks a password too: none here, its finding is dropped.
	const noPassword = "\x00password"
	if err := s.checkNewAccount(ctx, &errs, username, in.Email, "", noPassword); err != nil {
		return nil, err
	}
	delete(errs.Fields, noPassword)
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	prof := &socialProfile{
		UID: pending.UID, Email: in.Email, EmailVerified: pending.EmailVerified && sameAddress(in.Email, pending.Email),
		Username: username, FirstName: pending.FirstName, LastName: pending.LastName, Extra: pending.Extra,
	}
	if _, f := s.createSocialUser(ctx, p, prof, s.now().UTC()); f != nil {
		return nil, s.socialFailed(ctx, p, f)
	}
	// The account is linked now: the login finds it and applies every rule of one.
	res, f := s.applySocialProfile(ctx, p, prof, false, nil, socialSteps{})
	if f != nil {
		return nil, s.socialFailed(ctx, p, f)
	}
	return res, nil
}
