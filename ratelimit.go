package restauth

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/restauth/restauth/internal/fold"
)

// Limiter counts events per key in a window. Implementations must be safe for concurrent
// use.
//
// Keys are opaque strings the caller builds, such as "ip:192.0.2.1", "ip:2001:db8::/64"
// or "user:42". Callers should not put e-mail addresses or usernames into keys in the
// clear: hash them (rateKeyHash does it with the Service secret) so that a dump of the
// limiter's store, such as a Redis snapshot, holds no addresses.
//
// NewMemoryLimiter serves a single instance; the redislimit module
// (github.com/restauth/restauth/redislimit) shares counts between instances.
type Limiter interface {
	// Allow records one event for key under rule and reports whether it is within the
	// rule's limit; when not, retryAfter is how long until the next event would be
	// allowed. A refused event is not recorded, so retrying early does not extend the wait.
	// A disabled rule (see RateRule.Enabled) is always allowed and records nothing.
	Allow(ctx context.Context, key string, rule RateRule) (ok bool, retryAfter time.Duration, err error)
	// Reset forgets key's events under rule (e.g. a successful login clears failed
	// attempts).
	Reset(ctx context.Context, key string, rule RateRule) error
}

// LimitRefunder is an optional Limiter capability, found by type assertion: Refund forgets
// the most recent event recorded for key under rule (nothing when there is none). Login
// attempts are counted before the password is checked — so that parallel guesses cannot
// overshoot a limit — and the attempts whose password was right are given back, so that
// users sharing an address, or a client sending Basic on every request, do not use the
// limits up. Both limiters restauth ships implement it; with a limiter that does not,
// successful logins count too and Basic counts failures only.
type LimitRefunder interface {
	Refund(ctx context.Context, key string, rule RateRule) error
}

// RateRule allows at most Limit events per key in any sliding Window. Name namespaces
// the keys: two rules with the same Name share their counts, so every rule needs a
// distinct Name made of letters, digits, '_', '-' and '.' (no ':', which separates the
// parts of a Redis key).
type RateRule struct {
	Name   string
	Limit  int
	Window time.Duration
}

// Enabled reports whether the rule limits anything. A rule with Limit <= 0 or
// Window <= 0 is disabled: Allow always allows it and records nothing.
func (r RateRule) Enabled() bool { return r.Limit > 0 && r.Window > 0 }

// String is "name: limit per window", or "name: disabled".
func (r RateRule) String() string {
	if !r.Enabled() {
		return r.Name + ": disabled"
	}
	return r.Name + ": " + strconv.Itoa(r.Limit) + " per " + r.Window.String()
}

// RateLimits is the table of rate limits the Service applies. DefaultRateLimits returns
// django-allauth's defaults (ACCOUNT_RATE_LIMITS) where allauth has one. A zero RateRule
// field stands for its default; to disable a rule set its Limit to -1.
type RateLimits struct {
	// LoginFailedPerAccount limits login attempts per login name (allauth "login_failed"
	// per key: 5 per 5 min). A successful login resets it.
	LoginFailedPerAccount RateRule
	// LoginFailedPerIP limits login attempts per client IP (allauth "login_failed" per ip:
	// 10 per minute).
	LoginFailedPerIP RateRule
	// ResetPerIP limits password-reset requests per client IP (allauth "reset_password"
	// per ip: 20 per minute).
	ResetPerIP RateRule
	// ResetPerEmail limits password-reset requests per submitted address (5 per 5 min, as
	// DECISIONS.md records; allauth's own default is 5 per minute).
	ResetPerEmail RateRule
	// SignupPerIP limits registrations per client IP (allauth "signup": 20 per minute).
	SignupPerIP RateRule
	// PasswordChangePerUser limits password changes per authenticated user: 10 per 5 min.
	// allauth's "change_password" allows 5 per minute (300 an hour); 10 per 5 min (120 an
	// hour) is stricter against guessing old_password with a stolen session while leaving
	// a user who fights the password validators several tries.
	PasswordChangePerUser RateRule
	// ResendPerEmail limits e-mail verification resends per address: 1 per 3 min, allauth's
	// "confirm_email" default for links. The resend route is anonymous, so this is what
	// stops it being used to flood someone's inbox; a user rarely needs a second link
	// within 3 minutes, and the answer does not depend on whether the address exists.
	ResendPerEmail RateRule
	// MFAFailedPerUser limits second-factor codes tried per user: 20 per day, counted
	// before the code is checked and cleared by a correct one. It is what bounds guessing
	// by someone who has the password: the login limits alone allow 1,440 guesses a day.
	MFAFailedPerUser RateRule
}

