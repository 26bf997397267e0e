package restauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"time"
)

// Clients that send the password with every request (HTTP Basic; InvenTree's Python
// client can) would cost a full password hash per request: a few scripts of a few
// accounts could keep the hashing slots busy and starve login/. So a verified credential
// is remembered for a minute, and concurrent checks of one credential share one hash.
//
// Nothing secret is kept: an entry is an HMAC (keyed by Config.Secret) of the user id,
// the stored password hash and the password, so a changed password (a new hash, whatever
// changed it) misses at once, and a memory dump yields no password. Only successes are
// remembered: a wrong password always costs its hash and counts towards the limits. The
// user is read from the store on every request, so deactivation and deletion apply at
// once as well.
const (
	verifiedCredentialTTL  = time.Minute
	verifiedCredentialsMax = 10_000
)

type credentialKey [sha256.Size]byte

// verifiedCredentials is the cache and the in-flight table; its zero value is ready.
type verifiedCredentials struct {
	// off makes every check hash (the behaviour before the cache), for the benchmark that
	// measures what the cache buys; nothing else sets it.
	off      bool
	mu       sync.Mutex
	until    map[credentialKey]time.Time
	inFlight map[credentialKey]*credentialCheck
}

// credentialCheck is one hash that concurrent checks of the same credential wait for.
type credentialCheck struct {
	done   chan struct{}
	ok     bool
	rehash bool
	err    error
}

func (s *Service) credentialKey(u *User, password string) credentialKey {
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
	var k credentialKey
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
	key := s.credentialKey(u, password)
	c := &s.verified
	now := s.now()
	c.mu.Lock()
	if exp, hit := c.until[key]; hit && now.Before(exp) {
		c.mu.Unlock()
		return true, false, nil
	}
	if check, waiting := c.inFlight[key]; waiting {
		c.mu.Unlock()
		select {
		case <-check.done:
			return check.ok, false, check.err
		case <-ctx.Done():
			return false, false, ctx.Err()
		}
	}
	check := &credentialCheck{done: make(chan struct{})}
	if c.inFlight == nil {
		c.inFlight = make(map[credentialKey]*credentialCheck)
	}
	c.inFlight[key] = check
	c.mu.Unlock()

	check.ok, check.rehash, check.err = s.passwordMatches(ctx, u, password)
	if check.err != nil {
		check.ok = false // a cancelled hash decides nothing for the waiters either
	}

	c.mu.Lock()
	delete(c.inFlight, key)
	if check.ok {
		if c.until == nil || len(c.until) >= verifiedCredentialsMax {
			c.sweep(now)
		}
		c.until[key] = now.Add(verifiedCredentialTTL)
	}
	c.mu.Unlock()
	close(check.done)
	return check.ok, check.rehash, check.err
}

// sweep drops expired entries, and all of them if the cache is still full: a full cache
// only costs hashes again, never a wrong answer. Called with mu held.
func (c *verifiedCredentials) sweep(now time.Time) {
	if c.until == nil {
		c.until = make(map[credentialKey]time.Time)
		return
	}
	for k, exp := range c.until {
		if !now.Before(exp) {
			delete(c.until, k)
		}
	}
	if len(c.until) >= verifiedCredentialsMax {
		clear(c.until)
	}
}
