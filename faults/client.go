package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the load's client side: requests from many loopback addresses (the
// per-address rate limits would otherwise refuse the load, not the fault), their answers
// and the tally of a case's figures.

// sourceAddrs hands out 127.a.b.c addresses; Linux answers on all of 127.0.0.0/8.
var sourceAddrs atomic.Uint64

func nextSourceIP() net.IP {
	n := sourceAddrs.Add(1)
	return net.IPv4(127, byte(n/62500%250+1), byte(n/250%250+1), byte(n%250+1))
}

// client sends requests to one server, each on a new connection from a new source
// address unless fixedIP is set.
type client struct {
	base string
	hc   *http.Client
}

func newClient(base string, fixedIP net.IP, timeout time.Duration) *client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		ip := fixedIP
		if ip == nil {
			ip = nextSourceIP()
		}
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
		return d.DialContext(ctx, network, addr)
	}
	return &client{base: base, hc: &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
	}}
}

// reply is one request's outcome.
type reply struct {
	status int
	body   []byte
	header http.Header
	start  time.Time
	dur    time.Duration
	err    error // a transport error: no answer
}

func (r reply) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

func (r reply) String() string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	body := r.body
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("%d %s %q", r.status, r.header.Get("Content-Type"), body)
}

// do sends one request; body is JSON-encoded unless it is an io.Reader.
func (c *client) do(ctx context.Context, method, path string, body any, header map[string]string) reply {
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd, contentType = b, "application/json"
	default:
		buf, _ := json.Marshal(b)
		rd, contentType = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return reply{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{start: start, dur: time.Since(start), err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return reply{status: resp.StatusCode, body: data, header: resp.Header, start: start, dur: time.Since(start), err: err}
}

func (c *client) post(ctx context.Context, path string, body any) reply {
	return c.do(ctx, http.MethodPost, path, body, nil)
}

// registration is the body of POST registration/ for a new user.
func registration(username string) map[string]string {
	return map[string]string{"username": username, "email": username + "@example.com",
		"password1": testPassword, "password2": testPassword}
}

const testPassword = "Vq7-mT2!pL9x-faults"

// tally is a case's running figures; safe for concurrent use.
type tally struct {
	mu        sync.Mutex
	requests  int
	acked     int
	status5xx int
	errors    int
	durs      []time.Duration
}

func (t *tally) add(r reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	switch {
	case r.err != nil:
		t.errors++
		return
	case r.status >= 200 && r.status < 300:
		t.acked++
	case r.status >= 500:
		t.status5xx++
	}
	t.durs = append(t.durs, r.dur)
}

// p99 is the 99th percentile of the answered requests' latency.
func (t *tally) p99() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return percentile(t.durs, 0.99)
}

func percentile(durs []time.Duration, q float64) time.Duration {
	if len(durs) == 0 {
		return 0
	}
	s := slices.Clone(durs)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// isJSONDetail reports whether an answer is in the 291 dialect's error shape:
// application/json with a "detail" string.
func isJSONDetail(r reply) bool {
	if ct := r.header.Get("Content-Type"); len(ct) < 16 || ct[:16] != "application/json" {
		return false
	}
	_, ok := r.json()["detail"].(string)
	return ok
}
