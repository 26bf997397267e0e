package headless

import (
	"errors"
	"net/http"
	"strings"

	"github.com/restauth/restauth"
)

// This file serves account/email: the logged-in user's addresses, named by their text as
// allauth names them; the operations (AddEmailAddress, SetPrimaryEmail,
// RequestVerification, RemoveEmailAddress) hold every rule.

// emailInput is the body of account/email's POST, PUT, PATCH and DELETE.
type emailInput struct {
	Email   string `json:"email"`
	Primary *bool  `json:"primary"`
}

// unknownEmail is allauth's refusal of an address the user does not hold.
func unknownEmail() *answer {
	return badRequest(apiError{Code: "unknown_email", Param: "email", Message: "Unknown email address."})
}

// emailList answers the user's addresses (allauth's EmailAddressesResponse).
func (c *call) emailList() *answer {
	addrs, err := c.svc().EmailAddresses(c.ctx, c.user.ID)
	if err != nil {
		return c.fail(err)
	}
	out := make([]map[string]any, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, map[string]any{"email": a.Email, "primary": a.Primary, "verified": a.Verified})
	}
	return ok(out)
}

// emailFail answers an e-mail operation's error, its field errors on "email".
func (c *call) emailFail(err error) *answer {
	if errors.Is(err, restauth.ErrNotFound) {
		return unknownEmail()
	}
	a := c.fail(err)
	for i := range a.errors {
		if a.errors[i].Param == "" {
			a.errors[i].Param = "email"
		}
	}
	return a
}

// readEmail decodes the body and finds the address it names; a is the answer when it does
// not name one of the user's.
func (c *call) readEmail() (addr *restauth.EmailAddress, in emailInput, a *answer) {
	if a := c.decode(&in); a != nil {
		return nil, in, a
	}
	in.Email = strings.TrimSpace(in.Email)
	if in.Email == "" {
		return nil, in, badRequest(required("email"))
	}
	addr, err := c.svc().FindEmailAddress(c.ctx, c.user.ID, in.Email)
	if err != nil {
		return nil, in, c.emailFail(err)
	}
	return addr, in, nil
}

// emailGet is GET account/email: the user's addresses.
func (h *handler) emailGet(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	return c.emailList()
}

// emailAdd is POST account/email: a new, unverified address, and a verification mail for
// it. Anonymous: 409, as allauth answers when no verification flow can change its address.
func (h *handler) emailAdd(c *call) *answer {
	if c.user == nil {
		return statusOnly(http.StatusConflict)
	}
	var in emailInput
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Email == "" {
		return badRequest(required("email"))
	}
	if _, err := c.svc().AddEmailAddress(c.ctx, c.user.ID, in.Email); err != nil {
		return c.emailFail(err)
	}
	return c.emailList()
}

// emailResend is PUT account/email: a new verification mail for one of the user's
// addresses; 403 when too many were sent lately (allauth's answer when nothing was sent).
func (h *handler) emailResend(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	addr, _, a := c.readEmail()
	if a != nil {
		return a
	}
	_, err := c.svc().RequestVerification(c.ctx, c.user.ID, addr.ID)
	if errors.Is(err, restauth.ErrThrottled) {
		return statusOnly(http.StatusForbidden)
	}
	if err != nil {
		return c.emailFail(err)
	}
	return statusOnly(http.StatusOK)
}

// emailPrimary is PATCH account/email: one of the user's addresses made primary.
func (h *handler) emailPrimary(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	addr, in, a := c.readEmail()
	if a != nil {
		return a
	}
	if in.Primary == nil || !*in.Primary {
		return badRequest(required("primary"))
	}
	if _, err := c.svc().SetPrimaryEmail(c.ctx, c.user.ID, addr.ID); err != nil {
		return c.emailFail(err)
	}
	return c.emailList()
}

// emailRemove is DELETE account/email: one of the user's addresses removed.
func (h *handler) emailRemove(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	addr, _, a := c.readEmail()
	if a != nil {
		return a
	}
	if _, err := c.svc().RemoveEmailAddress(c.ctx, c.user.ID, addr.ID); err != nil {
		return c.emailFail(err)
	}
	return c.emailList()
}
