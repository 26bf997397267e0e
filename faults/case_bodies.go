package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"time"
)

// Case (e): 300 parallel oversize bodies to login/, half announced by Content-Length,
// half chunked; the server's resident memory stays flat (F6: 39 → 533 MB before).

// maxBodyKiB is the server's body limit (Config.MaxBodyBytes' default, 1 MiB).
const maxBodyKiB = 1 << 10

// rssGrowthBound is how much the server's VmRSS may grow under n bodies. Refused by
// Content-Length, a body costs nothing; a chunked one is read until the limit, and today
// the JSON decoder may hold up to the limit of each while it does, twice over before the
// garbage collector runs. So the bound is the limit (not the body) per chunked body, ×2:
// F6's reading of whole bodies (4 MiB each here) passes it several times over.
func rssGrowthBound(n int) int64 { return int64(n/2) * maxBodyKiB * 2 }

// jsonBody is an endless-looking JSON string value of n bytes: a decoder cannot reject it
// before it has read it all, so only a limit stops it.
func jsonBody(n int64) io.Reader {
	head := []byte(`{"username":"`)
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(repeat('a'), n-int64(len(head))))
}

type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func runOversizeBodies(ctx context.Context, e *env, r *result) error {
	s, err := e.startServer(ctx, "bodies", "-store", "sqlite", "-db", filepath.Join(e.dir, "bodies.db"), "-limiter", "memory")
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
	parallel(n, n, func(i int) {
		const announced, chunked = 16 << 20, 4 << 20
		var body io.Reader
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/auth/login/", nil)
		if i%2 == 0 {
			body = jsonBody(announced)
			req.ContentLength = announced
		} else {
			body = jsonBody(chunked)
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
	r.note("%d bodies (16 MiB announced, 4 MiB chunked): %d refused (413/429), %d cut; RSS %s before, %s peak, %s after",
		n, refused, cut, fmtMB(before), fmtMB(peak), fmtMB(after))
	if bound := rssGrowthBound(n); peak-before > bound {
		r.violate("RSS grew by %s (bound %s)", fmtMB(peak-before), fmtMB(bound))
	}
	return nil
}
