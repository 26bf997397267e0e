package restauth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// PasswordConfig configures password hashing and validation. The zero value gives the
// defaults documented on each field.
//
// Hashes are stored in Django's encodings, so a user table copied from InvenTree keeps
// working: the Service verifies pbkdf2_sha256, pbkdf2_sha1, argon2 (argon2id and argon2i),
// bcrypt_sha256, bcrypt and scrypt hashes, and writes the configured Algorithm. A login
// whose stored hash is of another algorithm or weaker than configured is re-hashed.
type PasswordConfig struct {
	// Algorithm is the hasher new passwords are stored with: "argon2" (Django's
	// Argon2PasswordHasher layout, writing argon2id) or "pbkdf2_sha256" (Django's default
	// PBKDF2PasswordHasher). Default "argon2".
	Algorithm string
	// Argon2Time is argon2id's number of passes (t). Default 2.
	Argon2Time uint32
	// Argon2MemoryKiB is argon2id's memory per hash in KiB (m). Default 19456 (19 MiB,
	// OWASP's recommendation for t=2). At most 1048576 (1 GiB); each concurrent hash holds
	// this much, so peak memory is about MaxConcurrentHashes × Argon2MemoryKiB.
	Argon2MemoryKiB uint32
	// Argon2Threads is argon2id's parallelism (p). Default 1. Must satisfy
	// Argon2MemoryKiB >= 8 × Argon2Threads, as the Argon2 specification requires.
	Argon2Threads uint8
	// PBKDF2Iterations is the PBKDF2-HMAC-SHA256 iteration count. Default 600000
	// (Django 4.2). At most 20000000.
	PBKDF2Iterations int
	// MaxConcurrentHashes bounds how many hashes (Hash, Check and the dummy check for
	// unknown users) run at once; further callers queue until a slot frees or their
	// context ends. This keeps a login storm from exhausting memory with argon2.
	// Default runtime.NumCPU().
	MaxConcurrentHashes int
	// MinLength is Django's MinimumLengthValidator min_length, counted in Unicode code
	// points as Python's len does. Default 8; negative values are rejected.
	MinLength int
	// DisableSimilarityValidator turns off Django's UserAttributeSimilarityValidator (the
	// password must not resemble the username, first name, last name or e-mail address).
	DisableSimilarityValidator bool
	// DisableCommonValidator turns off Django's CommonPasswordValidator (the password
	// must not be one of the 20,000 common passwords Django ships).
	DisableCommonValidator bool
	// DisableNumericValidator turns off Django's NumericPasswordValidator (the password
	// must not be entirely numeric).
	DisableNumericValidator bool
}

// Algorithm names as they appear before the first "$" of Django's encoded hashes.
const (
	algArgon2       = "argon2"
	algPBKDF2SHA256 = "pbkdf2_sha256"
	algPBKDF2SHA1   = "pbkdf2_sha1"
	algBcrypt       = "bcrypt"
	algBcryptSHA256 = "bcrypt_sha256"
	algScrypt       = "scrypt"
)

// Defaults and bounds. The upper bounds apply both to the configuration and to stored
// hashes being verified: a stored hash is data, and one with absurd parameters (a
// corrupted row, a hostile import) must not make a single login allocate gigabytes or
// spin for hours. Every real Django default is far inside them.
const (
	defaultArgon2Time       = 2
	defaultArgon2MemoryKiB  = 19456
	defaultArgon2Threads    = 1
	defaultPBKDF2Iterations = 600000
	defaultMinLength        = 8

	// argon2KeyLen is the hash length written; Django's reader accepts any length.
	argon2KeyLen = 32
	// saltChars is the length of Django's salts: ceil(128 bits / log2(62)).
	saltChars = 22
	// saltAlphabet is Django's RANDOM_STRING_CHARS.
	saltAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

	maxPBKDF2Iterations = 20_000_000
	maxArgon2MemoryKiB  = 1 << 20 // 1 GiB
	maxArgon2Time       = 100
	maxArgon2Bytes      = 1024 // salt and hash length bounds for stored argon2 hashes
	minArgon2Salt       = 8    // libargon2's ARGON2_MIN_SALT_LENGTH
	minArgon2Key        = 4    // libargon2's ARGON2_MIN_OUTLEN
	maxBcryptCost       = 18   // 64 times Django's default cost of 12
	maxScryptMemory     = 256 << 20
	maxScryptWork       = 1 << 30 // bound on 128·N·r·p, scrypt's total mixing work in bytes
)

