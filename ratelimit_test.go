package restauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rlNow is the limiter tests' clock: they never move it (the algorithm's time-dependent
// tests, with a settable clock, are in internal/memlimit).
func rlNow() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }

func TestRateLimitsDefaults(t *testing.T) {
	t.Parallel()
	d := DefaultRateLimits()
	tests := []struct {
		name   string
		rule   RateRule
		limit  int
		window time.Duration
	}{
		{RuleLoginFailedAccount, d.LoginFailedPerAccount, 5, 5 * time.Minute},
		{RuleLoginFailedIP, d.LoginFailedPerIP, 10, time.Minute},
		{RuleResetIP, d.ResetPerIP, 20, time.Minute},
		{RuleResetEmail, d.ResetPerEmail, 5, 5 * time.Minute},
		{RuleSignupIP, d.SignupPerIP, 20, time.Minute},
		{RulePasswordChangeUser, d.PasswordChangePerUser, 10, 5 * time.Minute},
		{RuleResendEmail, d.ResendPerEmail, 1, 3 * time.Minute},
		{RuleMFAFailedUser, d.MFAFailedPerUser, 20, 24 * time.Hour},
		{RuleBodyIP, d.BodyPerIP, 60, time.Minute},
		{RuleLoginFailedAccountDay, d.LoginFailedPerAccountDaily, 100, 24 * time.Hour},
		{RuleMFAFailedUserIP, d.MFAFailedPerUserIP, 5, 5 * time.Minute},
		{RuleLoginCodeIP, d.LoginCodePerIP, 20, time.Minute},
		{RuleLoginCodeEmail, d.LoginCodePerEmail, 3, time.Minute},
		{RuleReauthenticateUser, d.ReauthenticatePerUser, 10, time.Minute},
		{RuleMailRecipient, d.MailPerRecipient, 5, time.Hour},
		{RuleWebAuthnFailedIP, d.WebAuthnFailedPerIP, 10, time.Minute},
		{RuleProviderTokenFailedIP, d.ProviderTokenFailedPerIP, 10, time.Minute},
		{RulePrimaryEmailUser, d.PrimaryEmailPerUser, 10, time.Hour},
	}
	for _, tt := range tests {
		assert.Equal(t, RateRule{Name: tt.name, Limit: tt.limit, Window: tt.window}, tt.rule, tt.name)
		assert.True(t, tt.rule.Enabled(), tt.name)
	}
	require.NoError(t, d.validate())
	assert.Len(t, d.rules(), len(tests), "every rule is listed")
	assert.Equal(t, "signup_ip: 20 per 1m0s", d.SignupPerIP.String())
}

func TestRateLimitsWithDefaultsAndValidate(t *testing.T) {
	t.Parallel()
	custom := RateLimits{
		SignupPerIP:    RateRule{Limit: 3, Window: time.Hour},
		ResendPerEmail: RateRule{Limit: -1},
		ResetPerIP:     RateRule{Name: "my_reset", Limit: 1, Window: time.Second},
	}.withDefaults()
	def := DefaultRateLimits()
	assert.Equal(t, def.LoginFailedPerAccount, custom.LoginFailedPerAccount, "zero rule takes its default")
	assert.Equal(t, RateRule{Name: RuleSignupIP, Limit: 3, Window: time.Hour}, custom.SignupPerIP, "nameless rule takes its default name")
	assert.Equal(t, RateRule{Name: RuleResendEmail, Limit: -1}, custom.ResendPerEmail)
	assert.False(t, custom.ResendPerEmail.Enabled())
	assert.Equal(t, "confirm_email_email: disabled", custom.ResendPerEmail.String())
	assert.Equal(t, "my_reset", custom.ResetPerIP.Name)
	require.NoError(t, custom.validate())

	dup := DefaultRateLimits()
	dup.ResetPerEmail.Name = dup.ResetPerIP.Name
	require.ErrorIs(t, dup.validate(), ErrConfig)
	for _, bad := range []string{"a:b", "with space", "ü"} {
		rl := DefaultRateLimits()
		rl.SignupPerIP.Name = bad
		require.ErrorIs(t, rl.validate(), ErrConfig, bad)
	}
}

// rlFailingLimiter fails every call.
type rlFailingLimiter struct{}

var errRLUnavailable = errors.New("limiter unavailable")

func (rlFailingLimiter) Allow(context.Context, string, RateRule) (bool, time.Duration, error) {
	return false, 0, errRLUnavailable
}
func (rlFailingLimiter) Reset(context.Context, string, RateRule) error { return errRLUnavailable }

func TestRateAllowRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewMemoryLimiter(rlNow)
	rule := RateRule{Name: "r", Limit: 1, Window: 90 * time.Second}
	require.NoError(t, allowRate(ctx, l, rule, "k"))
	err := allowRate(ctx, l, rule, "k")
	var terr *ThrottledError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, 90, terr.RetryAfterSeconds)

	require.NoError(t, allowRate(ctx, nil, rule, "k"), "no limiter, no limit")
	require.NoError(t, allowRate(ctx, rlFailingLimiter{}, RateRule{Name: "off"}, "k"), "a disabled rule never asks")
	err = allowRate(ctx, rlFailingLimiter{}, rule, "k")
	require.ErrorIs(t, err, errRLUnavailable)
	assert.NotErrorAs(t, err, &terr)
}

// Refund gives back the newest event: a refunded attempt leaves room for one more.
func TestMemoryLimiterRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewMemoryLimiter(rlNow)
	rf, ok := l.(LimitRefunder)
	require.True(t, ok, "the memory limiter is a LimitRefunder")
	rule := RateRule{Name: "r", Limit: 2, Window: time.Minute}

	require.NoError(t, rf.Refund(ctx, "k", rule), "refunding nothing is no error")
	for range 2 {
		allowed, _, err := l.Allow(ctx, "k", rule)
		require.NoError(t, err)
		require.True(t, allowed)
	}
	allowed, _, _ := l.Allow(ctx, "k", rule)
	require.False(t, allowed)
	require.NoError(t, rf.Refund(ctx, "k", rule))
	allowed, _, _ = l.Allow(ctx, "k", rule)
	assert.True(t, allowed, "the refunded event left room")
	allowed, _, _ = l.Allow(ctx, "k", rule)
	assert.False(t, allowed)
	require.NoError(t, rf.Refund(ctx, "other", rule))
	allowed, _, _ = l.Allow(ctx, "k", rule)
	assert.False(t, allowed, "keys are independent")
}

// The memory limiter's algorithm is tested in internal/memlimit; these check the adapter:
// it never fails, a disabled rule records nothing, and WithMemoryMaxKeys reaches it.
func TestMemoryLimiterAdapter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const maxKeys = 256
	l := NewMemoryLimiter(rlNow, WithMemoryMaxKeys(maxKeys))
	rule := RateRule{Name: "spray", Limit: 1, Window: time.Hour}
	for i := range 2000 {
		ok, retry, err := l.Allow(ctx, "ip:"+strconv.Itoa(i), rule)
		require.NoError(t, err)
		require.True(t, ok)
		require.Zero(t, retry)
	}
	assert.Equal(t, maxKeys, l.(*memoryLimiter).l.Len(), "WithMemoryMaxKeys bounds the entries")
	ok, retry, err := l.Allow(ctx, "ip:1999", rule)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, time.Hour, retry)
	require.NoError(t, l.Reset(ctx, "ip:1999", rule))
	ok, _, err = l.Allow(ctx, "ip:1999", rule)
	require.NoError(t, err)
	assert.True(t, ok, "reset forgets the key's events")

	d := NewMemoryLimiter(nil)
	for range 100 {
		ok, retry, err := d.Allow(ctx, "k", RateRule{Name: "off", Limit: -1})
		require.NoError(t, err)
		require.True(t, ok)
		require.Zero(t, retry)
	}
	assert.Zero(t, d.(*memoryLimiter).l.Len(), "a disabled rule records nothing")
	assert.Equal(t, DefaultMemoryLimiterMaxKeys, d.(*memoryLimiter).maxKeys)
}

// clientIP reads every X-Forwarded-For line of the request, and only behind a trusted
// proxy; the rules of the walk are tested in internal/clientip.
func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.254/32")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies ignores XFF", "198.51.100.7:5123", []string{"203.0.113.9"}, nil, "198.51.100.7"},
		{"chain over several header lines", "10.0.0.2:80", []string{"1.1.1.1, 203.0.113.9", "10.0.0.5", "192.0.2.254"}, proxies, "203.0.113.9"},
		{"IPv6 grouped by /64", "[2001:db8:aa:bb:cc:dd:ee:ff]:443", nil, nil, "2001:db8:aa:bb::/64"},
		{"malformed RemoteAddr", "not-an-ip:80", []string{"203.0.113.9"}, proxies, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/api/auth/login/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, clientIP(r, &Config{TrustedProxies: tt.trusted}))
		})
	}
}
