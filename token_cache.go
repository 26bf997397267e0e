package restauth

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// tokenCache is the in-process token cache (Config.Tokens.Cache): authenticated tokens
// with their users, keyed by the key's hash. It never decides anything: AuthenticateToken
// runs every check (revoked, expired, active user) on what it returns, as on what the
// store returns; the cache only saves the store's round trip.
//
// Forgetting is exact against a lost update: every invalidation raises gen, and put only
// stores what was read from the store while gen stayed the same. A lookup that raced
// with a revocation (read the token before the revocation committed, finished after the
// cache forgot it) therefore does not put the stale token back.
type tokenCache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu      sync.RWMutex
	gen     uint64
	entries map[[32]byte]*tokenCacheEntry

	// stop ends the store's invalidation watch (Service.Close).
	stop context.CancelFunc
}

// tokenCacheEntry is one cached token with its user, as the store last returned them.
type tokenCacheEntry struct {
	t       APIToken
	u       User
	expires time.Time
}

// newTokenCache returns the cache cfg asks for, or nil when it is off.
func newTokenCache(cfg TokenCacheConfig, now func() time.Time) *tokenCache {
	if cfg.Size <= 0 {
		return nil
	}
	return &tokenCache{size: cfg.Size, ttl: cfg.TTL, now: now, entries: make(map[[32]byte]*tokenCacheEntry, min(cfg.Size, 1024))}
}

// get returns copies of the cached token and user of hash, if cached and fresh, and the
// generation to pass to put after a store lookup otherwise. A nil cache misses.
func (c *tokenCache) get(hash [32]byte) (*APIToken, *User, uint64) {
	if c == nil {
		return nil, nil, 0
	}
	c.mu.RLock()
	e, gen := c.entries[hash], c.gen
	var hit *tokenCacheEntry
	if e != nil && c.now().Before(e.expires) {
		hit = &tokenCacheEntry{t: e.t, u: e.u} // one allocation for both copies
	}
	c.mu.RUnlock()
	if hit == nil {
		return nil, nil, gen
	}
	return &hit.t, &hit.u, gen
}

// put caches t and u under hash, unless the cache forgot anything since gen was read
// (then what the caller read may be what was forgotten).
func (c *tokenCache) put(gen uint64, hash [32]byte, t *APIToken, u *User) {
	if c == nil {
		return
	}
	e := &tokenCacheEntry{t: *t, u: *u, expires: c.now().Add(c.ttl)}
	e.t.SealedKey = nil // never needed to authenticate; keep no second copy of it
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[hash]; !ok && len(c.entries) >= c.size {
		for k := range c.entries { // an arbitrary entry makes room
			delete(c.entries, k)
			break
		}
	}
	c.entries[hash] = e
}

// forget removes the entries matching drop (all for a nil drop) and makes lookups that
// began before it unable to put what they read. It costs a pass over the cache, which
// only writes of credentials pay.
func (c *tokenCache) forget(drop func(e *tokenCacheEntry) bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if drop == nil {
		clear(c.entries)
		return
	}
	for k, e := range c.entries {
		if drop(e) {
			delete(c.entries, k)
		}
	}
}

// forgetUser forgets the user's tokens; 0 forgets everything.
func (c *tokenCache) forgetUser(userID int64) {
	if userID == 0 {
		c.forget(nil)
		return
	}
	c.forget(func(e *tokenCacheEntry) bool { return e.u.ID == userID })
}

// forgetToken forgets the token with that id.
func (c *tokenCache) forgetToken(id int64) {
	c.forget(func(e *tokenCacheEntry) bool { return e.t.ID == id })
}

// startTokenCache sets the Service up for Config.Tokens.Cache: its store goes behind the
// decorator that forgets what each write changes, and a store that is an
// InvalidationNotifier reports what other processes change. It fails when that
// subscription cannot be made (the store is unreachable), rather than start a cache that
// silently lags by its TTL.
func (s *Service) startTokenCache() error {
	c := newTokenCache(s.cfg.Tokens.Cache, s.now)
	if c == nil {
		return nil
	}
	s.tokens = c
	inner := s.store
	s.store = newCachingStore(inner, c)
	// The host's store, not the metered one the Service calls through: the decorators
	// forward the Store, not its optional capabilities.
	n, ok := s.cfg.Store.(InvalidationNotifier)
	if !ok {
		return nil
	}
	// The store bounds the subscription itself (pgstore: its connect timeout); ctx ends
	// the watch when the Service closes.
	ctx, cancel := context.WithCancel(context.Background())
	err := n.WatchInvalidations(ctx, func(userID int64) {
		c.forgetUser(userID)
		if hook := s.cfg.Tokens.Cache.OnInvalidate; hook != nil {
			hook(userID)
		}
	})
	if err != nil {
		cancel()
		return fmt.Errorf("restauth: token cache: watching the store for invalidations: %w", err)
	}
	c.stop = cancel
	return nil
}

// stopTokenCache ends the store's invalidation watch. The cache stays usable, with its
// TTL alone bounding what other processes changed.
func (s *Service) stopTokenCache() {
	if s.tokens != nil && s.tokens.stop != nil {
		s.tokens.stop()
	}
}

// lookupToken is AuthenticateToken's read: from the cache when it holds hash, otherwise
// from the store (one query when it is a TokenUserStore; u is nil when the store loaded
// the token only). gen is for tokens.put.
func (s *Service) lookupToken(ctx context.Context, hash [32]byte) (t *APIToken, u *User, gen uint64, cached bool, err error) {
	if t, u, gen = s.tokens.get(hash); t != nil {
		return t, u, gen, true, nil
	}
	store := s.store
	if cs, ok := store.(interface{ uncached() Store }); ok {
		store = cs.uncached()
	}
	if joined, ok := store.(TokenUserStore); ok {
		t, u, err = joined.TokenAndUserByHash(ctx, hash)
	} else {
		t, err = store.TokenByHash(ctx, hash)
	}
	return t, u, gen, false, err
}
