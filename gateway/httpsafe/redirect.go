package httpsafe

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRedirectLen bounds the length in bytes of a redirect target, both as
// received and as returned. Real return-to URLs are short; a long one is
// either an attack or would overflow the cookie or form field it is kept in.
const MaxRedirectLen = 2048

// maxDecodeRounds bounds repeated percent-decoding. Each round peels one
// layer ("%252F" -> "%2F" -> "/"); a value still changing after this many
// rounds is refused rather than trusted.
const maxDecodeRounds = 4

// CleanRedirect validates rd, the post-login "return to" target taken from
// the request, and returns the normalised target to redirect to and true,
// or "" and false if rd must not be used (the caller then falls back to a
// fixed default such as "/").
//
// Two forms are accepted:
//
//   - A local absolute path: "/app?x=1#frag". The path part is cleaned like
//     CleanPath (dot segments resolved, repeated slashes collapsed, a
//     trailing slash kept), so the result never starts with "//".
//   - When allowedHosts is not empty, an absolute "http" or "https" URL (the
//     scheme in any case, returned lower-case) without userinfo, whose
//     lower-cased host matches an entry of allowedHosts. An entry
//     "app.example.com" matches exactly that host; an entry ".example.com"
//     matches "example.com" itself and every subdomain at any depth (the
//     parent is included because an operator who trusts all of example.com's
//     subdomains trusts example.com too, and it spares a second entry). An
//     entry without a port allows any port; an entry with a port
//     ("example.com:8443") allows only that port, compared literally (no
//     default-port equivalence). IP hosts match only an identical IP entry.
//     Invalid entries never match; see CheckRedirectHosts.
//
// Everything else is refused, in particular: scheme-relative "//host" and
// its disguises ("/\\host", "/\t/host", "/%2F%2Fhost"); any backslash; any
// control character, space or Unicode space/format character anywhere
// (browsers silently drop tabs and newlines, so "/\t/evil.com" becomes
// "//evil.com"); percent-encoded control characters anywhere and encoded
// "/", "\\" or "." in the path, also when double-encoded; malformed
// percent-escapes; every other scheme; userinfo ("https://ok.com@evil.com");
// non-ASCII, trailing-dot, numeric-looking (decimal/octal/hex IPv4) and
// zoned IPv6 hosts; relative references ("app", "?x", "#x"); more than
// MaxRedirectLen bytes; invalid UTF-8.
//
// The result is percent-encoded where browsers would encode anyway
// (non-ASCII bytes) and additionally for the characters " ' < > `, so it
// cannot break out of a quoted HTML attribute or header; callers must still
// HTML-escape it when writing it into a page.
func CleanRedirect(rd string, allowedHosts []string) (string, bool) {
	if rd == "" || len(rd) > MaxRedirectLen || !utf8.ValidString(rd) {
		return "", false
	}
	for _, r := range rd {
		if badRedirectRune(r) {
			return "", false
		}
	}

	var out string
	if rd[0] == '/' {
		local, ok := cleanLocalTarget(rd)
		if !ok {
			return "", false
		}
		out = local
	} else {
		abs, ok := cleanAbsoluteTarget(rd, allowedHosts)
		if !ok {
			return "", false
		}
		out = abs
	}
	if len(out) > MaxRedirectLen {
		return "", false
	}
	return out, true
}

// badRedirectRune lists characters that may never appear raw in a redirect
// target. Backslash is included because browsers treat it as "/" in http(s)
// URLs; spaces and controls because browsers strip or reinterpret them, and
// because they enable header and log injection; Unicode spaces and format
// characters (zero-width, bidi overrides) because they make a target display
// differently from what it is.
func badRedirectRune(r rune) bool {
	return r == '\\' || r <= ' ' || r == 0x7f ||
		unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// cleanAbsoluteTarget handles "http(s)://host[:port][/path][?q][#f]".
// Parsing is done by hand rather than with url.Parse so that exactly the
// browser's notion of where the authority ends ("/", "?" or "#"; "\\" was
// already refused) decides what the host is.
func cleanAbsoluteTarget(rd string, allowedHosts []string) (string, bool) {
	if len(allowedHosts) == 0 {
		return "", false
	}
	var scheme, rest string
	switch {
	case hasPrefixFold(rd, "https://"):
		scheme, rest = "https", rd[len("https://"):]
	case hasPrefixFold(rd, "http://"):
		scheme, rest = "http", rd[len("http://"):]
	default:
		// javascript:, data:, vbscript:, ftp:, "http:/x", "http:x", ...
		return "", false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, remainder := rest[:end], rest[end:]
	// "@" means userinfo, which is how "https://ok.com@evil.com" goes to
	// evil.com. "%" in a host is percent-decoded by browsers before IDNA,
	// so refuse it instead of guessing the decoded host.
	if strings.ContainsAny(authority, "@%") {
		return "", false
	}
	host, port, isV6, ok := splitHostPort(authority)
	if !ok || !hostAllowed(host, port, allowedHosts) {
		return "", false
	}
	if remainder == "" || remainder[0] != '/' {
		// "https://ok.com", "https://ok.com?x" -> path "/".
		remainder = "/" + remainder
	}
	local, ok := cleanLocalTarget(remainder)
	if !ok {
		return "", false
	}
	hp := host
	if isV6 {
		hp = "[" + host + "]"
	}
	if port != "" {
		hp += ":" + port
	}
	return scheme + "://" + hp + local, true
}

// cleanLocalTarget validates and normalises "/path[?query][#fragment]".
func cleanLocalTarget(s string) (string, bool) {
	pathEnd := strings.IndexAny(s, "?#")
	if pathEnd < 0 {
		pathEnd = len(s)
	}
	p, rest := s[:pathEnd], s[pathEnd:]
	// "//host" is scheme-relative: the browser would leave the site.
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "", false
	}
	if !redirectPathOK(p) {
		return "", false
	}

	var query, frag string
	hasQuery, hasFrag := false, false
	if strings.HasPrefix(rest, "?") {
		hasQuery = true
		query, frag, hasFrag = strings.Cut(rest[1:], "#")
	} else if strings.HasPrefix(rest, "#") {
		hasFrag = true
		frag = rest[1:]
	}
	if !redirectComponentOK(query) || !redirectComponentOK(frag) {
		return "", false
	}

	var b strings.Builder
	b.WriteString(escapeRedirect(CleanPath(p)))
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(escapeRedirect(query))
	}
	if hasFrag {
		b.WriteByte('#')
		b.WriteString(escapeRedirect(frag))
	}
	return b.String(), true
}

