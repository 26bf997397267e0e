package sso

import (
	"io"
	"net/http"
	"time"
)

// maxBodyBytes bounds every answer read from a provider.
const maxBodyBytes = 1 << 20

// NewClient is the client every provider request goes through: a copy of base (nil: a
// client with a 10-second timeout) whose transport caps response bodies.
func NewClient(base *http.Client) *http.Client {
	client := &http.Client{Timeout: 10 * time.Second}
	if base != nil {
		copied := *base
		client = &copied
	}
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	client.Transport = limitedTransport{rt}
	return client
}

// limitedTransport caps response bodies from providers (discovery, keys, tokens,
// profiles), so a hostile or broken provider cannot make the server read without end.
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err == nil && res.Body != nil {
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(res.Body, maxBodyBytes), res.Body}
	}
	return res, err
}
