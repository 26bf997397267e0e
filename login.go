package restauth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// maxPasswordBytes bounds what is hashed: longer input is refused without hashing, so a
// megabyte "password" cannot buy a megabyte of hashing work.
const maxPasswordBytes = 4096

// LoginRequest is a login attempt. Username is matched case-insensitively.
type LoginRequest struct {
	Username string
	Email    string
	Password string
	// MFACode is the second factor: a current TOTP code or an unused recovery code. Users
	// who need one and leave it empty get ErrMFARequired.
	MFACode string
}

// LoginResult is a successful login: the user and the token issued for this login.
type LoginResult struct {
	User  *User
	Token *IssuedToken
	// MFAMethod is the second factor the login used: "" (none), "totp" or "recovery_code".
	MFAMethod string
}

func invalidCredentials() error {
	return &ValidationError{Fields: map[string][]string{nonFieldErrors: {msgInvalidCredentials}}, cause: ErrInvalidCredentials}
}

// checkCredentials verifies a username and password. An unknown user, a user without a
// usable password and an inactive user all cost one password hash and fail the same way,
// so neither the answer nor its timing tells whether the account exists.
func (s *Service) checkCredentials(ctx context.Context, username, password string) (*User, error) {
	var u *User
	if username != "" {
		var err error
		if u, err = s.store.UserByUsername(ctx, username); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	ok, rehash, err := s.passwordMatches(ctx, u, password)
	if err != nil {
		return nil, err
	}
	if !ok || !u.IsActive {
		return nil, invalidCredentials()
	}
	if rehash {
		s.upgradePasswordHash(ctx, u, password)
	}
	return u, nil
}

// passwordMatches checks password against u's hash. No user (nil), a user without a
// usable password and a password longer than maxPasswordBytes cost one dummy hash and do
// not match, so the timing tells none of them from a wrong password; a cancelled request
// is an error either way.
func (s *Service) passwordMatches(ctx context.Context, u *User, password string) (ok, rehash bool, err error) {
	if u == nil || !u.HasUsablePassword() || len(password) > maxPasswordBytes {
		s.hasher.DummyCheck(ctx, password[:min(len(password), maxPasswordBytes)])
		return false, false, ctx.Err()
	}
	return s.hasher.Check(ctx, password, u.PasswordHash)
}

// upgradePasswordHash re-hashes a password stored with an older algorithm or weaker
// parameters. A failure only postpones the upgrade to the next login.
func (s *Service) upgradePasswordHash(ctx context.Context, u *User, password string) {
	encoded, err := s.hasher.Hash(ctx, password)
	if err == nil {
		var updated *User
		updated, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: &encoded})
		if err == nil {
			*u = *updated
			return
		}
	}
	s.log.WarnContext(ctx, "restauth: could not upgrade password hash", "user_id", u.ID, "error", err)
}

// Login checks credentials and issues a new API token for this login. Every login gets a
// token of its own, so logging out one client never logs out another.
func (s *Service) Login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	if req.Username == "" {
		return nil, fieldError(nonFieldErrors, msgMustInclude)
	}
	u, err := s.checkCredentials(ctx, req.Username, req.Password)
	if err != nil {
		return nil, err
	}
	if s.cfg.EmailVerification == VerificationMandatory {
		verified, err := s.hasVerifiedPrimary(ctx, u)
		if err != nil {
			return nil, err
		}
		if !verified {
			return nil, fieldError(nonFieldErrors, msgEmailNotVerified)
		}
	}
	method, err := s.secondFactor(ctx, u, req.MFACode)
	if err != nil {
		return nil, err
	}
	// Recording the login also invalidates password-reset links issued before it.
	now := s.now().UTC()
	if u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now}); err != nil {
		return nil, err
	}
	issued, err := s.IssueToken(ctx, u.ID, "")
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: u, Token: issued, MFAMethod: string(method)}, nil
}

