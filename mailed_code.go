package restauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/fold"
	"github.com/restauth/restauth/internal/ratekey"
)

// This file holds what the three mailed-code flows share (allauth's login by code,
// password reset by code and e-mail verification by code): a short code mailed to an
// address, entered in the same client within a timeout, with a few attempts. The Service
// keeps nothing: the request returns a PendingCode, which the dialect keeps (in the
// session, as allauth keeps its stash) and hands back with the code typed. It holds a
// keyed MAC of the code, never the code; the attempts are counted in Config.Limiter (as
// the magic link's use), keyed by the pending code's random nonce.

// CodeConfig configures one mailed-code flow (Config.LoginByCode,
// Config.PasswordResetByCode, Config.EmailVerificationByCode). Each is off by default.
type CodeConfig struct {
	// Enabled turns the flow on; its operations return ErrCodeFlowDisabled otherwise.
	Enabled bool
	// MaxAttempts is how many wrong codes may be tried for one mailed code (a right one,
	// looked at or refused for another reason, gives its attempt back); after that it is
	// void (ErrCodeExpired) and a new one must be asked for. Default 3, as allauth's
	// *_BY_CODE_MAX_ATTEMPTS.
	MaxAttempts int
	// Timeout is how long a mailed code is valid. Default 180 s for login and password
	// reset, 900 s for e-mail verification, as allauth's *_BY_CODE_TIMEOUT.
	Timeout time.Duration
}

func (c *CodeConfig) withDefaults(timeout time.Duration) {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	defaultDuration(&c.Timeout, timeout)
}

// PendingCode is a mailed code not yet entered, returned by RequestLoginCode,
// RequestPasswordResetCode and RequestEmailVerificationCode. The dialect keeps it on the
// server (the session) and passes it back with the code the user typed; it holds no code,
// only a MAC of it under Config.Secret, bound to the flow and to everything below, so it
// cannot be altered or moved to another flow or address.
type PendingCode struct {
	// Email is the address the code was mailed to (as the user typed it for a login or a
	// reset; the address's own spelling for a verification).
	Email string
	// AddressID is, for an e-mail verification, the EmailAddress the code verifies; 0
	// otherwise.
	AddressID int64
	// Nonce identifies this mailed code (its attempts are counted under it).
	Nonce string
	// MAC is the keyed MAC of the code.
	MAC     string
	Expires time.Time
}

// The purposes of mailed codes: each flow's MAC and limiter keys are its own.
const (
	codeLogin  = "login"
	codeReset  = "reset"
	codeVerify = "verify"
)

// codeAlphabet leaves out the letters and digits that are easily confused (0/O, 1/I, 8/B,
// 2/Z) and vowels that would spell words, as allauth's code generator does.
const codeAlphabet = "CDFGHJKLMNPQRSTVWXY345679"

// newCode returns n random characters of codeAlphabet.
func newCode(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = codeAlphabet[randIndex(len(codeAlphabet))]
	}
	return string(b)
}

// randIndex is a uniform random index below n, without modulo bias.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("restauth: crypto/rand: " + err.Error()) // never fails since Go 1.24
		}
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// normalizeCode is how a typed code is compared: upper case, without the spaces and
// hyphens people type to group it.
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

// codeMAC binds a code to its flow, nonce, address, address id and expiry.
func (s *Service) codeMAC(purpose string, p *PendingCode, code string) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	for _, part := range []string{"restauth.mailed-code", purpose, p.Nonce, fold.String(p.Email),
		strconv.FormatInt(p.AddressID, 10), strconv.FormatInt(p.Expires.Unix(), 10), normalizeCode(code)} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// newPendingCode mints a code of length n for the flow and its PendingCode.
func (s *Service) newPendingCode(purpose string, cfg CodeConfig, email string, addressID int64, n int) (*PendingCode, string) {
	code := newCode(n)
	p := &PendingCode{Email: email, AddressID: addressID, Nonce: rand.Text(), Expires: s.now().Add(cfg.Timeout).Truncate(time.Second)}
	p.MAC = s.codeMAC(purpose, p, code)
	return p, code
}

// checkCode counts one attempt at p and compares code in constant time; a right code
// gives the attempt back, so only wrong ones use up Config's MaxAttempts. Errors:
// ErrCodeExpired (expired, its attempts used up, or spent: the pending code is void), a
// *ValidationError on "code" matching ErrInvalidCode. With spend, a code that matched is
// used up (spendCode).
func (s *Service) checkCode(ctx context.Context, purpose string, cfg CodeConfig, p PendingCode, code string, spend bool) error {
	if p.Nonce == "" || !s.now().Before(p.Expires) {
		return ErrCodeExpired
	}
	attempts := RateRule{Name: "code_attempts_" + purpose, Limit: cfg.MaxAttempts, Window: cfg.Timeout + time.Second}
	key := ratekey.Hash(s.cfg.Secret, "code", p.Nonce)
	if err := allowRate(ctx, s.cfg.Limiter, attempts, key); err != nil {
		var over *ThrottledError
		if errors.As(err, &over) {
			return ErrCodeExpired
		}
		// Fail closed: without the count, nothing bounds guessing a short code.
		return err
	}
	if code == "" || !hmac.Equal([]byte(p.MAC), []byte(s.codeMAC(purpose, &p, code))) {
		return causedFieldError(ErrInvalidCode, "code", msgIncorrectCode)
	}
	// A right code gives its attempt back: allauth counts wrong codes only, so a client
	// that looks at a code before using it (GET, then POST auth/password/reset), or whose
	// new password is refused, keeps the attempts a typo may need. It was counted before
	// the comparison so that guesses in parallel cannot outrun the limit.
	s.refundRate(ctx, attempts, key)
	if !spend {
		return nil
	}
	return s.spendCode(ctx, purpose, cfg, p)
}

// spendCode uses p's code up, atomically in the Limiter (shared by instances with
// redislimit), so that of two requests racing with the right code only one succeeds;
// ErrCodeExpired for the others.
func (s *Service) spendCode(ctx context.Context, purpose string, cfg CodeConfig, p PendingCode) error {
	used := RateRule{Name: "code_used_" + purpose, Limit: 1, Window: cfg.Timeout + time.Second}
	if err := allowRate(ctx, s.cfg.Limiter, used, ratekey.Hash(s.cfg.Secret, "code", p.Nonce)); err != nil {
		var again *ThrottledError
		if errors.As(err, &again) {
			return ErrCodeExpired
		}
		return err
	}
	return nil
}
