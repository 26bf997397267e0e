// Package seal encrypts and authenticates small secrets (a TOTP secret at rest, an OAuth
// flow cookie) with AES-256-GCM under a key derived from the application secret for one
// purpose.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// errTooShort: not even a nonce.
var errTooShort = errors.New("restauth: sealed value too short")

// AEAD is AES-256-GCM under a key derived from secret for one purpose (HMAC-SHA256 of
// purpose keyed by secret), so that a value sealed for one purpose (a flow cookie) can
// never be opened as another (a TOTP secret).
func AEAD(secret []byte, purpose string) cipher.AEAD {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(purpose))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		panic("restauth: AES-256 key of the wrong size: " + err.Error()) // 32 bytes by construction
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("restauth: GCM: " + err.Error()) // standard nonce and tag sizes never fail
	}
	return aead
}

// Seal encrypts and authenticates plain, bound to the associated data ad, behind a random
// nonce: nonce || ciphertext || tag.
func Seal(aead cipher.AEAD, plain, ad []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, ad)
}

// Open reverses Seal; it fails for anything tampered with, truncated, sealed under
// another key or bound to other ad.
func Open(aead cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errTooShort
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], ad)
}
