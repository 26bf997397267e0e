package restauth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/validate"
)

// The account side of a social flow: which local user a verified provider profile logs
// in, links to, or creates. Nothing here knows how the profile was obtained, so a later
// way to obtain one (a native app's ID token) reuses every rule.

// socialSteps are the steps a dialect offers after a provider login: allauth's provider
// signup (signup) and its second factor (mfa, with trust the client's trust token).
type socialSteps struct {
	signup bool
	mfa    bool
	trust  string
}

// socialLogin finds or creates the user a provider account logs in, and records the login.
//
// With steps.signup (a dialect that offers allauth's provider signup), a provider account
// whose user cannot be created at once (see socialSignup) fails with
// SocialReasonSignupRequired, for the dialect to ask for the details and finish with
// CompleteSocialSignup. With steps.mfa, a user with a second factor is not logged in: the
// pending login is returned, and nothing is recorded until CompleteLogin; without it such
// a user is refused (SocialReasonMFARequired), so that a provider account is never the
// way around the second factor.
func (s *Service) socialLogin(ctx context.Context, p *socialProvider, prof *socialProfile, steps socialSteps) (*User, *PendingLogin, *SocialError) {
	if s.cfg.MFA.Enabled && s.cfg.MFA.Required && !steps.mfa {
		// Every user needs a second factor, which a provider login gives only through a
		// dialect's second-factor step.
		return nil, nil, socialFail(SocialReasonMFARequired, nil)
	}
	now := s.now().UTC()
	acct, err := s.store.SocialAccountByUID(ctx, p.cfg.ID, prof.UID)
	var u *User
	switch {
	case err == nil:
		if u, err = s.store.UserByID(ctx, acct.UserID); err != nil {
			return nil, nil, socialFail(SocialReasonServerError, err)
		}
	case errors.Is(err, ErrNotFound):
		if s.cfg.MFA.Enabled && s.cfg.MFA.Required {
			// A new or newly linked account has no second factor to give yet: refused
			// before anything is created or linked.
			return nil, nil, socialFail(SocialReasonMFARequired, nil)
		}
		var f *SocialError
		if u, f = s.socialSignup(ctx, p, prof, now, steps.signup); f != nil {
			return nil, nil, f
		}
	default:
		return nil, nil, socialFail(SocialReasonServerError, err)
	}
	if !u.IsActive {
		return nil, nil, socialFail(SocialReasonInactive, nil)
	}
	if !steps.mfa {
		if f := s.refuseSocialForMFA(ctx, u); f != nil {
			return nil, nil, f
		}
	}
	if s.cfg.EmailVerification == VerificationMandatory {
		verified, err := s.hasVerifiedPrimary(ctx, u)
		if err != nil {
			return nil, nil, socialFail(SocialReasonServerError, err)
		}
		if !verified {
			return nil, nil, socialFail(SocialReasonEmailNotVerified, nil)
		}
	}
	if steps.mfa {
		pending, f := s.socialSecondFactor(ctx, u, steps.trust)
		if f != nil {
			return nil, nil, f
		}
		if pending != nil {
			pending.FirstFactor, pending.Provider = "social", p.cfg.ID
			return u, pending, nil
		}
	}
	// A refused login records nothing.
	if acct != nil {
		if err := s.store.UpdateSocialAccountLogin(ctx, acct.ID, now, prof.Extra); err != nil {
			return nil, nil, socialFail(SocialReasonServerError, err)
		}
	}
	// Recording the login also invalidates password-reset links issued before it.
	if u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now}); err != nil {
		return nil, nil, socialFail(SocialReasonServerError, err)
	}
	return u, nil, nil
}

