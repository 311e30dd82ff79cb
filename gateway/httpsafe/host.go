package httpsafe

import (
	"net/netip"
	"strings"
)

// maxHostLen is the DNS limit on a presentation-form name. Anything longer
// cannot be a real host, so it is rejected before label checks.
const maxHostLen = 253

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" as they
// appear in a URL authority or a Host-like header. The returned host is
// lower-cased; an IPv6 literal is returned in canonical netip form without
// brackets and with isV6 set. It is stricter than net.SplitHostPort on
// purpose: it accepts no zones, no empty ports and no leading-zero ports,
// because every such oddity is a place where two parsers may disagree.
func splitHostPort(hp string) (host, port string, isV6, ok bool) {
	if hp == "" {
		return "", "", false, false
	}
	if hp[0] == '[' {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", false, false
		}
		a, err := netip.ParseAddr(hp[1:end])
		// Is6 also holds for 4-in-6; that is fine, it stays a v6 literal
		// and can only match an identical v6 entry.
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false, false
		}
		rest := hp[end+1:]
		if rest != "" {
			if rest[0] != ':' || !validPort(rest[1:]) {
				return "", "", false, false
			}
			port = rest[1:]
		}
		return a.String(), port, true, true
	}
	h, p, hasPort := strings.Cut(hp, ":")
	if hasPort && !validPort(p) {
		return "", "", false, false
	}
	h = strings.ToLower(h)
	if !validHostName(h) {
		return "", "", false, false
	}
	return h, p, false, true
}

// validPort accepts 1..65535 written in plain decimal without leading zeros,
// so that one port has exactly one spelling.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

// validHostName reports whether h (already lower-case) is a strict dotted
// IPv4 address or a plain ASCII DNS name.
//
// Browsers follow the WHATWG URL standard, which parses any host whose last
// label "looks numeric" as an IPv4 address in decimal, octal or hex
// ("2130706433", "0x7f.1", "127.1", "0177.0.0.1" all mean 127.0.0.1).
// netip.ParseAddr only accepts the canonical four-decimal form, so any other
// host ending in a numeric-looking label is refused: otherwise our idea of
// the host and the browser's would differ. Names must be ASCII (IDNs must
// be given in their xn-- form) so Unicode look-alikes and IDNA mappings such
// as the full-width dot or solidus never reach a comparison. A trailing dot
// is refused: "example.com." resolves like "example.com" but is a different
// origin and a different cookie scope, and no legitimate redirect needs it.
func validHostName(h string) bool {
	if h == "" || len(h) > maxHostLen {
		return false
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Is4()
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return !looksNumeric(labels[len(labels)-1])
}

// looksNumeric mirrors the WHATWG "ends in a number" check for one label:
// all decimal digits, or "0x"/"0X" followed by hex digits (possibly none).
func looksNumeric(l string) bool {
	if strings.HasPrefix(l, "0x") || strings.HasPrefix(l, "0X") {
		for i := 2; i < len(l); i++ {
			if !isHex(l[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return l != ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isIPHost reports whether a host returned by splitHostPort is an IP
// literal. IP hosts only ever match an identical entry, never a suffix.
func isIPHost(h string) bool {
	_, err := netip.ParseAddr(h)
	return err == nil
}
