package restauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/restauth/restauth/internal/seal"
)

// This file holds what every WebAuthn ceremony shares: the relying party built from the
// Config, the opaque state between a Begin and its Finish, and the adapters between the
// stored WebAuthnCredential and github.com/go-webauthn/webauthn, which does all of the
// WebAuthn work (CBOR, COSE, attestation, signatures, origins, RP id hashes, flags).

// WebAuthnState is the opaque state of one WebAuthn ceremony, from its Begin operation to
// its Finish. The dialect keeps it server-side (in the session of a browser, or of an app
// client) and hands it to the Finish operation once, then drops it; it must never travel
// in a cookie or a body the client sends back. It is sealed under Config.Secret, bound to
// its ceremony (and user), and expires after Config.WebAuthn.ChallengeLifetime; its
// challenge is accepted once (see consumeChallenge), so a replayed Finish fails even when a
// dialect kept the state by mistake.
type WebAuthnState string

// ceremony names the kinds of WebAuthn ceremony; a state opens for its own kind only.
type ceremony string

const (
	ceremonyRegister     ceremony = "register"
	ceremonySecondFactor ceremony = "second_factor"
	ceremonyPasskeyLogin ceremony = "passkey_login"
	ceremonyReauth       ceremony = "reauthenticate"
	ceremonySignup       ceremony = "signup"
)

// requireUserVerification makes the library refuse an answer to session's ceremony
// without the authenticator's own check of its user (PIN, biometric; the UV flag), for the
// ceremonies where a passkey stands for the password and the second factor both: a
// passkey login, a passkey signup. The options the browser gets keep asking for it as
// "preferred" (allauth's, and what every passkey platform satisfies); the sealed session,
// which the answer is checked against, requires it.
func requireUserVerification(session *webauthn.SessionData) {
	session.UserVerification = protocol.VerificationRequired
}

// auditMethod is the AuditEvent.Method of a refused assertion of the ceremony: the
// method whose failure the login events (and the login metric) count it under.
func (k ceremony) auditMethod() string {
	switch k {
	case ceremonySecondFactor:
		return AuditMethodMFAPage
	case ceremonyReauth:
		return AuditMethodReauthenticate
	}
	return AuditMethodPasskey
}

// webauthnStatePurpose keys the AEAD that seals WebAuthnState.
const webauthnStatePurpose = "restauth.webauthn.state"

// webauthnState is what a WebAuthnState holds.
type webauthnState struct {
	Kind   ceremony `json:"k"`
	UserID int64    `json:"u,omitempty"`
	// AuthHash ties a second-factor ceremony to its pending login's password.
	AuthHash string `json:"h,omitempty"`
	// Passkey: a registration of a discoverable credential.
	Passkey bool `json:"p,omitempty"`
	// Signup is the account a passkey signup creates.
	Signup *VerifiedSignup `json:"s,omitempty"`
	// Expires is a Unix time in microseconds, from the Service's clock.
	Expires int64                `json:"e"`
	Session webauthn.SessionData `json:"d"`
}

// webauthnUser adapts a user (or a user to be) to the library's webauthn.User.
type webauthnUser struct {
	handle      []byte
	name        string
	displayName string
	creds       []webauthn.Credential
}

func (u *webauthnUser) WebAuthnID() []byte                         { return u.handle }
func (u *webauthnUser) WebAuthnName() string                       { return u.name }
func (u *webauthnUser) WebAuthnDisplayName() string                { return u.displayName }
func (u *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// userHandle is the default WebAuthn user handle of a user: the decimal id, as
// django-allauth makes it (str(user.pk)), so that passkeys registered with allauth on an
// imported database keep logging in. It carries no personal data and never changes (not
// even with Config.Secret). A user who signed up with a passkey keeps the random handle
// it was made with (WebAuthnCredential.UserHandle; see credentialHandle).
func userHandle(id int64) []byte { return strconv.AppendInt(nil, id, 10) }

// credentialHandle is the user handle credential c was made for.
func credentialHandle(c *WebAuthnCredential) []byte {
	if c.UserHandle != nil {
		return c.UserHandle
	}
	return userHandle(c.UserID)
}

// relyingParty builds the library's relying party from the Config: the RP id is SiteURL's
// host name, the allowed origins are SiteURL's origin and Config.TrustedOrigins. It is
// cheap, and checked once by withDefaults, so it is built per ceremony.
func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	origins := append([]string{s.site.Scheme + "://" + s.site.Host}, s.cfg.TrustedOrigins...)
	return newRelyingParty(s.site.Hostname(), s.rpName(), origins, s.cfg.WebAuthn)
}

