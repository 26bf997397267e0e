package headless

import (
	"errors"
	"net/http"
	"sort"

	"github.com/restauth/restauth"
)

// params renames the operations' field names to allauth's input names.
var params = map[string]string{
	"password1":        "password",
	"password2":        "password",
	"new_password1":    "password",
	"new_password2":    "password",
	"non_field_errors": "",
	"mfa_code":         "code",
}

// fail answers an operation's error: a rate limit 429, field errors 400 in allauth's
// shape, a refusal 403, an overloaded or slow store 503, anything else 500 (logged).
func (c *call) fail(err error) *answer {
	var (
		throttled *restauth.ThrottledError
		verr      *restauth.ValidationError
		perr      *restauth.PermissionError
	)
	switch {
	case errors.As(err, &throttled):
		return &answer{status: http.StatusTooManyRequests, retryAfter: throttled.RetryAfterSeconds}
	case errors.As(err, &verr):
		return badRequest(fieldErrors(verr)...)
	case errors.As(err, &perr):
		return statusOnly(http.StatusForbidden)
	case errors.Is(err, restauth.ErrBusy), errors.Is(err, restauth.ErrStoreTimeout):
		return &answer{status: http.StatusServiceUnavailable, retryAfter: 5}
	}
	ctx := c.r.Context()
	if c.ctx != nil {
		ctx = c.ctx
	}
	c.h.opts.Logger.ErrorContext(ctx, "restauth/headless: request failed", "method", c.r.Method, "path", c.r.URL.Path, "error", err)
	return statusOnly(http.StatusInternalServerError)
}

// allauthMessages are allauth's English messages of the codes whose restauth message is
// the 291 dialect's (dj-rest-auth's or restauth's own wording).
var allauthMessages = map[string]string{
	"email_taken":                 "A user is already registered with this email address.",
	"duplicate_email":             "This email address is already associated with this account.",
	"unverified_primary_email":    "Your primary email address must be verified.",
	"cannot_remove_primary_email": "You cannot remove your primary email address.",
	"enter_current_password":      "Please type your current password.",
	"incorrect_code":              "Incorrect code.",
	"no_password":                 "Your account has no password set up.",
}

// fieldErrors lists a ValidationError's messages in allauth's shape, fields in name order.
// The code is the one the operation set where the rule lives (ValidationError.Codes);
// messages without one are "invalid".
func fieldErrors(verr *restauth.ValidationError) []apiError {
	fields := make([]string, 0, len(verr.Fields))
	for f := range verr.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	var out []apiError
	for _, f := range fields {
		param, renamed := params[f]
		if !renamed {
			param = f
		}
		for i, msg := range verr.Fields[f] {
			e := apiError{Code: verr.Code(f, i), Param: param, Message: msg}
			if e.Code == "" {
				e.Code = "invalid"
			}
			if m, ok := allauthMessages[e.Code]; ok {
				e.Message = m
			}
			if e.Code == "incorrect_code" {
				e.Param = "code"
			}
			out = append(out, e)
		}
	}
	return out
}

// loginMismatch is allauth's refusal of a login's credentials.
func loginMismatch(byEmail bool) *answer {
	if byEmail {
		return badRequest(apiError{Code: "email_password_mismatch", Param: "password", Message: "The email address and/or password you specified are not correct."})
	}
	return badRequest(apiError{Code: "username_password_mismatch", Param: "password", Message: "The username and/or password you specified are not correct."})
}
