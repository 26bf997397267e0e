// Package otptest is an authenticator app for tests: it reads an otpauth:// URI and shows
// the codes a phone would. It is written from RFC 6238 and the Key Uri Format
// independently of restauth's own TOTP code, so tests that pit the two against each other
// prove interoperability, not self-consistency.
package otptest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// App holds one scanned secret.
type App struct {
	// Key is the shared secret; Issuer and Account come from the URI's label.
	Key             []byte
	Issuer, Account string
}

// Scan reads an otpauth://totp/ URI as an app does, refusing parameters other than the
// SHA-1, six-digit, 30-second ones every app supports.
func Scan(uri string) (*App, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		return nil, fmt.Errorf("otptest: not an otpauth://totp/ URI: %s", uri)
	}
	q := u.Query()
	for k, want := range map[string]string{"algorithm": "SHA1", "digits": "6", "period": "30"} {
		if got := q.Get(k); got != "" && got != want {
			return nil, fmt.Errorf("otptest: %s=%s, want %s", k, got, want)
		}
	}
	issuer, account, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), ":")
	if !ok || account == "" {
		return nil, fmt.Errorf("otptest: label %q is not Issuer:account", u.Path)
	}
	if p := q.Get("issuer"); p != "" && p != issuer {
		return nil, fmt.Errorf("otptest: issuer parameter %q differs from the label's %q", p, issuer)
	}
	secret := strings.TrimRight(strings.ToUpper(q.Get("secret")), "=")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("otptest: secret: %w", err)
	}
	if len(key) < 16 {
		return nil, errors.New("otptest: secret shorter than 128 bits")
	}
	return &App{Key: key, Issuer: issuer, Account: account}, nil
}

// Code is the six-digit code the app shows at at.
func (a *App) Code(at time.Time) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, a.Key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}
