package hashers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// The hashes in this file are verified but never written: a login that matches one is
// re-hashed with the configured algorithm, so they fade out of an imported table.

// bcryptHash is "bcrypt$<60-char bcrypt hash>" or "bcrypt_sha256$<…>", where the
// latter's input is the lower-case hex SHA-256 of the password (Django's way around
// bcrypt's 72-byte truncation).
type bcryptHash struct {
	sha256 bool
	hashed []byte
}

func parseBcryptHash(isSHA256 bool, rest string) storedHash {
	// "$2b$12$" + 22 salt + 31 hash characters. python-bcrypt accepts the 2a, 2b and 2y
	// prefixes; x/crypto would also accept others and ignore trailing bytes, which Django
	// refuses, so the shape is checked here.
	if len(rest) != 60 || rest[0] != '$' || rest[1] != '2' || rest[3] != '$' || rest[6] != '$' {
		return nil
	}
	if v := rest[2]; v != 'a' && v != 'b' && v != 'y' {
		return nil
	}
	if rest[4] < '0' || rest[4] > '9' || rest[5] < '0' || rest[5] > '9' {
		return nil
	}
	if cost := int(rest[4]-'0')*10 + int(rest[5]-'0'); cost < bcrypt.MinCost || cost > maxBcryptCost {
		return nil
	}
	for i := 7; i < len(rest); i++ {
		if c := rest[i]; !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return nil
		}
	}
	return &bcryptHash{sha256: isSHA256, hashed: []byte(rest)}
}

func (b *bcryptHash) verify(password string) bool {
	input := []byte(password)
	if b.sha256 {
		sum := sha256.Sum256(input)
		input = []byte(hex.EncodeToString(sum[:]))
	} else if strings.IndexByte(password, 0) >= 0 {
		return false // python-bcrypt refuses NUL bytes; C bcrypt would stop at the first one
	}
	// Beyond 72 bytes bcrypt ignores the rest, as python-bcrypt (and so Django) does;
	// x/crypto's key schedule behaves the same when comparing.
	return bcrypt.CompareHashAndPassword(b.hashed, input) == nil
}

func (b *bcryptHash) upToDate(*Hasher) bool { return false } // never written

// scryptHash is Django 4.x's "scrypt$<N>$<salt>$<r>$<p>$<base64 of a 64-byte key>".
type scryptHash struct {
	n, r, p int
	salt    string
	b64     string
}

func parseScryptHash(rest string) storedHash {
	parts := strings.Split(rest, "$")
	if len(parts) != 5 || parts[1] == "" || parts[4] == "" {
		return nil
	}
	n, okN := parseDjangoInt(parts[0], 1<<30)
	r, okR := parseDjangoInt(parts[2], 1<<20)
	p, okP := parseDjangoInt(parts[3], 1<<20)
	if !okN || !okR || !okP || n < 2 || n&(n-1) != 0 {
		return nil
	}
	if uint64(128)*uint64(n)*uint64(r) > maxScryptMemory || uint64(128)*uint64(n)*uint64(r)*uint64(p) > maxScryptWork {
		return nil
	}
	return &scryptHash{n: n, r: r, p: p, salt: parts[1], b64: parts[4]}
}

func (s *scryptHash) verify(password string) bool {
	dk, err := scrypt.Key([]byte(password), []byte(s.salt), s.n, s.r, s.p, 64)
	return err == nil && constantTimeEqual(base64.StdEncoding.EncodeToString(dk), s.b64)
}

func (s *scryptHash) upToDate(*Hasher) bool { return false } // never written
