package restauth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/restauth/restauth/internal/seal"
)

// This file holds the JSON Web Tokens of app clients, as allauth's JWTTokenStrategy
// (HEADLESS_TOKEN_STRATEGY): a short-lived access token, presented on every request and
// checked without the database beyond loading its user, and a refresh token, exchanged
// once for a new pair (rotation). Refresh tokens are stateful: the Store keeps the hash of
// each live one (RefreshTokenStore), so a logout, a password change or the reuse of a
// rotated token ends them. Both kinds carry "ah", a digest of the user's password hash, so
// that a password change also ends the access tokens issued before it at once.

// JWTConfig configures the app clients' JSON Web Tokens (Config.JWT).
type JWTConfig struct {
	// Algorithm signs the tokens: "HS256" (allauth's default), "RS256" or "EdDSA".
	// Default: "HS256" without PrivateKey, else the algorithm of PrivateKey's type.
	Algorithm string
	// PrivateKey signs RS256 (an *rsa.PrivateKey of at least 2048 bits) or EdDSA (an
	// ed25519.PrivateKey) tokens, whose public key others may then use to check them
	// (allauth's HEADLESS_JWT_PRIVATE_KEY). nil: HS256 under a key derived from
	// Config.Secret (HKDF-SHA256, for this purpose only).
	PrivateKey crypto.Signer
	// AccessTokenLifetime is how long an access token is valid. Default 300 s
	// (HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN).
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is how long a refresh token is valid. Default 86 400 s
	// (HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN); a refresh starts a new one.
	RefreshTokenLifetime time.Duration
}

// Defaults of JWTConfig, allauth's.
const (
	DefaultJWTAccessTokenLifetime  = 300 * time.Second
	DefaultJWTRefreshTokenLifetime = 86400 * time.Second
)

// withDefaults fills in JWTConfig's defaults and checks the algorithm against the key.
func (c JWTConfig) withDefaults() (JWTConfig, error) {
	defaultDuration(&c.AccessTokenLifetime, DefaultJWTAccessTokenLifetime)
	defaultDuration(&c.RefreshTokenLifetime, DefaultJWTRefreshTokenLifetime)
	want := "HS256"
	switch k := c.PrivateKey.(type) {
	case nil:
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return c, fmt.Errorf("%w: JWT.PrivateKey: RSA keys need at least 2048 bits", ErrConfig)
		}
		want = "RS256"
	case ed25519.PrivateKey:
		want = "EdDSA"
	default:
		return c, fmt.Errorf("%w: JWT.PrivateKey must be an *rsa.PrivateKey or an ed25519.PrivateKey", ErrConfig)
	}
	defaultString(&c.Algorithm, want)
	if c.Algorithm != want {
		return c, fmt.Errorf("%w: JWT.Algorithm %q does not fit JWT.PrivateKey (want %q)", ErrConfig, c.Algorithm, want)
	}
	return c, nil
}

// JWTPair is what IssueJWT and RefreshJWT hand out.
type JWTPair struct {
	AccessToken  string
	RefreshToken string
	// AccessExpires and RefreshExpires are when the two tokens stop being accepted.
	AccessExpires  time.Time
	RefreshExpires time.Time
	// SessionID names the login the pair belongs to (the tokens' "sid" claim); RevokeJWT
	// ends it.
	SessionID string
}

// JWTSession is the login an access token belongs to, as AuthenticateJWT found it.
type JWTSession struct {
	// ID is the login's id (the "sid" claim), for RevokeJWT.
	ID string
	// Expires is when the access token presented expires.
	Expires time.Time
}

// The token_use claims, as allauth's.
const (
	jwtUseAccess  = "access"
	jwtUseRefresh = "refresh"
)

// jwtClaims are the claims of both kinds of token.
type jwtClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	TokenUse  string `json:"token_use"`
	// AuthHash is jwtAuthDigest of the user: a password change makes it stale.
	AuthHash string `json:"ah"`
}

// signingKey returns the method and the key that sign tokens.
func (s *Service) signingKey() (jwt.SigningMethod, any) {
	switch k := s.cfg.JWT.PrivateKey.(type) {
	case *rsa.PrivateKey:
		return jwt.SigningMethodRS256, k
	case ed25519.PrivateKey:
		return jwt.SigningMethodEdDSA, k
	}
	return jwt.SigningMethodHS256, s.jwtHMACKey()
}

// verifyKey returns the key that checks tokens.
func (s *Service) verifyKey(*jwt.Token) (any, error) {
	if k := s.cfg.JWT.PrivateKey; k != nil {
		return k.Public(), nil
	}
	return s.jwtHMACKey(), nil
}

// jwtHMACKey is the HS256 key: HKDF-SHA256 of Config.Secret with its own info string, so
// that it is no key the Service uses for anything else.
func (s *Service) jwtHMACKey() []byte {
	key, err := hkdf.Key(sha256.New, s.cfg.Secret, nil, "restauth jwt hs256", 32)
	if err != nil {
		panic("restauth: HKDF: " + err.Error()) // 32 bytes of SHA-256 never fail
	}
	return key
}

