package restauth

import (
	"fmt"
	htmltemplate "html/template"
	"slices"
	texttemplate "text/template"

	"github.com/restauth/restauth/internal/mailrender"
)

// MailKind names one of the e-mails the Service sends. The values are the names of
// django-allauth's templates (account/email/<kind>_message.txt), which InvenTree uses.
type MailKind string

const (
	// MailPasswordReset carries the password-reset link (password/reset/).
	MailPasswordReset MailKind = "password_reset_key"
	// MailEmailConfirmation carries the link confirming an address (registration,
	// resend-email/, adding an address).
	MailEmailConfirmation MailKind = "email_confirmation"
	// MailAccountExists goes to the owner of an address when someone tries to register
	// with it while enumeration prevention is on, instead of an error that would reveal
	// the account to the person registering.
	MailAccountExists MailKind = "account_already_exists"
	// MailMagicLink carries a one-time login link (InvenTree's user_simple_login mail,
	// POST /api/email/generate/; see Config.MagicLink).
	MailMagicLink MailKind = "user_simple_login"
	// MailLoginCode carries a sign-in code (RequestLoginCode; allauth's login_code).
	MailLoginCode MailKind = "login_code"
	// MailPasswordResetCode carries a password-reset code (RequestPasswordResetCode;
	// allauth's password_reset_code).
	MailPasswordResetCode MailKind = "password_reset_code"
	// MailEmailConfirmationCode carries a code confirming an address
	// (RequestEmailVerificationCode; allauth's email_confirmation with a code).
	MailEmailConfirmationCode MailKind = "email_confirmation_code"

	// The security notices (see Config.Mail.DisableSecurityNotifications) tell a user that how
	// they log in has changed, so that a change they did not make does not go unnoticed.

	// MailPasswordChanged: the user changed their password (password/change/).
	MailPasswordChanged MailKind = "password_changed"
	// MailPasswordResetDone: the password was set with a reset link.
	MailPasswordResetDone MailKind = "password_reset"
	// MailEmailChanged goes to the previous primary address, if it was verified, when
	// another one becomes primary; NewEmail holds the new one.
	MailEmailChanged MailKind = "email_changed"
	// MailTOTPActivated: an authenticator app was activated.
	MailTOTPActivated MailKind = "totp_activated"
	// MailTOTPDeactivated: the authenticator app was deactivated (by the user or an
	// administrator's ResetMFA).
	MailTOTPDeactivated MailKind = "totp_deactivated"
	// MailRecoveryCodesGenerated: the recovery codes were replaced.
	MailRecoveryCodesGenerated MailKind = "recovery_codes_generated"
	// MailEmailDeleted goes to an address removed from the account (Email).
	MailEmailDeleted MailKind = "email_deleted"
	// MailSocialConnected: a provider account (Provider) was linked to the account.
	MailSocialConnected MailKind = "account_connected"
	// MailWebAuthnAdded: a security key or passkey was added to the account.
	MailWebAuthnAdded MailKind = "webauthn_added"
	// MailWebAuthnRemoved: a security key or passkey was removed from the account.
	MailWebAuthnRemoved MailKind = "webauthn_removed"
)

// securityNotices are the kinds Config.Mail.DisableSecurityNotifications stops.
var securityNotices = []MailKind{MailPasswordChanged, MailPasswordResetDone, MailEmailChanged,
	MailTOTPActivated, MailTOTPDeactivated, MailRecoveryCodesGenerated, MailEmailDeleted, MailSocialConnected,
	MailWebAuthnAdded, MailWebAuthnRemoved}

// codeMails are the kinds that carry a code (MailData.Code) instead of a link.
var codeMails = []MailKind{MailLoginCode, MailPasswordResetCode, MailEmailConfirmationCode}

// mailKinds lists every kind, in a fixed order for validation and tests.
var mailKinds = slices.Concat([]MailKind{MailPasswordReset, MailEmailConfirmation, MailAccountExists, MailMagicLink},
	codeMails, securityNotices)