// socialSecondFactor is the second factor's gate of a provider login whose dialect offers
// the step, as a password login's: a user with a second factor gets a pending login unless
// trust is a valid trust token of theirs; under MFA.Required a user who has not enrolled
// is refused, as provider logins always were (enrolment needs a password login).
func (s *Service) socialSecondFactor(ctx context.Context, u *User, trust string) (*PendingLogin, *SocialError) {
	if !s.cfg.MFA.Enabled {
		return nil, nil
	}
	pending, err := s.pendingLogin(ctx, u, "")
	switch {
	case err != nil:
		return nil, socialFail(SocialReasonServerError, err)
	case pending == nil && s.cfg.MFA.Required:
		return nil, socialFail(SocialReasonMFARequired, nil)
	case pending != nil && s.trusted(ctx, u, trust):
		return nil, nil
	}
	return pending, nil
}

// refuseSocialForMFA refuses a social login of a user with TOTP or a WebAuthn credential: the second step exists
// for password logins only, and a provider account must not be the way around it.
func (s *Service) refuseSocialForMFA(ctx context.Context, u *User) *SocialError {
	if !s.cfg.MFA.Enabled {
		return nil
	}
	_, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil {
		return socialFail(SocialReasonServerError, err)
	}
	if enrolled {
		return socialFail(SocialReasonMFARequired, nil)
	}
	return nil
}

// socialSignup handles a provider account nobody has linked yet: it links it to the user
// who holds the provider's address verified — only when the provider asserts the address
// verified and Config.Social.LinkByVerifiedEmail allows it (an unverified match would let
// whoever controls the provider account take over the local one) — or creates a user when
// Config.Social.Registration is on. With step, an address held otherwise, or
// Config.Social.SignupForm, asks for a signup step (SocialReasonSignupRequired) instead.
func (s *Service) socialSignup(ctx context.Context, p *socialProvider, prof *socialProfile, now time.Time, step bool) (*User, *SocialError) {
	holder, held, err := s.verifiedHolder(ctx, prof.Email)
	if err != nil {
		return nil, socialFail(SocialReasonServerError, err)
	}
	if holder != nil {
		// Linking hands the account over, so the provider's address must be the holder's
		// exactly, bar ASCII case: the stores also match addresses that only Unicode case
		// folding makes equal ("ας.gr" and "ασ.gr" are different domains).
		if !prof.EmailVerified || !s.cfg.Social.LinkByVerifiedEmail || !sameAddress(held.Email, prof.Email) {
			if step && s.cfg.Social.Registration {
				// allauth's signup form kicks in: another address makes a new account.
				return nil, socialFail(SocialReasonSignupRequired, nil)
			}
			return nil, socialFail(SocialReasonEmailInUse, nil)
		}
		// Refused logins link nothing: a user with TOTP is not logged in below, and must
		// not find a provider account linked behind their back.
		if f := s.refuseSocialForMFA(ctx, holder); f != nil {
			return nil, f
		}
		if f := s.linkSocialAccount(ctx, p, prof, holder, now, true); f != nil {
			return nil, f
		}
		return holder, nil
	}
	if !s.cfg.Social.Registration {
		return nil, socialFail(SocialReasonRegistrationClosed, nil)
	}
	if step && s.cfg.Social.SignupForm {
		return nil, socialFail(SocialReasonSignupRequired, nil)
	}
	return s.createSocialUser(ctx, p, prof, now)
}