// redirectPathOK checks the path of a redirect target at every decoding
// layer. An encoded "/" or "\\" is refused because the target application,
// or a framework in front of it, may decode it and then treat the result
// as a path or as another redirect ("/%2F%2Fevil.com" -> "///evil.com").
// An encoded "." is refused because browsers resolve "%2e%2e" as ".." while
// CleanPath does not, so the cleaned path and the visited path would differ.
func redirectPathOK(p string) bool { return decodedLayersOK(p, true) }

// redirectComponentOK checks a query or fragment: no encoded control
// characters at any decoding layer (a decoded CR/LF is how a later header
// write becomes header injection) and no malformed escapes. Encoded "/",
// "\\", "." and spaces are ordinary data here and are allowed.
func redirectComponentOK(c string) bool { return decodedLayersOK(c, false) }

// decodedLayersOK decodes s layer by layer (at most maxDecodeRounds more)
// and checks each: no decoded control character (nor backslash in a path),
// no encoded "/", "\\" or "." in a path, and no malformed escape in s
// itself (a literal "%" that only appears after decoding is data).
func decodedLayersOK(s string, path bool) bool {
	for round := 0; ; round++ {
		if round > 0 && hasDecodedControl(s, path) {
			return false
		}
		if path {
			l := strings.ToLower(s)
			if strings.Contains(l, "%2f") || strings.Contains(l, "%5c") || strings.Contains(l, "%2e") {
				return false
			}
		}
		if !strings.Contains(s, "%") {
			return true
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return round > 0
		}
		if round == maxDecodeRounds {
			return false
		}
		s = d
	}
}

// hasDecodedControl reports C0/C1 controls and DEL in a decoded layer, and
// backslashes too when checking a path. Invalid UTF-8 is tolerated here
// (some applications use Latin-1 paths); it is never a control character.
func hasDecodedControl(s string, backslash bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			continue
		}
		if r < ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (backslash && r == '\\') {
			return true
		}
	}
	return false
}

// escapeRedirect percent-encodes non-ASCII bytes (as a browser would) and
// the characters that could end an HTML attribute or start markup. Both
// are meaning-preserving under percent-decoding.
func escapeRedirect(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80, c == '"', c == '\'', c == '<', c == '>', c == '`':
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// redirectEntry is one parsed allowedHosts entry.
type redirectEntry struct {
	host   string
	port   string // "" = any port
	suffix bool   // ".example.com" form
}

// parseRedirectEntry parses an allowedHosts entry; ok is false for entries
// that can never match safely.
func parseRedirectEntry(e string) (redirectEntry, bool) {
	e = strings.ToLower(strings.TrimSpace(e))
	if rest, ok := strings.CutPrefix(e, "."); ok {
		// A suffix entry must be a DNS name of at least two labels: ".com"
		// would trust a whole top-level domain, and an IP cannot have
		// subdomains.
		if strings.ContainsAny(rest, ":[]") || !validHostName(rest) || isIPHost(rest) ||
			!strings.Contains(rest, ".") {
			return redirectEntry{}, false
		}
		return redirectEntry{host: rest, suffix: true}, true
	}
	host, port, _, ok := splitHostPort(e)
	if !ok {
		return redirectEntry{}, false
	}
	return redirectEntry{host: host, port: port}, true
}

// hostAllowed matches a parsed target host and port against the entries.
func hostAllowed(host, port string, allowedHosts []string) bool {
	ip := isIPHost(host)
	for _, raw := range allowedHosts {
		e, ok := parseRedirectEntry(raw)
		if !ok {
			continue
		}
		if e.port != "" && e.port != port {
			continue
		}
		if host == e.host {
			return true
		}
		// The "." before the base is what stops "evilexample.com" from
		// matching ".example.com".
		if e.suffix && !ip && strings.HasSuffix(host, "."+e.host) {
			return true
		}
	}
	return false
}

// CheckRedirectHosts reports the first entry of a redirect host allow-list
// that CleanRedirect would ignore, so configuration can fail at start-up
// instead of silently never matching. Valid entries are "host", "host:port",
// "[v6]", "[v6]:port", an IPv4 address, or ".domain.tld" (at least two
// labels, no port).
func CheckRedirectHosts(entries []string) error {
	for _, e := range entries {
		if strings.TrimSpace(e) == "" {
			return errors.New("empty redirect host entry")
		}
		if _, ok := parseRedirectEntry(e); !ok {
			return fmt.Errorf("invalid redirect host entry %q", e)
		}
	}
	return nil
}
