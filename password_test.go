package restauth

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/hashers"
	"github.com/restauth/restauth/internal/pwvalidate"
)

// The algorithms are tested in internal/hashers and internal/pwvalidate; these tests pin
// how PasswordConfig's documented defaults and switches reach them.

func TestPasswordHasherConfig(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		// The hasher reads exactly these (internal/hashers tests that New copies them).
		cfg, err := withPasswordDefaults(PasswordConfig{})
		require.NoError(t, err)
		assert.Equal(t, hashers.Config{
			Algorithm:           "argon2",
			Argon2Time:          2,
			Argon2MemoryKiB:     19456,
			Argon2Threads:       1,
			PBKDF2Iterations:    600000,
			MaxConcurrentHashes: runtime.NumCPU(),
			MaxQueuedHashes:     4 * runtime.NumCPU(),
			MaxHashWait:         2 * time.Second,
		}, cfg.hasherConfig())
		assert.Equal(t, 8, cfg.MinLength)
		h, err := newPasswordHasher(PasswordConfig{}, nil)
		require.NoError(t, err)
		assert.NotNil(t, h)
	})
	t.Run("hash queue", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name       string
			in         PasswordConfig
			wantQueued int
			wantWait   time.Duration
		}{
			{"defaults follow the slots", PasswordConfig{MaxConcurrentHashes: 3}, 12, 2 * time.Second},
			{"explicit", PasswordConfig{MaxQueuedHashes: 5, MaxHashWait: time.Second}, 5, time.Second},
			{"-1 is no bound", PasswordConfig{MaxQueuedHashes: -1, MaxHashWait: -1}, -1, -1},
		} {
			cfg, err := withPasswordDefaults(tt.in)
			require.NoError(t, err, tt.name)
			hc := cfg.hasherConfig()
			assert.Equal(t, tt.wantQueued, hc.MaxQueuedHashes, tt.name)
			assert.Equal(t, tt.wantWait, hc.MaxHashWait, tt.name)
		}
	})
	t.Run("cheap params allowed", func(t *testing.T) {
		t.Parallel()
		for _, cfg := range []PasswordConfig{
			{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
			{Argon2Time: 1, Argon2MemoryKiB: 8, Argon2Threads: 1, MaxConcurrentHashes: 1},
		} {
			_, err := newPasswordHasher(cfg, nil)
			assert.NoError(t, err)
		}
	})
	for _, tt := range []struct {
		name    string
		cfg     PasswordConfig
		wantErr string
	}{
		{"unknown algorithm", PasswordConfig{Algorithm: "md5"}, `Algorithm "md5" is not supported`},
		{"bcrypt is verify-only", PasswordConfig{Algorithm: "bcrypt_sha256"}, "not supported"},
		{"argon2 too much memory", PasswordConfig{Argon2MemoryKiB: 1<<20 + 1}, "Argon2MemoryKiB"},
		{"argon2 memory below 8p", PasswordConfig{Argon2MemoryKiB: 15, Argon2Threads: 2}, "8 × Argon2Threads"},
		{"argon2 too many passes", PasswordConfig{Argon2Time: 101}, "Argon2Time"},
		{"negative iterations", PasswordConfig{PBKDF2Iterations: -1}, "PBKDF2Iterations"},
		{"too many iterations", PasswordConfig{PBKDF2Iterations: 20_000_001}, "PBKDF2Iterations"},
		{"negative concurrency", PasswordConfig{MaxConcurrentHashes: -1}, "MaxConcurrentHashes"},
		{"negative min length", PasswordConfig{MinLength: -1}, "MinLength"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := newPasswordHasher(tt.cfg, nil)
			require.Error(t, err)
			assert.Nil(t, h)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestPasswordValidatorConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  PasswordConfig
		want pwvalidate.Validator
	}{
		{"defaults", PasswordConfig{}, pwvalidate.Validator{MinLength: 8, Similarity: true, Common: true, Numeric: true}},
		{"min length 12", PasswordConfig{MinLength: 12}, pwvalidate.Validator{MinLength: 12, Similarity: true, Common: true, Numeric: true}},
		{"min length 1", PasswordConfig{MinLength: 1}, pwvalidate.Validator{MinLength: 1, Similarity: true, Common: true, Numeric: true}},
		{"similarity disabled", PasswordConfig{DisableSimilarityValidator: true}, pwvalidate.Validator{MinLength: 8, Common: true, Numeric: true}},
		{"common disabled", PasswordConfig{DisableCommonValidator: true}, pwvalidate.Validator{MinLength: 8, Similarity: true, Numeric: true}},
		{"numeric disabled", PasswordConfig{DisableNumericValidator: true}, pwvalidate.Validator{MinLength: 8, Similarity: true, Common: true}},
		{"all disabled but length", PasswordConfig{DisableSimilarityValidator: true, DisableCommonValidator: true, DisableNumericValidator: true}, pwvalidate.Validator{MinLength: 8}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, &tt.want, newPasswordValidator(tt.cfg))
		})
	}
	// One message end to end: the Service's validator speaks Django's words.
	assert.Equal(t, []string{"This password is too short. It must contain at least 12 characters."},
		newPasswordValidator(PasswordConfig{MinLength: 12}).Validate("Zq8#vLm2$kP", passwordAttributes{}))
}