// createSocialUser creates the user of a provider account, with a username derived from
// the profile, and links the account.
func (s *Service) createSocialUser(ctx context.Context, p *socialProvider, prof *socialProfile, now time.Time) (*User, *SocialError) {
	// An unusable password, as Django's set_unusable_password: each such user's hash (and
	// so their session auth hash) is their own, where an empty one was the same for every
	// user without a password.
	u := &User{FirstName: prof.FirstName, LastName: prof.LastName, PasswordHash: unusablePassword(), IsActive: true, DateJoined: now}
	var addr *EmailAddress
	if prof.Email != "" {
		addr = &EmailAddress{Email: prof.Email, Primary: true, Verified: prof.EmailVerified}
	}
	base := usernameBase(prof, p.cfg.ID)
	for attempt := 0; ; attempt++ {
		candidate := base
		if attempt > 0 {
			digits := 4
			if attempt > 5 {
				digits = 8
			}
			suffix, err := randomString(digits, "0123456789")
			if err != nil {
				return nil, socialFail(SocialReasonServerError, err)
			}
			candidate = validate.Clip(base, maxUsernameLength-digits) + suffix
		}
		if attempt < 10 {
			if taken, err := s.usernameTaken(ctx, candidate, 0); err != nil {
				return nil, socialFail(SocialReasonServerError, err)
			} else if taken {
				continue
			}
		}
		u.ID, u.Username, u.Email = 0, candidate, ""
		if addr != nil {
			addr.ID, addr.UserID = 0, 0
		}
		err := s.store.CreateUser(ctx, u, addr)
		var conflict *ConflictError
		switch {
		case err == nil:
		case errors.As(err, &conflict) && conflict.Field == "username" && attempt < 20:
			continue
		case errors.As(err, &conflict):
			return nil, socialFail(SocialReasonEmailInUse, err)
		default:
			return nil, socialFail(SocialReasonServerError, err)
		}
		break
	}
	if f := s.linkSocialAccount(ctx, p, prof, u, now, false); f != nil {
		// Another callback for the same provider account won the race: undo this user.
		if err := s.store.DeleteUser(ctx, u.ID); err != nil {
			s.log.ErrorContext(ctx, "restauth: could not remove a user created for a lost social-login race", "user_id", u.ID, "error", err)
		}
		return nil, f
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditSignedUp, Method: AuditMethodSocial, Detail: "method=social provider=" + p.cfg.ID})
	if addr != nil && !addr.Verified && s.cfg.EmailVerification != VerificationNone {
		s.sendConfirmation(ctx, u, addr)
	}
	return u, nil
}

// linkSocialAccount stores the provider account for u. existing is set when u existed
// before this flow (connect, link by verified e-mail): u is then mailed a security notice,
// since whoever holds the provider account can now log in as u. Like every notice it goes
// only to an address u holds verified (see notify); a user the flow has just created gets
// none.
func (s *Service) linkSocialAccount(ctx context.Context, p *socialProvider, prof *socialProfile, u *User, now time.Time, existing bool) *SocialError {
	acct := &SocialAccount{UserID: u.ID, Provider: p.cfg.ID, UID: prof.UID, LastLogin: now, DateJoined: now, ExtraData: prof.Extra}
	if err := s.store.CreateSocialAccount(ctx, acct); err != nil {
		if errors.Is(err, ErrConflict) {
			return socialFail(SocialReasonAccountInUse, err)
		}
		return socialFail(SocialReasonServerError, err)
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditSocialLinked, Detail: "provider=" + p.cfg.ID})
	if existing {
		s.notify(ctx, MailSocialConnected, u, MailData{Provider: p.cfg.DisplayName})
	}
	return nil
}

// connectSocialAccount links the provider account to the logged-in user; an account
// already linked to someone else is refused.
func (s *Service) connectSocialAccount(ctx context.Context, p *socialProvider, prof *socialProfile, u *User) *SocialError {
	now := s.now().UTC()
	acct, err := s.store.SocialAccountByUID(ctx, p.cfg.ID, prof.UID)
	switch {
	case err == nil && acct.UserID == u.ID:
		if err := s.store.UpdateSocialAccountLogin(ctx, acct.ID, now, prof.Extra); err != nil {
			return socialFail(SocialReasonServerError, err)
		}
		return nil
	case err == nil:
		return socialFail(SocialReasonAccountInUse, nil)
	case !errors.Is(err, ErrNotFound):
		return socialFail(SocialReasonServerError, err)
	}
	return s.linkSocialAccount(ctx, p, prof, u, now, true)
}

// usernameBase derives a username from the profile, like allauth (validate.UsernameFrom):
// the provider's username, else the address's local part, else the name.
func usernameBase(prof *socialProfile, providerID string) string {
	local, _, _ := strings.Cut(prof.Email, "@")
	return validate.UsernameFrom([]string{prof.Username, local, prof.FirstName + prof.LastName}, maxUsernameLength, providerID+"-user")
}
