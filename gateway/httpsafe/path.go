package httpsafe

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// CleanPath returns the canonical form of a request path: rooted (a missing
// leading "/" is added), "." and ".." segments resolved without ever
// climbing above "/", repeated slashes collapsed, and a trailing slash kept
// if p had one and the result is not "/" (because "/dir/" and "/dir" are
// different resources to many applications, and public-path prefixes are
// written with the slash). The empty path becomes "/".
//
// CleanPath works on whatever form it is given and decodes nothing: give it
// the decoded r.URL.Path for matching, and forward that cleaned path to the
// upstream so the upstream acts on exactly the path that was checked.
func CleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if c != "/" && strings.HasSuffix(p, "/") {
		c += "/"
	}
	return c
}

// IsPublicPath reports whether cleaned, a path already passed through
// CleanPath, is reachable without a session. An entry ending in "/" is a
// prefix: "/static/" matches "/static/app.js" and, as a convenience, the
// bare "/static" too. Any other entry matches only that exact path
// (case-sensitive, so "/Login" does not match "/login" and needs a session,
// the safe direction). Entries are themselves passed through CleanPath so a
// sloppy entry cannot widen the match; empty entries are ignored (they
// would otherwise clean to "/" and make everything public). An entry of
// exactly "/" does make every path public.
//
// Callers must also check SuspiciousPath on the raw path and refuse public
// treatment when it reports true: CleanPath keeps "..;" and encoded
// sequences verbatim, and IsPublicPath cannot see what an upstream would
// make of them.
func IsPublicPath(cleaned string, public []string) bool {
	for _, e := range public {
		if e == "" {
			continue
		}
		e = CleanPath(e)
		if strings.HasSuffix(e, "/") {
			if strings.HasPrefix(cleaned, e) {
				return true
			}
			continue
		}
		if cleaned == e {
			return true
		}
	}
	return false
}

// SuspiciousPath reports whether raw, the escaped request path as received
// (r.URL.EscapedPath(), without the query), contains anything that
// different servers, frameworks or file systems are known to resolve
// differently, so that the path the gateway matched may not be the resource
// the upstream serves. It is deliberately broad: a true result only means
// "requires a session", which is harmless for genuine browser traffic,
// since browsers never send these forms for ordinary links.
//
// It reports true for:
//   - encoded "/", "\\", "." or ";" (%2f, %5c, %2e, %3b in any case), at any
//     decoding depth (so "%252f" too), and IIS "%uXXXX" escapes;
//   - raw or encoded NUL and other control characters, and backslashes;
//   - "." or ".." segments (browsers resolve them before sending; CleanPath
//     resolves them too, but their presence marks a crafted request);
//   - ";" in a segment that contains ".." or is "." before the ";" (Tomcat
//     and other servlet containers strip path parameters before resolving
//     dot segments, so "/public/..;/admin" reaches "/admin");
//   - malformed percent-escapes, and decoded bytes that are not UTF-8
//     (overlong forms such as %c0%ae were "." to old decoders);
//   - Unicode look-alikes of "." "/" "\\" that best-fit or NFKC
//     normalisation in some stacks turns into the real thing.
func SuspiciousPath(raw string) bool {
	s := raw
	for round := 0; ; round++ {
		if suspiciousLayer(s) {
			return true
		}
		if !strings.Contains(s, "%") {
			return false
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return round == 0
		}
		if round == maxDecodeRounds {
			return true
		}
		s = d
	}
}

// suspiciousLayer applies every check to one decoding layer of the path.
func suspiciousLayer(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '\\' || (r >= 0x80 && r <= 0x9f) || lookalike(r) {
			return true
		}
	}
	l := strings.ToLower(s)
	for _, enc := range [...]string{"%2f", "%5c", "%2e", "%3b"} {
		if strings.Contains(l, enc) {
			return true
		}
	}
	if hasEncodedControl(l) || hasIISUnicodeEscape(l) {
		return true
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "." || seg == ".." {
			return true
		}
		if before, _, ok := strings.Cut(seg, ";"); ok {
			if before == "." || strings.Contains(seg, "..") {
				return true
			}
		}
	}
	return false
}

// hasEncodedControl finds %00-%1f and %7f in a lower-cased layer.
func hasEncodedControl(l string) bool {
	for i := 0; i+2 < len(l); i++ {
		if l[i] != '%' {
			continue
		}
		a, b := l[i+1], l[i+2]
		if (a == '0' || a == '1') && isHex(b) || a == '7' && b == 'f' {
			return true
		}
	}
	return false
}

// hasIISUnicodeEscape finds "%u" followed by four hex digits, the
// non-standard escape IIS decodes ("%u002e" is ".").
func hasIISUnicodeEscape(l string) bool {
	for i := 0; i+5 < len(l); i++ {
		if l[i] == '%' && l[i+1] == 'u' &&
			isHex(l[i+2]) && isHex(l[i+3]) && isHex(l[i+4]) && isHex(l[i+5]) {
			return true
		}
	}
	return false
}

// lookalike lists code points that Windows best-fit mapping or Unicode
// compatibility normalisation turn into ".", "/" or "\\".
func lookalike(r rune) bool {
	switch r {
	case '\uff0e', // FULLWIDTH FULL STOP
		'\u2024', // ONE DOT LEADER
		'\ufe52', // SMALL FULL STOP
		'\uff0f', // FULLWIDTH SOLIDUS
		'\u2215', // DIVISION SLASH
		'\u2044', // FRACTION SLASH
		'\uff3c', // FULLWIDTH REVERSE SOLIDUS
		'\ufe68', // SMALL REVERSE SOLIDUS
		'\u29f5': // REVERSE SOLIDUS OPERATOR
		return true
	}
	return false
}
