package restauth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/restauth/restauth/internal/hashers"
	"github.com/restauth/restauth/internal/pwvalidate"
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
	// MaxQueuedHashes bounds how many callers may queue for a hashing slot when all
	// MaxConcurrentHashes are busy; the next one is refused at once with ErrBusy (the 291
	// dialect answers 503 with Retry-After), for unknown users exactly as for known ones.
	// Default 4 × MaxConcurrentHashes: a queued caller then waits at most about four hash
	// times (≈ 80 ms with the default argon2id, ≈ 0.5 s with PBKDF2 at 600000), which
	// absorbs bursts of up to five logins per slot while keeping the cores busy; a longer
	// queue adds only latency, since throughput is fixed by the slots. -1 (any negative)
	// lets every caller queue, as before the bound existed.
	MaxQueuedHashes int
	// MaxHashWait bounds how long a queued caller waits for a hashing slot before it gets
	// ErrBusy. Default 2 s: far above the queue's normal wait, it only matters when hashes
	// themselves slow down (starved cores, stored hashes with heavier parameters). -1 (any
	// negative) waits until the request's context ends.
	MaxHashWait time.Duration
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

// The Service's names for the password algorithms, which live in internal packages
// because they know nothing of accounts.
type (
	passwordValidator  = pwvalidate.Validator
	passwordAttributes = pwvalidate.Attributes
)

// The defaults documented on PasswordConfig.
const (
	defaultArgon2Time       = 2
	defaultArgon2MemoryKiB  = 19456
	defaultArgon2Threads    = 1
	defaultPBKDF2Iterations = 600000
	defaultMinLength        = 8
	defaultQueuedPerSlot    = 4
	defaultMaxHashWait      = 2 * time.Second
)

// withPasswordDefaults fills zero fields with their defaults and rejects values that
// cannot work, so the Service fails at start-up rather than at the first login.
func withPasswordDefaults(cfg PasswordConfig) (PasswordConfig, error) {
	if cfg.Algorithm == "" {
		cfg.Algorithm = hashers.Argon2
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
	if cfg.MaxQueuedHashes == 0 {
		cfg.MaxQueuedHashes = defaultQueuedPerSlot * max(cfg.MaxConcurrentHashes, 1)
	}
	if cfg.MaxHashWait == 0 {
		cfg.MaxHashWait = defaultMaxHashWait
	}
	if cfg.MinLength == 0 {
		cfg.MinLength = defaultMinLength
	}
	if err := cfg.hasherConfig().Validate(); err != nil {
		return cfg, err
	}
	if cfg.MinLength < 0 {
		return cfg, fmt.Errorf("password MinLength %d is negative", cfg.MinLength)
	}
	return cfg, nil
}

// hasherConfig is the part of cfg the hasher reads.
func (cfg PasswordConfig) hasherConfig() hashers.Config {
	return hashers.Config{
		Algorithm:           cfg.Algorithm,
		Argon2Time:          cfg.Argon2Time,
		Argon2MemoryKiB:     cfg.Argon2MemoryKiB,
		Argon2Threads:       cfg.Argon2Threads,
		PBKDF2Iterations:    cfg.PBKDF2Iterations,
		MaxConcurrentHashes: cfg.MaxConcurrentHashes,
		MaxQueuedHashes:     cfg.MaxQueuedHashes,
		MaxHashWait:         cfg.MaxHashWait, // negative: no bound, as hashers reads it
	}
}

// passwordHasher is the Service's hasher (internal/hashers, which knows nothing of
// accounts): its methods are hashers' with hashers.ErrBusy answered as ErrBusy, so
// operations and dialects see only restauth's sentinels.
type passwordHasher struct {
	*hashers.Hasher
}

// newPasswordHasher applies cfg's defaults and validates it. It computes no hash, so
// building a Service stays cheap. observeWait (nil for none) is told every wait for a
// hashing slot (hashers.Config.ObserveWait).
func newPasswordHasher(cfg PasswordConfig, observeWait func(time.Duration, error)) (*passwordHasher, error) {
	cfg, err := withPasswordDefaults(cfg)
	if err != nil {
		return nil, err
	}
	hc := cfg.hasherConfig()
	hc.ObserveWait = observeWait
	h, err := hashers.New(hc)
	if err != nil {
		return nil, err
	}
	return &passwordHasher{h}, nil
}

// busy maps the hasher's refusal to ErrBusy; other errors pass unchanged.
func busy(err error) error {
	if errors.Is(err, hashers.ErrBusy) {
		return ErrBusy
	}
	return err
}

// Hash is hashers' Hash (see busy).
func (h *passwordHasher) Hash(ctx context.Context, password string) (string, error) {
	encoded, err := h.Hasher.Hash(ctx, password)
	return encoded, busy(err)
}

// Check is hashers' Check (see busy).
func (h *passwordHasher) Check(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	ok, rehash, err = h.Hasher.Check(ctx, password, encoded)
	return ok, rehash, busy(err)
}

// DummyCheck is hashers' DummyCheck (see busy).
func (h *passwordHasher) DummyCheck(ctx context.Context, password string) error {
	return busy(h.Hasher.DummyCheck(ctx, password))
}

// HashQueueDepth reports how many password checks and hashes (logins, registrations,
// password changes) are waiting for a hashing slot right now, for metrics and health
// checks. A depth that stays at PasswordConfig.MaxQueuedHashes means callers are being
// refused with ErrBusy: add cores or lower the hashing cost.
func (s *Service) HashQueueDepth() int { return s.hasher.QueueDepth() }

// newPasswordValidator builds Django's default validator chain from cfg. MinLength 0
// means the default 8; newPasswordHasher, which the Service calls on the same config,
// rejects negatives.
func newPasswordValidator(cfg PasswordConfig) *passwordValidator {
	minLength := cfg.MinLength
	if minLength <= 0 {
		minLength = defaultMinLength
	}
	return &passwordValidator{
		MinLength:  minLength,
		Similarity: !cfg.DisableSimilarityValidator,
		Common:     !cfg.DisableCommonValidator,
		Numeric:    !cfg.DisableNumericValidator,
	}
}

// addPasswordProblems adds the validators' refusals of password (Django's messages, with
// their codes) to errs under field, and reports whether there were any.
func (s *Service) addPasswordProblems(errs *ValidationError, field, password string, attrs passwordAttributes) bool {
	problems := s.validator.Check(password, attrs)
	for _, p := range problems {
		errs.addCoded(field, p.Code, p.Message)
	}
	return len(problems) > 0
}

// passwordProblems is addPasswordProblems into a new error, nil when the password passes.
func (s *Service) passwordProblems(field, password string, attrs passwordAttributes) *ValidationError {
	var errs ValidationError
	if !s.addPasswordProblems(&errs, field, password, attrs) {
		return nil
	}
	return &errs
}
