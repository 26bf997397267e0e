package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// hasherCase is one password hasher the login round measures.
type hasherCase struct {
	// label names the hasher and its parameters in the output.
	label string
	// cfg is what the Service is configured with.
	cfg restauth.PasswordConfig
	// hashOnce computes one hash with the same primitive and parameters restauth uses,
	// to measure the single-hash time the ceiling is derived from.
	hashOnce func()
}

// Restauth's default hashing parameters (password.go), repeated here because the bench
// times the bare primitive without going through the Service.
const (
	defaultPBKDF2Iterations = 600000
	defaultArgon2Time       = 2
	defaultArgon2MemoryKiB  = 19456
	defaultArgon2Threads    = 1
	argon2KeyLen            = 32
)

// hasherCases are the two writable hashers at their default strength: Django's
// PBKDF2-SHA256 and restauth's default argon2id (restauth.PasswordConfig{}).
func hasherCases() []hasherCase {
	salt := []byte("abcdefghijklmnopqrstuv") // 22 characters, as Django's salts
	return []hasherCase{
		{
			label: fmt.Sprintf("pbkdf2_sha256 %d", defaultPBKDF2Iterations),
			cfg:   restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: defaultPBKDF2Iterations},
			hashOnce: func() {
				_, _ = pbkdf2.Key(sha256.New, benchPassword, salt, defaultPBKDF2Iterations, sha256.Size)
			},
		},
		{
			label: fmt.Sprintf("argon2id t=%d m=%dKiB p=%d (default)", defaultArgon2Time, defaultArgon2MemoryKiB, defaultArgon2Threads),
			cfg:   restauth.PasswordConfig{},
			hashOnce: func() {
				_ = argon2.IDKey([]byte(benchPassword), salt, defaultArgon2Time, defaultArgon2MemoryKiB, defaultArgon2Threads, argon2KeyLen)
			},
		},
	}
}

// timeHash returns the fastest of n single hashes. The minimum, not the mean, because
// on a shared machine other processes only ever add time: the fastest run is the closest
// to the hash's own cost.
func timeHash(hashOnce func(), n int) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range n {
		start := time.Now()
		hashOnce()
		best = min(best, time.Since(start))
	}
	return best
}

// parallelRate runs each hashes on each of workers goroutines at once and returns hashes
// per second. With one worker per core it is the ceiling as the machine delivers it right
// now, other processes' load included, where cores ÷ single-hash time assumes idle cores.
func parallelRate(hashOnce func(), workers, each int) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				hashOnce()
			}
		})
	}
	wg.Wait()
	return float64(workers*each) / time.Since(start).Seconds()
}

