package otp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecoveryCodeFormat(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		c := NewRecoveryCode()
		require.Len(t, c, RecoveryCodeChars+1)
		assert.Equal(t, byte('-'), c[RecoveryCodeChars/2])
		for _, r := range strings.ReplaceAll(c, "-", "") {
			assert.Contains(t, RecoveryCodeAlphabet, string(r))
		}
		assert.False(t, seen[c], "codes repeat: %s", c)
		seen[c] = true
	}
	assert.Equal(t, "abcdefghij", NormalizeRecoveryCode(" ABCDE-fghij "))
}
