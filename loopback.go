package restauth

import (
	"net"
	"strings"
)

// isLoopbackHost reports whether host (a name or an IP address, bracketed or not) is the
// local machine. Plain-http endpoints are expected there during development, so they earn
// no "not https" warning.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
