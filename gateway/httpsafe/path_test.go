package httpsafe

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := map[string]string{
		"":                  "/",
		"/":                 "/",
		"//":                "/",
		"a/b":               "/a/b",
		"/a/b/":             "/a/b/",
		"/a//b//":           "/a/b/",
		"//public":          "/public",
		"/public/../secret": "/secret",
		"/public/./x":       "/public/x",
		"/../../etc/passwd": "/etc/passwd",
		"/a/..":             "/",
		"/a/../":            "/",
		"/static/..":        "/",
		"/public/..;/x":     "/public/..;/x", // not a dot segment to us: see SuspiciousPath
		"/public/%2e%2e/x":  "/public/%2e%2e/x",
	}
	for in, want := range tests {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsPublicPath(t *testing.T) {
	public := []string{"/static/", "/healthz", "/public/", "", "assets/"}
	tests := []struct {
		path string
		want bool
	}{
		{"/static/app.js", true},
		{"/static/", true},
		{"/static", false}, // a prefix entry does not open its bare directory
		{"/static/a/b/c.css", true},
		{"/staticx", false},
		{"/staticx/app.js", false},
		{"/Static/app.js", false},
		{"/healthz", true},
		{"/healthz/", false}, // exact entries are exact
		{"/healthz/x", false},
		{"/healthzx", false},
		{"/assets/x.png", true}, // unrooted entry is rooted, not a suffix
		{"/x/assets/x.png", false},
		{"/", false}, // the empty entry must not make "/" public
		{"/secret", false},
		// Raw attack paths, after CleanPath.
		{CleanPath("/public/../secret"), false},
		{CleanPath("//public"), false}, // "/public" is not under the "/public/" entry
		{CleanPath("//public/x"), true},
		{CleanPath("/public/x/../../secret"), false},
	}
	for _, tt := range tests {
		if got := IsPublicPath(tt.path, public); got != tt.want {
			t.Errorf("IsPublicPath(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if !IsPublicPath("/anything", []string{"/"}) {
		t.Error(`entry "/" should make everything public`)
	}
	if IsPublicPath("/anything", nil) {
		t.Error("no entries should make nothing public")
	}
}

func TestSuspiciousPath(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		// Ordinary paths.
		{"/", false},
		{"/public/style.css", false},
		{"/static/", false},
		{"/static", false},
		{"//public", false}, // cleaned to /public and forwarded cleaned
		{"/a%20b", false},
		{"/caf%C3%A9", false},
		{"/files/v1.2/report..old", false}, // ".." inside a name is not a segment
		{"/a;jsessionid=1", false},         // path parameter without dots
		{"/100%25", false},                 // a literal percent sign
		{"/a-%7E-b", false},
		// Dot segments.
		{"/public/../secret", true},
		{"/public/./x", true},
		{"/public/..", true},
		// Encoded slash, backslash, dot, semicolon.
		{"/public/..%2fsecret", true},
		{"/public/..%2Fsecret", true},
		{"/public%2f..%2fsecret", true},
		{"/public/..%5csecret", true},
		{"/public/..%5Csecret", true},
		{"/public/%2e%2e/secret", true},
		{"/public/%2E%2E/secret", true},
		{"/public/.%2e/secret", true},
		{"/public/file%2ehtml", true},
		{"/public/..%3b/secret", true},
		// Double and triple encoding.
		{"/public/..%252fsecret", true},
		{"/public/%252e%252e/secret", true},
		{"/public/%25252e%25252e/secret", true},
		{"/public/%255c", true},
		// Tomcat path parameters.
		{"/public/..;/secret", true},
		{"/public/..;jsessionid=x/secret", true},
		{"/public/.;/secret", true},
		{"/public;x=1/..;/secret", true},
		// Backslashes and controls.
		{"/public\\..\\secret", true},
		{"/public/..\\secret", true},
		{"/public/\x00", true},
		{"/public/%00", true},
		{"/public/%00.css", true},
		{"/public/%0a", true},
		{"/public/%0D", true},
		{"/public/%1f", true},
		{"/public/%7F", true},
		{"/public/\t", true},
		{"/public/%c2%85", true}, // C1 control NEL
		// Overlong UTF-8, invalid UTF-8, IIS %u, malformed escapes.
		{"/public/%c0%ae%c0%ae/secret", true},
		{"/public/%ff", true},
		{"/public/%u002e%u002e/secret", true},
		{"/public/%zz", true},
		{"/public/%", true},
		// Unicode look-alikes, raw and encoded.
		{"/public/\uff0e\uff0e\uff0fsecret", true},
		{"/public/%EF%BC%8E%EF%BC%8E/secret", true},
		{"/public/..%ef%bc%8fsecret", true},
		{"/public/..\u2215secret", true},
	}
	for _, tt := range tests {
		if got := SuspiciousPath(tt.raw); got != tt.want {
			t.Errorf("SuspiciousPath(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// TestPublicPathDecision runs the combination the gateway uses: a request
// is public only if its raw path is not suspicious and its cleaned path
// matches a public entry.
func TestPublicPathDecision(t *testing.T) {
	public := []string{"/public/", "/static/"}
	tests := []struct {
		raw, decoded string
		want         bool
	}{
		{"/public/x", "/public/x", true},
		{"/public/../secret", "/public/../secret", false},
		{"/public/..%2fsecret", "/public/../secret", false},
		{"/public/%2e%2e/secret", "/public/../secret", false},
		{"/public/..;/secret", "/public/..;/secret", false},
		{"//public", "//public", false},
		{"/static", "/static", false},
		{"/static/", "/static/", true},
		{"/static/..%5c..%5csecret", "/static/..\\..\\secret", false},
	}
	for _, tt := range tests {
		got := !SuspiciousPath(tt.raw) && IsPublicPath(CleanPath(tt.decoded), public)
		if got != tt.want {
			t.Errorf("public(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// TestSuspiciousPathOnParsedRequest checks the caller contract: what
// net/http makes of a raw request line, read back through
// r.URL.EscapedPath(), still shows the encoding that made it suspicious.
func TestSuspiciousPathOnParsedRequest(t *testing.T) {
	tests := []struct {
		target string
		want   bool
	}{
		{"/public/x.css", false},
		{"/public/..%2fsecret", true},
		{"/public/%2e%2e/secret", true},
		{"/public/..;/secret", true},
		{"/public/..%5csecret", true},
		{"/public/../secret", true},
		{"/public/%00", true},
		{"/public/x?next=..%2f", false}, // the query is not the path
	}
	for _, tt := range tests {
		raw := "GET " + tt.target + " HTTP/1.1\r\nHost: gw\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatalf("%q: %v", tt.target, err)
		}
		if got := SuspiciousPath(r.URL.EscapedPath()); got != tt.want {
			t.Errorf("SuspiciousPath(EscapedPath of %q = %q) = %v, want %v", tt.target, r.URL.EscapedPath(), got, tt.want)
		}
	}
}
