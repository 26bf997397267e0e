package restauth_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// Regression tests for security review #16, findings 3, 4, 5 and 14 and the account
// lifecycle ("Also").

// #4: wrong passwords from one address refuse that address only; the owner's own address
// still logs in with the right password.
func TestSec16LoginGuessesElsewhereDoNotLockOwnerOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.RateLimits = restauth.DefaultRateLimits() })
	e.register("owner", goodPassword, "")
	for range 5 {
		res := e.do(http.MethodPost, loginPath, map[string]any{"username": "owner", "password": "guess"}, fromIP("198.51.100.66"))
		require.Equal(t, http.StatusBadRequest, res.Code)
	}
	assertThrottled(t, e.do(http.MethodPost, loginPath, map[string]any{"username": "owner", "password": goodPassword}, fromIP("198.51.100.66")))
	res := e.do(http.MethodPost, loginPath, map[string]any{"username": "owner", "password": goodPassword}, fromIP("203.0.113.5"))
	assert.Equal(t, http.StatusOK, res.Code, "the owner's address is not locked out by guesses from elsewhere")
}

// #4: the daily per-account cap refuses even the right password without checking it, and
// a password reset clears it.
func TestSec16LoginDailyCapUncheckedAndClearedByReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerAccount = restauth.RateRule{Limit: 5, Window: 5 * time.Minute}
		l.LoginFailedPerAccountDaily = restauth.RateRule{Limit: 6, Window: 24 * time.Hour}
	}))
	e.register("capped", goodPassword, "capped@example.com")
	for i := range 6 {
		res := e.do(http.MethodPost, loginPath, map[string]any{"username": "capped", "password": "guess"}, fromIP("198.51.100."+strconv.Itoa(i+1)))
		require.Equal(t, http.StatusBadRequest, res.Code)
	}
	hashes := restauth.HashesComputed(e.svc)
	assertThrottled(t, e.do(http.MethodPost, loginPath, map[string]any{"username": "capped", "password": goodPassword}, fromIP("203.0.113.5")))
	assert.Equal(t, hashes, restauth.HashesComputed(e.svc), "over the cap the password is not checked")

	uid, token := e.requestReset(t, "capped@example.com", 2)
	require.Equal(t, http.StatusOK, e.confirmReset(uid, token).Code)
	res := e.do(http.MethodPost, loginPath, map[string]any{"username": "capped", "password": newPassword}, fromIP("203.0.113.5"))
	assert.Equal(t, http.StatusOK, res.Code, "a password reset clears the daily cap")
}

// #4: second-factor codes: per user and address first; the daily cap refuses a right code
// unchecked (it stays usable) and is cleared by a password reset or ResetMFA.
func TestSec16MFALockoutResistance(t *testing.T) {
	t.Parallel()
	limits := func(c *restauth.Config) {
		c.RateLimits = noRateLimits()
		c.RateLimits.MFAFailedPerUser = restauth.RateRule{Limit: 20, Window: 24 * time.Hour}
		c.RateLimits.MFAFailedPerUserIP = restauth.RateRule{Limit: 5, Window: 5 * time.Minute}
	}
	login := func(e *testEnv, code, ip string) response {
		return e.do(http.MethodPost, loginPath, map[string]any{"username": "mfa-owner", "password": goodPassword, "mfa_code": code}, fromIP(ip))
	}
	guess := func(t *testing.T, e *testEnv, n int) {
		for i := range n {
			require.Equal(t, http.StatusBadRequest, login(e, "000000", "198.51.100."+strconv.Itoa(i/5+1)).Code, "guess %d", i+1)
		}
	}

	t.Run("per address", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withMFA, limits)
		_, app, _ := e.enrol(t, "mfa-owner")
		for range 5 {
			require.Equal(t, http.StatusBadRequest, login(e, "000000", "198.51.100.9").Code)
		}
		assertThrottled(t, login(e, app.Code(e.clock.Now()), "198.51.100.9"))
		assert.Equal(t, http.StatusOK, login(e, app.Code(e.clock.Now()), "203.0.113.5").Code, "the owner's address still passes")
	})
	t.Run("daily cap unchecked, cleared by a password reset", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withMFA, limits)
		_, app, recovery := e.enrol(t, "mfa-owner")
		guess(t, e, 20)
		assertThrottled(t, login(e, recovery[0], "203.0.113.5"))
		uid, token := e.requestReset(t, "mfa-owner@example.com", 2)
		require.Equal(t, http.StatusOK, e.confirmReset(uid, token).Code)
		res := e.do(http.MethodPost, loginPath, map[string]any{"username": "mfa-owner", "password": newPassword, "mfa_code": recovery[0]}, fromIP("203.0.113.5"))
		assert.Equal(t, http.StatusOK, res.Code, "the refused recovery code was not consumed, and the reset cleared the cap")
		_ = app
	})
	t.Run("daily cap cleared by ResetMFA", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withMFA, limits)
		e.enrol(t, "mfa-owner")
		guess(t, e, 20)
		u, err := e.store.UserByUsername(context.Background(), "mfa-owner")
		require.NoError(t, err)
		require.NoError(t, e.svc.ResetMFA(context.Background(), u.ID))
		key := e.do(http.MethodPost, loginPath, map[string]any{"username": "mfa-owner", "password": goodPassword}).JSON(t)["key"].(string)
		res := e.do(http.MethodGet, totpPath, nil, withToken(key))
		app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
		require.Equal(t, http.StatusOK, e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key)).Code)
		e.clock.Advance(30 * time.Second)
		assert.Equal(t, http.StatusOK, login(e, app.Code(e.clock.Now()), "203.0.113.5").Code, "ResetMFA cleared the cap")
	})
}