// passwordHasher hashes and verifies passwords in Django's encodings. It is safe for
// concurrent use.
type passwordHasher struct {
	algorithm  string
	argonTime  uint32
	argonMem   uint32
	argonP     uint8
	iterations int
	// sem holds one token per running hash; see PasswordConfig.MaxConcurrentHashes.
	sem chan struct{}
	// dummy is a random hash with the configured parameters, matched by no password.
	// Checking against it costs what checking a real user's up-to-date hash costs, which
	// is how DummyCheck and Check on unusable hashes hide whether an account exists.
	dummy storedHash
	// hashes counts hashing slots taken, one per hash computed, so tests can prove that
	// every login path costs the same number of hashes.
	hashes atomic.Int64
}

// withPasswordDefaults fills zero fields with their defaults and rejects values that
// cannot work, so the Service fails at start-up rather than at the first login.
func withPasswordDefaults(cfg PasswordConfig) (PasswordConfig, error) {
	if cfg.Algorithm == "" {
		cfg.Algorithm = algArgon2
	}
	if cfg.Argon2Time == 0 {
		cfg.Argon2Time = defaultArgon2Time
	}
	if cfg.Argon2MemoryKiB == 0 {
		cfg.Argon2MemoryKiB = defaultArgon2MemoryKiB
	}
	if cfg.Argon2Threads == 0 {
		cfg.Argon2Threads = defaultArgon2Threads
	}
	if cfg.PBKDF2Iterations == 0 {
		cfg.PBKDF2Iterations = defaultPBKDF2Iterations
	}
	if cfg.MaxConcurrentHashes == 0 {
		cfg.MaxConcurrentHashes = runtime.NumCPU()
	}
	if cfg.MinLength == 0 {
		cfg.MinLength = defaultMinLength
	}
	switch {
	case cfg.Algorithm != algArgon2 && cfg.Algorithm != algPBKDF2SHA256:
		return cfg, fmt.Errorf("password Algorithm %q is not supported (want %q or %q)",
			cfg.Algorithm, algArgon2, algPBKDF2SHA256)
	case cfg.Argon2Time > maxArgon2Time:
		return cfg, fmt.Errorf("password Argon2Time %d exceeds %d", cfg.Argon2Time, maxArgon2Time)
	case cfg.Argon2MemoryKiB > maxArgon2MemoryKiB:
		return cfg, fmt.Errorf("password Argon2MemoryKiB %d exceeds %d (1 GiB)", cfg.Argon2MemoryKiB, maxArgon2MemoryKiB)
	case cfg.Argon2MemoryKiB < 8*uint32(cfg.Argon2Threads):
		return cfg, fmt.Errorf("password Argon2MemoryKiB %d is below 8 × Argon2Threads (%d)",
			cfg.Argon2MemoryKiB, 8*uint32(cfg.Argon2Threads))
	case cfg.PBKDF2Iterations < 0 || cfg.PBKDF2Iterations > maxPBKDF2Iterations:
		return cfg, fmt.Errorf("password PBKDF2Iterations %d is outside 1..%d", cfg.PBKDF2Iterations, maxPBKDF2Iterations)
	case cfg.MaxConcurrentHashes < 0:
		return cfg, fmt.Errorf("password MaxConcurrentHashes %d is negative", cfg.MaxConcurrentHashes)
	case cfg.MinLength < 0:
		return cfg, fmt.Errorf("password MinLength %d is negative", cfg.MinLength)
	}
	return cfg, nil
}

// newPasswordHasher applies cfg's defaults and validates it. It computes no hash, so
// building a Service stays cheap.
func newPasswordHasher(cfg PasswordConfig) (*passwordHasher, error) {
	cfg, err := withPasswordDefaults(cfg)
	if err != nil {
		return nil, err
	}
	h := &passwordHasher{
		algorithm:  cfg.Algorithm,
		argonTime:  cfg.Argon2Time,
		argonMem:   cfg.Argon2MemoryKiB,
		argonP:     cfg.Argon2Threads,
		iterations: cfg.PBKDF2Iterations,
		sem:        make(chan struct{}, cfg.MaxConcurrentHashes),
	}
	h.dummy = h.newDummyHash()
	return h, nil
}

