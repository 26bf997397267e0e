package clientip

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAddress(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.0.2.254/32"),
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		socket  bool // trustSocketPeer
		want    string
	}{
		{"no proxies", "198.51.100.7:5123", nil, nil, false, "198.51.100.7"},
		{"no proxies ignores XFF", "198.51.100.7:5123", []string{"203.0.113.9"}, nil, false, "198.51.100.7"},
		{"untrusted peer with spoofed XFF", "198.51.100.7:5123", []string{"10.1.1.1, 203.0.113.9"}, proxies, false, "198.51.100.7"},
		{"trusted proxy, single client", "10.0.0.2:80", []string{"203.0.113.9"}, proxies, false, "203.0.113.9"},
		{"trusted proxy chain, spoofed left part", "10.0.0.2:80", []string{"1.1.1.1, 203.0.113.9, 10.0.0.5 ,192.0.2.254"}, proxies, false, "203.0.113.9"},
		{"chain over several header lines", "10.0.0.2:80", []string{"1.1.1.1, 203.0.113.9", "10.0.0.5", "192.0.2.254"}, proxies, false, "203.0.113.9"},
		{"trusted proxy without XFF", "10.0.0.2:80", nil, proxies, false, "10.0.0.2"},
		{"all entries trusted: leftmost", "10.0.0.2:80", []string{"10.9.9.9, 10.0.0.5"}, proxies, false, "10.9.9.9"},
		{"garbage stops at last trusted hop", "10.0.0.2:80", []string{"203.0.113.9, nonsense, 10.0.0.5"}, proxies, false, "10.0.0.5"},
		{"empty entry stops too", "10.0.0.2:80", []string{"203.0.113.9,,"}, proxies, false, "10.0.0.2"},
		{"XFF entry with port", "10.0.0.2:80", []string{"203.0.113.9:4711"}, proxies, false, "203.0.113.9"},
		{"XFF bracketed IPv6", "10.0.0.2:80", []string{"[2001:db8:1:2::77]"}, proxies, false, "2001:db8:1:2::/64"},
		{"IPv6 grouped by /64", "[2001:db8:aa:bb:cc:dd:ee:ff]:443", nil, nil, false, "2001:db8:aa:bb::/64"},
		{"IPv6 same /64 same key", "[2001:db8:aa:bb::1]:443", nil, nil, false, "2001:db8:aa:bb::/64"},
		{"IPv6 zone dropped", "[fe80::1%eth0]:443", nil, nil, false, "fe80::/64"},
		{"IPv6 trusted proxy", "[fd00::1]:443", []string{"2001:db8:5::9"}, proxies, false, "2001:db8:5::/64"},
		{"IPv4-mapped IPv6 peer", "[::ffff:198.51.100.7]:80", nil, nil, false, "198.51.100.7"},
		{"IPv4-mapped IPv6 trusted proxy", "[::ffff:10.0.0.2]:80", []string{"203.0.113.9"}, proxies, false, "203.0.113.9"},
		{"RemoteAddr without port", "198.51.100.7", nil, nil, false, "198.51.100.7"},
		{"malformed RemoteAddr", "not-an-ip:80", []string{"203.0.113.9"}, proxies, false, ""},
		{"empty RemoteAddr", "", []string{"203.0.113.9"}, proxies, false, ""},
		{"unix socket RemoteAddr", "@", nil, proxies, false, ""},
		{"unix socket peer's XFF ignored unless trusted", "@", []string{"203.0.113.9"}, nil, false, ""},
		{"trusted unix socket proxy", "@", []string{"203.0.113.9"}, nil, true, "203.0.113.9"},
		{"trusted unix socket proxy, empty RemoteAddr", "", []string{"1.1.1.1, 2001:db8:7:8::1"}, nil, true, "2001:db8:7:8::/64"},
		{"trusted unix socket proxy, chain", "@", []string{"1.1.1.1, 203.0.113.9, 10.0.0.5"}, proxies, true, "203.0.113.9"},
		{"trusted unix socket proxy without XFF", "@", nil, proxies, true, ""},
		{"trusted unix socket proxy, garbage first", "@", []string{"203.0.113.9, nonsense"}, proxies, true, ""},
		{"trusted unix socket proxy, all entries trusted", "@", []string{"10.9.9.9, 10.0.0.5"}, proxies, true, "10.9.9.9"},
		{"socket trust leaves IP peers alone", "198.51.100.7:5123", []string{"203.0.113.9"}, nil, true, "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Address(tt.remote, tt.xff, tt.trusted, tt.socket))
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"203.0.113.7", "203.0.113.7", true},
		{"203.0.113.7:4431", "203.0.113.7", true},
		{"[2001:db8::1]:80", "2001:db8::/64", true},
		{"::ffff:192.0.2.1", "192.0.2.1", true},
		{"not an address", "", false},
		{"", "", false},
	} {
		got, ok := Normalize(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