func newRelyingParty(rpID, rpName string, origins []string, c WebAuthnConfig) (*webauthn.WebAuthn, error) {
	timeout := webauthn.TimeoutConfig{Timeout: c.ChallengeLifetime, TimeoutUVD: c.ChallengeLifetime}
	return webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: rpName,
		RPOrigins:     origins,
		// Expiry is the Service's (its clock is injectable), so the library's, on the wall
		// clock, is off; the timeouts only tell the browser how long to wait.
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
}

func (s *Service) rpName() string {
	if s.cfg.WebAuthn.RPName != "" {
		return s.cfg.WebAuthn.RPName
	}
	if s.cfg.SiteName != "" {
		return s.cfg.SiteName
	}
	return s.site.Hostname()
}

// sealState seals st, with the ceremony's expiry, into a WebAuthnState.
func (s *Service) sealState(st webauthnState) (WebAuthnState, error) {
	st.Expires = s.now().Add(s.cfg.WebAuthn.ChallengeLifetime).UnixMicro()
	plain, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	sealed := seal.Seal(seal.AEAD(s.cfg.Secret, webauthnStatePurpose), plain, []byte(st.Kind))
	return WebAuthnState(base64.RawURLEncoding.EncodeToString(sealed)), nil
}

// openState opens a state of ceremony kind that has not expired and whose challenge has
// not been used, and uses it up. Anything else is ErrWebAuthnChallengeExpired: the
// ceremony must begin again.
func (s *Service) openState(ctx context.Context, state WebAuthnState, kind ceremony) (*webauthnState, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(string(state))
	if err != nil || state == "" {
		return nil, ErrWebAuthnChallengeExpired
	}
	plain, err := seal.Open(seal.AEAD(s.cfg.Secret, webauthnStatePurpose), sealed, []byte(kind))
	if err != nil {
		return nil, ErrWebAuthnChallengeExpired // tampered, of another ceremony, or another Secret
	}
	var st webauthnState
	if err := json.Unmarshal(plain, &st); err != nil || st.Kind != kind {
		return nil, ErrWebAuthnChallengeExpired
	}
	if s.now().UnixMicro() >= st.Expires {
		return nil, ErrWebAuthnChallengeExpired
	}
	if err := s.consumeChallenge(ctx, st.Session.Challenge); err != nil {
		return nil, err
	}
	return &st, nil
}

// consumeChallenge marks a challenge used through the Limiter: a rule of one event per
// challenge lifetime, keyed by the challenge's hash, accepts the first Finish and refuses
// every later one — on every instance when the Limiter is shared (redislimit). The state
// also leaves the dialect's session; this is what holds when two requests of one session
// race with the same state.
func (s *Service) consumeChallenge(ctx context.Context, challenge string) error {
	sum := sha256.Sum256([]byte(challenge))
	rule := RateRule{Name: ruleWebAuthnChallenge, Limit: 1, Window: s.cfg.WebAuthn.ChallengeLifetime}
	err := allowRate(ctx, s.cfg.Limiter, rule, "challenge:"+hex.EncodeToString(sum[:]))
	if errors.Is(err, ErrThrottled) {
		return ErrWebAuthnChallengeExpired
	}
	return err
}

// ruleWebAuthnChallenge is the single-use rule of consumeChallenge; it is not in the
// RateLimits table, since turning it off would allow replays.
const ruleWebAuthnChallenge = "webauthn_challenge"

