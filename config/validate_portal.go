package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

const portalExample = "write e.g. \"https://auth.example.com\" or, on one host, \"http://127.0.0.1:9443\""

// validatePortal checks portal_url (an origin: scheme, host, optional port,
// nothing else) and portal_listen, and fills Portal and PortalHost.
func (c *Config) validatePortal() error {
	if c.PortalURL == "" {
		if c.PortalListen != "" {
			return keyErr("portal_listen", "is set but portal_url is empty; set portal_url to the address people open the portal at, e.g. \"http://127.0.0.1:9443\"")
		}
		return nil
	}
	u, err := url.Parse(c.PortalURL)
	if err != nil || !strings.Contains(c.PortalURL, "://") {
		return keyErr("portal_url", "%q is not an absolute URL; %s", c.PortalURL, portalExample)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return keyErr("portal_url", "%q must start with http:// or https://; %s", c.PortalURL, portalExample)
	case u.User != nil:
		return keyErr("portal_url", "must not contain a user name or password; %s", portalExample)
	case u.Path != "" && u.Path != "/":
		return keyErr("portal_url", "%q must not have a path (the pages live under path_prefix on it); %s", c.PortalURL, portalExample)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(c.PortalURL, "#"):
		return keyErr("portal_url", "%q must not have a query or fragment; %s", c.PortalURL, portalExample)
	}
	host := strings.ToLower(u.Hostname())
	if _, err := netip.ParseAddr(host); err != nil && !isHostName(host) {
		return keyErr("portal_url", "%q: %q is not a valid host name; %s", c.PortalURL, u.Hostname(), portalExample)
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || port[0] == '0' {
			return keyErr("portal_url", "%q: port must be a number from 1 to 65535", c.PortalURL)
		}
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = "" // browsers leave the default port out of Host
	}
	hostPort := host
	if strings.Contains(host, ":") {
		hostPort = "[" + host + "]"
	}
	if port != "" {
		hostPort += ":" + port
	}
	c.Portal = &url.URL{Scheme: u.Scheme, Host: hostPort}
	c.PortalHost = hostPort

	if c.PortalListen != "" {
		if p := checkHostPort(c.PortalListen, "127.0.0.1:9443"); p != "" {
			return keyErr("portal_listen", "%s", p)
		}
		for _, other := range []struct{ key, addr string }{{"listen", c.Listen}, {"ops_listen", c.OpsListen}} {
			if listenersClash(c.PortalListen, other.addr) {
				return keyErr("portal_listen", "%q clashes with %s %q; give the portal its own port", c.PortalListen, other.key, other.addr)
			}
		}
	}
	return nil
}

// listenersClash reports whether two listen addresses would bind the same
// port (port 0 picks a free one, so it never clashes).
func listenersClash(a, b string) bool {
	ah, ap, _ := net.SplitHostPort(a)
	bh, bp, _ := net.SplitHostPort(b)
	return ap == bp && ap != "0" && (ah == bh || isWildcard(ah) || isWildcard(bh))
}

// validatePortalCookie names the portal's cookie and keeps it apart from the
// apps' cookie: on a portal that is another port of an app's host the
// browser sends both cookies to both, so only the name tells them apart.
func (c *Config) validatePortalCookie() error {
	if c.Cookie.PortalName == "" {
		c.Cookie.PortalName = DefaultPortalCookieName
		if c.Cookie.Secure {
			c.Cookie.PortalName = DefaultSecurePortalCookieName
		}
	}
	if !isToken(c.Cookie.PortalName) {
		return keyErr("cookie.portal_name", "%q is not a valid cookie name; use letters, digits and !#$%%&'*+-.^_`|~ only, e.g. %q", c.Cookie.PortalName, DefaultPortalCookieName)
	}
	if strings.EqualFold(c.Cookie.PortalName, c.Cookie.Name) {
		return keyErr("cookie.portal_name", "%q is the same as cookie.name; the portal's cookie needs a name of its own, e.g. %q", c.Cookie.PortalName, DefaultPortalCookieName)
	}
	for _, prefix := range []string{"__Host-", "__Secure-"} {
		if hasPrefixFold(c.Cookie.PortalName, prefix) && !c.Cookie.Secure {
			return keyErr("cookie.secure", "must be true because cookie.portal_name %q starts with %q (browsers reject such cookies without Secure); rename the cookie for plain-HTTP development", c.Cookie.PortalName, prefix)
		}
	}
	return nil
}

// PortalPage is the absolute URL of a page on the portal, e.g.
// PortalPage("/.gateway/account").
func (c *Config) PortalPage(path string) string {
	return fmt.Sprintf("%s://%s%s", c.Portal.Scheme, c.PortalHost, path)
}
