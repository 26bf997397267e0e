package otptest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The app agrees with RFC 6238's SHA-1 vectors (their last six digits).
func TestAppRFC6238(t *testing.T) {
	t.Parallel()
	app, err := Scan("otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&algorithm=SHA1&digits=6&period=30")
	require.NoError(t, err)
	assert.Equal(t, "ACME", app.Issuer)
	assert.Equal(t, "alice", app.Account)
	for unix, code := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		assert.Equal(t, code, app.Code(time.Unix(unix, 0)), "T=%d", unix)
	}
}

func TestScanRefuses(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{
		"https://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://hotp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8",
		"otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Other",
		"otpauth://totp/ACME:alice?secret=GEZDGNBV",
		"otpauth://totp/ACME:alice?secret=not-base32!",
	} {
		_, err := Scan(uri)
		assert.Error(t, err, uri)
	}
}
