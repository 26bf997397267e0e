package restauth

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/restauth/restauth/internal/validate"
)

// RegisterRequest is a registration. Email is optional.
type RegisterRequest struct {
	Username  string
	Email     string
	Password1 string
	Password2 string
	// DecodeErrors holds the field errors a dialect found while reading the request (a
	// missing or blank field, a wrong type), or nil. As DRF does, Register reports them
	// together with its own, skips its checks of those fields and runs the checks across
	// fields only when every field is valid.
	DecodeErrors *ValidationError
	// WithoutToken skips the API token Register otherwise issues when verification is not
	// mandatory. A caller that answers with the session alone (the 291 dialect's default,
	// dj-rest-auth with SESSION_LOGIN on, which creates no token either) sets it, so no
	// key nobody was shown is left in the store; the zero value keeps the token.
	WithoutToken bool
}

// RegisterResult is a new account. Token is nil when mandatory verification holds the
// account back until its address is confirmed, or when RegisterRequest.WithoutToken
// asked for none. User is nil too when enumeration prevention concealed a refusal (see
// Config.AllowEnumeration): nothing was created.
type RegisterResult struct {
	User  *User
	Token *IssuedToken
	// VerificationSent tells whether a confirmation e-mail was queued (sent, with
	// Config.Mail.SendInRequest); a mail skipped by RateLimits.MailPerRecipient in the
	// background still counts as queued, so it reveals nothing.
	VerificationSent bool
	// VerificationCode is, with Config.EmailVerificationByCode and a verification to do,
	// the pending code mailed for the new address (as RequestEmailVerificationCode's), for
	// the dialect to keep for VerifyEmailCode. A concealed refusal gets one too, which no
	// code matches, so that the verification answers as for a new account.
	VerificationCode *PendingCode
}

// Register creates an account. Every check — the password's similarity to the username
// and address included — runs before anything is written, so a refused registration
// leaves nothing behind; the store's uniqueness rules settle races between registrations.
//
// The username is NFKC-normalised first (Django's AbstractBaseUser.normalize_username),
// checked and stored in that form: a look-alike of a taken name ("ｊｅｓｓ" for "jess")
// is refused with ErrUsernameTaken like the name itself.
//
// Under enumeration prevention (see Config.AllowEnumeration) an address held verified by
// another account is never reported: a registration failing other checks gets exactly the
// errors a free address would, and one failing no other check hashes the password like a
// real registration, mails the owner instead, and looks successful.
//
// As in DRF's RegisterSerializer, each field without a decode error (see
// RegisterRequest.DecodeErrors) gets its own validate_<field> check (username pattern and
// uniqueness, address uniqueness, password validators), the errors of all fields are
// reported together, and the checks across fields (the passwords' match, then their
// similarity to the username and address) run only once every field is valid.
//
// Registrations count towards RateLimits.SignupPerIP (for the Client in ctx) before any
// check, so the operation cannot be used to probe which names are taken faster; a
// registration that issues a token (verification not mandatory and no
// RegisterRequest.WithoutToken) emits AuditTokenIssued. With Config.DisableRegistration
// it returns a *ValidationError matching ErrRegistrationClosed.
func (s *Service) Register(ctx context.Context, req RegisterRequest) (_ *RegisterResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "Register")
	defer opSpan.end(&opErr)
	if s.cfg.DisableRegistration {
		return nil, causedFieldError(ErrRegistrationClosed, nonFieldErrors, msgRegistrationDisabled)
	}
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.SignupPerIP); err != nil {
		return nil, err
	}
	req.Username = validate.NormalizeUsername(req.Username)
	fieldErrs := req.DecodeErrors
	if fieldErrs == nil {
		fieldErrs = &ValidationError{}
	}
	if err := s.checkNewAccount(ctx, fieldErrs, req.Username, req.Email, req.Password1, "password1"); err != nil {
		return nil, err
	}
	err := fieldErrs.orNil()
	var emailTaken bool
	if s.concealsTakenEmail() {
		emailTaken, err = withoutEmailTaken(err)
	}
	if err != nil {
		return nil, err
	}
	if req.Password1 != req.Password2 {
		return nil, fieldError(nonFieldErrors, msgPasswordMismatch)
	}
	if errs := s.passwordProblems(nonFieldErrors, req.Password1, passwordAttributes{Username: req.Username, Email: req.Email}); errs != nil {
		return nil, errs
	}
	if emailTaken {
		holder, addr, err := s.verifiedHolder(ctx, req.Email)
		if err != nil {
			return nil, err
		}
		if holder != nil {
			return s.concealRegistration(ctx, req.Password1, holder, addr)
		}
		// The holder let the address go since the check: register as for a free address.
	}
	// The confirmation is queued in the outbox in the transaction creating the account
	// (on a Transactor store): both are stored, or neither. Other stores queue it right
	// after, with retries (sendConfirmation).
	_, transactor := s.store.(Transactor)
	confirm := transactor && s.cfg.EmailVerification != VerificationNone && !s.cfg.Mail.SendInRequest
	var queued bool
	u, addr, err := s.createAccount(ctx, NewUser{Username: req.Username, Email: req.Email, Password: req.Password1},
		func(ctx context.Context, st Store, u *User, addr *EmailAddress) error {
			if !confirm || addr == nil {
				return nil
			}
			queued = true
			return s.queueMailIn(ctx, st, confirmationIntent(u, addr, false))
		})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditSignedUp, Method: AuditMethodPassword, Detail: "method=" + AuditMethodPassword})
	res := &RegisterResult{User: u}
	switch {
	case queued:
		res.VerificationSent = true
		s.outbox.wake(s)
	case addr != nil && s.cfg.EmailVerification != VerificationNone:
		res.VerificationSent = s.sendConfirmation(ctx, u, addr)
		if s.cfg.EmailVerificationByCode.Enabled {
			if res.VerificationCode, err = s.RequestEmailVerificationCode(ctx, u.ID, addr.ID); err != nil {
				return nil, err
			}
			res.VerificationSent = true
		}
	}
	if s.cfg.EmailVerification != VerificationMandatory && !req.WithoutToken {
		if res.Token, err = s.issueToken(ctx, u.ID, ""); err != nil {
			return nil, err
		}
		s.audit(ctx, u, AuditEvent{Kind: AuditTokenIssued, Detail: tokenDetail(&res.Token.Token)})
	}
	return res, nil
}