// Rule names of DefaultRateLimits; they prefix the limiter keys.
const (
	RuleLoginFailedAccount = "login_failed_account"
	RuleLoginFailedIP      = "login_failed_ip"
	RuleResetIP            = "reset_password_ip"
	RuleResetEmail         = "reset_password_email"
	RuleSignupIP           = "signup_ip"
	RulePasswordChangeUser = "change_password_user"
	RuleResendEmail        = "confirm_email_email"
	RuleMFAFailedUser      = "mfa_failed_user"
)

// DefaultRateLimits returns allauth's defaults as DECISIONS.md records them, plus the
// password-change and resend rules documented on RateLimits.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		LoginFailedPerAccount: RateRule{Name: RuleLoginFailedAccount, Limit: 5, Window: 5 * time.Minute},
		LoginFailedPerIP:      RateRule{Name: RuleLoginFailedIP, Limit: 10, Window: time.Minute},
		ResetPerIP:            RateRule{Name: RuleResetIP, Limit: 20, Window: time.Minute},
		ResetPerEmail:         RateRule{Name: RuleResetEmail, Limit: 5, Window: 5 * time.Minute},
		SignupPerIP:           RateRule{Name: RuleSignupIP, Limit: 20, Window: time.Minute},
		PasswordChangePerUser: RateRule{Name: RulePasswordChangeUser, Limit: 10, Window: 5 * time.Minute},
		ResendPerEmail:        RateRule{Name: RuleResendEmail, Limit: 1, Window: 3 * time.Minute},
		MFAFailedPerUser:      RateRule{Name: RuleMFAFailedUser, Limit: 20, Window: 24 * time.Hour},
	}
}

// rules lists the table's rules with pointers, in field order.
func (rl *RateLimits) rules() []*RateRule {
	return []*RateRule{
		&rl.LoginFailedPerAccount, &rl.LoginFailedPerIP, &rl.ResetPerIP, &rl.ResetPerEmail,
		&rl.SignupPerIP, &rl.PasswordChangePerUser, &rl.ResendPerEmail, &rl.MFAFailedPerUser,
	}
}

// withDefaults replaces each zero rule with its default and gives a nameless rule its
// default name, so a host can override one rule and keep the others.
func (rl RateLimits) withDefaults() RateLimits {
	def := DefaultRateLimits()
	defs := def.rules()
	for i, r := range rl.rules() {
		switch {
		case *r == RateRule{}:
			*r = *defs[i]
		case r.Name == "":
			r.Name = defs[i].Name
		}
	}
	return rl
}

