package restauth

import (
	"context"
	"strconv"

	"github.com/restauth/restauth/internal/seal"
	"github.com/restauth/restauth/internal/validate"
)

// tokenKeyPurpose derives the key that seals named tokens' keys (APIToken.SealedKey) from
// Config.Secret; no other value is sealed under it.
const tokenKeyPurpose = "restauth api token key"

// TokenByName returns the user's named token, as InvenTree's GetAuthToken does for
// GET /api/user/token/?name=: the first (oldest) token of that name, cleaned as IssueToken
// cleans it, that is neither revoked nor expired and was issued by TokenByName; without
// one it issues a new token of that name. A script that connects every few minutes with
// a password therefore reuses one token instead of piling up a year-long token per
// connection.
//
// Only keys issued here can be handed out again: the new token keeps, beside the SHA-256
// that authenticates it, a copy of its key sealed under Config.Secret (APIToken.SealedKey,
// AES-256-GCM, bound to the user and the key's hash), so that a copy of the database
// without the Secret still yields no usable key. A token of the same name issued another
// way (a login, IssueToken), or one whose copy no longer opens (the Secret changed), is
// passed over: its key exists nowhere any more.
//
// Issuing emits AuditTokenIssued, like IssueToken; handing out an existing token emits no
// event. Two concurrent first calls may each issue one token; later calls reuse the
// oldest.
func (s *Service) TokenByName(ctx context.Context, u *User, name string) (*IssuedToken, error) {
	name = validate.TokenName(name, maxTokenNameLen)
	tokens, err := s.store.Tokens(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for i := range tokens {
		t := &tokens[i]
		if t.Name != name || t.SealedKey == nil || !s.TokenActive(t) {
			continue
		}
		if key, ok := s.openTokenKey(t); ok {
			return &IssuedToken{Key: key, Token: *t}, nil
		}
	}
	issued, err := s.mintToken(ctx, u.ID, name, true)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditTokenIssued, Detail: tokenDetail(&issued.Token)})
	return issued, nil
}

// tokenKeyAD binds a sealed key to its user and to the hash of the key itself, so that a
// sealed copy moved onto another row (another user's, or another token's) never opens.
func tokenKeyAD(userID int64, hash [32]byte) []byte {
	return append(strconv.AppendInt(nil, userID, 10), hash[:]...)
}

// sealTokenKey returns key sealed for t (whose UserID and KeyHash are set).
func (s *Service) sealTokenKey(t *APIToken, key string) []byte {
	return seal.Seal(seal.AEAD(s.cfg.Secret, tokenKeyPurpose), []byte(key), tokenKeyAD(t.UserID, t.KeyHash))
}

// openTokenKey opens t's sealed key. It fails for a copy sealed under another Secret or
// for another row, and, as a last check, for a key that does not hash to t.KeyHash.
func (s *Service) openTokenKey(t *APIToken) (string, bool) {
	key, err := seal.Open(seal.AEAD(s.cfg.Secret, tokenKeyPurpose), t.SealedKey, tokenKeyAD(t.UserID, t.KeyHash))
	if err != nil || hashTokenKey(string(key)) != t.KeyHash {
		return "", false
	}
	return string(key), true
}
