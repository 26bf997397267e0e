package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// Case (e): 300 parallel oversize bodies to login/, all in the server at once (each
// holds just under the limit until all have arrived). Announced by Content-Length, they
// are refused before a byte is read and the server's memory stays flat (F6: 39 → 533 MB
// before issue #17). Chunked, each is read up to the 1 MiB limit into a growing buffer,
// so memory grows by up to 2 MiB per body in flight from distinct addresses (BodyPerIP
// stops one address): printed, and bounded by that until reading bodies gets a global
// bound (then tighten with RESTAUTH_FAULTS_CHUNKED_KIB).

// maxBodyKiB is the server's body limit (Config.MaxBodyBytes' default, 1 MiB).
const maxBodyKiB = 1 << 10

// announcedGrowthKiB bounds the growth of VmRSS under announced oversize bodies: flat,
// the goroutines and buffers of 300 connections.
const announcedGrowthKiB = 64 << 10

// chunkedGrowthKiB bounds it under chunked ones: today up to 2 MiB per body.
var chunkedGrowthKiB = func(n int) int64 {
	if d, err := strconv.ParseInt(os.Getenv("RESTAUTH_FAULTS_CHUNKED_KIB"), 10, 64); err == nil {
		return d
	}
	return int64(n) * maxBodyKiB * 2
}

// jsonBody is an endless-looking JSON string value of n bytes: a decoder cannot reject it
// before it has read it all, so only a limit stops it. After the first held bytes it
// waits at the barrier, so that every body is in the server at once.
func jsonBody(n int64, b *barrier) io.Reader {
	head := []byte(`{"username":"`)
	rest := n - int64(len(head)) - held
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(repeat{}, held), b, io.LimitReader(repeat{}, rest))
}

// held is how much of each body is sent before the barrier: just under the server's
// 1 MiB limit, so that the server holds it without having refused the body yet.
const held = 1<<20 - 64<<10

var letters = bytes.Repeat([]byte("a"), 32<<10)

type repeat struct{}

func (repeat) Read(p []byte) (int, error) { return copy(p, letters), nil }

// barrier is a reader of nothing that, read once per body, holds each body until all
// have arrived or a moment has passed.
type barrier struct {
	arrived atomic.Int64
	release chan struct{}
}

func (b *barrier) Read([]byte) (int, error) {
	b.arrived.Add(1)
	<-b.release
	return 0, io.EOF
}

func runOversizeAnnounced(ctx context.Context, e *env, r *result) error {
	return runOversizeBodies(ctx, e, r, true)
}

func runOversizeChunked(ctx context.Context, e *env, r *result) error {
	return runOversizeBodies(ctx, e, r, false)
}

func runOversizeBodies(ctx context.Context, e *env, r *result, announce bool) error {
	label := map[bool]string{true: "bodies-announced", false: "bodies-chunked"}[announce]
	s, err := e.startServer(ctx, label, "-store", "sqlite", "-db", filepath.Join(e.dir, label+".db"), "-limiter", "memory")
	if err != nil {
		return err
	}
	defer s.kill()
	c := newClient(s.base, nil, 60*time.Second)
	before := s.rssKiB()
	s.sampleRSS()
	t := &tally{}
	var refused, cut int
	n := e.scale.oversizeBodies
	gate := &barrier{release: make(chan struct{})}
	go func() {
		// Content-Length bodies refused before reading never reach the barrier.
		waitFor(3*time.Second, func() bool { return gate.arrived.Load() >= int64(n) })
		close(gate.release)
	}()
	parallel(n, n, func(i int) {
		const announced, chunked = 16 << 20, 4 << 20
		var body io.Reader
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/auth/login/", nil)
		if announce {
			body = jsonBody(announced, gate)
			req.ContentLength = announced
		} else {
			body = jsonBody(chunked, gate)
			req.ContentLength = -1
		}
		req.Body = io.NopCloser(body)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := c.hc.Do(req)
		rep := reply{start: start, err: err}
		if err == nil {
			rep.status, rep.header = resp.StatusCode, resp.Header
			rep.body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
		}
		rep.dur = time.Since(start)
		t.add(rep)
		resultMu.Lock()
		defer resultMu.Unlock()
		switch {
		case err != nil:
			cut++ // the server closed the connection on a body it would not read
		case rep.status == http.StatusRequestEntityTooLarge || rep.status == http.StatusTooManyRequests:
			refused++
		case rep.status >= 500:
			r.Violations = append(r.Violations, "an oversize body answered "+rep.String())
		}
	})
	peak := s.peakRSS()
	after := s.rssKiB()
	r.addTally(t)
	r.RSS = fmtMB(before) + "→" + fmtMB(peak)
	kind := "16 MiB announced by Content-Length"
	bound := int64(announcedGrowthKiB)
	if !announce {
		kind, bound = "4 MiB chunked", chunkedGrowthKiB(n)
	}
	r.note("%d bodies of %s: %d refused (413/429), %d cut; RSS %s before, %s peak, %s after",
		n, kind, refused, cut, fmtMB(before), fmtMB(peak), fmtMB(after))
	if peak-before > bound {
		r.violate("RSS grew by %s (bound %s)", fmtMB(peak-before), fmtMB(bound))
	}
	return nil
}