// validate checks that the rules have distinct, well-formed names.
func (rl RateLimits) validate() error {
	seen := make(map[string]bool)
	for _, r := range rl.rules() {
		if r.Name == "" || strings.IndexFunc(r.Name, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.')
		}) >= 0 {
			return fmt.Errorf("%w: rate rule name %q must be non-empty letters, digits, '_', '-' or '.'", ErrConfig, r.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("%w: rate rule name %q is used twice", ErrConfig, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// rateKeyHash returns the limiter key "kind:<hex>" for a personal value such as an e-mail
// address or a login name: a salted HMAC with the Service secret of the case-folded value
// (internal/fold: every spelling a store may take for the same name, "ſ" and the Kelvin
// sign included, shares one count), truncated to 128 bits. Without the secret, a dump of the limiter's store cannot be
// reversed by hashing a list of known addresses; every instance sharing the secret
// derives the same key.
func rateKeyHash(secret []byte, kind, value string) string {
	mac := saltedHMAC("restauth.ratelimit."+kind, secret, fold.String(value))
	return kind + ":" + hex.EncodeToString(mac[:16])
}

// allowRate records one event for key under rule. It returns nil when allowed, a
// *ThrottledError when refused, and the limiter's error (wrapped) when it failed.
func allowRate(ctx context.Context, l Limiter, rule RateRule, key string) error {
	if l == nil || !rule.Enabled() {
		return nil
	}
	ok, retry, err := l.Allow(ctx, key, rule)
	switch {
	case err != nil:
		return fmt.Errorf("restauth: rate limiter (%s): %w", rule.Name, err)
	case !ok:
		return &ThrottledError{RetryAfterSeconds: throttleSeconds(retry)}
	}
	return nil
}

// throttleSeconds is the Retry-After value for retryAfter: whole seconds rounded up, at
// least 1.
func throttleSeconds(retryAfter time.Duration) int {
	s := retryAfter / time.Second
	if retryAfter%time.Second != 0 {
		s++
	}
	return int(max(s, 1))
}

// clientIP returns the address to rate-limit r's client by.
//
// It is the IP of r.RemoteAddr unless that peer lies in trustedProxies; then it is the
// rightmost X-Forwarded-For entry (over all X-Forwarded-For lines, in order) that is not
// itself a trusted proxy. X-Forwarded-For is never read when the peer is not a trusted
// proxy, so a client cannot choose its own key. If every entry is a trusted proxy, the
// leftmost of them is used; an entry that is not an IP stops the walk at the last trusted
// hop before it, so a malformed chain is limited by the proxy rather than by a value an
// attacker chose. The Forwarded header (RFC 7239) is not read.
//
// IPv4 addresses (and IPv4-mapped IPv6 addresses) are returned as such, e.g.
// "192.0.2.1". IPv6 addresses are grouped by their /64 prefix, e.g. "2001:db8:1:2::/64",
// because a single host commonly holds a whole /64 and could otherwise evade a per-IP
// limit by rotating addresses. A RemoteAddr that is not an IP (e.g. a Unix socket) gives
// "", which callers should still use as a key: all such clients then share one limit.
func clientIP(r *http.Request, trustedProxies []netip.Prefix) string {
	peer, ok := parseIP(r.RemoteAddr)
	if !ok {
		return ""
	}
	if !ipTrusted(peer, trustedProxies) {
		return limitAddr(peer)
	}
	addr := peer
	lines := r.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				entry, rest = rest[cut+1:], rest[:cut]
			}
			ip, ok := parseIP(strings.TrimSpace(entry))
			if !ok {
				return limitAddr(addr)
			}
			if !ipTrusted(ip, trustedProxies) {
				return limitAddr(ip)
			}
			addr = ip
			if cut < 0 {
				break
			}
		}
	}
	return limitAddr(addr)
}

// parseIP parses "ip", "ip:port", "[ipv6]" or "[ipv6]:port", dropping any zone and
// unmapping IPv4-mapped IPv6 addresses.
func parseIP(s string) (netip.Addr, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1]
		}
		var perr error
		if a, perr = netip.ParseAddr(s); perr != nil {
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}

func ipTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// limitAddr is the string clientIP returns for ip: IPv4 as is, IPv6 as its /64.
func limitAddr(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// Memory limiter defaults.
const (
	// DefaultMemoryLimiterMaxKeys bounds the (rule, key) pairs a memory limiter tracks.
	// At the limit, tracking a new key evicts the least recently used one. An entry costs
	// roughly 150 bytes plus its key and 8 bytes per recorded event.
	DefaultMemoryLimiterMaxKeys = 100_000
	memoryShards                = 32
	// memorySweepEvery is how often (by the limiter's clock) a shard drops all expired
	// entries, on the first call that reaches it after the interval.
	memorySweepEvery = time.Minute
	// memoryTailTrim is how many expired least-recently-used entries each call drops.
	memoryTailTrim = 2
)

// MemoryLimiterOption configures NewMemoryLimiter.
type MemoryLimiterOption func(*memoryLimiter)

// WithMemoryMaxKeys bounds the (rule, key) pairs the limiter tracks (default
// DefaultMemoryLimiterMaxKeys, at least 32). Beyond it the least recently used entry is
// evicted, forgetting its events: a bound on memory that, under a flood of distinct keys,
// fails open rather than refusing everyone.
func WithMemoryMaxKeys(n int) MemoryLimiterOption {
	return func(l *memoryLimiter) { l.maxPerShard = max(n/memoryShards, 1) }
}

// NewMemoryLimiter returns a Limiter that keeps a sliding-window log per key in memory,
// as allauth does in its cache: an event is allowed while fewer than Limit events were
// recorded in the last Window, and retryAfter is when the oldest one that matters leaves
// the window. now is the clock (nil means time.Now).
//
// Memory is bounded: each call drops a few expired least-recently-used entries, each
// shard drops all expired entries once a minute, and at most WithMemoryMaxKeys entries
// are kept, so spraying keys cannot grow it without bound. It counts for one process
// only; instances behind a load balancer need a shared Limiter such as redislimit.
func NewMemoryLimiter(now func() time.Time, opts ...MemoryLimiterOption) Limiter {
	if now == nil {
		now = time.Now
	}
	l := &memoryLimiter{now: now, epoch: now(), seed: maphash.MakeSeed(), maxPerShard: DefaultMemoryLimiterMaxKeys / memoryShards}
	for _, o := range opts {
		o(l)
	}
	for i := range l.shards {
		l.shards[i].m = make(map[memKey]*memEntry)
	}
	return l
}

type memoryLimiter struct {
	now         func() time.Time
	epoch       time.Time // times are kept as offsets from it (monotonic with time.Now)
	seed        maphash.Seed
	maxPerShard int
	shards      [memoryShards]memShard
}

type memKey struct{ rule, key string }

// memEntry is the event log of one (rule, key), linked into its shard's LRU list.
type memEntry struct {
	k          memKey
	hits       []time.Duration // offsets from epoch, oldest first
	window     time.Duration   // the rule's window at the last call
	prev, next *memEntry
}

// expired reports whether every recorded event has left the window.
func (e *memEntry) expired(now time.Duration) bool {
	return len(e.hits) == 0 || e.hits[len(e.hits)-1]+e.window <= now
}

// prune drops the events that have left the window.
// room forgets events that left the window and reports whether one more fits under rule,
// or else how long until it does.
func (e *memEntry) room(now time.Duration, rule RateRule) (bool, time.Duration) {
	e.window = rule.Window
	e.prune(now)
	if len(e.hits) < rule.Limit {
		return true, 0
	}
	// The next event is allowed once all but Limit-1 of the recorded ones have left.
	retry := e.hits[len(e.hits)-rule.Limit] + rule.Window - now
	return false, min(max(retry, time.Nanosecond), rule.Window)
}

func (e *memEntry) prune(now time.Duration) {
	n := 0
	for n < len(e.hits) && e.hits[n]+e.window <= now {
		n++
	}
	if n > 0 {
		e.hits = e.hits[:copy(e.hits, e.hits[n:])]
	}
}

type memShard struct {
	mu sync.Mutex
	m  map[memKey]*memEntry
	// head is the most recently used entry, tail the least.
	head, tail *memEntry
	lastSweep  time.Duration
	_          [64]byte // keeps shards' hot fields off each other's cache lines
}

func (s *memShard) pushFront(e *memEntry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	} else {
		s.tail = e
	}
	s.head = e
}

