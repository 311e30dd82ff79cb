package httpsafe

import (
	"strings"
	"testing"
)

func TestCleanRedirect(t *testing.T) {
	allowed := []string{"allowed.com", ".example.com", "ports.test:8443", "10.1.2.3", "[2001:db8::1]"}
	tests := []struct {
		name    string
		rd      string
		allowed []string // nil means the shared list above
		local   bool     // use no allowed hosts
		want    string   // "" means rejected
	}{
		// Accepted local paths.
		{name: "root", rd: "/", want: "/"},
		{name: "path query fragment", rd: "/app?x=1#frag", want: "/app?x=1#frag"},
		{name: "trailing slash kept", rd: "/app/", want: "/app/"},
		{name: "dot segments resolved", rd: "/a/./b/../c", want: "/a/c"},
		{name: "dotdot cannot climb", rd: "/../../etc", want: "/etc"},
		{name: "inner double slash collapsed", rd: "/a//b", want: "/a/b"},
		{name: "dotdot then double slash", rd: "/..//evil.com", want: "/evil.com"},
		{name: "encoded space in path", rd: "/my%20docs", want: "/my%20docs"},
		{name: "encoded slash in query ok", rd: "/app?next=%2Fhome%3Fa%3D1", want: "/app?next=%2Fhome%3Fa%3D1"},
		{name: "nested encoding in query ok", rd: "/s?q=100%2525", want: "/s?q=100%2525"},
		{name: "double slash in query ok", rd: "/app?u=//x", want: "/app?u=//x"},
		{name: "unicode escaped", rd: "/café", want: "/caf%C3%A9"},
		{name: "quotes escaped", rd: `/a"b'<c>`, want: "/a%22b%27%3Cc%3E"},
		{name: "fragment only after path", rd: "/a#b#c", want: "/a#b#c"},
		{name: "local allowed without hosts", rd: "/x", local: true, want: "/x"},

		// Accepted absolute URLs.
		{name: "exact host", rd: "https://allowed.com/x?y=1", want: "https://allowed.com/x?y=1"},
		{name: "exact host no path", rd: "https://allowed.com", want: "https://allowed.com/"},
		{name: "exact host query no path", rd: "https://allowed.com?a=b", want: "https://allowed.com/?a=b"},
		{name: "scheme and host case", rd: "HTTPS://ALLOWED.COM/Path", want: "https://allowed.com/Path"},
		{name: "http ok", rd: "http://allowed.com/", want: "http://allowed.com/"},
		{name: "any port for portless entry", rd: "https://allowed.com:8080/", want: "https://allowed.com:8080/"},
		{name: "suffix subdomain", rd: "https://a.example.com/", want: "https://a.example.com/"},
		{name: "suffix deep subdomain", rd: "https://a.b.example.com/", want: "https://a.b.example.com/"},
		{name: "suffix parent", rd: "https://example.com/", want: "https://example.com/"},
		{name: "entry with matching port", rd: "https://ports.test:8443/", want: "https://ports.test:8443/"},
		{name: "ipv4 entry", rd: "http://10.1.2.3:8080/", want: "http://10.1.2.3:8080/"},
		{name: "ipv6 entry", rd: "https://[2001:DB8:0::1]/", want: "https://[2001:db8::1]/"},
		{name: "fragment with at sign", rd: "https://allowed.com#@evil.com", want: "https://allowed.com/#@evil.com"},

		// Rejected: basics.
		{name: "empty", rd: ""},
		{name: "relative", rd: "app"},
		{name: "dot relative", rd: "./app"},
		{name: "query only", rd: "?x=1"},
		{name: "fragment only", rd: "#x"},
		{name: "too long", rd: "/" + strings.Repeat("a", MaxRedirectLen)},
		{name: "too long after escaping", rd: "/" + strings.Repeat("é", 700)},
		{name: "invalid utf8", rd: "/a\xffb"},

		// Rejected: scheme-relative and disguises.
		{name: "scheme relative", rd: "//evil.com"},
		{name: "triple slash", rd: "///evil.com"},
		{name: "slash backslash", rd: "/\\evil.com"},
		{name: "double backslash", rd: "\\\\evil"},
		{name: "backslash in path", rd: "/a\\b"},
		{name: "backslash in query", rd: "/a?b=\\"},
		{name: "tab", rd: "/\t/evil.com"},
		{name: "newline", rd: "/\n/evil.com"},
		{name: "carriage return", rd: "/a\r\nSet-Cookie:x"},
		{name: "space", rd: "/a b"},
		{name: "leading space", rd: " /a"},
		{name: "nul", rd: "/a\x00"},
		{name: "del", rd: "/a\x7f"},
		{name: "nbsp", rd: "/a\u00a0b"},
		{name: "zero width space", rd: "/\u200b/evil.com"},
		{name: "bidi override", rd: "/\u202eevil"},
		{name: "c1 control", rd: "/a\u0085"},
		{name: "encoded double slash", rd: "/%2F%2Fevil.com"},
		{name: "encoded double slash lower", rd: "/%2f%2fevil.com"},
		{name: "encoded backslash", rd: "/%5Cevil.com"},
		{name: "double encoded slash", rd: "/%252F%252Fevil.com"},
		{name: "triple encoded backslash", rd: "/%25255Cevil.com"},
		{name: "encoded dots", rd: "/a/%2e%2e/b"},
		{name: "encoded tab in path", rd: "/%09/evil.com"},
		{name: "encoded tab in query", rd: "/a?x=%09"},
		{name: "encoded crlf in query", rd: "/a?x=%0d%0aSet-Cookie:%20x"},
		{name: "double encoded lf in fragment", rd: "/a#%250a"},
		{name: "encoded nul", rd: "/a%00"},
		{name: "encoded c1", rd: "/a?x=%C2%85"},
		{name: "malformed escape", rd: "/a%zz"},
		{name: "malformed escape in query", rd: "/a?x=%"},

		// Rejected: schemes.
		{name: "javascript", rd: "javascript:alert(1)"},
		{name: "javascript mixed case", rd: "JaVaScRiPt:alert(1)"},
		{name: "javascript slashes", rd: "javascript://allowed.com/%0Aalert(1)"},
		{name: "data", rd: "data:text/html,<script>alert(1)</script>"},
		{name: "vbscript", rd: "vbscript:msgbox(1)"},
		{name: "ftp", rd: "ftp://allowed.com/"},
		{name: "http single slash", rd: "http:/allowed.com"},
		{name: "http no slash", rd: "http:allowed.com"},
		{name: "http backslashes", rd: "https:\\\\allowed.com"},
		{name: "empty authority", rd: "https:///allowed.com"},
		{name: "scheme relative to allowed", rd: "//allowed.com/x"},
		{name: "absolute without allowed hosts", rd: "https://allowed.com/", local: true},

		// Rejected: host confusion.
		{name: "other host", rd: "https://evil.com/"},
		{name: "userinfo", rd: "https://allowed.com@evil.com/"},
		{name: "userinfo with port", rd: "https://allowed.com:443@evil.com/"},
		{name: "backslash userinfo", rd: "https://evil.com\\@allowed.com/"},
		{name: "userinfo on allowed", rd: "https://user:pw@allowed.com/"},
		{name: "lookalike suffix", rd: "https://allowed.com.evil.com/"},
		{name: "lookalike prefix", rd: "https://evilallowed.com/"},
		{name: "dot entry lookalike", rd: "https://notexample.com/"},
		{name: "dot entry suffix attack", rd: "https://example.com.evil.com/"},
		{name: "subdomain of exact entry", rd: "https://a.allowed.com/"},
		{name: "trailing dot", rd: "https://allowed.com./"},
		{name: "double trailing dot", rd: "https://allowed.com../"},
		{name: "empty label", rd: "https://a..example.com/"},
		{name: "percent in host", rd: "https://allowed%2ecom/"},
		{name: "encoded hash in host", rd: "https://evil.com%23.example.com/"},
		{name: "question mark splits host", rd: "https://evil.com?.allowed.com"},
		{name: "fullwidth dot in host", rd: "https://allowed\uff0ecom/"},
		{name: "idn host", rd: "https://allowéd.com/"},
		{name: "wrong port for port entry", rd: "https://ports.test:9443/"},
		{name: "no port for port entry", rd: "https://ports.test/"},
		{name: "empty port", rd: "https://allowed.com:/"},
		{name: "port zero", rd: "https://allowed.com:0/"},
		{name: "port too big", rd: "https://allowed.com:65536/"},
		{name: "port leading zero", rd: "https://allowed.com:0443/"},
		{name: "decimal ip", rd: "http://168886787/"},
		{name: "hex ip", rd: "http://0xa.1.2.3/"},
		{name: "octal ip", rd: "http://012.1.2.3/"},
		{name: "short ip", rd: "http://10.1.515/"},
		{name: "numeric last label", rd: "http://a.example.com.123/"},
		{name: "ipv4 mapped ipv6", rd: "http://[::ffff:10.1.2.3]/"},
		{name: "ipv6 zone", rd: "http://[2001:db8::1%25eth0]/"},
		{name: "unbracketed ipv6", rd: "http://2001:db8::1/"},
		{name: "other ipv6", rd: "http://[::1]/"},
		{name: "scheme relative path on allowed", rd: "https://allowed.com//evil.com"},
		{name: "encoded slash path on allowed", rd: "https://allowed.com/%2F%2Fevil.com"},
		{name: "tld dot entry ignored", rd: "https://evil.com/", allowed: []string{".com"}},
		{name: "empty entry ignored", rd: "https://evil.com/", allowed: []string{""}},
		{name: "wildcard entry ignored", rd: "https://a.example.com/", allowed: []string{"*.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts := allowed
			if tt.allowed != nil {
				hosts = tt.allowed
			}
			if tt.local {
				hosts = nil
			}
			got, ok := CleanRedirect(tt.rd, hosts)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("CleanRedirect(%q) = %q, %v; want %q, %v", tt.rd, got, ok, tt.want, tt.want != "")
			}
			if ok {
				// Whatever is accepted must be stable and never scheme-relative.
				if again, ok2 := CleanRedirect(got, hosts); !ok2 || again != got {
					t.Errorf("not idempotent: %q -> %q, %v", got, again, ok2)
				}
				if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n ") {
					t.Errorf("unsafe output %q", got)
				}
			}
		})
	}
}

func TestCheckRedirectHosts(t *testing.T) {
	good := []string{"a.com", "a.com:8443", ".example.com", "10.0.0.1", "[::1]", "[::1]:8080", " A.COM "}
	if err := CheckRedirectHosts(good); err != nil {
		t.Errorf("CheckRedirectHosts(%q) = %v", good, err)
	}
	for _, bad := range []string{"", ".com", "*.a.com", "a.com.", ".a.com:443", "https://a.com", "a.com/x", "1.2.3.4/8", ".10.0.0.1", "a..com", "0x7f.1"} {
		if err := CheckRedirectHosts([]string{bad}); err == nil {
			t.Errorf("CheckRedirectHosts(%q) = nil, want error", bad)
		}
	}
}