// #3: the mails a stranger can trigger are limited per recipient, silently; security
// notices are not.
func TestSec16MailPerRecipient(t *testing.T) {
	t.Parallel()
	perRecipient := func(c *restauth.Config) {
		c.RateLimits.MailPerRecipient = restauth.DefaultRateLimits().MailPerRecipient
	}
	t.Run("signups, resend and reset naming one address", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, perRecipient)
		for i := range 15 {
			e.register("squat"+strconv.Itoa(i), goodPassword, "victim@example.com")
		}
		assert.Len(t, e.mailer.Messages(), 5, "15 signups naming one address send at most 5 confirmations")
		res := e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "victim@example.com"})
		require.Equal(t, http.StatusOK, res.Code)
		res = e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "victim@example.com"})
		require.Equal(t, http.StatusOK, res.Code, "the answer does not tell that the mail was skipped")
		assert.Len(t, e.mailer.Messages(), 5)
		e.clock.Advance(time.Hour + time.Second)
		res = e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "victim@example.com"})
		require.Equal(t, http.StatusOK, res.Code)
		assert.Len(t, e.mailer.Messages(), 6, "a reset mails one account, not 15")
		res = e.do(http.MethodPost, "/api/auth/registration/resend-email/", map[string]any{"email": "victim@example.com"})
		require.Equal(t, http.StatusOK, res.Code)
		assert.Len(t, e.mailer.Messages(), 7, "a resend mails one account, not 15")
	})
	t.Run("account already exists notices", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, perRecipient, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
		holder, _ := e.register("holder", goodPassword, "held@example.com")
		e.verify(t, e.addresses(t, holder.ID)[0].ID)
		for i := range 10 {
			_, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "again" + strconv.Itoa(i), Email: "held@example.com", Password1: goodPassword, Password2: goodPassword})
			require.NoError(t, err)
		}
		assert.Len(t, e.mailer.Messages(), 5, "the confirmation and 4 notices, not 11 mails")
	})
	t.Run("security notices are exempt", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, perRecipient)
		u, _ := e.register("noticed", goodPassword, "noticed@example.com")
		e.verify(t, e.addresses(t, u.ID)[0].ID)
		for range 5 {
			require.NoError(t, e.svc.RequestPasswordReset(context.Background(), "noticed@example.com"))
		}
		require.Len(t, e.mailer.Messages(), 5, "the allowance is used up")
		_, err := e.svc.ChangePassword(context.Background(), e.user(t, u.ID), restauth.PasswordChange{Old: goodPassword, New1: newPassword, New2: newPassword})
		require.NoError(t, err)
		msgs := e.mailer.Messages()
		require.Len(t, msgs, 6, "the password-changed notice still goes out")
		assert.Equal(t, []string{"noticed@example.com"}, msgs[5].To)
	})
}

// countingStore counts the Store calls made while answering (not in a background job).
type countingStore struct {
	restauth.Store
	calls atomic.Int64
}

func (s *countingStore) count(ctx context.Context) {
	if !restauth.InBackground(ctx) {
		s.calls.Add(1)
	}
}

