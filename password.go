package restauth

import (
	"fmt"
	"runtime"

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
	passwordHasher     = hashers.Hasher
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
	}
}

// newPasswordHasher applies cfg's defaults and validates it. It computes no hash, so
// building a Service stays cheap.
func newPasswordHasher(cfg PasswordConfig) (*passwordHasher, error) {
	cfg, err := withPasswordDefaults(cfg)
	if err != nil {
		return nil, err
	}
	return hashers.New(cfg.hasherConfig())
}

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