// loginResult is one login round's figures.
type loginResult struct {
	Hasher string `json:"hasher"`
	// HashMs is the single-hash time; CeilingPerSec is Cores ÷ that time, the most logins
	// a second the machine could do if it did nothing but hash.
	HashMs        float64 `json:"single_hash_ms"`
	Cores         int     `json:"cores"`
	CeilingPerSec float64 `json:"ceiling_logins_per_s"`
	LoginsPerSec  float64 `json:"logins_per_s"`
	// RatioToCeiling is LoginsPerSec ÷ CeilingPerSec.
	RatioToCeiling float64 `json:"ratio_to_ceiling"`
	// ParallelPerSec is the hash rate measured with every core hashing just before the
	// round (see parallelRate); RatioToParallel is LoginsPerSec ÷ it. On a machine busy
	// with other work it is the fairer ceiling.
	ParallelPerSec  float64 `json:"parallel_hashes_per_s"`
	RatioToParallel float64 `json:"ratio_to_parallel"`
	P50Ms           float64 `json:"p50_ms"`
	P99Ms           float64 `json:"p99_ms"`
	Concurrency     int     `json:"concurrency"`
	DurationS       float64 `json:"duration_s"`
	Logins          uint64  `json:"logins"`
	// Status5xx must stay 0; OtherNon200 counts 4xx answers (e.g. 429 from a rate limit).
	Status5xx   uint64 `json:"status_5xx"`
	OtherNon200 uint64 `json:"other_non_200"`
	Errors      uint64 `json:"transport_errors"`
	// Cut is the logins still queued or hashing when the round ended; CanceledLogged is
	// how many of them restauth logged as failed requests (answered 500 to a client that
	// had already gone, which no client saw).
	Cut            uint64  `json:"cut_at_deadline"`
	CanceledLogged uint64  `json:"canceled_logged_by_server"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	// PeakRSSScope is "round" when the kernel's high-water mark could be reset before the
	// round, else "process" (the peak since the process started).
	PeakRSSScope string `json:"peak_rss_scope"`
}

// resetPeakRSS asks Linux to reset VmHWM to the current RSS (writing 5 to clear_refs,
// Linux ≥ 4.0), so the next reading is this round's peak rather than the process's.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS reads VmHWM, the resident set's high-water mark, in bytes (0 off Linux).
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// loginBody is the POST /api/auth/login/ body with the right password.
func loginBody() []byte {
	b, err := json.Marshal(map[string]string{"username": benchUsername, "password": benchPassword})
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return b
}

// newLoginRequest returns a factory of login requests against baseURL.
func newLoginRequest(baseURL string) func(ctx context.Context) (*http.Request, error) {
	body := loginBody()
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/api/auth/login/", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	}
}

// checkLogin makes one login and insists on 200 with a token, so the storm measures
// successful logins and not a misconfiguration.
func checkLogin(ctx context.Context, client *http.Client, baseURL string) error {
	req, err := newLoginRequest(baseURL)(ctx)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Key string `json:"key"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.Key == "" {
		return fmt.Errorf("login answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// runLogin measures one hasher: the single-hash time first, then a closed-loop login storm
// of workers concurrent logins on a memstore Service configured with that hasher, the
// seeded user's password stored with it so that no login re-hashes.
func runLogin(ctx context.Context, hc hasherCase, workers int, d time.Duration, logf func(string, ...any)) (*loginResult, error) {
	// Return the GET rounds' garbage to the OS first, so the peak below is this round's.
	runtime.GC()
	debug.FreeOSMemory()
	scope := "process"
	if resetPeakRSS() {
		scope = "round"
	}

	hash := timeHash(hc.hashOnce, 5)
	cores := runtime.GOMAXPROCS(0)
	res := &loginResult{
		Hasher:         hc.label,
		HashMs:         ms(hash),
		Cores:          cores,
		CeilingPerSec:  float64(cores) / hash.Seconds(),
		ParallelPerSec: parallelRate(hc.hashOnce, cores, 2),
		Concurrency:    workers,
		PeakRSSScope:   scope,
	}
	logf("login   %-40s single hash %s → ceiling %.1f logins/s on %d cores; all cores hashing now: %.1f/s",
		hc.label, fmtDur(hash), res.CeilingPerSec, cores, res.ParallelPerSec)

	// The hash queue's bounds go too, like the rate limits: they refuse the logins beyond
	// four per slot at once (503 with Retry-After: 1), which these closed-loop clients,
	// unlike real ones, retry at once, so the round would measure refusals spinning.
	cfg := hc.cfg
	cfg.MaxQueuedHashes, cfg.MaxHashWait = -1, -1
	// So does the per-request deadline (Config.StoreTimeout, 5 s): with 200 logins queued
	// for a hash of 100 ms on 2 cores a login waits about 10 s, and a deadline would throw
	// away hashes already computed, measuring the timeout, not the hasher.
	noDeadline := func(c *restauth.Config) { c.StoreTimeout = -1 }
	t, _, err := newRestauthTarget(ctx, "login "+hc.label, memstore.New(), cfg, noCache, noDeadline)
	if t != nil {
		defer t.close()
	}
	if err != nil {
		return nil, err
	}
	client := newClient(workers)
	defer client.CloseIdleConnections()
	if err := checkLogin(ctx, client, t.baseURL); err != nil {
		return nil, err
	}

	canceled0 := canceledLogged.Load()
	seg := runLoad(ctx, loadSpec{
		workers:       workers,
		duration:      d,
		client:        client,
		newRequest:    newLoginRequest(t.baseURL),
		cutAtDeadline: true,
		progress: func(elapsed time.Duration, answered uint64) {
			logf("login   %-40s %5.1fs  %d answered", hc.label, elapsed.Seconds(), answered)
		},
		progressEvery: 5 * time.Second,
	})
	res.DurationS = seg.window.Seconds()
	res.Logins = seg.ok
	res.LoginsPerSec = seg.rate()
	res.RatioToCeiling = res.LoginsPerSec / res.CeilingPerSec
	res.RatioToParallel = res.LoginsPerSec / res.ParallelPerSec
	res.P50Ms = ms(seg.hist.Quantile(0.50))
	res.P99Ms = ms(seg.hist.Quantile(0.99))
	res.Status5xx = seg.status5xx()
	res.OtherNon200 = seg.nonOK() - res.Status5xx
	res.Errors = seg.errors
	res.Cut = seg.cut
	t.close() // let the cut logins finish failing before counting them
	res.CanceledLogged = canceledLogged.Load() - canceled0
	res.PeakRSSMiB = float64(peakRSS()) / (1 << 20)
	logf("login   %-40s %.1f logins/s (%.2f× ceiling, %.2f× all-cores rate)  p50 %s  p99 %s  peak RSS %.0f MiB  5xx %d",
		hc.label, res.LoginsPerSec, res.RatioToCeiling, res.RatioToParallel, fmtMs(res.P50Ms), fmtMs(res.P99Ms), res.PeakRSSMiB, res.Status5xx)
	return res, nil
}