// libraryCredential is the library's view of a stored credential.
func libraryCredential(c *WebAuthnCredential) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:              c.CredentialID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		Transport:       transports,
		Flags:           webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(c.Flags)),
		Authenticator:   webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// storedCredential is a new credential from the library as a record of userID, made for
// the user handle handle.
func (s *Service) storedCredential(userID int64, handle []byte, c *webauthn.Credential, name string, passkey bool) *WebAuthnCredential {
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	if string(handle) == string(userHandle(userID)) {
		handle = nil // the default
	}
	return &WebAuthnCredential{
		UserID:          userID,
		CredentialID:    c.ID,
		UserHandle:      handle,
		PublicKey:       c.PublicKey,
		SignCount:       c.Authenticator.SignCount,
		Transports:      transports,
		Flags:           uint8(c.Flags.ProtocolValue()),
		AAGUID:          c.Authenticator.AAGUID,
		AttestationType: c.AttestationType,
		Passkey:         passkey,
		Name:            name,
		Created:         s.now().UTC(),
	}
}

// webauthnUserOf is u with its stored credentials, for the library.
func (s *Service) webauthnUserOf(ctx context.Context, u *User) (*webauthnUser, []WebAuthnCredential, error) {
	stored, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	wu := &webauthnUser{handle: userHandle(u.ID), name: u.Username, displayName: displayName(u)}
	for i := range stored {
		wu.creds = append(wu.creds, libraryCredential(&stored[i]))
		if stored[i].UserHandle != nil && i == 0 {
			// The account's first passkey was made at signup with a random handle: new
			// credentials keep it, so that an authenticator sees one account.
			wu.handle = stored[i].UserHandle
		}
	}
	return wu, stored, nil
}

func displayName(u *User) string {
	if n := u.FirstName + " " + u.LastName; n != " " {
		return n
	}
	return u.Username
}

// optionsJSON marshals the options the library made: {"publicKey": {…}}, what the browser's
// navigator.credentials.create / get take (after decoding the base64url members).
func optionsJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("restauth: WebAuthn options: %w", err)
	}
	return b, nil
}

// webauthnEnabled refuses every WebAuthn operation unless Config.WebAuthn.Enabled.
func (s *Service) webauthnEnabled() error {
	if !s.cfg.WebAuthn.Enabled {
		return ErrWebAuthnDisabled
	}
	return nil
}

// refusedCredential is the error of a credential the ceremony refused, standing for
// ErrWebAuthnRefused and the extra causes given.
func refusedCredential(causes ...error) error {
	e := causedFieldError(ErrWebAuthnRefused, "credential", msgWebAuthnRefused)
	e.causes = append(e.causes, causes...)
	return e
}

// userCredential finds the stored credential the library accepted, by its id.
func userCredential(stored []WebAuthnCredential, id []byte) *WebAuthnCredential {
	for i := range stored {
		if string(stored[i].CredentialID) == string(id) {
			return &stored[i]
		}
	}
	return nil
}

// recordUse stores what an accepted assertion changed: the counter and the flags. A
// counter that did not move forward means a cloned authenticator (the library saw it go
// back) or a concurrent use of the same assertion; both are refused, a clone with
// AuditLoginFailed so that the owner can see it.
func (s *Service) recordUse(ctx context.Context, kind ceremony, u *User, stored *WebAuthnCredential, got *webauthn.Credential) error {
	cloned := func() error {
		s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: kind.auditMethod(), Reason: AuditReasonClonedWebAuthnCredential, Detail: "id=" + strconv.FormatInt(stored.ID, 10)})
		return refusedCredential(ErrWebAuthnCloned)
	}
	if got.Authenticator.CloneWarning {
		return cloned()
	}
	ok, err := s.store.UseWebAuthnCredential(ctx, stored.ID, got.Authenticator.SignCount, uint8(got.Flags.ProtocolValue()), s.now().UTC())
	switch {
	case errors.Is(err, ErrNotFound):
		return refusedCredential() // removed meanwhile
	case err != nil:
		return err
	case !ok:
		return cloned()
	}
	return nil
}
