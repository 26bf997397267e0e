// Package hashers hashes and verifies passwords in Django's encodings, so a user table
// copied from a Django site (InvenTree) keeps working: it verifies pbkdf2_sha256,
// pbkdf2_sha1, argon2 (argon2id and argon2i), bcrypt_sha256, bcrypt and scrypt hashes, and
// writes argon2id or pbkdf2_sha256. It knows nothing of accounts; restauth's password
// operations decide when to hash, check or re-hash.
package hashers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by Hash, Check and DummyCheck when no hashing slot could be had:
// every slot was busy and MaxQueuedHashes callers were already waiting, or the caller
// waited MaxHashWait. Nothing was hashed. Under a login storm it turns a queue that
// grows without bound (and waits of many seconds) into a quick refusal.
var ErrBusy = errors.New("hashers: every hashing slot is busy")

// Algorithm names as they appear before the first "$" of Django's encoded hashes. Argon2
// and PBKDF2SHA256 are the two a Hasher writes.
const (
	Argon2          = "argon2"
	PBKDF2SHA256    = "pbkdf2_sha256"
	algPBKDF2SHA1   = "pbkdf2_sha1"
	algBcrypt       = "bcrypt"
	algBcryptSHA256 = "bcrypt_sha256"
	algScrypt       = "scrypt"
)