// MailData is what the templates see as ".". Every field but SiteURL may come from a user
// (a username, an address someone typed): the HTML template escapes them, the text and
// subject templates print them verbatim, which is right for text/plain.
type MailData struct {
	// SiteURL is the site's absolute URL, e.g. "https://example.com".
	SiteURL string
	// SiteName is the site's display name; renderMail uses SiteURL's host when it is empty.
	SiteName string
	// Username is the account's username.
	Username string
	// Email is the recipient address.
	Email string
	// Link is the password-reset, confirmation or magic login URL; for MailAccountExists it is the
	// password-reset page, or empty; the security notices have none.
	Link string
	// NewEmail is, for MailEmailChanged, the new primary address (Email, the recipient, is
	// the previous one).
	NewEmail string
	// Provider is, for MailSocialConnected, the provider's display name.
	Provider string
	// Code is, for MailLoginCode, MailPasswordResetCode and MailEmailConfirmationCode, the
	// code to enter.
	Code string
}

// MailTemplate renders one kind of e-mail. All three parts are required. Subject is
// rendered as text and collapsed to one line; Text is the text/plain part and HTML the
// text/html alternative.
type MailTemplate struct {
	Subject *texttemplate.Template
	Text    *texttemplate.Template
	HTML    *htmltemplate.Template
}

// DefaultMailTemplates returns freshly parsed copies of the built-in English templates
// (internal/mailrender), which follow django-allauth's wording. The result belongs to the
// caller.
func DefaultMailTemplates() map[MailKind]*MailTemplate {
	out := make(map[MailKind]*MailTemplate, len(mailKinds))
	for _, k := range mailKinds {
		t := &MailTemplate{}
		t.Subject, t.Text, t.HTML = mailrender.Default(string(k), slices.Contains(securityNotices, k))
		out[k] = t
	}
	return out
}

// mergeMailTemplates returns the defaults with the kinds in custom replaced. Each custom
// template must have all three parts and must render sample data, so that a broken
// template fails New instead of the first password reset. Unknown kinds are rejected as
// likely typos. Errors wrap ErrConfig.
func mergeMailTemplates(custom map[MailKind]*MailTemplate) (map[MailKind]*MailTemplate, error) {
	out := DefaultMailTemplates()
	sample := MailData{
		SiteURL:  "https://example.com",
		SiteName: "Example",
		Username: "sample",
		Email:    "sample@example.com",
		Link:     "https://example.com/link?uid=MQ&token=sample",
		NewEmail: "new@example.com",
		Provider: "Example SSO",
		Code:     "SAMPLE",
	}
	for k, t := range custom {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("%w: unknown mail template kind %q", ErrConfig, k)
		}
		if t == nil || t.Subject == nil || t.Text == nil || t.HTML == nil {
			return nil, fmt.Errorf("%w: mail template %q needs Subject, Text and HTML", ErrConfig, k)
		}
		if _, err := renderMail(t, "", sample.Email, sample); err != nil {
			return nil, fmt.Errorf("%w: mail template %q: %v", ErrConfig, k, err)
		}
		out[k] = t
	}
	return out, nil
}

// renderMail renders t for one recipient with internal/mailrender: the subject is
// subjectPrefix followed by the rendered subject, collapsed to a single line because it
// becomes a header. An empty SiteName is SiteURL's host.
func renderMail(t *MailTemplate, subjectPrefix string, to string, data MailData) (*Message, error) {
	if t == nil {
		t = &MailTemplate{}
	}
	if data.SiteName == "" {
		data.SiteName = mailrender.SiteHost(data.SiteURL)
	}
	m, err := mailrender.Render(t.Subject, t.Text, t.HTML, subjectPrefix, data)
	if err != nil {
		return nil, err
	}
	return &Message{To: []string{to}, Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
}
