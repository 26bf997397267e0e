package headless

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// providerTokenInput is the body of auth/provider/token.
type providerTokenInput struct {
	Provider string `json:"provider"`
	Process  string `json:"process"`
	Token    *struct {
		ClientID    string `json:"client_id"`
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	} `json:"token"`
}

// invalidProviderToken is allauth's refusal of a provider token.
var invalidProviderToken = apiError{Code: "invalid", Param: "token", Message: "The token was invalid."}

// providerToken is POST auth/provider/token: tokens a native app obtained from the
// provider, checked against it (LoginWithProviderToken), then the session logged in
// (login) or the provider account connected to the session's user (connect).
func (h *handler) providerToken(c *call) *answer {
	var in providerTokenInput
	if a := c.decode(&in); a != nil {
		return a
	}
	var errs []apiError
	if in.Provider == "" {
		errs = append(errs, required("provider"))
	}
	if e, bad := checkProcess(in.Process); bad {
		errs = append(errs, e)
	}
	if in.Token == nil || in.Token.ClientID == "" {
		errs = append(errs, required("token"))
	}
	if errs != nil {
		return badRequest(errs...)
	}
	connect := in.Process == processConnect
	if connect && c.user == nil {
		return c.authAnswer(nil)
	}
	if !connect && c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	res, err := c.svc().LoginWithProviderToken(c.ctx, restauth.ProviderTokenLogin{
		Provider: in.Provider, ClientID: in.Token.ClientID,
		IDToken: in.Token.IDToken, AccessToken: in.Token.AccessToken,
		Connect: connect, User: c.user, SignupStep: true, MFAStep: true, MFATrust: c.mfaTrustCookie(),
	})
	if errors.Is(err, restauth.ErrNotFound) {
		return badRequest(apiError{Code: "invalid", Param: "provider", Message: "Unknown provider."})
	}
	var failed *restauth.SocialError
	if errors.As(err, &failed) {
		return c.providerRefused(failed)
	}
	if err != nil {
		return c.fail(err)
	}
	if res.Connected {
		return c.authAnswer(c.user)
	}
	if res.PendingSignup != nil {
		return c.keepPendingSignup(res.PendingSignup)
	}
	if res.Pending != nil {
		return c.pendSecondFactor(*res.Pending, c.socialRecord(in.Provider, res))
	}
	return c.socialLoginSession(in.Provider, res)
}

// providerRefused answers a social login the operation refused, in allauth's terms.
func (c *call) providerRefused(failed *restauth.SocialError) *answer {
	switch failed.Reason {
	case restauth.SocialReasonRegistrationClosed, restauth.SocialReasonSSODisabled:
		return statusOnly(http.StatusForbidden)
	case restauth.SocialReasonLoginRequired:
		return c.authAnswer(nil)
	case restauth.SocialReasonEmailNotVerified:
		c.sessions().Put(c.ctx, pendingVerifyKey, true)
		return c.authAnswer(nil)
	case restauth.SocialReasonEmailInUse:
		return badRequest(apiError{Code: "email_taken", Param: "email", Message: "A user is already registered with this email address."})
	case restauth.SocialReasonAccountInUse:
		return badRequest(apiError{Code: "account_taken", Param: "token", Message: "The third-party account is already connected to a different account."})
	case restauth.SocialReasonServerError:
		return c.fail(failed)
	}
	return badRequest(invalidProviderToken)
}