// concealsTakenEmail reports whether registration hides that an address is held verified
// by another account (enumeration prevention). Only mandatory verification can: otherwise
// a registration logs the new account in (and may answer a token), which cannot be faked.
func (s *Service) concealsTakenEmail() bool {
	return !s.cfg.AllowEnumeration && s.cfg.EmailVerification == VerificationMandatory
}

// withoutEmailTaken removes the address-taken error from err, reporting whether it was
// there; what remains is what the same registration with a free address would get. The
// taken check is the email field's only check once its format passed, so that field's
// errors are exactly the taken one.
func withoutEmailTaken(err error) (taken bool, rest error) {
	var verr *ValidationError
	if !errors.As(err, &verr) || !errors.Is(verr, ErrEmailTaken) {
		return false, err
	}
	others := &ValidationError{}
	for _, c := range verr.causes {
		if c != ErrEmailTaken {
			others.causes = append(others.causes, c)
		}
	}
	for field, msgs := range verr.Fields {
		if field != "email" {
			others.add(field, msgs...)
		}
	}
	return true, others.orNil()
}

// concealRegistration answers a registration that only holder's verified address refuses
// as though it succeeded under mandatory verification: it spends the password hash a real
// registration spends, so timing does not tell, creates nothing, and mails the holder a
// notice in place of the confirmation.
func (s *Service) concealRegistration(ctx context.Context, password string, holder *User, addr *EmailAddress) (*RegisterResult, error) {
	if _, err := s.hasher.Hash(ctx, password); err != nil {
		return nil, err // as createAccount would fail
	}
	if s.cfg.EmailVerificationByCode.Enabled {
		// As the new account's code request counts (RequestEmailVerificationCode).
		if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
			return nil, err
		}
	}
	sent := s.sendMail(ctx, MailAccountExists, holder, MailData{Email: addr.Email, Link: s.cfg.SiteURL})
	res := &RegisterResult{VerificationSent: sent}
	if s.cfg.EmailVerificationByCode.Enabled {
		res.VerificationCode = s.decoyVerificationCode(addr.Email)
	}
	return res, nil
}

// NewUser is an account an administrator creates (see CreateUser).
type NewUser struct {
	Username      string
	Email         string
	Password      string
	EmailVerified bool
	IsStaff       bool
	IsSuperuser   bool
}

// CreateUser creates an account for an administrator, like Django's createsuperuser: the
// same username, address and password rules as registration apply (the username is
// NFKC-normalised first, see Register), but it works while registration is disabled,
// sends no mail and issues no token.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "CreateUser")
	defer opSpan.end(&opErr)
	nu.Username = validate.NormalizeUsername(nu.Username)
	var errs ValidationError
	if err := s.checkNewAccount(ctx, &errs, nu.Username, nu.Email, nu.Password, "password"); err != nil {
		return nil, err
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	if errs := s.passwordProblems("password", nu.Password, passwordAttributes{Username: nu.Username, Email: nu.Email}); errs != nil {
		return nil, errs
	}
	u, _, err := s.createAccount(ctx, nu, nil)
	return u, err
}