func (s *countingStore) UsersByEmail(ctx context.Context, email string) ([]*restauth.User, error) {
	s.count(ctx)
	return s.Store.UsersByEmail(ctx, email)
}

func (s *countingStore) EmailAddresses(ctx context.Context, id int64) ([]restauth.EmailAddress, error) {
	s.count(ctx)
	return s.Store.EmailAddresses(ctx, id)
}

func (s *countingStore) UserByID(ctx context.Context, id int64) (*restauth.User, error) {
	s.count(ctx)
	return s.Store.UserByID(ctx, id)
}

// workCounter counts, for the equal-work tests, the store calls, token mints and renders
// done before answering and the mints done afterwards, and lets a test wait for mail.
type workCounter struct {
	store                   *countingStore
	sent                    sync.WaitGroup
	mints, renders, bgMints atomic.Int64
}

// configure puts a counting store and a mailer that marks each mail sent into c, with
// mail sent in the background as in production.
func (w *workCounter) configure(c *restauth.Config) {
	w.store = &countingStore{Store: c.Store}
	c.Store = w.store
	c.Mail.SendInRequest = false
	c.Mail.Mailer = restauth.MailerFunc(func(context.Context, *restauth.Message) error { w.sent.Done(); return nil })
}

// hook counts the Service's token mints and renders, before answering or after.
func (w *workCounter) hook(svc *restauth.Service) {
	restauth.SetWorkHooks(svc, func(ctx context.Context) {
		if restauth.InBackground(ctx) {
			w.bgMints.Add(1)
		} else {
			w.mints.Add(1)
		}
	}, func(ctx context.Context) {
		if !restauth.InBackground(ctx) {
			w.renders.Add(1)
		}
	})
}

// reset zeroes the counts of work done before answering.
func (w *workCounter) reset() {
	w.store.calls.Store(0)
	w.mints.Store(0)
	w.renders.Store(0)
}

// #5: reset and resend do the same work before answering for known and unknown
// addresses: no lookup, no token, no rendering; it all runs afterwards.
func TestSec16ResetAndResendDoEqualWorkBeforeAnswering(t *testing.T) {
	t.Parallel()
	w := &workCounter{}
	e := newEnv(t, w.configure)
	w.hook(e.svc)
	w.sent.Add(1) // the signup confirmation
	_, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "known", Email: "known@example.com", Password1: goodPassword, Password2: goodPassword})
	require.NoError(t, err)
	w.sent.Wait()

	type work struct{ store, mints, renders int64 }
	measure := func(op func() error) work {
		w.reset()
		require.NoError(t, op())
		return work{w.store.calls.Load(), w.mints.Load(), w.renders.Load()}
	}
	ctx := context.Background()
	for name, op := range map[string]func(string) error{
		"reset":  func(a string) error { return e.svc.RequestPasswordReset(ctx, a) },
		"resend": func(a string) error { return e.svc.ResendVerification(ctx, a) },
	} {
		before := w.bgMints.Load()
		w.sent.Add(1)
		known := measure(func() error { return op("known@example.com") })
		unknown := measure(func() error { return op("nobody@example.com") })
		w.sent.Wait()
		require.NoError(t, e.svc.Close(ctx))
		assert.Equal(t, unknown, known, "%s: the same work before answering", name)
		assert.Equal(t, work{}, known, "%s: no lookup, token or rendering before answering", name)
		assert.Equal(t, before+1, w.bgMints.Load(), "%s: the known address got its link afterwards", name)
	}
}

// #14 is documented (SECURITY.md); the reference's two messages stay.
func TestSec16ResetConfirmKeepsReferenceMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("someone", goodPassword, "")
	res := e.do(http.MethodPost, "/api/auth/password/reset/confirm/", confirmBody("zzzz", "x-y", newPassword, newPassword))
	assert.Equal(t, map[string]any{"uid": []any{"Invalid value"}}, res.JSON(t))
	res = e.do(http.MethodPost, "/api/auth/password/reset/confirm/", confirmBody("1", "x-y", newPassword, newPassword))
	assert.Equal(t, tokenInvalid, res.JSON(t))
}