// newDummyHash builds the stored form of a configured-kind hash directly from random
// bytes: verifying against it does the full work, yet needs no hashing up front, and
// no password can match a random 256-bit key.
func (h *passwordHasher) newDummyHash() storedHash {
	key := make([]byte, 32)
	rand.Read(key)
	if h.algorithm == algPBKDF2SHA256 {
		return &pbkdf2Hash{iterations: h.iterations, salt: randomSaltString(), b64: base64.StdEncoding.EncodeToString(key)}
	}
	return &argon2Hash{id: true, time: h.argonTime, mem: h.argonMem, threads: h.argonP, salt: []byte(randomSaltString()), key: key}
}

// acquire takes a hashing slot, or gives up with ctx's error. An already-cancelled
// context never gets a slot, even when one is free, so cancellation is deterministic.
func (h *passwordHasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		h.hashes.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *passwordHasher) release() { <-h.sem }

// Hash returns password hashed with the configured algorithm and a fresh random salt,
// in Django's encoding. It waits for a hashing slot. Errors come from ctx, or from
// crypto/pbkdf2 when Go runs in FIPS 140-only mode and refuses the parameters.
func (h *passwordHasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode(password, randomSaltString())
}

// encode hashes password with salt as Django's configured hasher would.
func (h *passwordHasher) encode(password, salt string) (string, error) {
	if h.algorithm == algPBKDF2SHA256 {
		dk, err := pbkdf2.Key(sha256.New, password, []byte(salt), h.iterations, sha256.Size)
		if err != nil {
			return "", fmt.Errorf("pbkdf2: %w", err)
		}
		return fmt.Sprintf("%s$%d$%s$%s", algPBKDF2SHA256, h.iterations, salt, base64.StdEncoding.EncodeToString(dk)), nil
	}
	// Django hashes its alphanumeric salt string's bytes, not random bytes, and argon2-cffi
	// encodes them in unpadded standard base64: reproduce both so Django can read ours.
	key := argon2.IDKey([]byte(password), []byte(salt), h.argonTime, h.argonMem, h.argonP, argon2KeyLen)
	return fmt.Sprintf("%s$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", algArgon2, argon2.Version,
		h.argonMem, h.argonTime, h.argonP,
		base64.RawStdEncoding.EncodeToString([]byte(salt)), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Check reports whether password matches the Django-encoded hash, and whether the
// caller should store a fresh Hash of it because the stored one is of another algorithm
// or weaker than configured (rehash is only ever true together with ok).
//
// Empty, unusable ("!…"), malformed, unknown or out-of-bounds hashes never match and
// never panic; like Django's check_password they still cost one configured hash, so the
// response time does not reveal that the account has no usable password. err is only
// ever ctx's, when it ends while waiting for a hashing slot.
func (h *passwordHasher) Check(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	stored := parsePasswordHash(encoded)
	if stored == nil {
		stored = h.dummy
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	ok = stored.verify(password)
	if stored == h.dummy {
		return false, false, nil
	}
	upToDate := stored.upToDate(h)
	if !ok && !upToDate {
		// Django's harden_runtime: a wrong password against a weaker hash of the same
		// algorithm costs what the configured strength costs, so iteration counts do
		// not tell which accounts predate an upgrade.
		if hd, isHardener := stored.(hardener); isHardener {
			hd.harden(h, password)
		}
	}
	return ok, ok && !upToDate, nil
}

// DummyCheck spends about the time Check spends on a hash of the configured kind,
// including the wait for a hashing slot. Login calls it for unknown usernames so that
// timing does not reveal which users exist. It gives up silently when ctx ends.
func (h *passwordHasher) DummyCheck(ctx context.Context, password string) {
	if h.acquire(ctx) != nil {
		return
	}
	defer h.release()
	h.dummy.verify(password)
}

// storedHash is a parsed Django-encoded hash.
type storedHash interface {
	// verify reports whether password produces this hash, comparing in constant time.
	verify(password string) bool
	// upToDate reports whether h's configuration would write a hash no stronger than
	// this one; false means a successful login should re-hash.
	upToDate(h *passwordHasher) bool
}

// hardener is implemented by stored hashes whose weaker parameters can be topped up
// with extra work after a failed check (Django's harden_runtime).
type hardener interface {
	harden(h *passwordHasher, password string)
}

// parsePasswordHash recognises Django's encodings the way identify_hasher does (by the
// text before the first "$") and validates every field. It returns nil for anything it
// cannot verify; hashes Django would reject are never accepted here.
func parsePasswordHash(encoded string) storedHash {
	if encoded == "" || encoded[0] == '!' { // "!" is Django's UNUSABLE_PASSWORD_PREFIX
		return nil
	}
	alg, rest, found := strings.Cut(encoded, "$")
	if !found {
		return nil
	}
	switch alg {
	case algPBKDF2SHA256, algPBKDF2SHA1:
		return parsePBKDF2Hash(alg == algPBKDF2SHA1, rest)
	case algArgon2:
		return parseArgon2Hash(rest)
	case algBcrypt, algBcryptSHA256:
		return parseBcryptHash(alg == algBcryptSHA256, rest)
	case algScrypt:
		return parseScryptHash(rest)
	}
	return nil
}

// parseDjangoInt parses a positive decimal as Django's "%d" writes it. Django verifies
// by re-encoding and comparing whole strings, so "+5", "05" or " 5" never verify there
// and are refused here rather than accepted.
func parseDjangoInt(s string, limit int) (int, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > limit {
		return 0, false
	}
	return n, true
}

// saltStrongEnough is Django's must_update_salt inverted: a salt of n alphanumeric
// characters carries n·log2(62) bits, and Django re-hashes below 128 bits.
func saltStrongEnough(n int) bool { return n >= saltChars }

// constantTimeEqual compares two strings without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// pbkdf2Hash is "pbkdf2_sha256$<iterations>$<salt>$<base64 key>" (or pbkdf2_sha1).
type pbkdf2Hash struct {
	sha1       bool
	iterations int
	salt       string
	b64        string
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

func (p *pbkdf2Hash) upToDate(h *passwordHasher) bool {
	return !p.sha1 && h.algorithm == algPBKDF2SHA256 && p.iterations >= h.iterations &&
		saltStrongEnough(utf8.RuneCountInString(p.salt))
}

func (p *pbkdf2Hash) harden(h *passwordHasher, password string) {
	if p.sha1 || h.algorithm != algPBKDF2SHA256 || p.iterations >= h.iterations {
		return // only the configured algorithm is topped up, as in Django
	}
	p.derive(password, h.iterations-p.iterations)
}

// argon2Hash is "argon2$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>",
// argon2-cffi's encoding (unpadded standard base64) behind Django's "argon2" prefix.
type argon2Hash struct {
	id        bool // argon2id; false means argon2i
	time, mem uint32
	threads   uint8
	salt, key []byte
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
func (a *argon2Hash) upToDate(h *passwordHasher) bool {
	return h.algorithm == algArgon2 && a.id && a.threads == h.argonP &&
		a.time >= h.argonTime && a.mem >= h.argonMem && saltStrongEnough(len(a.salt))
}

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

func (b *bcryptHash) upToDate(*passwordHasher) bool { return false } // never written

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

func (s *scryptHash) upToDate(*passwordHasher) bool { return false } // never written

// randomSaltString returns a Django-style salt: 22 characters drawn uniformly from
// [a-zA-Z0-9] with crypto/rand (about 131 bits).
func randomSaltString() string {
	var out [saltChars]byte
	var buf [2 * saltChars]byte
	n := 0
	for n < saltChars {
		rand.Read(buf[:]) // never fails since Go 1.24
		for _, c := range buf {
			// 248 = 4·62: rejecting bytes above it keeps every character equally likely.
			if c < 248 && n < saltChars {
				out[n] = saltAlphabet[c%62]
				n++
			}
		}
	}
	return string(out[:])
}
