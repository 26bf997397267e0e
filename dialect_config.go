package restauth

// DialectConfig is the one table of the settings in which the two wire dialects behave
// differently by design: where allauth's headless API (as InvenTree configures it) and the
// InvenTree 291 dialect (dj-rest-auth) disagree, the dialect passes the choice to the
// operation explicitly, and the choice a host can change is here. Rate limits are not
// here: both dialects share RateLimits.
//
//	Setting                              | headless (allauth)                   | 291 (dj-rest-auth)
//	-------------------------------------+--------------------------------------+------------------------
//	HeadlessKeepSessionOnPasswordChange  | false: logged out (401), as          | always kept (200)
//	                                     | InvenTree's ACCOUNT_LOGOUT_ON_       | (update_session_auth_
//	                                     | PASSWORD_CHANGE = True               | hash)
//
// Differences that no setting changes, each passed by the dialect to the operation:
//
//	Operation input                      | headless (allauth)                   | 291 (dj-rest-auth)
//	-------------------------------------+--------------------------------------+------------------------
//	LoginRequest.MailVerification        | true: a login refused for an         | false: nothing mailed
//	                                     | unverified address mails a new link  |
//	PasswordChange.Session               | SessionLoggedOut, or SessionKept     | SessionKept
//	                                     | with the setting above               |
//	MFAProof.FromSession                 | reauthentication beforehand (300 s)  | code or password in
//	                                     |                                      | the request
type DialectConfig struct {
	// HeadlessKeepSessionOnPasswordChange keeps the headless session logged in after a
	// password change or set (allauth's ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False, its
	// own default). Default false: the session is logged out and the change answered 401,
	// which InvenTree's web UI counts as success. The 291 dialect always keeps it.
	HeadlessKeepSessionOnPasswordChange bool
}

// DialectSettings returns Config.Dialects, for a dialect outside the package.
func (s *Service) DialectSettings() DialectConfig { return s.cfg.Dialects }
