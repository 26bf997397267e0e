// Package credcache remembers verified credentials for a short while and lets concurrent
// checks of one credential share a single verification. It holds opaque keys (the root
// package derives them with an HMAC, so nothing secret is kept) and knows nothing of
// passwords or users.
package credcache

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// A verified credential is remembered for TTL; at most MaxEntries are kept.
const (
	TTL        = time.Minute
	MaxEntries = 10_000
)

// Key identifies one credential.
type Key [sha256.Size]byte

// Cache is the cache and the in-flight table; its zero value is ready and it is safe for
// concurrent use. Only successes are remembered.
type Cache struct {
	mu       sync.Mutex
	until    map[Key]time.Time
	inFlight map[Key]*check
}

// check is one verification that concurrent checks of the same credential wait for.
type check struct {
	done   chan struct{}
	ok     bool
	rehash bool
	err    error
}

// Check reports whether the credential key matches: a credential verified within TTL
// before now matches without verify, and concurrent checks of one credential wait for a
// single verify. A rehash is reported only to the check that ran verify; an error of
// verify (a cancelled hash) decides nothing for the waiters either.
func (c *Cache) Check(ctx context.Context, key Key, now time.Time, verify func() (ok, rehash bool, err error)) (ok, rehash bool, err error) {
	c.mu.Lock()
	if exp, hit := c.until[key]; hit && now.Before(exp) {
		c.mu.Unlock()
		return true, false, nil
	}
	if ch, waiting := c.inFlight[key]; waiting {
		c.mu.Unlock()
		select {
		case <-ch.done:
			return ch.ok, false, ch.err
		case <-ctx.Done():
			return false, false, ctx.Err()
		}
	}
	ch := &check{done: make(chan struct{})}
	if c.inFlight == nil {
		c.inFlight = make(map[Key]*check)
	}
	c.inFlight[key] = ch
	c.mu.Unlock()

	ch.ok, ch.rehash, ch.err = verify()
	if ch.err != nil {
		ch.ok = false
	}

	c.mu.Lock()
	delete(c.inFlight, key)
	if ch.ok {
		if c.until == nil || len(c.until) >= MaxEntries {
			c.sweep(now)
		}
		c.until[key] = now.Add(TTL)
	}
	c.mu.Unlock()
	close(ch.done)
	return ch.ok, ch.rehash, ch.err
}

// sweep drops expired entries, and all of them if the cache is still full: a full cache
// only costs verifications again, never a wrong answer. Called with mu held.
func (c *Cache) sweep(now time.Time) {
	if c.until == nil {
		c.until = make(map[Key]time.Time)
		return
	}
	for k, exp := range c.until {
		if !now.Before(exp) {
			delete(c.until, k)
		}
	}
	if len(c.until) >= MaxEntries {
		clear(c.until)
	}
}
