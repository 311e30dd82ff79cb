package httpsafe

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCleanRedirect checks what any accepted rd becomes: a local path (one
// leading slash, no scheme or host a browser could read into it) or an
// http(s) URL on an allowed host; ASCII only, no spaces or backslashes,
// and cleaning it again changes nothing.
func FuzzCleanRedirect(f *testing.F) {
	for _, s := range []string{
		"/", "/app?x=1#frag", "/a/./b/../c", "/..//evil.com", "/my%20docs", "/café",
		"https://allowed.com/x?y=1", "HTTPS://ALLOWED.COM/Path", "https://a.example.com:8443/x",
		"http://[2001:db8::1]/x", "http://10.1.2.3/", "https://ports.test:8443/",
		"//evil.com", "/\\evil.com", "/%2f%2fevil.com", "/%252f%252fevil.com", "https://evil.com",
		"https://allowed.com@evil.com/", "https://allowed.com.evil.com/", "https:/evil.com",
		"javascript:alert(1)", "/\t/evil.com", "/%09/evil.com", "https://evil.com%2f.allowed.com/",
		"/a?b=%0d%0aSet-Cookie:x", "https://xn--allowed-.com/", "http://allowed.com:80@evil/",
	} {
		f.Add(s)
	}
	allowed := []string{"allowed.com", ".example.com", "ports.test:8443", "10.1.2.3", "[2001:db8::1]"}
	f.Fuzz(func(t *testing.T, rd string) {
		out, ok := CleanRedirect(rd, allowed)
		if !ok {
			if out != "" {
				t.Fatalf("CleanRedirect(%q) refused but returned %q", rd, out)
			}
			return
		}
		checkRedirectTarget(t, rd, out, allowed)
		again, ok := CleanRedirect(out, allowed)
		if !ok || again != out {
			t.Fatalf("CleanRedirect(%q) = %q, cleaned again = %q, %v; want it unchanged", rd, out, again, ok)
		}
		if local, ok := CleanRedirect(rd, nil); ok && !strings.HasPrefix(local, "/") {
			t.Fatalf("CleanRedirect(%q, no hosts) = %q; want a local path", rd, local)
		}
	})
}

func checkRedirectTarget(t *testing.T, rd, out string, allowed []string) {
	t.Helper()
	if out == "" || len(out) > MaxRedirectLen {
		t.Fatalf("CleanRedirect(%q) = %q: empty or too long", rd, out)
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c <= ' ' || c >= 0x7f || c == '\\' || c == '"' || c == '<' || c == '>' {
			t.Fatalf("CleanRedirect(%q) = %q: byte %q must not appear", rd, out, c)
		}
	}
	if !utf8.ValidString(out) {
		t.Fatalf("CleanRedirect(%q) = %q: not valid UTF-8", rd, out)
	}
	u, err := url.Parse(out)
	if err != nil {
		t.Fatalf("CleanRedirect(%q) = %q does not parse: %v", rd, out, err)
	}
	if strings.HasPrefix(out, "/") {
		// A browser treats "//host" and "/\host" as another host.
		if strings.HasPrefix(out, "//") || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("CleanRedirect(%q) = %q leaves this site", rd, out)
		}
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Opaque != "" {
		t.Fatalf("CleanRedirect(%q) = %q: not a plain http(s) URL", rd, out)
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		t.Fatalf("CleanRedirect(%q) = %q: path %q", rd, out, u.Path)
	}
	if !hostOnList(u.Hostname(), u.Port(), allowed) {
		t.Fatalf("CleanRedirect(%q) = %q: host %q is not allowed", rd, out, u.Host)
	}
}

// hostOnList is the allow-list rule written out again, independently of
// hostAllowed: exact host (and port when the entry has one) or a
// subdomain of a ".suffix" entry.
func hostOnList(host, port string, allowed []string) bool {
	host = strings.ToLower(host)
	for _, e := range allowed {
		if suffix, ok := strings.CutPrefix(e, "."); ok {
			if host == suffix || strings.HasSuffix(host, "."+suffix) {
				return true
			}
			continue
		}
		eh, ep := e, ""
		if strings.HasPrefix(e, "[") {
			end := strings.Index(e, "]")
			eh, ep = e[1:end], strings.TrimPrefix(e[end+1:], ":")
		} else if h, p, ok := strings.Cut(e, ":"); ok {
			eh, ep = h, p
		}
		if host == eh && (ep == "" || ep == port) {
			return true
		}
	}
	return false
}
