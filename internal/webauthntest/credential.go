// Package webauthntest holds helpers for tests that answer WebAuthn ceremonies with the
// software authenticator github.com/descope/virtualwebauthn.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"testing"

	"github.com/descope/virtualwebauthn"
	"github.com/stretchr/testify/require"
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

// SoftKey is one credential on a software authenticator, answering ceremonies for the
// relying party RP (its ID and origin can be changed to play a cross-origin or wrong-RP
// client; Cred to play another key, or a clone with an older counter).
type SoftKey struct {
	RP   virtualwebauthn.RelyingParty
	Auth virtualwebauthn.Authenticator
	Cred virtualwebauthn.Credential
}

// NewSoftKey is a new key for the relying party rpID at origin.
func NewSoftKey(rpID, origin string) *SoftKey {
	return &SoftKey{
		RP:   virtualwebauthn.RelyingParty{Name: "example", ID: rpID, Origin: origin},
		Auth: virtualwebauthn.NewAuthenticator(),
		Cred: NewEC2Credential(),
	}
}

// Create answers creation options as navigator.credentials.create would, remembering
// the user handle they name (a passkey returns it when asserting). The options must be
// for the key's relying party.
func (k *SoftKey) Create(t testing.TB, options []byte) json.RawMessage {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAttestationOptions(string(options))
	require.NoError(t, err)
	require.Equal(t, k.RP.ID, parsed.RelyingPartyID)
	k.Auth.Options.UserHandle = []byte(parsed.UserID)
	k.Auth.AddCredential(k.Cred)
	return json.RawMessage(virtualwebauthn.CreateAttestationResponse(k.RP, k.Auth, k.Cred, *parsed))
}

// Get answers request options as navigator.credentials.get would, the counter one up.
func (k *SoftKey) Get(t testing.TB, options []byte) json.RawMessage {
	t.Helper()
	parsed, err := virtualwebauthn.ParseAssertionOptions(string(options))
	require.NoError(t, err)
	k.Cred.Counter++
	return json.RawMessage(virtualwebauthn.CreateAssertionResponse(k.RP, k.Auth, k.Cred, *parsed))
}
