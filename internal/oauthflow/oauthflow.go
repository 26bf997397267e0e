// Package oauthflow holds the leaf parts of the social login browser flow: the flow state
// kept in a sealed cookie of its own, the cache that makes a state usable once, and the
// random values a flow draws. The handlers that drive the flow live in the root package.
package oauthflow

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/restauth/restauth/internal/seal"
)

// Flow is what the flow cookie holds: the state, PKCE verifier and (OpenID Connect) nonce
// drawn when the flow started, with its provider, its mode, the connecting user, where it
// ends, where the provider sends the browser back and when it expires.
type Flow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v"`
	Connect  bool   `json:"c,omitempty"`
	UserID   int64  `json:"u,omitempty"`
	Next     string `json:"r,omitempty"`
	// Callback is the redirect URI the flow gave the provider, "" for the configured one:
	// the code exchange must send it again.
	Callback string `json:"cb,omitempty"`
	Expires  int64  `json:"e"` // Unix seconds
}

// CookieName is the flow cookie's name, derived from the state, so that concurrent flows
// (several tabs) have cookies of their own and never overwrite each other.
func CookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "restauth_sso_" + hex.EncodeToString(sum[:8])
}

// purpose keys the AEAD that seals flow cookies, apart from every other sealed value.
const purpose = "restauth.social-flow-cookie"

// Seal encodes f as the value of the cookie called name: JSON sealed with AES-256-GCM
// under a key derived from secret (so it is both signed and unreadable) and bound to the
// name, in base64url without padding.
func Seal(secret []byte, name string, f *Flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(seal.Seal(seal.AEAD(secret, purpose), plain, []byte(name))), nil
}

// Open decodes the value of the cookie called name; it fails for anything not sealed by
// Seal under the same secret and name.
func Open(secret []byte, name, value string) (*Flow, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, err
	}
	plain, err := seal.Open(seal.AEAD(secret, purpose), raw, []byte(name))
	if err != nil {
		return nil, err
	}
	var f Flow
	if err := json.Unmarshal(plain, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// ReplayCache remembers consumed states until their flows expire, so that a replayed
// callback fails even with a copy of the cookie. The zero value is ready; it is safe for
// concurrent use. It holds SHA-256 digests, not the states.
type ReplayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	lastPrune time.Time
}

// Consume records state, valid until expires, and reports whether it was new at now.
// Expired states are pruned at most once a minute (or when the clock went back).
func (c *ReplayCache) Consume(state string, expires, now time.Time) bool {
	sum := sha256.Sum256([]byte(state))
	key := string(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[string]time.Time)
	}
	if now.Sub(c.lastPrune) > time.Minute || now.Before(c.lastPrune) {
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
			}
		}
		c.lastPrune = now
	}
	if exp, ok := c.seen[key]; ok && !now.After(exp) {
		return false
	}
	c.seen[key] = expires
	return true
}

// Random is n random bytes, base64url without padding: a state or a nonce.
func Random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
