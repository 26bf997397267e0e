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

// fieldErrors lists a ValidationError's messages in allauth's shape, fields in name order.
// The code comes from the sentinel the error stands for; errors without one are
// "invalid".
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
		for _, msg := range verr.Fields[f] {
			e := apiError{Code: "invalid", Param: param, Message: msg}
			switch {
			case param == "username" && errors.Is(verr, restauth.ErrUsernameTaken):
				e.Code = "username_taken"
			case param == "email" && errors.Is(verr, restauth.ErrEmailTaken):
				e.Code, e.Message = "email_taken", "A user is already registered with this email address."
			case errors.Is(verr, restauth.ErrInvalidMFACode):
				e.Code, e.Param = "incorrect_code", "code"
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
