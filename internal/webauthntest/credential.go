// Package webauthntest holds helpers for tests that answer WebAuthn ceremonies with the
// software authenticator github.com/descope/virtualwebauthn.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/x509"

	"github.com/descope/virtualwebauthn"
)

// NewEC2Credential is virtualwebauthn.NewCredential(KeyTypeEC2) whose public key a relying
// party accepts every time: virtualwebauthn v1.0.3 writes the P-256 coordinates with
// big.Int.Bytes, dropping leading zero bytes, so about one key in 128 has a short X or Y,
// which go-webauthn (rightly) refuses. Such keys are drawn again.
func NewEC2Credential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		parsed, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			panic("webauthntest: virtualwebauthn exported an unreadable key: " + err.Error())
		}
		k := parsed.(*ecdsa.PrivateKey)
		if len(k.X.Bytes()) == 32 && len(k.Y.Bytes()) == 32 {
			return c
		}
	}
}
