package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

func (c *Config) validateListeners() error {
	if p := checkHostPort(c.Listen, DefaultListen); p != "" {
		return keyErr("listen", "%s", p)
	}
	if p := checkHostPort(c.OpsListen, DefaultOpsListen); p != "" {
		return keyErr("ops_listen", "%s", p)
	}
	lh, lp, _ := net.SplitHostPort(c.Listen)
	oh, op, _ := net.SplitHostPort(c.OpsListen)
	if (c.Listen == c.OpsListen && lp != "0") || (lp == op && lp != "0" && (lh == oh || isWildcard(lh) || isWildcard(oh))) {
		return keyErr("ops_listen", "%q clashes with listen %q; give the ops listener its own port, e.g. %q", c.OpsListen, c.Listen, DefaultOpsListen)
	}
	return nil
}

// checkHostPort returns a problem with addr as a listen address, or "".
func checkHostPort(addr, example string) string {
	if addr == "" {
		return fmt.Sprintf("is empty; set host:port such as %q", example)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port; write e.g. %q (host may be empty for all interfaces)", addr, example)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("%q: port %q must be a number from 0 to 65535", addr, port)
	}
	return ""
}

func isWildcard(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}

func (c *Config) validateUpstreams() error {
	if c.Upstream == "" && len(c.Routes) == 0 {
		return keyErr("upstream", "is required unless routes are set; point it at the app behind the gateway, e.g. \"http://127.0.0.1:3000\"")
	}
	if c.Upstream != "" {
		u, p := parseUpstream(c.Upstream)
		if p != "" {
			return keyErr("upstream", "%s", p)
		}
		c.UpstreamURL = u
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		key := fmt.Sprintf("routes[%d]", i)
		if r.Host != "" {
			if p := checkRouteHost(r.Host); p != "" {
				return keyErr(key+".host", "%s", p)
			}
		}
		switch {
		case r.PathPrefix == "":
			return keyErr(key+".path_prefix", "is required; use \"/\" to match every path")
		case !strings.HasPrefix(r.PathPrefix, "/"):
			return keyErr(key+".path_prefix", "%q must start with \"/\"", r.PathPrefix)
		case strings.ContainsFunc(r.PathPrefix, isSpaceOrControl) || strings.ContainsAny(r.PathPrefix, "?#"):
			return keyErr(key+".path_prefix", "%q must be a plain path without spaces, query or fragment", r.PathPrefix)
		case strings.Contains(r.PathPrefix, ".."):
			return keyErr(key+".path_prefix", "%q must not contain \"..\"", r.PathPrefix)
		}
		if r.Upstream == "" {
			return keyErr(key+".upstream", "is required, e.g. \"http://127.0.0.1:3000\"")
		}
		u, p := parseUpstream(r.Upstream)
		if p != "" {
			return keyErr(key+".upstream", "%s", p)
		}
		r.UpstreamURL = u
		for j, prev := range c.Routes[:i] {
			// Prefixes match without regard to case (see README "Paths").
			if strings.EqualFold(prev.Host, r.Host) && strings.EqualFold(prev.PathPrefix, r.PathPrefix) {
				return keyErr(key, "has the same host %q and path_prefix %q as routes[%d] (prefixes match without regard to case); remove one", r.Host, r.PathPrefix, j)
			}
		}
	}
	return nil
}

// parseUpstream parses an upstream URL, or returns a problem.
func parseUpstream(s string) (*url.URL, string) {
	const example = "write e.g. \"http://127.0.0.1:3000\""
	u, err := url.Parse(s)
	if err == nil && !strings.Contains(s, "://") {
		return nil, fmt.Sprintf("%q must be an absolute http:// or https:// URL; %s", u.Redacted(), example)
	}
	if err != nil {
		if !strings.Contains(s, "://") && !strings.Contains(s, "@") {
			return nil, fmt.Sprintf("%q must be an absolute http:// or https:// URL; %s", s, example)
		}
		if strings.Contains(s, "@") {
			return nil, "is not a valid URL; " + example
		}
		return nil, fmt.Sprintf("%q is not a valid URL; %s", s, example)
	}
	shown := u.Redacted()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Sprintf("%q must be an absolute http:// or https:// URL; %s", shown, example)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Sprintf("%q has no host; %s", shown, example)
	case u.User != nil:
		return nil, fmt.Sprintf("%q must not contain a user name or password", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Sprintf("%q must not have a query (\"?...\")", shown)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, fmt.Sprintf("%q must not have a fragment (\"#...\")", shown)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return nil, fmt.Sprintf("%q: port must be a number from 1 to 65535", shown)
		}
	}
	return u, ""
}

