package restauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"

	"github.com/restauth/restauth/internal/credcache"
)

// Clients that send the password with every request (HTTP Basic; InvenTree's Python
// client can) would cost a full password hash per request: a few scripts of a few
// accounts could keep the hashing slots busy and starve login/. So a verified credential
// is remembered for a minute (internal/credcache), and concurrent checks of one
// credential share one hash.
//
// Nothing secret is kept: an entry is an HMAC (keyed by Config.Secret) of the user id,
// the stored password hash and the password, so a changed password (a new hash, whatever
// changed it) misses at once, and a memory dump yields no password. Only successes are
// remembered: a wrong password always costs its hash and counts towards the limits. The
// user is read from the store on every request, so deactivation and deletion apply at
// once as well.

// verifiedCredentials is the cache; its zero value is ready.
type verifiedCredentials struct {
	// off makes every check hash (the behaviour before the cache), for the benchmark that
	// measures what the cache buys; nothing else sets it.
	off   bool
	cache credcache.Cache
}

func (s *Service) credentialKey(u *User, password string) credcache.Key {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("restauth.verified-credential\x00"))
	var id [8]byte
	for i := range id {
		id[i] = byte(u.ID >> (8 * i))
	}
	mac.Write(id[:])
	mac.Write([]byte(u.PasswordHash))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var k credcache.Key
	mac.Sum(k[:0])
	return k
}

// passwordMatchesCached is passwordMatches for credentials sent with every request: a
// credential verified within the last minute matches without hashing, and concurrent
// checks of one credential wait for a single hash. A rehash is reported only to the
// check that hashed.
func (s *Service) passwordMatchesCached(ctx context.Context, u *User, password string) (ok, rehash bool, err error) {
	if u == nil || !u.HasUsablePassword() || len(password) > maxPasswordBytes || s.verified.off {
		return s.passwordMatches(ctx, u, password)
	}
	return s.verified.cache.Check(ctx, s.credentialKey(u, password), s.now(), func() (bool, bool, error) {
		return s.passwordMatches(ctx, u, password)
	})
}
