package httpsafe

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"testing"
)

var testTrusted = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("fd00::/8"),
	netip.MustParsePrefix("::ffff:192.168.0.0/112"), // 4-in-6 form of 192.168.0.0/16
}

func newReq(remote string, hdr map[string][]string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}, Host: "gw.example.com"}
	for k, vs := range hdr {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string // "" = invalid Addr
	}{
		{name: "untrusted peer no xff", remote: "203.0.113.7:5555", want: "203.0.113.7"},
		{name: "untrusted peer spoofed xff", remote: "203.0.113.7:5555", xff: []string{"1.2.3.4"}, want: "203.0.113.7"},
		{name: "untrusted peer spoofed trusted-looking xff", remote: "203.0.113.7:5555", xff: []string{"10.0.0.1"}, want: "203.0.113.7"},
		{name: "untrusted peer rotating xff a", remote: "203.0.113.7:1", xff: []string{"198.51.100.1, 198.51.100.2"}, want: "203.0.113.7"},
		{name: "untrusted peer rotating xff b", remote: "203.0.113.7:2", xff: []string{"198.51.100.99"}, want: "203.0.113.7"},
		{name: "untrusted peer garbage xff", remote: "203.0.113.7:2", xff: []string{"garbage"}, want: "203.0.113.7"},
		{name: "trusted peer no xff", remote: "10.0.0.2:80", want: "10.0.0.2"},
		{name: "trusted peer one hop", remote: "10.0.0.2:80", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "trusted chain skips trusted hops", remote: "10.0.0.2:80", xff: []string{"203.0.113.9, 10.0.0.5, 10.0.0.4"}, want: "203.0.113.9"},
		{name: "client spoof left of real client ignored", remote: "10.0.0.2:80", xff: []string{"1.1.1.1, 203.0.113.9, 10.0.0.5"}, want: "203.0.113.9"},
		{name: "spoofed trusted entry left of real client", remote: "10.0.0.2:80", xff: []string{"10.9.9.9, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "multiple header lines walked as one list", remote: "10.0.0.2:80", xff: []string{"1.1.1.1, 203.0.113.9", "10.0.0.5", "10.0.0.4"}, want: "203.0.113.9"},
		{name: "all trusted gives left-most", remote: "10.0.0.2:80", xff: []string{"10.0.0.9, 10.0.0.8"}, want: "10.0.0.9"},
		{name: "garbage right-most stops at peer", remote: "10.0.0.2:80", xff: []string{"203.0.113.9, garbage"}, want: "10.0.0.2"},
		{name: "garbage after trusted hop", remote: "10.0.0.2:80", xff: []string{"203.0.113.9, unknown, 10.0.0.7"}, want: "10.0.0.7"},
		{name: "empty entry stops", remote: "10.0.0.2:80", xff: []string{"203.0.113.9,,10.0.0.7"}, want: "10.0.0.7"},
		{name: "trailing comma stops at peer", remote: "10.0.0.2:80", xff: []string{"203.0.113.9,"}, want: "10.0.0.2"},
		{name: "garbage left of client irrelevant", remote: "10.0.0.2:80", xff: []string{"<script>, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "entry with port", remote: "10.0.0.2:80", xff: []string{"203.0.113.9:4711"}, want: "203.0.113.9"},
		{name: "ipv6 client via trusted v6 proxy", remote: "[fd00::1]:443", xff: []string{"2001:db8::42"}, want: "2001:db8::42"},
		{name: "bracketed ipv6 entry", remote: "[fd00::1]:443", xff: []string{"[2001:db8::42]"}, want: "2001:db8::42"},
		{name: "bracketed ipv6 entry with port", remote: "[fd00::1]:443", xff: []string{"[2001:db8::42]:1234"}, want: "2001:db8::42"},
		{name: "zoned entry is garbage", remote: "[fd00::1]:443", xff: []string{"fe80::1%eth0"}, want: "fd00::1"},
		{name: "untrusted ipv6 peer", remote: "[2001:db8::66]:443", xff: []string{"2001:db8::42"}, want: "2001:db8::66"},
		{name: "mapped peer unmapped and trusted", remote: "[::ffff:10.0.0.2]:80", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "mapped entry unmapped", remote: "10.0.0.2:80", xff: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
		{name: "mapped trusted entry skipped", remote: "10.0.0.2:80", xff: []string{"203.0.113.9, ::ffff:10.0.0.3"}, want: "203.0.113.9"},
		{name: "4in6 prefix trusts v4 peer", remote: "192.168.1.1:80", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "peer without port", remote: "10.0.0.2", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "unix socket peer", remote: "@", xff: []string{"203.0.113.9"}, want: ""},
		{name: "empty peer", remote: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReq(tt.remote, map[string][]string{"X-Forwarded-For": tt.xff})
			got := ClientIP(r, testTrusted)
			if tt.want == "" {
				if got.IsValid() {
					t.Errorf("ClientIP = %v, want invalid", got)
				}
				return
			}
			if want := netip.MustParseAddr(tt.want); got != want {
				t.Errorf("ClientIP = %v, want %v", got, want)
			}
		})
	}
}

func TestClientIPNoTrust(t *testing.T) {
	r := newReq("10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}})
	if got := ClientIP(r, nil); got != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("ClientIP with no trusted prefixes = %v", got)
	}
}

func TestForwardedFor(t *testing.T) {
	tests := []struct {
		name                      string
		remote                    string
		tls                       bool
		hdr                       map[string][]string
		wantXFF, wantProto, wantH string
	}{
		{
			name: "untrusted ignores everything", remote: "203.0.113.7:1",
			hdr:     map[string][]string{"X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.com"}},
			wantXFF: "203.0.113.7", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "untrusted tls", remote: "203.0.113.7:1", tls: true,
			hdr:     map[string][]string{"X-Forwarded-Proto": {"http"}},
			wantXFF: "203.0.113.7", wantProto: "https", wantH: "gw.example.com",
		},
		{
			name: "untrusted mapped peer", remote: "[::ffff:203.0.113.7]:1",
			wantXFF: "203.0.113.7", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted no headers", remote: "10.0.0.2:1",
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted appends peer", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-For": {"203.0.113.9, 10.0.0.5", " 10.0.0.4 ", ""}, "X-Forwarded-Proto": {"HTTPS"}, "X-Forwarded-Host": {"App.Example.com:8443"}},
			wantXFF: "203.0.113.9, 10.0.0.5, 10.0.0.4, 10.0.0.2", wantProto: "https", wantH: "app.example.com:8443",
		},
		{
			name: "trusted bad proto falls back to tls", remote: "10.0.0.2:1", tls: true,
			hdr:     map[string][]string{"X-Forwarded-Proto": {"javascript"}},
			wantXFF: "10.0.0.2", wantProto: "https", wantH: "gw.example.com",
		},
		{
			name: "trusted proto list not believed", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-Proto": {"https, http"}},
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted proto repeated not believed", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-Proto": {"https", "https"}},
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted invalid host falls back", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-Host": {"evil.com/x"}},
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted host with userinfo falls back", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-Host": {"a@evil.com"}},
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted host list falls back", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-Host": {"a.com, evil.com"}},
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted host bad port falls back", remote: "10.0.0.2:1",
			hdr:     map[string][]string{"X-Forwarded-Host": {"a.com:99999"}},
			wantXFF: "10.0.0.2", wantProto: "http", wantH: "gw.example.com",
		},
		{
			name: "trusted ipv6 host", remote: "[fd00::1]:1",
			hdr:     map[string][]string{"X-Forwarded-Host": {"[2001:DB8::1]:8080"}, "X-Forwarded-For": {"2001:db8::42"}},
			wantXFF: "2001:db8::42, fd00::1", wantProto: "http", wantH: "[2001:db8::1]:8080",
		},
		{
			name: "unknown peer", remote: "@",
			hdr:     map[string][]string{"X-Forwarded-For": {"1.2.3.4"}},
			wantXFF: "", wantProto: "http", wantH: "gw.example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReq(tt.remote, tt.hdr)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			xff, proto, host := ForwardedFor(r, testTrusted)
			if xff != tt.wantXFF || proto != tt.wantProto || host != tt.wantH {
				t.Errorf("ForwardedFor = %q, %q, %q; want %q, %q, %q", xff, proto, host, tt.wantXFF, tt.wantProto, tt.wantH)
			}
		})
	}
}