// jwtAuthDigest binds a token to the user's password (through the session auth hash,
// which is secret-keyed): 128 bits, base64url.
func (s *Service) jwtAuthDigest(u *User) string {
	sum := sha256.Sum256([]byte("restauth.jwt.ah\x00" + s.sessionAuthHash(u)))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// IssueJWT starts a login of an app client with JSON Web Tokens: an access token valid for
// Config.JWT.AccessTokenLifetime and a refresh token valid for RefreshTokenLifetime,
// whose hash the Store keeps. Call it once the user has logged in (Login, CompleteLogin,
// a social or code login): it checks no credentials, only that the user is active. When
// the session in ctx is logged in as u (LoginSession first, as the headless app client
// does), the login is bound to it: once that session no longer authenticates u (ended,
// expired, logged out), the refresh token is refused. It emits AuditTokenIssued
// ("kind=jwt"). Errors: ErrJWTInvalid for an inactive user, store failures.
func (s *Service) IssueJWT(ctx context.Context, u *User) (_ *JWTPair, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "IssueJWT")
	defer opSpan.end(&opErr)
	if u == nil || !u.IsActive {
		return nil, ErrJWTInvalid
	}
	pair, rt, err := s.mintJWT(u, s.jwtLoginID(ctx, u))
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateRefreshToken(ctx, rt); err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditTokenIssued, Detail: "kind=jwt"})
	return pair, nil
}

// mintJWT signs a new pair of the login sid and returns it with the refresh token's record.
func (s *Service) mintJWT(u *User, sid string) (*JWTPair, *RefreshToken, error) {
	now := s.now().UTC().Truncate(time.Second)
	pair := &JWTPair{SessionID: sid,
		AccessExpires:  now.Add(s.cfg.JWT.AccessTokenLifetime),
		RefreshExpires: now.Add(s.cfg.JWT.RefreshTokenLifetime),
	}
	method, key := s.signingKey()
	sign := func(use string, exp time.Time) (string, string, error) {
		jti := rand.Text()
		c := jwtClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer:    s.cfg.SiteURL,
				Subject:   strconv.FormatInt(u.ID, 10),
				IssuedAt:  jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(exp),
				ID:        jti,
			},
			SessionID: sid, TokenUse: use, AuthHash: s.jwtAuthDigest(u),
		}
		signed, err := jwt.NewWithClaims(method, c).SignedString(key)
		return signed, jti, err
	}
	var err error
	if pair.AccessToken, _, err = sign(jwtUseAccess, pair.AccessExpires); err != nil {
		return nil, nil, fmt.Errorf("restauth: sign JWT: %w", err)
	}
	refresh, jti, err := sign(jwtUseRefresh, pair.RefreshExpires)
	if err != nil {
		return nil, nil, fmt.Errorf("restauth: sign JWT: %w", err)
	}
	pair.RefreshToken = refresh
	rt := &RefreshToken{UserID: u.ID, Hash: sha256.Sum256([]byte(jti)), Family: sid, Created: now, Expires: pair.RefreshExpires}
	return pair, rt, nil
}

// parseJWT checks a token's signature (by the configured algorithm only), expiry, issuer
// and use, and returns its claims and its active user, whose password it must still match.
func (s *Service) parseJWT(ctx context.Context, token, use string) (*jwtClaims, *User, error) {
	if len(token) > 4096 {
		return nil, nil, ErrJWTInvalid
	}
	var c jwtClaims
	_, err := jwt.ParseWithClaims(token, &c, s.verifyKey,
		jwt.WithValidMethods([]string{s.cfg.JWT.Algorithm}),
		jwt.WithExpirationRequired(), jwt.WithIssuer(s.cfg.SiteURL), jwt.WithTimeFunc(s.now))
	if err != nil || c.TokenUse != use || c.SessionID == "" || c.ID == "" {
		return nil, nil, ErrJWTInvalid
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return nil, nil, ErrJWTInvalid
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrJWTInvalid
	}
	if err != nil {
		return nil, nil, err
	}
	if !u.IsActive || subtle.ConstantTimeCompare([]byte(c.AuthHash), []byte(s.jwtAuthDigest(u))) != 1 {
		return &c, nil, ErrJWTInvalid
	}
	return &c, u, nil
}

// AuthenticateJWT checks an access token (the app client's Authorization: Bearer) and
// returns its user and login. It is refused (ErrJWTInvalid) when malformed, signed
// otherwise, expired, a refresh token, or when its user is gone, inactive or has changed
// their password since it was issued. A logout (RevokeJWT) ends the refresh token at once
// and leaves the access token its remaining minutes, as allauth's stateless validation.
func (s *Service) AuthenticateJWT(ctx context.Context, access string) (*User, *JWTSession, error) {
	c, u, err := s.parseJWT(ctx, access, jwtUseAccess)
	if err != nil {
		return nil, nil, err
	}
	return u, &JWTSession{ID: c.SessionID, Expires: c.ExpiresAt.Time}, nil
}

