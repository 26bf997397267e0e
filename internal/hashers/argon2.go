package hashers

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2Hash is "argon2$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>",
// argon2-cffi's encoding (unpadded standard base64) behind Django's "argon2" prefix.
type argon2Hash struct {
	id        bool // argon2id; false means argon2i
	time, mem uint32
	threads   uint8
	salt, key []byte
}

// encodeArgon2 is Django's Argon2PasswordHasher.encode with argon2id. Django hashes its
// alphanumeric salt string's bytes, not random bytes, and argon2-cffi encodes them in
// unpadded standard base64: reproduce both so Django can read ours.
func encodeArgon2(password, salt string, time, mem uint32, threads uint8) string {
	key := argon2.IDKey([]byte(password), []byte(salt), time, mem, threads, argon2KeyLen)
	return fmt.Sprintf("%s$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", Argon2, argon2.Version,
		mem, time, threads,
		base64.RawStdEncoding.EncodeToString([]byte(salt)), base64.RawStdEncoding.EncodeToString(key))
}

func parseArgon2Hash(rest string) storedHash {
	// Hashes without a "v=" field are Argon2 version 1.0 (0x10), written by Django 1.10;
	// x/crypto implements only 1.3 (0x13), so they are not recognised.
	parts := strings.Split(rest, "$")
	if len(parts) != 5 || parts[1] != "v=19" {
		return nil
	}
	a := &argon2Hash{}
	switch parts[0] {
	case "argon2id":
		a.id = true
	case "argon2i":
	default:
		return nil // argon2d is not offered by x/crypto nor written by Django
	}
	mStr, tail, ok1 := strings.Cut(parts[2], ",")
	tStr, pStr, ok2 := strings.Cut(tail, ",")
	if !ok1 || !ok2 || !strings.HasPrefix(mStr, "m=") || !strings.HasPrefix(tStr, "t=") || !strings.HasPrefix(pStr, "p=") {
		return nil
	}
	m, okM := parseDjangoInt(mStr[2:], maxArgon2MemoryKiB)
	t, okT := parseDjangoInt(tStr[2:], maxArgon2Time)
	p, okP := parseDjangoInt(pStr[2:], 255) // x/crypto takes p as uint8
	if !okM || !okT || !okP || m < 8*p {
		return nil // libargon2 refuses m < 8p; x/crypto would silently round it up
	}
	a.mem, a.time, a.threads = uint32(m), uint32(t), uint8(p)
	var okS, okK bool
	a.salt, okS = decodeArgon2B64(parts[3], minArgon2Salt)
	a.key, okK = decodeArgon2B64(parts[4], minArgon2Key)
	if !okS || !okK {
		return nil
	}
	return a
}

// decodeArgon2B64 decodes unpadded standard base64 as libargon2 does: canonical only
// (no padding, no line breaks, no stray trailing bits), within length bounds.
func decodeArgon2B64(s string, minLen int) ([]byte, bool) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < minLen || len(b) > maxArgon2Bytes || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

func (a *argon2Hash) verify(password string) bool {
	var key []byte
	if a.id {
		key = argon2.IDKey([]byte(password), a.salt, a.time, a.mem, a.threads, uint32(len(a.key)))
	} else {
		key = argon2.Key([]byte(password), a.salt, a.time, a.mem, a.threads, uint32(len(a.key)))
	}
	return subtle.ConstantTimeCompare(key, a.key) == 1
}

// upToDate: a different variant or lane count, or fewer passes or less memory than
// configured, calls for a re-hash; more passes or memory do not. As in Django, a salt of
// fewer than 22 bytes (argon2-cffi's own 16 random bytes) does too.
func (a *argon2Hash) upToDate(h *Hasher) bool {
	return h.algorithm == Argon2 && a.id && a.threads == h.argonP &&
		a.time >= h.argonTime && a.mem >= h.argonMem && saltStrongEnough(len(a.salt))
}
