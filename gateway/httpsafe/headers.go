package httpsafe

import (
	"net/http"
	"strings"
	"unicode"
)

// NormalizeHeaderName returns the form under which two header names are
// considered the same by StripIdentityHeaders: surrounding spaces and tabs
// trimmed, ASCII letters lower-cased, and every other ASCII character that
// is not a letter or digit ("_", ".", "~", ...) turned into "-".
//
// Go's canonicalisation keeps "X-User" and "X_User" apart, but many
// upstream stacks merge them: CGI, WSGI, Rack and PHP map "-" to "_" in
// their environment keys, and older Apache turns every non-alphanumeric
// character into "_". A client could therefore smuggle "X_Forwarded_User"
// past a filter that only deletes "X-Forwarded-User". Non-ASCII letters
// that Unicode case folding equates with an ASCII letter (the long s "ſ",
// the Kelvin sign) are mapped to that letter, because some runtimes
// upper-case header names with full Unicode rules ("ſ" -> "S").
func NormalizeHeaderName(s string) string {
	s = strings.Trim(s, " \t")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r < 0x80:
			b.WriteByte('-')
		default:
			b.WriteRune(foldToASCII(r))
		}
	}
	return b.String()
}

// foldToASCII returns the lower-case ASCII letter that r upper-cases,
// lower-cases or case-folds to, if there is one (Python upper-cases the
// dotless "ı" to "I"; Go folds "ſ" with "s"), otherwise unicode.ToLower(r).
// Header names with such runes are not valid tokens and Go's own server
// and client refuse them, so this only matters for headers that reach here
// by another route; over-matching merely deletes a junk header.
func foldToASCII(r rune) rune {
	if u := unicode.ToUpper(r); u < 0x80 {
		return unicode.ToLower(u)
	}
	if l := unicode.ToLower(r); l < 0x80 {
		return l
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < 0x80 {
			return unicode.ToLower(f)
		}
	}
	return unicode.ToLower(r)
}

// StripIdentityHeaders deletes from h every header whose name equals one of
// names under NormalizeHeaderName, whatever spelling the client used, so
// that only the gateway can set identity headers for the upstream. Call it
// on the outgoing request's headers (and on its Trailer map, which some
// servers merge into headers) before setting the trusted values.
//
// It first rewrites every Connection header: tokens that name one of names
// are dropped (the header is deleted if no token is left). A client can
// list any header in Connection, and a proxy removes listed headers as
// hop-by-hop; httputil.ReverseProxy does so after a Director runs, so
// "Connection: X-Forwarded-User" would otherwise delete the identity header
// the gateway just set. Other tokens (keep-alive, Upgrade) are kept.
//
// All keys are inspected, not just canonical ones, because an http.Header
// built by hand or by other code may hold non-canonical keys.
func StripIdentityHeaders(h http.Header, names []string) {
	if len(h) == 0 || len(names) == 0 {
		return
	}
	set := make(map[string]struct{}, len(names))
	for _, n := range names {
		if nn := NormalizeHeaderName(n); nn != "" {
			set[nn] = struct{}{}
		}
	}
	if len(set) == 0 {
		return
	}

	for k, vs := range h {
		if NormalizeHeaderName(k) != "connection" {
			continue
		}
		var kept []string
		dropped := false
		for _, v := range vs {
			for tok := range strings.SplitSeq(v, ",") {
				tok = strings.Trim(tok, " \t")
				if tok == "" {
					continue
				}
				if _, bad := set[NormalizeHeaderName(tok)]; bad {
					dropped = true
					continue
				}
				kept = append(kept, tok)
			}
		}
		if !dropped {
			continue
		}
		if len(kept) == 0 {
			delete(h, k)
		} else {
			h[k] = []string{strings.Join(kept, ", ")}
		}
	}

	// Deleting from a map while ranging over it is well defined in Go.
	for k := range h {
		if _, bad := set[NormalizeHeaderName(k)]; bad {
			delete(h, k)
		}
	}
}
