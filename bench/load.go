package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// newClient returns a keep-alive client for one target. Every worker shares it; the
// transport keeps one idle connection per worker, since Go's default of 2 idle connections
// per host would close and redial most connections after every request and the run would
// measure TCP handshakes instead of the handler.
func newClient(workers int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only: an HTTP_PROXY in the environment must not apply
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		IdleConnTimeout:     2 * time.Minute,
		// Without this the client asks for gzip; neither side compresses, but the header
		// would be extra bytes to parse on every request.
		DisableCompression: true,
	}}
}

// loadSpec is one closed-loop load segment: workers each send a request, wait for the
// whole answer, and send the next, until the duration is over.
type loadSpec struct {
	workers  int
	duration time.Duration
	client   *http.Client
	// newRequest builds a request bound to ctx. With reuse, each worker builds one and
	// sends it again and again (allowed once the previous answer's body is closed), which
	// keeps the generator's own cost low; requests with a body need a fresh one each time.
	newRequest func(ctx context.Context) (*http.Request, error)
	reuse      bool
	// beforeSend, when set, changes each request before it is sent (with the worker's own
	// random source), such as to present a random token.
	beforeSend func(req *http.Request, rng *rand.Rand)
	// cutAtDeadline cancels the requests still in flight when the duration is over. Logins
	// queue for seconds behind the hashing semaphore, so waiting for them would stretch the
	// segment; GET answers take milliseconds and are let finish, so that connections are
	// not torn down between segments.
	cutAtDeadline bool
	// progress, when set, is called every progressEvery with the answers so far.
	progress      func(elapsed time.Duration, answered uint64)
	progressEvery time.Duration
}

// segment is what one load segment measured.
type segment struct {
	// ok counts 200 answers; statuses counts every other status by code.
	ok       uint64
	statuses map[int]uint64
	// okInWindow counts the 200 answers that arrived within the segment's duration,
	// window: throughput is their rate. Answers still arriving after it count for latency
	// but not for throughput, so that one slow straggler, which the other workers no
	// longer overlap, does not stretch the time the rate is computed over.
	okInWindow uint64
	window     time.Duration
	// errors counts transport failures (refused, reset, unreadable body).
	errors uint64
	// cut counts requests cancelled at the deadline (cutAtDeadline only): not failures,
	// just work the segment ended before seeing.
	cut uint64
	// elapsed is from the first request until every worker stopped (window plus the
	// last answers' drain).
	elapsed time.Duration
	// cpu is the whole process's CPU time during the segment: client and server together.
	cpu  time.Duration
	hist histogram
}

// nonOK is the number of answers other than 200.
func (s *segment) nonOK() uint64 {
	var n uint64
	for _, c := range s.statuses {
		n += c
	}
	return n
}

// status5xx is the number of 5xx answers.
func (s *segment) status5xx() uint64 {
	var n uint64
	for code, c := range s.statuses {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// rate is 200 answers per second of the window.
func (s *segment) rate() float64 {
	if s.window <= 0 {
		return 0
	}
	return float64(s.okInWindow) / s.window.Seconds()
}

// merge adds o to s, as one longer segment.
func (s *segment) merge(o *segment) {
	s.ok += o.ok
	s.okInWindow += o.okInWindow
	s.window += o.window
	s.errors += o.errors
	s.cut += o.cut
	s.elapsed += o.elapsed
	s.cpu += o.cpu
	if s.statuses == nil {
		s.statuses = map[int]uint64{}
	}
	for code, c := range o.statuses {
		s.statuses[code] += c
	}
	s.hist.Merge(&o.hist)
}

// worker is one closed-loop client; it owns its counters so the hot loop shares no
// memory with other workers.
type worker struct {
	seg      segment
	answered *atomic.Uint64 // nil unless progress is reported
}

// runLoad drives one segment. It returns early, with what it measured so far, when parent
// ends (the run was interrupted).
func runLoad(parent context.Context, spec loadSpec) *segment {
	start := time.Now()
	deadline := start.Add(spec.duration)
	grace := 10 * time.Second // bounds a GET answer that never comes
	if spec.cutAtDeadline {
		grace = 0
	}
	ctx, cancel := context.WithDeadline(parent, deadline.Add(grace))
	defer cancel()

	var answered *atomic.Uint64
	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if spec.progress != nil && spec.progressEvery > 0 {
		answered = new(atomic.Uint64)
		progressDone.Go(func() {
			tick := time.NewTicker(spec.progressEvery)
			defer tick.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case now := <-tick.C:
					if now.Before(deadline) {
						spec.progress(now.Sub(start), answered.Load())
					}
				}
			}
		})
	}

	cpu0 := processCPU()
	workers := make([]*worker, spec.workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{seg: segment{statuses: map[int]uint64{}}, answered: answered}
		workers[i] = w
		wg.Go(func() {
			// Connections dialled by this worker inherit the labels, so a -cpuprofile
			// tells the load generator's cost apart from the server's.
			pprof.Do(ctx, pprof.Labels("side", "client"), func(ctx context.Context) { w.run(ctx, spec, deadline) })
		})
	}
	wg.Wait()
	close(stopProgress)
	progressDone.Wait()

	total := &segment{statuses: map[int]uint64{}}
	for _, w := range workers {
		total.merge(&w.seg)
	}
	total.elapsed = time.Since(start)
	total.window = spec.duration
	total.cpu = processCPU() - cpu0
	return total
}

// run is the worker's loop: send, read the whole answer, record, repeat until deadline.
func (w *worker) run(ctx context.Context, spec loadSpec, deadline time.Time) {
	var req *http.Request
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for now := time.Now(); now.Before(deadline); now = time.Now() {
		if req == nil || !spec.reuse {
			var err error
			if req, err = spec.newRequest(ctx); err != nil {
				w.seg.errors++
				return
			}
		}
		if spec.beforeSend != nil {
			spec.beforeSend(req, rng)
		}
		resp, err := spec.client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		done := time.Now()
		lat := done.Sub(now)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				w.seg.cut++
				return
			}
			w.seg.errors++
			// A refusing server fails in microseconds; pausing keeps a broken target from
			// spinning the CPU the other targets' figures depend on.
			time.Sleep(time.Millisecond)
			continue
		}
		w.seg.hist.Record(lat)
		if resp.StatusCode == http.StatusOK {
			w.seg.ok++
			if !done.After(deadline) {
				w.seg.okInWindow++
			}
		} else {
			w.seg.statuses[resp.StatusCode]++
		}
		if w.answered != nil {
			w.answered.Add(1)
		}
	}
}
