package httpsafe

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzPathDecision feeds raw request paths through the decision the
// gateway makes for every request: a path is public only when its raw form
// is not suspicious and its cleaned form matches a public entry. Whatever
// the encoding, a path that reaches a protected location once decoded and
// resolved is never public.
func FuzzPathDecision(f *testing.F) {
	for _, s := range []string{
		"/", "/public/x", "/public/../secret", "/public/..%2fsecret", "/public/%2e%2e/secret",
		"/public/..;/secret", "//public", "/static", "/static/..%5c..%5csecret", "/public/%252e%252e/secret",
		"/public/\uff0e\uff0e/secret", "/public/%u002e%u002e/secret", "/public/%00", "/a//b/./c/",
		"public/x", "/public/x/../../secret", "/public%2f..%2fsecret", "/public/.%2e/secret",
	} {
		f.Add(s)
	}
	public := []string{"/public/", "/static/", "/healthz"}
	f.Fuzz(func(t *testing.T, raw string) {
		cleaned := CleanPath(raw)
		if !strings.HasPrefix(cleaned, "/") || strings.Contains(cleaned, "//") {
			t.Fatalf("CleanPath(%q) = %q: want one leading slash and no empty segment", raw, cleaned)
		}
		for seg := range strings.SplitSeq(cleaned, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("CleanPath(%q) = %q keeps a dot segment", raw, cleaned)
			}
		}
		if again := CleanPath(cleaned); again != cleaned {
			t.Fatalf("CleanPath(%q) = %q, again = %q; want it stable", raw, cleaned, again)
		}
		if SuspiciousPath(raw) {
			return
		}
		// Not suspicious: one decoding adds no "/", "\\", ";" or dot
		// segment, so what a server behind the gateway decodes is the path
		// the gateway judged.
		dec, err := url.PathUnescape(raw)
		if err != nil {
			t.Fatalf("%q: not suspicious but does not decode: %v", raw, err)
		}
		if strings.Count(dec, "/") != strings.Count(raw, "/") || strings.ContainsAny(dec, "\\\x00") ||
			strings.Count(dec, ";") != strings.Count(raw, ";") {
			t.Fatalf("not suspicious %q decodes to %q", raw, dec)
		}
		if !IsPublicPath(cleaned, public) {
			return
		}
		// Public: every decoding of the raw path resolves to the same
		// public place, so no server behind the gateway that decodes once
		// more can be led elsewhere.
		s := raw
		for range maxDecodeRounds + 1 {
			if strings.Contains(s, "\\") {
				t.Fatalf("public path %q decodes to %q with a backslash", raw, s)
			}
			c := CleanPath(s)
			if !IsPublicPath(c, public) {
				t.Fatalf("public path %q decodes to %q, which resolves to protected %q", raw, s, c)
			}
			for seg := range strings.SplitSeq(s, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("public path %q decodes to %q with a dot segment", raw, s)
				}
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			s = d
		}
	})
}
