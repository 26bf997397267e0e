package restauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/restauth/restauth/internal/validate"
)

// IssuedToken is an API token with its key. For a token IssueToken (or a login) issued,
// Key is the only copy of the secret: the store keeps its SHA-256, so the key cannot be
// shown again. TokenByName's tokens alone keep a sealed copy and may be handed out again.
type IssuedToken struct {
	Key   string
	Token APIToken
}

// Token key layout: prefix + 40 lowercase hex characters (20 random bytes) + "-YYYYMMDD".
const (
	tokenRandomBytes  = 20
	tokenMaskedPrefix = 8
	tokenMaskedSuffix = 12
	maxTokenNameLen   = 100
)

// hashTokenKey hashes a key through a stack buffer: a plain []byte(key) of a 53-byte key
// would allocate on every token-authenticated request.
func hashTokenKey(key string) [32]byte {
	var buf [128]byte
	if len(key) <= len(buf) {
		return sha256.Sum256(append(buf[:0], key...))
	}
	return sha256.Sum256([]byte(key))
}

// day truncates t to its UTC calendar day.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// IssueToken creates a token for the user; name is cleaned as InvenTree cleans it.
//
// It emits AuditTokenIssued for u.
func (s *Service) IssueToken(ctx context.Context, u *User, name string) (_ *IssuedToken, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "IssueToken")
	defer opSpan.end(&opErr)
	issued, err := s.issueToken(ctx, u.ID, name)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditTokenIssued, Detail: tokenDetail(&issued.Token)})
	return issued, nil
}

// issueToken is IssueToken without the event, for operations that emit their own (a
// login's token is issued before the login succeeded).
func (s *Service) issueToken(ctx context.Context, userID int64, name string) (*IssuedToken, error) {
	return s.mintToken(ctx, userID, validate.TokenName(name, maxTokenNameLen), false)
}

// mintToken creates a token named name (already cleaned); sealed keeps a copy of the key
// sealed under the Secret (TokenByName's tokens only).
func (s *Service) mintToken(ctx context.Context, userID int64, name string, sealed bool) (*IssuedToken, error) {
	var random [tokenRandomBytes]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	key := s.cfg.Tokens.Prefix + hex.EncodeToString(random[:]) + "-" + now.Format("20060102")
	t := APIToken{
		UserID:    userID,
		KeyHash:   hashTokenKey(key),
		KeyPrefix: key[:tokenMaskedPrefix],
		KeySuffix: key[len(key)-tokenMaskedSuffix:],
		Name:      name,
		Created:   now,
		Expiry:    day(now.Add(s.cfg.Tokens.Lifetime)),
	}
	if sealed {
		t.SealedKey = s.sealTokenKey(&t, key)
	}
	if err := s.store.CreateToken(ctx, &t); err != nil {
		return nil, err
	}
	if err := s.evictTokens(ctx, &t); err != nil {
		return nil, err
	}
	return &IssuedToken{Key: key, Token: t}, nil
}

// evictTokens revokes the user's least recently used active tokens beyond
// Config.Tokens.MaxPerUser, never keep (the token just issued). A cap that refused new
// tokens would lock the user out of logging in once a script had piled them up; evicting
// the oldest unused ones keeps the newest login working and bounds what a stolen password
// can leave behind. Each eviction emits AuditTokenRevoked with reason=token_cap.
func (s *Service) evictTokens(ctx context.Context, keep *APIToken) error {
	max := s.cfg.Tokens.MaxPerUser
	if max <= 0 {
		return nil
	}
	tokens, err := s.store.Tokens(ctx, keep.UserID)
	if err != nil {
		return err
	}
	today := day(s.now())
	active := make([]*APIToken, 0, len(tokens))
	for i := range tokens {
		if t := &tokens[i]; !t.Revoked && !t.Expiry.Before(today) && t.ID != keep.ID {
			active = append(active, t)
		}
	}
	excess := len(active) + 1 - max
	if excess <= 0 {
		return nil
	}
	// Least recently seen first (never used counts as oldest), then the oldest issued.
	slices.SortFunc(active, func(a, b *APIToken) int {
		return cmp.Or(a.LastSeen.Compare(b.LastSeen), a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	for _, t := range active[:excess] {
		if err := s.store.RevokeToken(ctx, t.ID); err != nil {
			return err
		}
		s.audit(ctx, &User{ID: t.UserID}, AuditEvent{Kind: AuditTokenRevoked, Detail: tokenDetail(t) + " reason=token_cap"})
	}
	return nil
}

// AuthenticateToken resolves an API key to its user. Failures are *AuthError values with
// the reference's messages. With Config.Tokens.Cache on, a token authenticated recently
// comes from the cache; the checks run on it all the same.
func (s *Service) AuthenticateToken(ctx context.Context, key string) (*User, *APIToken, error) {
	hash := hashTokenKey(key)
	t, u, gen, cached, err := s.lookupToken(ctx, hash)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, tokenAuthError("Invalid token.")
		}
		return nil, nil, err
	}
	today := day(s.now())
	switch {
	case t.Revoked:
		return nil, nil, tokenAuthError("Token has been revoked")
	case t.Expiry.Before(today):
		return nil, nil, tokenAuthError("Token has expired")
	}
	if u == nil {
		if u, err = s.store.UserByID(ctx, t.UserID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, nil, tokenAuthError("User inactive or deleted.")
			}
			return nil, nil, err
		}
	}
	if !u.IsActive {
		return nil, nil, tokenAuthError("User inactive or deleted.")
	}
	// last_seen has a resolution of one day, so the store is written at most once a day per token.
	if !t.LastSeen.Equal(today) {
		if err := s.store.TouchToken(ctx, t.ID, today); err != nil {
			s.log.WarnContext(ctx, "restauth: could not record token use", "token_id", t.ID, "error", err)
		} else {
			t.LastSeen = today
			if cached {
				s.tokens.touchCached(hash, today)
			}
		}
	}
	if !cached {
		s.tokens.put(gen, hash, t, u)
	}
	return u, t, nil
}

// Tokens lists the user's tokens, revoked and expired ones included.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]APIToken, error) {
	return s.store.Tokens(ctx, userID)
}

// TokenActive reports whether t still authenticates as far as the token itself goes: it
// is not revoked and, by the Service's clock, has not expired (a token is valid through
// its expiry day, as AuthenticateToken counts it). Its user's state is not consulted.
func (s *Service) TokenActive(t *APIToken) bool {
	return !t.Revoked && !t.Expiry.Before(day(s.now()))
}

// RevokeToken revokes one of the user's tokens; another user's token is ErrNotFound.
func (s *Service) RevokeToken(ctx context.Context, u *User, tokenID int64) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RevokeToken")
	defer opSpan.end(&opErr)
	t, err := s.store.TokenByID(ctx, tokenID)
	if err != nil {
		return err
	}
	if t.UserID != u.ID {
		return ErrNotFound
	}
	if err := s.store.RevokeToken(ctx, tokenID); err != nil {
		return err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditTokenRevoked, Detail: tokenDetail(t)})
	return nil
}
