package httpsafe

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent r, as far as it can
// be known without believing an attacker.
//
// The starting point is the TCP peer in r.RemoteAddr (4-in-6 unmapped, any
// zone dropped). If the peer is not inside one of the trusted prefixes it
// is the answer: X-Forwarded-For from an untrusted peer is whatever the
// client wanted it to be. If the peer is trusted, every X-Forwarded-For
// line is read as one comma-separated list and walked from the right (the
// entries appended by our own proxies) to the left: the first address that
// is not trusted is returned, since that is the hop where our proxies
// received the request from the outside. If every entry is trusted, the
// left-most one is returned. An entry that is not an IP address (empty,
// "unknown", garbage, a zoned address) stops the walk, and the last good
// address seen (possibly the peer) is returned, because anything further
// left can no longer be tied to a trusted hop. Entries may carry a port
// ("1.2.3.4:5", "[::1]:5") or brackets, as some proxies write them.
//
// The zero netip.Addr is returned when r.RemoteAddr is not an IP address
// (for example on a Unix socket listener); callers must handle that, for
// instance by refusing or by using a fixed bucket for rate limits.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	last := peer
	vals := r.Header.Values("X-Forwarded-For")
	for i := len(vals) - 1; i >= 0; i-- {
		v := vals[i]
		for {
			entry := v
			cut := strings.LastIndexByte(v, ',')
			if cut >= 0 {
				entry, v = v[cut+1:], v[:cut]
			}
			a, ok := parseForwardedAddr(entry)
			if !ok {
				return last
			}
			if !isTrusted(a, trusted) {
				return a
			}
			last = a
			if cut < 0 {
				break
			}
		}
	}
	return last
}

// ForwardedFor returns the X-Forwarded-For, X-Forwarded-Proto and
// X-Forwarded-Host values the gateway should send upstream for r. The
// caller sets these after deleting every client-sent spelling of them (see
// StripIdentityHeaders).
//
// If the peer is trusted, xff is the incoming X-Forwarded-For lines (each
// trimmed, empty ones skipped) joined with ", ", followed by the peer
// address; proto is the incoming X-Forwarded-Proto if it is a single value
// "http" or "https" (any case, returned lower-case), else it is derived
// from r.TLS; host is the incoming X-Forwarded-Host if it is a single valid
// host[:port] (returned lower-case), else r.Host. Lists in
// X-Forwarded-Proto or X-Forwarded-Host are ambiguous about which hop wrote
// which value, so they are not believed.
//
// If the peer is not trusted nothing the client sent is used: xff is the
// peer address, proto comes from r.TLS and host is r.Host. xff is empty
// when the peer address is unknown (see ClientIP).
//
// The incoming X-Forwarded-For is passed on, not validated: the upstream
// must use only its right-most entries (or, better, a header the gateway
// derives from ClientIP), never the left-most, which the client chose.
func ForwardedFor(r *http.Request, trusted []netip.Prefix) (xff, proto, host string) {
	proto = "http"
	if r.TLS != nil {
		proto = "https"
	}
	host = r.Host
	peer := peerAddr(r)
	if !peer.IsValid() {
		return "", proto, host
	}
	if !isTrusted(peer, trusted) {
		return peer.String(), proto, host
	}

	var parts []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		if v = strings.Trim(v, " \t"); v != "" {
			parts = append(parts, v)
		}
	}
	parts = append(parts, peer.String())
	xff = strings.Join(parts, ", ")

	if p, ok := singleHeader(r.Header, "X-Forwarded-Proto"); ok {
		switch strings.ToLower(p) {
		case "http", "https":
			proto = strings.ToLower(p)
		}
	}
	if h, ok := singleHeader(r.Header, "X-Forwarded-Host"); ok {
		if hh, port, isV6, ok := splitHostPort(h); ok {
			if isV6 {
				hh = "[" + hh + "]"
			}
			if port != "" {
				hh += ":" + port
			}
			host = hh
		}
	}
	return xff, proto, host
}

// singleHeader returns the trimmed value of a header sent exactly once and
// holding no list.
func singleHeader(h http.Header, name string) (string, bool) {
	vs := h.Values(name)
	if len(vs) != 1 || strings.Contains(vs[0], ",") {
		return "", false
	}
	v := strings.Trim(vs[0], " \t")
	return v, v != ""
}

// peerAddr parses r.RemoteAddr ("ip:port", "[ip]:port" or a bare ip).
// 4-in-6 addresses are unmapped so an IPv4 client on a dual-stack socket
// matches IPv4 prefixes; the zone is dropped because a zoned address never
// matches a prefix and would make a trusted link-local proxy untrusted.
func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// parseForwardedAddr parses one X-Forwarded-For entry. Zoned addresses are
// refused: a zone is local to the machine that wrote it and means nothing
// here.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	if s == "" {
		return netip.Addr{}, false
	}
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1]
		}
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}, false
		}
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isTrusted reports whether a (already unmapped) lies in one of the
// prefixes. A prefix written in 4-in-6 form ("::ffff:10.0.0.0/104") is also
// applied to the equivalent IPv4 addresses, so it cannot silently fail to
// match after unmapping.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if !p.IsValid() {
			continue
		}
		if p.Contains(a) {
			return true
		}
		if a.Is4() && p.Addr().Is4In6() && p.Bits() >= 96 {
			if q, err := p.Addr().Unmap().Prefix(p.Bits() - 96); err == nil && q.Contains(a) {
				return true
			}
		}
	}
	return false
}

// PeerTrusted reports whether the direct peer of r (r.RemoteAddr) is one of
// the trusted proxies — the same test ClientIP and ForwardedFor use before
// believing any forwarding header.
func PeerTrusted(r *http.Request, trusted []netip.Prefix) bool {
	peer := peerAddr(r)
	return peer.IsValid() && isTrusted(peer, trusted)
}

// RequestHost is the host[:port] the client asked for: the X-Forwarded-Host
// of a trusted proxy when it sent exactly one, else r.Host. It allocates
// nothing, so it can run on every request.
func RequestHost(r *http.Request, trusted []netip.Prefix) string {
	if len(trusted) > 0 && PeerTrusted(r, trusted) {
		if h, ok := singleHeader(r.Header, "X-Forwarded-Host"); ok {
			return h
		}
	}
	return r.Host
}

// RequestScheme is "https" or "http" as the client used it: TLS on this
// connection, or the X-Forwarded-Proto of a trusted proxy, else fallback.
func RequestScheme(r *http.Request, trusted []netip.Prefix, fallback string) string {
	if r.TLS != nil {
		return "https"
	}
	if len(trusted) > 0 && PeerTrusted(r, trusted) {
		if p, ok := singleHeader(r.Header, "X-Forwarded-Proto"); ok {
			switch strings.ToLower(p) {
			case "http", "https":
				return strings.ToLower(p)
			}
		}
	}
	return fallback
}