func (s *memShard) unlink(e *memEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (s *memShard) remove(e *memEntry) {
	s.unlink(e)
	delete(s.m, e.k)
}

// maintain drops a few expired entries from the LRU end and, once per memorySweepEvery,
// every expired entry.
func (s *memShard) maintain(now time.Duration) {
	if now-s.lastSweep >= memorySweepEvery {
		s.lastSweep = now
		for e := s.tail; e != nil; {
			prev := e.prev
			if e.expired(now) {
				s.remove(e)
			}
			e = prev
		}
		return
	}
	for i := 0; i < memoryTailTrim && s.tail != nil && s.tail.expired(now); i++ {
		s.remove(s.tail)
	}
}

func (l *memoryLimiter) shard(k memKey) *memShard {
	h := maphash.String(l.seed, k.rule) ^ maphash.String(l.seed, k.key)*0x9E3779B97F4A7C15
	return &l.shards[h%memoryShards]
}

func (l *memoryLimiter) clock() time.Duration { return l.now().Sub(l.epoch) }

// Allow implements Limiter.
func (l *memoryLimiter) Allow(_ context.Context, key string, rule RateRule) (bool, time.Duration, error) {
	if !rule.Enabled() {
		return true, 0, nil
	}
	k := memKey{rule.Name, key}
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := l.clock()
	s.maintain(now)
	e := s.m[k]
	if e == nil {
		if len(s.m) >= l.maxPerShard {
			s.remove(s.tail)
		}
		e = &memEntry{k: k, hits: make([]time.Duration, 0, min(rule.Limit, 4))}
		s.m[k] = e
	} else {
		s.unlink(e)
	}
	s.pushFront(e)
	ok, retry := e.room(now, rule)
	if ok {
		e.hits = append(e.hits, now)
	}
	return ok, retry, nil
}

// Refund implements LimitRefunder.
func (l *memoryLimiter) Refund(_ context.Context, key string, rule RateRule) error {
	k := memKey{rule.Name, key}
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[k]; e != nil && len(e.hits) > 0 {
		e.hits = e.hits[:len(e.hits)-1]
	}
	return nil
}

// Reset implements Limiter.
func (l *memoryLimiter) Reset(_ context.Context, key string, rule RateRule) error {
	k := memKey{rule.Name, key}
	s := l.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[k]; e != nil {
		s.remove(e)
	}
	return nil
}

// len is the number of tracked entries.
func (l *memoryLimiter) len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
