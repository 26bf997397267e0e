package restauth

import (
	"context"
	"net/netip"

	"github.com/restauth/restauth/internal/clientip"
)

// Client is the other end of a request, as the operations see it: per-address rate
// limits count against Addr, and audit events name Addr and UserAgent. The HTTP handlers
// and Middleware put it into the request's context (WithClient) from the connection and
// Config.TrustedProxies; a host calling the Service directly for a remote client should do
// the same, or the per-address limits do not apply to its calls.
type Client struct {
	// Addr is the client's IP address ("203.0.113.7", "2001:db8::1"; a port is ignored).
	// IPv6 addresses are counted per /64, as one host usually holds the whole block. A
	// value that is not an IP address is used as it is, as an opaque client identifier.
	// Empty means unknown: the per-account rules still apply, the per-address ones do not
	// (a shared "unknown address" bucket would let one caller lock everybody out).
	Addr string
	// UserAgent is the client's User-Agent, copied into audit events (cut to 200 bytes).
	UserAgent string
}

type clientKey struct{}

// WithClient returns a context carrying c, for the Service's operations to apply
// per-address rate limits and to name the client in audit events.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFromContext returns the Client put into ctx by WithClient, and whether there is one.
func ClientFromContext(ctx context.Context) (Client, bool) {
	switch v := ctx.Value(clientKey{}).(type) {
	case Client:
		return v, true
	case *call:
		return v.client, true // the 291 router's request state
	}
	return Client{}, false
}

// maxUserAgentBytes bounds the user agent an audit event carries.
const maxUserAgentBytes = 200

// clientAddr is the client's address as the rate limits and audit events use it ("" when
// unknown): an IP address in canonical form, IPv6 grouped by /64.
func clientAddr(ctx context.Context) string {
	c, ok := ClientFromContext(ctx)
	if !ok || c.Addr == "" {
		return ""
	}
	if addr, ok := clientip.Normalize(c.Addr); ok {
		return addr
	}
	if p, err := netip.ParsePrefix(c.Addr); err == nil {
		return p.Masked().String() // already grouped, e.g. by the HTTP layer
	}
	return c.Addr
}
