// Package clientip finds the address to rate-limit (and audit) an HTTP client by, from the
// peer address and, behind trusted proxies only, the X-Forwarded-For chain.
package clientip

import (
	"net/netip"
	"strings"
)

// Address returns the address to rate-limit a client by, given the request's RemoteAddr,
// its X-Forwarded-For header lines in order (http.Header.Values) and the trusted proxies.
//
// It is the IP of remoteAddr unless that peer lies in trustedProxies; then it is the
// rightmost X-Forwarded-For entry (over all lines, in order) that is not itself a trusted
// proxy. X-Forwarded-For is never read when the peer is not a trusted proxy, so a client
// cannot choose its own key. If every entry is a trusted proxy, the leftmost of them is
// used; an entry that is not an IP stops the walk at the last trusted hop before it, so a
// malformed chain is limited by the proxy rather than by a value an attacker chose. The
// Forwarded header (RFC 7239) is not read.
//
// IPv4 addresses (and IPv4-mapped IPv6 addresses) are returned as such, e.g.
// "192.0.2.1". IPv6 addresses are grouped by their /64 prefix, e.g. "2001:db8:1:2::/64",
// because a single host commonly holds a whole /64 and could otherwise evade a per-IP
// limit by rotating addresses. A remoteAddr that is not an IP (e.g. a Unix socket) gives
// "": the address is unknown (restauth then applies no per-address limit to the request,
// as one shared bucket would let any such client lock out all the others), unless
// trustSocketPeer says such a peer is a trusted proxy: then X-Forwarded-For is walked as
// for a trusted proxy's, and "" is returned only when it names no client (absent, all
// trusted proxies, or malformed before any trusted hop).
func Address(remoteAddr string, forwardedFor []string, trustedProxies []netip.Prefix, trustSocketPeer bool) string {
	peer, ok := parseIP(remoteAddr)
	switch {
	case !ok && !trustSocketPeer:
		return ""
	case ok && !trusted(peer, trustedProxies):
		return limitAddr(peer)
	}
	addr := peer // the zero Addr for a socket peer: limitAddr gives ""
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		rest := forwardedFor[i]
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
			if !trusted(ip, trustedProxies) {
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

// trusted reports whether ip lies in one of the prefixes.
func trusted(ip netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// limitAddr is the string Address returns for ip: IPv4 as is, IPv6 as its /64, "" for the
// zero Addr.
func limitAddr(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// Normalize turns an address a caller names ("ip", "ip:port", "[ipv6]:port") into the form
// Address returns: canonical, IPv6 grouped by /64. ok is false when s is not an address.
func Normalize(s string) (addr string, ok bool) {
	ip, ok := parseIP(s)
	if !ok {
		return "", false
	}
	return limitAddr(ip), true
}