// hasVerifiedPrimary reports whether the user's primary address is verified.
func (s *Service) hasVerifiedPrimary(ctx context.Context, u *User) (bool, error) {
	addrs, err := s.store.EmailAddresses(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.Primary && a.Verified {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) handleLogin(w http.ResponseWriter, r *http.Request, c *call) {
	f, err := s.decodeBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var errs ValidationError
	username, _ := f.char(&errs, charField{name: "username", allowBlank: true})
	email, _ := f.char(&errs, charField{name: "email", allowBlank: true, email: true})
	password, _ := f.char(&errs, charField{name: "password", required: true})
	mfaCode, _ := f.char(&errs, charField{name: "mfa_code", allowBlank: true, maxLen: 64})
	if err := errs.orNil(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.throttleLogin(r, username); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Login(r.Context(), LoginRequest{Username: username, Email: email, Password: password, MFACode: mfaCode})
	if err != nil {
		if reason := loginFailure(err); reason != "" {
			s.auditLoginFailed(r, username, reason)
		}
		if passwordVerified(err) {
			s.passwordAccepted(r, username, false) // e.g. MFA required: not a failed login
		}
		s.writeError(w, r, err)
		return
	}
	s.passwordAccepted(r, username, false)
	s.loginSucceeded(r.Context(), username)
	if err := s.loginSession(w, r, res.User); err != nil {
		s.writeError(w, r, err)
		return
	}
	method := "method=password"
	if res.MFAMethod != "" {
		method += "+" + res.MFAMethod
	}
	s.audit(r.Context(), AuditLoginSucceeded, res.User, r, method)
	s.audit(r.Context(), AuditTokenIssued, res.User, r, tokenDetail(&res.Token.Token))
	writeJSON(w, http.StatusOK, struct {
		Key string `json:"key"`
	}{res.Token.Key})
}

// passwordVerified reports whether a refused login got past its password: only the
// refusals that come after the password was checked and found right (a second factor is
// needed, the address is not verified).
func passwordVerified(err error) bool {
	var verr *ValidationError
	return errors.Is(err, ErrMFARequired) ||
		errors.As(err, &verr) && slices.Contains(verr.Fields[nonFieldErrors], msgEmailNotVerified)
}

// loginFailure is the audit reason for a refused login, "" for an error that is not a
// refusal (a store failure).
func loginFailure(err error) string {
	var verr *ValidationError
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		return "invalid credentials"
	case errors.Is(err, ErrMFARequired):
		return "mfa required"
	case errors.Is(err, ErrInvalidMFACode):
		return "invalid mfa code"
	case errors.As(err, &verr):
		if slices.Contains(verr.Fields[nonFieldErrors], msgEmailNotVerified) {
			return "e-mail not verified"
		}
		return "invalid request"
	}
	return ""
}

// Logout revokes the token the request was authenticated with, if any. Other tokens of
// the user stay valid.
func (s *Service) Logout(ctx context.Context, presented *APIToken) error {
	if presented == nil {
		return nil
	}
	return s.store.RevokeToken(ctx, presented.ID)
}

func (s *Service) handleLogout(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	presented := c.auth.token
	if presented == nil && c.auth.user != nil {
		// The reference also accepts "Bearer <key>" here, for the key's owner only.
		if scheme, key, _ := splitAuthorization(r.Header.Get("Authorization")); strings.EqualFold(scheme, "bearer") && key != "" {
			if t, err := s.store.TokenByHash(ctx, hashTokenKey(strings.ToLower(key))); err == nil && t.UserID == c.auth.user.ID {
				presented = t
			}
		}
	}
	if err := s.Logout(ctx, presented); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.sessions.Destroy(ctx); err != nil {
		s.writeError(w, r, err)
		return
	}
	if c.auth.user != nil {
		detail := ""
		if presented != nil {
			detail = tokenDetail(presented)
		}
		s.audit(ctx, AuditLogout, c.auth.user, r, detail)
	}
	writeDetail(w, http.StatusOK, "Successfully logged out.")
}
