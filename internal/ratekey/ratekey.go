// Package ratekey holds the pure parts of restauth's rate limiting: the limiter key of a
// personal value, hashed so that a limiter's store holds no addresses or login names, and
// the Retry-After value of a wait.
package ratekey

import (
	"encoding/hex"
	"time"

	"github.com/restauth/restauth/internal/djsign"
	"github.com/restauth/restauth/internal/fold"
)

// Hash returns the limiter key "kind:<hex>" for a personal value such as an e-mail address
// or a login name: a salted HMAC with secret of the case-folded value (internal/fold:
// every spelling a store may take for the same name, "ſ" and the Kelvin sign included,
// shares one count), truncated to 128 bits. Without the secret, a dump of the limiter's
// store cannot be reversed by hashing a list of known addresses; every instance sharing
// the secret derives the same key.
func Hash(secret []byte, kind, value string) string {
	mac := djsign.SaltedHMAC("restauth.ratelimit."+kind, secret, fold.String(value))
	return kind + ":" + hex.EncodeToString(mac[:16])
}

// RetryAfterSeconds is the Retry-After value for a wait of retryAfter: whole seconds
// rounded up, at least 1 (DRF's Throttled never says 0).
func RetryAfterSeconds(retryAfter time.Duration) int {
	s := retryAfter / time.Second
	if retryAfter%time.Second != 0 {
		s++
	}
	return int(max(s, 1))
}
