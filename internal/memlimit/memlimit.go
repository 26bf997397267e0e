// Package memlimit is a sliding-window rate limiter kept in memory, as allauth keeps its
// counts in the cache: an event is allowed while fewer than Limit events were recorded in
// the last Window. Memory is bounded: entries live in LRU lists over sharded maps, each
// call drops a few expired ones, each shard drops all expired ones once a minute, and
// beyond the key bound the least recently used entry is evicted.
package memlimit

import (
	"hash/maphash"
	"sync"
	"time"
)

const (
	// DefaultMaxKeys is the default bound on the (rule, key) pairs a Limiter tracks.
	// An entry costs roughly 150 bytes plus its key and 8 bytes per recorded event.
	DefaultMaxKeys = 100_000
	// Shards is the number of independently locked maps; it is also the smallest
	// effective key bound (one entry per shard).
	Shards = 32
	// sweepEvery is how often (by the limiter's clock) a shard drops all expired
	// entries, on the first call that reaches it after the interval.
	sweepEvery = time.Minute
	// tailTrim is how many expired least-recently-used entries each call drops.
	tailTrim = 2
)

// Rule allows at most Limit events per key in any sliding Window; Name namespaces the
// keys. A rule with Limit <= 0 or Window <= 0 is disabled.
type Rule struct {
	Name   string
	Limit  int
	Window time.Duration
}

func (r Rule) enabled() bool { return r.Limit > 0 && r.Window > 0 }

// Limiter is the memory limiter; it is safe for concurrent use.
type Limiter struct {
	now         func() time.Time
	epoch       time.Time // times are kept as offsets from it (monotonic with time.Now)
	seed        maphash.Seed
	maxPerShard int
	shards      [Shards]shard
}

// New returns a Limiter reading the clock now (nil means time.Now) and tracking about
// maxKeys (rule, key) pairs: maxKeys/Shards per shard, at least one.
func New(now func() time.Time, maxKeys int) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now, epoch: now(), seed: maphash.MakeSeed(), maxPerShard: max(maxKeys/Shards, 1)}
	for i := range l.shards {
		l.shards[i].m = make(map[key]*entry)
	}
	return l
}

type key struct{ rule, key string }

// entry is the event log of one (rule, key), linked into its shard's LRU list.
type entry struct {
	k          key
	hits       []time.Duration // offsets from epoch, oldest first
	window     time.Duration   // the rule's window at the last call
	prev, next *entry
}

// expired reports whether every recorded event has left the window.
func (e *entry) expired(now time.Duration) bool {
	return len(e.hits) == 0 || e.hits[len(e.hits)-1]+e.window <= now
}

// room forgets events that left the window and reports whether one more fits under rule,
// or else how long until it does.
func (e *entry) room(now time.Duration, rule Rule) (bool, time.Duration) {
	e.window = rule.Window
	e.prune(now)
	if len(e.hits) < rule.Limit {
		return true, 0
	}
	// The next event is allowed once all but Limit-1 of the recorded ones have left.
	retry := e.hits[len(e.hits)-rule.Limit] + rule.Window - now
	return false, min(max(retry, time.Nanosecond), rule.Window)
}

// prune drops the events that have left the window.
func (e *entry) prune(now time.Duration) {
	n := 0
	for n < len(e.hits) && e.hits[n]+e.window <= now {
		n++
	}
	if n > 0 {
		e.hits = e.hits[:copy(e.hits, e.hits[n:])]
	}
}

type shard struct {
	mu sync.Mutex
	m  map[key]*entry
	// head is the most recently used entry, tail the least.
	head, tail *entry
	lastSweep  time.Duration
	_          [64]byte // keeps shards' hot fields off each other's cache lines
}

func (s *shard) pushFront(e *entry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	} else {
		s.tail = e
	}
	s.head = e
}

func (s *shard) unlink(e *entry) {
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

func (s *shard) remove(e *entry) {
	s.unlink(e)
	delete(s.m, e.k)
}

// maintain drops a few expired entries from the LRU end and, once per sweepEvery, every
// expired entry.
func (s *shard) maintain(now time.Duration) {
	if now-s.lastSweep >= sweepEvery {
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
	for i := 0; i < tailTrim && s.tail != nil && s.tail.expired(now); i++ {
		s.remove(s.tail)
	}
}

func (l *Limiter) shard(k key) *shard {
	h := maphash.String(l.seed, k.rule) ^ maphash.String(l.seed, k.key)*0x9E3779B97F4A7C15
	return &l.shards[h%Shards]
}

func (l *Limiter) clock() time.Duration { return l.now().Sub(l.epoch) }

// Allow records one event for k under rule and reports whether it is within the rule's
// limit; when not, retryAfter (at most the window) is how long until the next event
// would be allowed. A refused event is not recorded, so retrying early does not extend
// the wait. A disabled rule is always allowed and records nothing.
func (l *Limiter) Allow(k string, rule Rule) (ok bool, retryAfter time.Duration) {
	if !rule.enabled() {
		return true, 0
	}
	mk := key{rule.Name, k}
	s := l.shard(mk)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := l.clock()
	s.maintain(now)
	e := s.m[mk]
	if e == nil {
		if len(s.m) >= l.maxPerShard {
			s.remove(s.tail)
		}
		e = &entry{k: mk, hits: make([]time.Duration, 0, min(rule.Limit, 4))}
		s.m[mk] = e
	} else {
		s.unlink(e)
	}
	s.pushFront(e)
	ok, retryAfter = e.room(now, rule)
	if ok {
		e.hits = append(e.hits, now)
	}
	return ok, retryAfter
}

// Refund forgets the most recent event recorded for k under the rule named rule
// (nothing when there is none).
func (l *Limiter) Refund(k, rule string) {
	mk := key{rule, k}
	s := l.shard(mk)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[mk]; e != nil && len(e.hits) > 0 {
		e.hits = e.hits[:len(e.hits)-1]
	}
}

// Reset forgets k's events under the rule named rule.
func (l *Limiter) Reset(k, rule string) {
	mk := key{rule, k}
	s := l.shard(mk)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[mk]; e != nil {
		s.remove(e)
	}
}

// Len is the number of tracked (rule, key) entries.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
