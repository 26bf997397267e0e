// Package magictoken builds and checks the token of a magic login link:
// "<user id base36>.<issued unix seconds base36>.<MAC>", the MAC (HMAC-SHA256 under the
// service's secret, base64url) covering the id and time and what of the user must not
// change for the link to stay valid (Bound). It knows nothing of how long a link lives or
// of users beyond Bound: the root package decides both.
package magictoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bound is what of the user a token is bound to: changing any of it kills the link.
type Bound struct {
	PasswordHash string
	// LastLogin counts to the microsecond, what the stores keep.
	LastLogin time.Time
	// Emails are the user's addresses, in any order.
	Emails []string
}

// New returns the token of user id issued at issued (Unix seconds).
func New(secret []byte, id, issued int64, b Bound) string {
	head := strconv.FormatInt(id, 36) + "." + strconv.FormatInt(issued, 36)
	return head + "." + mac(secret, head, b)
}

// Parse reads a token's user id and issue time; ok is false for anything not shaped like
// a token. It does not check the MAC: Valid does, once the user is known.
func Parse(token string) (id, issued int64, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 128 {
		return 0, 0, false
	}
	id, err1 := strconv.ParseInt(parts[0], 36, 64)
	issued, err2 := strconv.ParseInt(parts[1], 36, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return 0, 0, false
	}
	return id, issued, true
}

// Valid reports, in constant time, whether token's MAC matches b under secret.
func Valid(secret []byte, token string, b Bound) bool {
	dot := strings.LastIndexByte(token, '.')
	if dot < 0 {
		return false
	}
	return hmac.Equal([]byte(token[dot+1:]), []byte(mac(secret, token[:dot], b)))
}

func mac(secret []byte, head string, b Bound) string {
	sorted := slices.Sorted(slices.Values(b.Emails))
	m := hmac.New(sha256.New, secret)
	var lastLogin int64
	if !b.LastLogin.IsZero() {
		lastLogin = b.LastLogin.UnixMicro()
	}
	for _, part := range []string{"restauth.magic-link", head, b.PasswordHash, strconv.FormatInt(lastLogin, 10), strings.Join(sorted, "\x00")} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