// Bounds. They apply both to the configuration and to stored hashes being verified: a
// stored hash is data, and one with absurd parameters (a corrupted row, a hostile import)
// must not make a single login allocate gigabytes or spin for hours. Every real Django
// default is far inside them.
const (
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

const (
	// argon2KeyLen is the hash length written; Django's reader accepts any length.
	argon2KeyLen = 32
	// saltChars is the length of Django's salts: ceil(128 bits / log2(62)).
	saltChars = 22
	// saltAlphabet is Django's RANDOM_STRING_CHARS.
	saltAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// Config is a Hasher's complete configuration. It has no defaults: restauth's
// PasswordConfig fills them in and documents each field.
type Config struct {
	// Algorithm is the hasher new passwords are stored with: Argon2 (Django's
	// Argon2PasswordHasher layout, writing argon2id) or PBKDF2SHA256.
	Algorithm string
	// Argon2Time, Argon2MemoryKiB and Argon2Threads are argon2id's t, m (in KiB) and p.
	Argon2Time      uint32
	Argon2MemoryKiB uint32
	Argon2Threads   uint8
	// PBKDF2Iterations is the PBKDF2-HMAC-SHA256 iteration count.
	PBKDF2Iterations int
	// MaxConcurrentHashes bounds how many hashes run at once.
	MaxConcurrentHashes int
	// MaxQueuedHashes bounds how many callers may wait for a slot when all are busy;
	// further callers get ErrBusy at once. 0 lets none wait; negative is no bound.
	MaxQueuedHashes int
	// MaxHashWait bounds how long a caller waits for a slot before it gets ErrBusy;
	// 0 or negative is no bound (only the caller's context ends the wait).
	MaxHashWait time.Duration
	// ObserveWait, when set, is told how long each caller waited for a hashing slot (0
	// when one was free) and, for a caller that got none, why (ErrBusy or its context's
	// error): the source of restauth's hash-wait metric. It must be fast and safe for
	// concurrent use.
	ObserveWait func(wait time.Duration, err error)
}

// Validate rejects a configuration that cannot work, so a Service fails at start-up
// rather than at the first login. The messages name the fields of restauth's
// PasswordConfig, which shares Config's field names.
func (cfg Config) Validate() error {
	switch {
	case cfg.Algorithm != Argon2 && cfg.Algorithm != PBKDF2SHA256:
		return fmt.Errorf("password Algorithm %q is not supported (want %q or %q)",
			cfg.Algorithm, Argon2, PBKDF2SHA256)
	case cfg.Argon2Time > maxArgon2Time:
		return fmt.Errorf("password Argon2Time %d exceeds %d", cfg.Argon2Time, maxArgon2Time)
	case cfg.Argon2MemoryKiB > maxArgon2MemoryKiB:
		return fmt.Errorf("password Argon2MemoryKiB %d exceeds %d (1 GiB)", cfg.Argon2MemoryKiB, maxArgon2MemoryKiB)
	case cfg.Argon2MemoryKiB < 8*uint32(cfg.Argon2Threads):
		return fmt.Errorf("password Argon2MemoryKiB %d is below 8 × Argon2Threads (%d)",
			cfg.Argon2MemoryKiB, 8*uint32(cfg.Argon2Threads))
	case cfg.PBKDF2Iterations < 0 || cfg.PBKDF2Iterations > maxPBKDF2Iterations:
		return fmt.Errorf("password PBKDF2Iterations %d is outside 1..%d", cfg.PBKDF2Iterations, maxPBKDF2Iterations)
	case cfg.MaxConcurrentHashes < 0:
		return fmt.Errorf("password MaxConcurrentHashes %d is negative", cfg.MaxConcurrentHashes)
	// Zero values are the caller's defaults to fill; left at zero, argon2 would panic,
	// PBKDF2 would fail every hash and an unbuffered semaphore would block every caller.
	case cfg.Argon2Time == 0 || cfg.Argon2Threads == 0 || cfg.PBKDF2Iterations == 0 || cfg.MaxConcurrentHashes == 0:
		return fmt.Errorf("password Argon2Time, Argon2Threads, PBKDF2Iterations and MaxConcurrentHashes must be set")
	}
	return nil
}

// Hasher hashes and verifies passwords in Django's encodings. It is safe for concurrent
// use.
type Hasher struct {
	algorithm  string
	argonTime  uint32
	argonMem   uint32
	argonP     uint8
	iterations int
	// sem holds one token per running hash; see Config.MaxConcurrentHashes.
	sem chan struct{}
	// maxQueued and maxWait are Config.MaxQueuedHashes and MaxHashWait; waiting counts
	// the callers blocked on sem (QueueDepth).
	maxQueued int
	maxWait   time.Duration
	waiting   atomic.Int64
	observe   func(time.Duration, error)
	// dummy is a random hash with the configured parameters, matched by no password.
	// Checking against it costs what checking a real user's up-to-date hash costs, which
	// is how DummyCheck and Check on unusable hashes hide whether an account exists.
	dummy storedHash
	// hashes counts hashing slots taken, one per hash computed, so tests can prove that
	// every login path costs the same number of hashes.
	hashes atomic.Int64
}

// New validates cfg and returns its Hasher. It computes no hash, so building a Service
// stays cheap.
func New(cfg Config) (*Hasher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hasher{
		algorithm:  cfg.Algorithm,
		argonTime:  cfg.Argon2Time,
		argonMem:   cfg.Argon2MemoryKiB,
		argonP:     cfg.Argon2Threads,
		iterations: cfg.PBKDF2Iterations,
		sem:        make(chan struct{}, cfg.MaxConcurrentHashes),
		maxQueued:  cfg.MaxQueuedHashes,
		maxWait:    cfg.MaxHashWait,
		observe:    cfg.ObserveWait,
	}
	h.dummy = h.newDummyHash()
	return h, nil
}

// HashCount reports how many hashes h has computed (Hash, Check and DummyCheck each
// count one once they get a hashing slot), so tests can prove equal work without
// timing anything.
func (h *Hasher) HashCount() int64 { return h.hashes.Load() }

// newDummyHash builds the stored form of a configured-kind hash directly from random
// bytes: verifying against it does the full work, yet needs no hashing up front, and
// no password can match a random 256-bit key.
func (h *Hasher) newDummyHash() storedHash {
	key := make([]byte, 32)
	rand.Read(key)
	if h.algorithm == PBKDF2SHA256 {
		return &pbkdf2Hash{iterations: h.iterations, salt: randomSaltString(), b64: base64.StdEncoding.EncodeToString(key)}
	}
	return &argon2Hash{id: true, time: h.argonTime, mem: h.argonMem, threads: h.argonP, salt: []byte(randomSaltString()), key: key}
}

// QueueDepth reports how many callers are waiting for a hashing slot right now, for
// metrics: a depth that stays near MaxQueuedHashes means logins are being refused.
func (h *Hasher) QueueDepth() int { return int(h.waiting.Load()) }

// Acquire takes a hashing slot as Hash does, under the same bounds and errors, and returns
// the function that gives it back (call it exactly once). It lets other work share the
// hashing bound; tests use it to hold slots as long-running hashes would.
func (h *Hasher) Acquire(ctx context.Context) (release func(), err error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	return h.release, nil
}

// acquire takes a hashing slot, or gives up with ctx's error or ErrBusy. An
// already-cancelled context never gets a slot, even when one is free, so cancellation is
// deterministic. A caller that finds every slot busy joins the queue only while fewer
// than maxQueued wait: the queue is what a storm would grow, and a refusal now is better
// than a slot many seconds later, after the client gave up.
func (h *Hasher) acquire(ctx context.Context) error {
	if h.observe == nil {
		return h.wait(ctx)
	}
	start := time.Now()
	err := h.wait(ctx)
	h.observe(time.Since(start), err)
	return err
}

// wait is acquire without the observer.
func (h *Hasher) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		h.hashes.Add(1)
		return nil
	default:
	}
	// Counting before checking keeps the bound exact under concurrent arrivals; a
	// refused caller's brief increment can only refuse others that arrive while the
	// queue is full anyway.
	if n := h.waiting.Add(1); h.maxQueued >= 0 && n > int64(h.maxQueued) {
		h.waiting.Add(-1)
		return ErrBusy
	}
	defer h.waiting.Add(-1)
	var expired <-chan time.Time
	if h.maxWait > 0 {
		t := time.NewTimer(h.maxWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case h.sem <- struct{}{}:
		h.hashes.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-expired:
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns password hashed with the configured algorithm and a fresh random salt,
// in Django's encoding. It waits for a hashing slot. Errors are ctx's, ErrBusy, or from
// crypto/pbkdf2 when Go runs in FIPS 140-only mode and refuses the parameters.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode(password, randomSaltString())
}

// encode hashes password with salt as Django's configured hasher would.
func (h *Hasher) encode(password, salt string) (string, error) {
	if h.algorithm == PBKDF2SHA256 {
		return encodePBKDF2(password, salt, h.iterations)
	}
	return encodeArgon2(password, salt, h.argonTime, h.argonMem, h.argonP), nil
}

// Check reports whether password matches the Django-encoded hash, and whether the
// caller should store a fresh Hash of it because the stored one is of another algorithm
// or weaker than configured (rehash is only ever true together with ok).
//
// Empty, unusable ("!…"), malformed, unknown or out-of-bounds hashes never match and
// never panic; like Django's check_password they still cost one configured hash, so the
// response time does not reveal that the account has no usable password. err is only
// ever ctx's, when it ends while waiting for a hashing slot, or ErrBusy.
func (h *Hasher) Check(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
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
// timing does not reveal which users exist. It fails exactly as Check does when no slot
// can be had (ctx's error or ErrBusy), so a refusal tells nothing about the account either.
func (h *Hasher) DummyCheck(ctx context.Context, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	h.dummy.verify(password)
	return nil
}

// storedHash is a parsed Django-encoded hash.
type storedHash interface {
	// verify reports whether password produces this hash, comparing in constant time.
	verify(password string) bool
	// upToDate reports whether h's configuration would write a hash no stronger than
	// this one; false means a successful login should re-hash.
	upToDate(h *Hasher) bool
}

// hardener is implemented by stored hashes whose weaker parameters can be topped up
// with extra work after a failed check (Django's harden_runtime).
type hardener interface {
	harden(h *Hasher, password string)
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
	case PBKDF2SHA256, algPBKDF2SHA1:
		return parsePBKDF2Hash(alg == algPBKDF2SHA1, rest)
	case Argon2:
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
