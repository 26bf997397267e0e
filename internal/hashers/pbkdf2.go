package hashers

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// pbkdf2Hash is "pbkdf2_sha256$<iterations>$<salt>$<base64 key>" (or pbkdf2_sha1).
type pbkdf2Hash struct {
	sha1       bool
	iterations int
	salt       string
	b64        string
}

// encodePBKDF2 is Django's PBKDF2PasswordHasher.encode.
func encodePBKDF2(password, salt string, iterations int) (string, error) {
	dk, err := pbkdf2.Key(sha256.New, password, []byte(salt), iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	return fmt.Sprintf("%s$%d$%s$%s", PBKDF2SHA256, iterations, salt, base64.StdEncoding.EncodeToString(dk)), nil
}

func parsePBKDF2Hash(isSHA1 bool, rest string) storedHash {
	parts := strings.Split(rest, "$")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return nil
	}
	iterations, ok := parseDjangoInt(parts[0], maxPBKDF2Iterations)
	if !ok {
		return nil
	}
	return &pbkdf2Hash{sha1: isSHA1, iterations: iterations, salt: parts[1], b64: parts[2]}
}

func (p *pbkdf2Hash) derive(password string, iterations int) (string, bool) {
	newHash, size := sha256.New, sha256.Size
	if p.sha1 {
		newHash, size = sha1.New, sha1.Size
	}
	dk, err := pbkdf2.Key(newHash, password, []byte(p.salt), iterations, size)
	if err != nil {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(dk), true
}

// verify compares the base64 text, as Django compares whole encoded strings: a stored
// value with non-canonical base64 does not verify in Django either.
func (p *pbkdf2Hash) verify(password string) bool {
	b64, ok := p.derive(password, p.iterations)
	return ok && constantTimeEqual(b64, p.b64)
}

func (p *pbkdf2Hash) upToDate(h *Hasher) bool {
	return !p.sha1 && h.algorithm == PBKDF2SHA256 && p.iterations >= h.iterations &&
		saltStrongEnough(utf8.RuneCountInString(p.salt))
}

func (p *pbkdf2Hash) harden(h *Hasher, password string) {
	if p.sha1 || h.algorithm != PBKDF2SHA256 || p.iterations >= h.iterations {
		return // only the configured algorithm is topped up, as in Django
	}
	p.derive(password, h.iterations-p.iterations)
}