// checkRouteHost checks a route's host: a lower-case host name or an IP
// address, without port (requests are matched on the host name alone).
func checkRouteHost(h string) string {
	if strings.Contains(h, "://") {
		return fmt.Sprintf("%q must be a host name without scheme, e.g. \"app.example.com\"", h)
	}
	if strings.ContainsAny(h, "/?#") {
		return fmt.Sprintf("%q must be a host name without a path, e.g. \"app.example.com\"", h)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	if strings.ContainsAny(h, ":[]") {
		return fmt.Sprintf("%q must not include a port: requests are matched on the host name alone", h)
	}
	if h != strings.ToLower(h) {
		return fmt.Sprintf("%q must be lower-case; write %q", h, strings.ToLower(h))
	}
	if !isHostName(h) {
		return fmt.Sprintf("%q is not a valid host name", h)
	}
	return ""
}

func (c *Config) validateTrustedProxies() error {
	prefixes := make([]netip.Prefix, 0, len(c.TrustedProxies))
	for i, s := range c.TrustedProxies {
		p, ok := parseTrusted(s)
		if !ok {
			return keyErr(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR; write e.g. \"10.0.0.0/8\" or \"192.0.2.7\"", s)
		}
		prefixes = append(prefixes, p)
	}
	c.TrustedPrefixes = prefixes
	return nil
}

// parseTrusted parses a CIDR or a single address (as a /32 or /128).
// IPv4-mapped IPv6 forms are turned into plain IPv4, so they match the
// addresses net/http reports.
func parseTrusted(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

func (c *Config) validateRedirectHosts() error {
	for i, h := range c.RedirectHosts {
		key := fmt.Sprintf("redirect_hosts[%d]", i)
		bare := strings.TrimPrefix(h, ".")
		switch {
		case h == "":
			return keyErr(key, "is empty; remove the entry")
		case strings.Contains(h, "://"):
			return keyErr(key, "%q must be a host name without scheme; write %q", h, strings.SplitN(strings.SplitN(h, "://", 2)[1], "/", 2)[0])
		case strings.Contains(h, "*"):
			return keyErr(key, "%q: wildcards are not supported; write \".example.com\" to allow every subdomain of example.com", h)
		case strings.ContainsAny(h, "/?#"):
			return keyErr(key, "%q must be a host name without a path", h)
		case strings.Contains(h, ":"):
			return keyErr(key, "%q must be a host name without a port", h)
		case h != strings.ToLower(h):
			return keyErr(key, "%q must be lower-case; write %q", h, strings.ToLower(h))
		case !isHostName(bare):
			return keyErr(key, "%q is not a valid host name (a leading \".\" allows every subdomain)", h)
		case bare != h && (!strings.Contains(bare, ".") || isIP(bare)):
			return keyErr(key, "%q is too broad: a \".\" entry needs a domain of at least two labels, such as \".example.com\"", h)
		}
	}
	return nil
}

// isHostName reports whether s is a lower-case DNS name (dot-separated
// labels of a-z, 0-9 and "-", not starting or ending with "-", the last one
// not numeric) or an IPv4 address.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is4()
	}
	labels := strings.Split(s, ".")
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-') {
				return false
			}
		}
	}
	// A name ending in a number ("1.2.3", "host.0x1f") is read as an IPv4
	// address by browsers; only real IPv4 addresses are accepted above.
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != "" && !strings.HasPrefix(last, "0x")
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
