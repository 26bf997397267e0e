package restauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// purposeAEAD is AES-256-GCM under a key derived from secret for one purpose, so that a
// value sealed for one purpose (a flow cookie) can never be opened as another (a TOTP
// secret).
func purposeAEAD(secret []byte, purpose string) cipher.AEAD {
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

// sealBytes encrypts and authenticates plain, bound to ad, behind a random nonce.
func sealBytes(aead cipher.AEAD, plain, ad []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, ad)
}

// openBytes reverses sealBytes; it fails for anything tampered with or bound to other ad.
func openBytes(aead cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("restauth: sealed value too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], ad)
}
