package restauth

import (
	"context"
	"errors"
	"strings"

	"github.com/restauth/restauth/internal/sso"
	"github.com/restauth/restauth/internal/validate"
)

// socialProfile is what a provider tells about the account, within what an account
// holds.
type socialProfile = sso.Profile

// maxSocialUID is the SocialAccount uid column's size.
const maxSocialUID = 191

// fetchProfile exchanges the code and reads the profile (internal/sso), naming a failure
// by its reason, and keeps of the profile what an account can hold: an account id that
// fits, a valid address, names within their length.
func (s *Service) fetchProfile(ctx context.Context, p *socialProvider, flow *socialFlow, code string) (*socialProfile, *SocialError) {
	prof, err := p.rt.Profile(ctx, code, flow.Verifier, flow.Nonce, flow.Callback)
	return s.keepProfile(prof, err)
}

// keepProfile names a failed profile read by its reason and keeps of a profile what an
// account can hold (see fetchProfile).
func (s *Service) keepProfile(prof *socialProfile, err error) (*socialProfile, *SocialError) {
	if err != nil {
		reason, cause := SocialReasonProfileFailed, err
		var fe *sso.Error
		if errors.As(err, &fe) {
			cause = fe.Err
			switch fe.Stage {
			case sso.StageExchange:
				reason = SocialReasonExchangeFailed
			case sso.StageIDToken:
				reason = SocialReasonInvalidIDToken
			case sso.StageNonce:
				reason = SocialReasonNonceMismatch
			}
		}
		return nil, socialFail(reason, cause)
	}
	if prof.UID == "" || len(prof.UID) > maxSocialUID {
		return nil, socialFail(SocialReasonProfileFailed, errors.New("the profile has no usable account id"))
	}
	if !validate.Email(prof.Email) || len(prof.Email) > maxEmailLength {
		prof.Email, prof.EmailVerified = "", false
	}
	prof.FirstName = validate.Clip(strings.TrimSpace(prof.FirstName), maxNameLength)
	prof.LastName = validate.Clip(strings.TrimSpace(prof.LastName), maxNameLength)
	return prof, nil
}