// checkNewAccount runs the per-field checks of a new account (dj-rest-auth's
// validate_username, validate_email and validate_password1), adding their errors to errs
// and reporting password problems under passwordField. A field that already has an error
// in errs is skipped, as DRF skips a field's validate_<field> when its own validation
// failed. The error returned is a store failure, never a validation error.
func (s *Service) checkNewAccount(ctx context.Context, errs *ValidationError, username, email, password, passwordField string) error {
	if errs.Fields["username"] == nil {
		// allauth's clean_username: the model's validators in turn, then uniqueness.
		switch {
		case !validate.Username(username):
			errs.add("username", msgInvalidUsername)
		case utf8.RuneCountInString(username) > maxUsernameLength:
			errs.add("username", fmt.Sprintf("Ensure this field has no more than %d characters.", maxUsernameLength))
		default:
			if taken, err := s.usernameTaken(ctx, username, 0); err != nil {
				return err
			} else if taken {
				errs.addCause(ErrUsernameTaken, "username", msgUsernameTaken)
			}
		}
	}
	if email != "" && errs.Fields["email"] == nil {
		if !validate.Email(email) || len(email) > maxEmailLength {
			errs.add("email", msgInvalidEmail)
		} else if taken, err := s.emailTakenVerified(ctx, email); err != nil {
			return err
		} else if taken {
			errs.addCause(ErrEmailTaken, "email", msgEmailTaken)
		}
	}
	if errs.Fields[passwordField] == nil {
		if len(password) > maxPasswordBytes {
			errs.add(passwordField, "Ensure this field has no more than 4096 characters.")
		} else {
			s.addPasswordProblems(errs, passwordField, password, passwordAttributes{})
		}
	}
	return nil
}

// createAccount hashes the password and stores the user with its primary address.
//
// then, when not nil, runs in the transaction that creates the account (see inTx), after
// the store's CreateUser: what it stores through st is stored with the account or not at
// all, and its error undoes the account.
func (s *Service) createAccount(ctx context.Context, nu NewUser, then func(ctx context.Context, st Store, u *User, addr *EmailAddress) error) (*User, *EmailAddress, error) {
	encoded, err := s.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return nil, nil, err
	}
	u := &User{Username: nu.Username, PasswordHash: encoded, IsActive: true, IsStaff: nu.IsStaff,
		IsSuperuser: nu.IsSuperuser, DateJoined: s.now().UTC()}
	var addr *EmailAddress
	if nu.Email != "" {
		addr = &EmailAddress{Email: nu.Email, Primary: true, Verified: nu.EmailVerified}
	}
	if then == nil {
		err = s.store.CreateUser(ctx, u, addr)
	} else {
		err = s.inTx(ctx, func(ctx context.Context, st Store) error {
			if err := st.CreateUser(ctx, u, addr); err != nil {
				return err
			}
			return then(ctx, st, u, addr)
		})
	}
	if err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			switch conflict.Field {
			case "username":
				return nil, nil, causedFieldError(ErrUsernameTaken, "username", msgUsernameTaken)
			case "email", "user_email":
				return nil, nil, causedFieldError(ErrEmailTaken, "email", msgEmailTaken)
			}
		}
		return nil, nil, err
	}
	return u, addr, nil
}

// usernameTaken reports whether another user (not exceptID) holds the username,
// compared case-insensitively as the store compares. Callers pass the NFKC form
// (validate.NormalizeUsername), which every username stored since is in, so a look-alike
// spelling ("ｊｅｓｓ", "\u212aim") finds the account it imitates.
func (s *Service) usernameTaken(ctx context.Context, username string, exceptID int64) (bool, error) {
	u, err := s.store.UserByUsername(ctx, username)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return u.ID != exceptID, nil
}

// emailTakenVerified reports whether any user holds the address verified.
func (s *Service) emailTakenVerified(ctx context.Context, email string) (bool, error) {
	u, _, err := s.verifiedHolder(ctx, email)
	return u != nil, err
}

// verifiedHolder returns the user holding the address verified, with that address, or
// nils when nobody does.
func (s *Service) verifiedHolder(ctx context.Context, email string) (*User, *EmailAddress, error) {
	if email == "" {
		return nil, nil, nil
	}
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range users {
		addrs, err := s.store.EmailAddresses(ctx, u.ID)
		if err != nil {
			return nil, nil, err
		}
		for i := range addrs {
			if addrs[i].Verified && equalFoldEmail(addrs[i].Email, email) {
				return u, &addrs[i], nil
			}
		}
	}
	return nil, nil, nil
}
