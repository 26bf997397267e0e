package restauth_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// withLimits turns on only the rules given, with the test's fake clock.
func withLimits(set func(*restauth.RateLimits)) func(*restauth.Config) {
	return func(c *restauth.Config) {
		c.RateLimits = noRateLimits()
		set(&c.RateLimits)
	}
}

func fromIP(ip string) reqOpt { return func(r *http.Request) { r.RemoteAddr = ip + ":5555" } }

func assertThrottled(t *testing.T, res response) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, res.Code, res.Body.String())
	retry, err := strconv.Atoi(res.Header().Get("Retry-After"))
	require.NoError(t, err)
	assert.Positive(t, retry)
	unit := " seconds."
	if retry == 1 {
		unit = " second." // DRF's ngettext
	}
	assert.Equal(t, map[string]any{"detail": "Request was throttled. Expected available in " + strconv.Itoa(retry) + unit}, res.JSON(t))
}

func TestFailedLoginsPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerAccount = restauth.RateRule{Limit: 5, Window: 5 * time.Minute}
	}))
	e.register("target", goodPassword, "")
	wrong := map[string]any{"username": "target", "password": "guess"}
	for range 5 {
		res := e.do(http.MethodPost, "/api/auth/login/", wrong, fromIP("198.51.100.1"))
		require.Equal(t, http.StatusBadRequest, res.Code)
	}
	// The sixth attempt from that address is refused before the password is checked, even
	// the right one, and whatever the letter case of the name.
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "TARGET", "password": goodPassword}, fromIP("198.51.100.1")))
	// An unknown account answers the same way, so the 429 tells nothing about existence.
	for range 5 {
		e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "ghost", "password": "x"})
	}
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "ghost", "password": "x"}))

	e.clock.Advance(5*time.Minute + time.Second)
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "target", "password": goodPassword}, fromIP("198.51.100.1"))
	require.Equal(t, http.StatusOK, res.Code, "the window has passed")
	// A success clears the account's failures.
	for range 4 {
		require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", wrong, fromIP("198.51.100.1")).Code)
	}
	assert.Equal(t, http.StatusOK, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "target", "password": goodPassword}, fromIP("198.51.100.1")).Code)
}

func TestFailedLoginsPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerIP = restauth.RateRule{Limit: 10, Window: time.Minute}
	}))
	for i := range 10 {
		res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "user" + strconv.Itoa(i), "password": "x"}, fromIP("192.0.2.7"))
		require.Equal(t, http.StatusBadRequest, res.Code)
	}
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "another", "password": "x"}, fromIP("192.0.2.7")))
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "another", "password": "x"}, fromIP("192.0.2.8")).Code,
		"another address has its own count")
	e.clock.Advance(61 * time.Second)
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "another", "password": "x"}, fromIP("192.0.2.7")).Code)
}

func TestBasicAuthFailuresAreThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerAccount = restauth.RateRule{Limit: 3, Window: time.Minute}
	}))
	e.register("basic", goodPassword, "")
	for range 10 {
		require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("basic", goodPassword)).Code, "successes are not counted")
	}
	for range 3 {
		require.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("basic", "wrong")).Code)
	}
	assertThrottled(t, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("basic", "wrong")))
	// While throttled, the right password is answered like a wrong one: no oracle.
	assertThrottled(t, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("basic", goodPassword)))
	e.clock.Advance(time.Minute)
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("basic", goodPassword)).Code)
}

func TestOtherRateLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules func(*restauth.RateLimits)
		limit int
		send  func(e *testEnv, key string) response
	}{
		{"signup per IP", func(l *restauth.RateLimits) { l.SignupPerIP = restauth.RateRule{Limit: 3, Window: time.Minute} }, 3,
			func(e *testEnv, i string) response {
				return e.do(http.MethodPost, "/api/auth/registration/", registration("signup"+i, "-", goodPassword, goodPassword))
			}},
		{"reset per address", func(l *restauth.RateLimits) { l.ResetPerEmail = restauth.RateRule{Limit: 5, Window: 5 * time.Minute} }, 5,
			func(e *testEnv, i string) response {
				return e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "Victim@example.com"}, fromIP("198.51.100."+i))
			}},
		{"reset per IP", func(l *restauth.RateLimits) { l.ResetPerIP = restauth.RateRule{Limit: 4, Window: time.Minute} }, 4,
			func(e *testEnv, i string) response {
				return e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "a" + i + "@example.com"})
			}},
		{"resend per address", func(l *restauth.RateLimits) { l.ResendPerEmail = restauth.RateRule{Limit: 1, Window: 3 * time.Minute} }, 1,
			func(e *testEnv, i string) response {
				return e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "victim@example.com"})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withLimits(tc.rules))
			for i := range tc.limit {
				res := tc.send(e, strconv.Itoa(i))
				require.Less(t, res.Code, 300, res.Body.String())
			}
			assertThrottled(t, tc.send(e, "x"))
		})
	}
	t.Run("verification links per address for a logged-in user", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
			l.ResendPerEmail = restauth.RateRule{Limit: 1, Window: 3 * time.Minute}
		}))
		u, key := e.register("bomber", goodPassword, "victim@example.com")
		path := "/api/auth/emails/" + strconv.FormatInt(e.addresses(t, u.ID)[0].ID, 10) + "/verify/"
		sent := len(e.mailer.Messages())
		require.Equal(t, http.StatusOK, e.do(http.MethodPost, path, nil, withToken(key)).Code)
		assertThrottled(t, e.do(http.MethodPost, path, nil, withToken(key)))
		assert.Len(t, e.mailer.Messages(), sent+1, "one more link, not two")
	})
	t.Run("password change per user", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
			l.PasswordChangePerUser = restauth.RateRule{Limit: 2, Window: 5 * time.Minute}
		}))
		_, key := e.register("changer", goodPassword, "")
		body := map[string]any{"old_password": "wrong", "new_password1": "x-long-passphrase", "new_password2": "x-long-passphrase"}
		for range 2 {
			require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/password/change/", body, withToken(key)).Code)
		}
		assertThrottled(t, e.do(http.MethodPost, "/api/auth/password/change/", body, withToken(key)))
	})
}

func TestDefaultRateLimitsAreOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.RateLimits = restauth.RateLimits{} })
	for range 5 {
		e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "someone", "password": "x"})
	}
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "someone", "password": "x"}))
}

// Users behind one address (a NAT, an office proxy) who log in successfully do not use up
// the address's failed-login limit, for the login route or for Basic.
func TestSuccessfulLoginsDoNotCountPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerIP = restauth.RateRule{Limit: 3, Window: time.Minute}
	}))
	for i := range 5 {
		e.register("office"+strconv.Itoa(i), goodPassword, "")
	}
	for round := range 3 {
		for i := range 5 {
			res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "office" + strconv.Itoa(i), "password": goodPassword}, fromIP("192.0.2.9"))
			require.Equal(t, http.StatusOK, res.Code, "round %d user %d", round, i)
		}
	}
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("office0", goodPassword), fromIP("192.0.2.9")).Code)

	// Failures still count, from the login route and from Basic alike.
	require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "office1", "password": "wrong"}, fromIP("192.0.2.9")).Code)
	require.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil, withBasic("office2", "wrong"), fromIP("192.0.2.9")).Code)
	require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "office3", "password": "wrong"}, fromIP("192.0.2.9")).Code)
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "office4", "password": goodPassword}, fromIP("192.0.2.9")))
}

// A burst of parallel guesses cannot overshoot a limit: attempts are counted before the
// password is checked, and only right passwords are given back.
func TestParallelGuessesDoNotOvershoot(t *testing.T) {
	t.Parallel()
	const burst = 30
	tests := []struct {
		name  string
		limit int
		rules func(*restauth.RateLimits)
		send  func(e *testEnv, i int) int
		fail  int
	}{
		{"Basic against one account", 5, func(l *restauth.RateLimits) {
			l.LoginFailedPerAccount = restauth.RateRule{Limit: 5, Window: 5 * time.Minute}
		}, func(e *testEnv, i int) int {
			return serve(e, newRequest(http.MethodGet, "/api/user/me/", nil, withBasic("target", "guess-"+strconv.Itoa(i))))
		}, http.StatusUnauthorized},
		{"login from one address", 10, func(l *restauth.RateLimits) {
			l.LoginFailedPerIP = restauth.RateRule{Limit: 10, Window: time.Minute}
		}, func(e *testEnv, i int) int {
			return serve(e, newRequest(http.MethodPost, "/api/auth/login/", map[string]any{"username": "user" + strconv.Itoa(i), "password": "guess"}))
		}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Hashing that takes a while, so the burst's checks overlap. The hash queue is
			// unbounded here: this test counts the limiter's decisions, and on a loaded
			// machine (-race) a bounded queue would refuse some guesses with 503 first.
			slow := func(cfg *restauth.Config) {
				cfg.Passwords = restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 20000,
					MaxQueuedHashes: -1, MaxHashWait: -1}
			}
			e := newEnv(t, withLimits(tc.rules), slow)
			e.register("target", goodPassword, "")
			statuses := make([]int, burst)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Go(func() { statuses[i] = tc.send(e, i) })
			}
			wg.Wait()
			counts := map[int]int{}
			for _, s := range statuses {
				counts[s]++
			}
			assert.Equal(t, map[int]int{tc.fail: tc.limit, http.StatusTooManyRequests: burst - tc.limit}, counts)
		})
	}
}

func serve(e *testEnv, req *http.Request) int {
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Code
}