// RefreshJWT exchanges a refresh token for a new pair of the same login (allauth's
// tokens/refresh with rotation): the token presented is spent, atomically, so that of two
// requests racing with it only one gets a pair. A refresh token that is valid but no longer
// stored was rotated already or revoked: that is a replay, so the whole login is ended
// (its newer refresh token too) and AuditTokenRevoked ("kind=jwt reason=reuse") emitted.
// A password change ends every refresh token of the user; a login issued in a session
// (IssueJWT) ends with that session, AuditTokenRevoked "reason=session_ended". Errors:
// ErrJWTInvalid, store failures.
func (s *Service) RefreshJWT(ctx context.Context, refresh string) (_ *JWTPair, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RefreshJWT")
	defer opSpan.end(&opErr)
	c, u, err := s.parseJWT(ctx, refresh, jwtUseRefresh)
	if err != nil {
		if c != nil && errors.Is(err, ErrJWTInvalid) {
			s.endJWTLogin(ctx, c, "password_changed")
		}
		return nil, err
	}
	if key, bound := s.jwtLoginSession(c.SessionID, u.ID); bound {
		alive := key != ""
		if alive {
			if alive, err = s.sessionAuthenticates(ctx, key, "", u); err != nil {
				return nil, err
			}
		}
		if !alive {
			s.endJWTLogin(ctx, c, "session_ended")
			return nil, ErrJWTInvalid
		}
	}
	pair, next, err := s.mintJWT(u, c.SessionID)
	if err != nil {
		return nil, err
	}
	err = s.store.ReplaceRefreshToken(ctx, sha256.Sum256([]byte(c.ID)), next)
	if errors.Is(err, ErrNotFound) {
		s.endJWTLogin(ctx, c, "reuse")
		return nil, ErrJWTInvalid
	}
	if err != nil {
		return nil, err
	}
	return pair, nil
}

// jwtSessionLogin starts the ids of JWT logins issued in a session (jwtLoginID).
const jwtSessionLogin = "s."

// jwtSessionPurpose keys the AEAD that seals a session's store key into a JWT login id.
const jwtSessionPurpose = "restauth.jwt.session"

// jwtLoginID is the id ("sid") of a new JWT login of u. Issued in a session logged in as u
// (the headless app client's login), it carries that session's store key, sealed (bound
// to u, unreadable to the client), so that a refresh can check the session still
// authenticates u: ending the session (auth/sessions, a logout elsewhere, its expiry, a
// password change) ends the login, as allauth ties a refresh token to its session.
// Without such a session (a host issuing tokens by itself) it is random and unbound.
func (s *Service) jwtLoginID(ctx context.Context, u *User) string {
	key := s.currentSessionKey(ctx)
	if key == "" || s.sessions.GetInt64(ctx, sessionUserKey) != u.ID {
		return rand.Text()
	}
	sealed := seal.Seal(seal.AEAD(s.cfg.Secret, jwtSessionPurpose), []byte(key), strconv.AppendInt(nil, u.ID, 10))
	return jwtSessionLogin + base64.RawURLEncoding.EncodeToString(sealed)
}

// jwtLoginSession is the session store key a JWT login id of userID carries; bound is
// false for an unbound login, and key "" for one whose key does not open (which no
// session authenticates).
func (s *Service) jwtLoginSession(sid string, userID int64) (key string, bound bool) {
	rest, ok := strings.CutPrefix(sid, jwtSessionLogin)
	if !ok {
		return "", false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", true
	}
	plain, err := seal.Open(seal.AEAD(s.cfg.Secret, jwtSessionPurpose), sealed, strconv.AppendInt(nil, userID, 10))
	if err != nil {
		return "", true
	}
	return string(plain), true
}

// endJWTLogin deletes the refresh tokens of the login c belongs to; a failure is logged,
// the refusal stands either way.
func (s *Service) endJWTLogin(ctx context.Context, c *jwtClaims, reason string) {
	id, _ := strconv.ParseInt(c.Subject, 10, 64)
	if err := s.store.DeleteRefreshTokens(ctx, id, c.SessionID); err != nil {
		s.log.ErrorContext(ctx, "restauth: could not end a JWT login", "user_id", id, "error", err)
		return
	}
	s.audit(ctx, &User{ID: id}, AuditEvent{Kind: AuditTokenRevoked, Detail: "kind=jwt reason=" + reason})
}

// RevokeJWT ends the JWT login sessionID of u (JWTPair.SessionID, JWTSession.ID): its
// refresh tokens are deleted, so it cannot be refreshed; its access tokens expire within
// Config.JWT.AccessTokenLifetime. Call it at logout. It emits AuditTokenRevoked
// ("kind=jwt reason=logout"). An empty sessionID is refused (ErrJWTInvalid), so that a
// mistake cannot end every login of the user; RevokeAllCredentials does that.
func (s *Service) RevokeJWT(ctx context.Context, u *User, sessionID string) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RevokeJWT")
	defer opSpan.end(&opErr)
	if u == nil || sessionID == "" {
		return ErrJWTInvalid
	}
	if err := s.store.DeleteRefreshTokens(ctx, u.ID, sessionID); err != nil {
		return err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditTokenRevoked, Detail: "kind=jwt reason=logout"})
	return nil
}