// Account lifecycle: deactivate, delete, revoke every credential (tokens and sessions),
// each audited; and the option to revoke on a password reset.
func TestSec16AccountLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	loginSession := func(t *testing.T, e *testEnv, name string) *browser {
		b := e.browser()
		status, body := b.do(http.MethodPost, loginPath, map[string]any{"username": name, "password": goodPassword})
		require.Equal(t, http.StatusOK, status, string(body))
		status, _ = b.do(http.MethodGet, "/api/user/me/", nil)
		require.Equal(t, http.StatusOK, status)
		return b
	}

	t.Run("RevokeAllCredentials", func(t *testing.T) {
		t.Parallel()
		rec := &auditRecorder{}
		e := newEnv(t, withAudit(rec))
		u, key := e.register("revoked", goodPassword, "")
		other, otherKey := e.register("bystander", goodPassword, "")
		b := loginSession(t, e, "revoked")
		ob := loginSession(t, e, "bystander")
		rec.take()
		require.NoError(t, e.svc.RevokeAllCredentials(ctx, u.ID))
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil, withToken(key)).Code)
		status, _ := b.do(http.MethodGet, "/api/user/me/", nil)
		assert.Equal(t, http.StatusUnauthorized, status, "the session has ended")
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/user/me/", nil, withToken(otherKey)).Code)
		status, _ = ob.do(http.MethodGet, "/api/user/me/", nil)
		assert.Equal(t, http.StatusOK, status, "another user's session stays")
		events := rec.take()
		require.NotEmpty(t, events)
		last := events[len(events)-1]
		assert.Equal(t, restauth.AuditCredentialsRevoked, last.Kind)
		assert.Equal(t, "tokens=2 sessions=1", last.Detail, "the registration's and the session login's tokens")
		assert.Equal(t, http.StatusOK, e.loginStatus("revoked", goodPassword), "the password stays")
		_ = other
	})
	t.Run("DeactivateUser and DeleteUser", func(t *testing.T) {
		t.Parallel()
		rec := &auditRecorder{}
		e := newEnv(t, withAudit(rec))
		u, key := e.register("leaver", goodPassword, "")
		rec.take()
		deactivated, err := e.svc.DeactivateUser(ctx, u.ID)
		require.NoError(t, err)
		assert.False(t, deactivated.IsActive)
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil, withToken(key)).Code)
		assert.Equal(t, []restauth.AuditKind{restauth.AuditUserDeactivated}, rec.takeKinds())
		require.NoError(t, e.svc.DeleteUser(ctx, u.ID))
		assert.Equal(t, []restauth.AuditKind{restauth.AuditUserDeleted}, rec.takeKinds())
		_, err = e.store.UserByID(ctx, u.ID)
		assert.ErrorIs(t, err, restauth.ErrNotFound)
		assert.ErrorIs(t, e.svc.DeleteUser(ctx, u.ID), restauth.ErrNotFound)
		_, err = e.svc.DeactivateUser(ctx, u.ID)
		assert.ErrorIs(t, err, restauth.ErrNotFound)
		assert.ErrorIs(t, e.svc.RevokeAllCredentials(ctx, u.ID), restauth.ErrNotFound)
	})
	for _, revoke := range []bool{false, true} {
		t.Run("password reset, RevokeCredentialsOnPasswordReset="+strconv.FormatBool(revoke), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *restauth.Config) { c.RevokeCredentialsOnPasswordReset = revoke })
			_, key := e.register("resetter", goodPassword, "resetter@example.com")
			uid, token := e.requestReset(t, "resetter@example.com", 2)
			require.Equal(t, http.StatusOK, e.confirmReset(uid, token).Code)
			want := http.StatusOK
			if revoke {
				want = http.StatusUnauthorized
			}
			assert.Equal(t, want, e.do(http.MethodGet, "/api/user/me/", nil, withToken(key)).Code)
		})
	}
	t.Run("a session store that cannot list", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *restauth.Config) { c.Sessions.Store = unlistableSessions{} })
		u, key := e.register("unlisted", goodPassword, "")
		err := e.svc.RevokeAllCredentials(ctx, u.ID)
		assert.True(t, errors.Is(err, errors.ErrUnsupported), "%v", err)
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil, withToken(key)).Code, "the tokens are revoked all the same")
	})
}

// unlistableSessions is a session store without All.
type unlistableSessions struct{}

func (unlistableSessions) Delete(string) error                    { return nil }
func (unlistableSessions) Find(string) ([]byte, bool, error)      { return nil, false, nil }
func (unlistableSessions) Commit(string, []byte, time.Time) error { return nil }
