package httpsafe

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// InvalidPath reports whether decoded, a request path with one layer of
// percent-escapes decoded (r.URL.Path), holds a control character (C0,
// DEL or C1) or bytes that are not UTF-8 (%ff, or overlong forms such as
// %c0%af), in that layer or in one that a further decoding reveals ("%2500"
// is a NUL to an app that decodes twice). No web app has a use for such a
// path and many mishandle it (truncation at NUL, header splitting, old
// decoders reading %c0%af as "/"), so the gateway refuses it outright.
//
// It allocates nothing for a path without "%" left after the first
// decoding, which is every ordinary path.
func InvalidPath(decoded string) bool {
	s := decoded
	for round := 0; ; round++ {
		if badPathLayer(s) {
			return true
		}
		if round == maxDecodeRounds || strings.IndexByte(s, '%') < 0 {
			return false
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return false // a literal percent sign: nothing further to decode
		}
		s = d
	}
}

func badPathLayer(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b < 0x20 || b == 0x7f:
			return true
		case b >= 0x80:
			ascii = false
		}
	}
	if ascii {
		return false
	}
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			return true
		}
	}
	return false
}

// DecisionPath is the path access decisions are made on: decoded, with
// backslashes read as slashes (as IIS, some Node and Python stacks and
// every browser do), dot segments resolved and repeated slashes merged
// (CleanPath). decoded is r.URL.Path. It allocates nothing for a clean path
// without backslashes.
func DecisionPath(decoded string) string {
	if strings.IndexByte(decoded, '\\') >= 0 {
		decoded = strings.ReplaceAll(decoded, `\`, "/")
	}
	return CleanPath(decoded)
}

// PathForms are the readings an upstream may make of one request path. The
// gateway forwards the path as the client sent it, so every reading an app
// may make of it must lead to the same decision; the caller refuses a
// request whose readings pick different routes.
type PathForms struct {
	// Main is DecisionPath: encoded slashes read as slashes.
	Main string
	// EscapedSlash is set when the path holds %2F or %5C (any case) or a
	// raw backslash: the escaped_slashes setting applies.
	EscapedSlash bool
	alts         [3]string
	n            int
}

// Alt returns the i-th other reading, for i < Len.
func (f *PathForms) Alt(i int) string { return f.alts[i] }

// Len is the number of other readings.
func (f *PathForms) Len() int { return f.n }

// ReadPath lists the readings of u's path. Besides Main they are:
//
//   - with encoded slashes and backslashes as part of a segment's name, the
//     way Envoy, Go's ServeMux, GitLab and container registries route
//     (present only when the path holds such an escape);
//   - with path parameters (";...") cut from every segment, the way Tomcat
//     and other servlet containers do before matching ("/admin;x" is
//     "/admin" there);
//   - decoded once more, for apps that decode twice ("%252F").
//
// An ordinary path has no other reading and costs no allocation.
func ReadPath(u *url.URL) PathForms {
	f := PathForms{Main: DecisionPath(u.Path)}
	raw := u.RawPath
	if strings.IndexByte(u.Path, '\\') >= 0 || (raw != "" && hasEscapedSlash(raw)) {
		f.EscapedSlash = true
		f.add(CleanPath(keepEscapedSlashes(u)))
	}
	if strings.IndexByte(u.Path, ';') >= 0 {
		f.add(CleanPath(cutPathParams(f.Main)))
	}
	if strings.IndexByte(u.Path, '%') >= 0 {
		if d, err := url.PathUnescape(u.Path); err == nil {
			f.add(DecisionPath(d))
		}
	}
	return f
}

func (f *PathForms) add(p string) {
	if p != f.Main && f.n < len(f.alts) {
		f.alts[f.n] = p
		f.n++
	}
}

// hasEscapedSlash finds %2F or %5C in any case.
func hasEscapedSlash(raw string) bool {
	for i := 0; i+2 < len(raw); i++ {
		if raw[i] != '%' {
			continue
		}
		a, b := raw[i+1], raw[i+2]|0x20
		if (a == '2' && b == 'f') || (a == '5' && b == 'c') {
			return true
		}
	}
	return false
}

// keepEscapedSlashes is u's path decoded except for %2F and %5C, which stay
// escaped (upper case) inside their segment; a raw backslash stays too.
func keepEscapedSlashes(u *url.URL) string {
	raw := u.RawPath
	if raw == "" {
		return u.Path // only raw backslashes, which are already literal here
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '%' || i+2 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		hex := raw[i+1 : i+3]
		if v, err := url.PathUnescape("%" + hex); err == nil && v != "/" && v != `\` {
			b.WriteString(v)
		} else {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(hex))
		}
		i += 2
	}
	return b.String()
}

// cutPathParams removes ";..." up to the end of every segment.
func cutPathParams(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i, seg := range strings.Split(p, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		before, _, _ := strings.Cut(seg, ";")
		b.WriteString(before)
	}
	return b.String()
}

// DecodeEscapedSlashes rewrites u's path for escaped_slashes: decode, so
// that %2F and %5C (and raw backslashes) reach the upstream as "/".
func DecodeEscapedSlashes(u *url.URL) {
	raw := u.EscapedPath()
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) && ((raw[i+1] == '2' && raw[i+2]|0x20 == 'f') || (raw[i+1] == '5' && raw[i+2]|0x20 == 'c')) {
			b.WriteByte('/')
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	if p, err := url.PathUnescape(out); err == nil {
		u.Path = strings.ReplaceAll(p, `\`, "/")
		u.RawPath = out
		if u.EscapedPath() != out {
			u.RawPath = ""
		}
	}
}
