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

// StripIdentityHeaders removes every header that is one of names in any
// spelling (case, "_" or any other punctuation for "-", look-alike letters),
// first taking such names out of Connection. See HeaderStripper, which does
// the same without rebuilding the name set on every call.
func StripIdentityHeaders(h http.Header, names []string) {
	NewHeaderStripper(names).Strip(h)
}

// HeaderStripper removes a fixed set of header names in every spelling.
// Build it once; Strip allocates nothing when no header matches, which
// keeps it off the profile of the proxied request path.
type HeaderStripper struct {
	norms []string // normalized names
}

// NewHeaderStripper prepares a stripper for names.
func NewHeaderStripper(names []string) *HeaderStripper {
	s := &HeaderStripper{}
	for _, n := range names {
		if nn := NormalizeHeaderName(n); nn != "" {
			s.norms = append(s.norms, nn)
		}
	}
	return s
}

func (s *HeaderStripper) match(k string) bool {
	for _, n := range s.norms {
		if matchesNormalized(k, n) {
			return true
		}
	}
	return false
}

// matchesNormalized reports whether NormalizeHeaderName(k) == norm without
// allocating for ASCII names (all real ones); others take the slow path.
func matchesNormalized(k, norm string) bool {
	k = strings.Trim(k, " \t")
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			return NormalizeHeaderName(k) == norm
		}
	}
	if len(k) != len(norm) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			c = '-'
		}
		if c != norm[i] {
			return false
		}
	}
	return true
}

// Strip removes the names from h, first from any Connection header (so a
// client cannot make a proxy drop the identity headers set after it), then
// the headers themselves.
func (s *HeaderStripper) Strip(h http.Header) {
	if len(h) == 0 || len(s.norms) == 0 {
		return
	}
	for k, vs := range h {
		if !matchesNormalized(k, "connection") {
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
				if s.match(tok) {
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
	for k := range h {
		if s.match(k) {
			delete(h, k)
		}
	}
}
