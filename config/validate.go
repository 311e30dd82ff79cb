package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Limits enforced by Validate.
const (
	// MinSecretBytes is the shortest accepted secret or previous secret.
	MinSecretBytes = 32
	// MinPasswordLength is the lowest accepted password.min_length.
	MinPasswordLength = 8
	// MaxPasswordLength is the highest accepted password.min_length.
	MaxPasswordLength = 1024
	// MaxRememberDevice is the longest accepted mfa.remember_device.
	MaxRememberDevice = 90 * 24 * time.Hour
	// MinReauthWindow is the shortest accepted session.reauth_window.
	MinReauthWindow = time.Minute
)

const secretGenerateAdvice = "generate one with `openssl rand -base64 48`"

// Validate checks the configuration and fills the parsed fields
// (UpstreamURL, Routes[i].UpstreamURL, TrustedPrefixes). It returns the
// first problem found, as an *Error whose message is one line:
//
//	invalid configuration: <yaml.key> (<GATEWAY_ENV>): <problem and remedy>
//
// Checks run in the order of the fields in Config.
func (c *Config) Validate() error {
	c.UpstreamURL = nil
	c.TrustedPrefixes = nil
	c.Portal, c.PortalHost = nil, ""
	for i := range c.Routes {
		c.Routes[i].UpstreamURL = nil
	}
	checks := []func() error{
		c.validateListeners,
		c.validatePortal, // validate_portal.go
		c.validateUpstreams,
		c.validatePathPrefix,
		c.validatePublicPaths,
		c.validateEscapedSlashes,
		c.validateTrustedProxies,
		c.validateRedirectHosts,
		c.validateSecrets,
		c.validateGeoIPDB,
		c.validateRedis,
		c.validateCookie,
		c.validateSession,
		c.validateRouteRules, // rules.go
		c.validateHeaders,
		c.validateAssertion,
		c.validatePassword,
		c.validateMFA,
		c.validateLog,
		c.validateRateLimit, // validate_limits.go
		c.validateThrottle,
		c.validateUI,   // ui.go
		c.validateSMTP, // mail.go
		c.validateNotify,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validatePathPrefix() error {
	p := c.PathPrefix
	switch {
	case p == "":
		return keyErr("path_prefix", "is empty; use e.g. %q", DefaultPathPrefix)
	case !strings.HasPrefix(p, "/"):
		return keyErr("path_prefix", "%q must start with \"/\", e.g. %q", p, DefaultPathPrefix)
	case p == "/":
		return keyErr("path_prefix", "must not be \"/\" alone (the gateway's pages would hide the whole app); use e.g. %q", DefaultPathPrefix)
	case strings.HasSuffix(p, "/"):
		return keyErr("path_prefix", "%q must not end with \"/\"; write %q", p, strings.TrimRight(p, "/"))
	case strings.Contains(p, ".."):
		return keyErr("path_prefix", "%q must not contain \"..\"", p)
	case strings.ContainsFunc(p, isSpaceOrControl):
		return keyErr("path_prefix", "%q must not contain spaces", p)
	case strings.ContainsAny(p, "?#%"):
		return keyErr("path_prefix", "%q must be a plain path without \"?\", \"#\" or %%-escapes", p)
	case strings.Contains(p, "//"):
		return keyErr("path_prefix", "%q must not contain \"//\"", p)
	}
	return nil
}

func (c *Config) validatePublicPaths() error {
	for i, p := range c.PublicPaths {
		if err := c.checkPublicEntry(fmt.Sprintf("public_paths[%d]", i), p); err != nil {
			return err
		}
	}
	return nil
}

// checkPublicEntry checks one entry of public_paths or of a route's public.
func (c *Config) checkPublicEntry(key, p string) error {
	if !strings.HasPrefix(p, "/") {
		return keyErr(key, "%q must start with \"/\" (end it with \"/\" to match a whole subtree)", p)
	}
	if strings.ContainsFunc(p, isSpaceOrControl) || strings.ContainsAny(p, "?#") {
		return keyErr(key, "%q must be a plain path without spaces, query or fragment", p)
	}
	inner := strings.TrimSuffix(p[1:], "/")
	if inner != "" {
		for seg := range strings.SplitSeq(inner, "/") {
			switch seg {
			case "..":
				return keyErr(key, "%q must not contain a \"..\" segment", p)
			case ".", "":
				return keyErr(key, "%q never matches: paths are matched after cleaning, so write it without \"//\" or \"/./\"", p)
			}
		}
	}
	if p == c.PathPrefix || strings.HasPrefix(p, c.PathPrefix+"/") {
		return keyErr(key, "%q lies under path_prefix %q; the gateway's own pages are not governed by public paths, remove it", p, c.PathPrefix)
	}
	return nil
}

func (c *Config) validateEscapedSlashes() error {
	switch c.EscapedSlashes {
	case EscapedSlashesKeep, EscapedSlashesReject, EscapedSlashesDecode:
		return nil
	}
	return keyErr("escaped_slashes", "%q is not valid; use keep (forward %%2F as sent), reject (answer 400) or decode (forward it as \"/\")", c.EscapedSlashes)
}

func (c *Config) validateSecrets() error {
	switch n := len(c.Secret); {
	case n == 0:
		return keyErr("secret", "is required; %s", secretGenerateAdvice)
	case n < MinSecretBytes:
		return keyErr("secret", "is %d bytes, need at least %d; %s", n, MinSecretBytes, secretGenerateAdvice)
	}
	for i, s := range c.PreviousSecrets {
		key := fmt.Sprintf("previous_secrets[%d]", i)
		switch {
		case s == "":
			return keyErr(key, "is empty; remove the entry")
		case len(s) < MinSecretBytes:
			return keyErr(key, "is %d bytes, need at least %d (list only secrets the gateway used before)", len(s), MinSecretBytes)
		case s == c.Secret:
			return keyErr(key, "equals secret; remove it (previous_secrets holds only retired secrets)")
		}
	}
	return nil
}

// validateGeoIPDB checks that a configured GeoIP database is a readable
// file; whether it is a usable database is checked when it is opened.
func (c *Config) validateGeoIPDB() error {
	if c.GeoIPDB == "" {
		return nil
	}
	if fi, err := os.Stat(c.GeoIPDB); err != nil || !fi.Mode().IsRegular() {
		return keyErr("geoip_db", "%q is not a readable file; point it at a GeoLite2-City.mmdb (or Country) file, or leave it empty to show no places", c.GeoIPDB)
	}
	return nil
}

func (c *Config) validateCookie() error {
	if c.Cookie.Name == "" {
		// Unset: __Host-gateway_session behind TLS (cookie tossing from a
		// sibling subdomain cannot shadow it), gateway_session for
		// plain-HTTP development, where __Host- cookies are refused.
		c.Cookie.Name = DefaultCookieName
		if c.Cookie.Secure {
			c.Cookie.Name = DefaultSecureCookieName
		}
	}
	if !isToken(c.Cookie.Name) {
		return keyErr("cookie.name", "%q is not a valid cookie name; use letters, digits and !#$%%&'*+-.^_`|~ only, e.g. %q", c.Cookie.Name, DefaultCookieName)
	}
	for _, prefix := range []string{"__Host-", "__Secure-"} {
		if hasPrefixFold(c.Cookie.Name, prefix) && !c.Cookie.Secure {
			return keyErr("cookie.secure", "must be true because cookie.name %q starts with %q (browsers reject such cookies without Secure); rename the cookie for plain-HTTP development", c.Cookie.Name, prefix)
		}
	}
	return c.validatePortalCookie() // validate_portal.go
}

func (c *Config) validateSession() error {
	s := c.Session
	switch {
	case s.Lifetime.Duration <= 0:
		return keyErr("session.lifetime", "is %s; must be more than 0, e.g. \"168h\"", s.Lifetime)
	case s.IdleTimeout.Duration <= 0:
		return keyErr("session.idle_timeout", "is %s; must be more than 0, e.g. \"12h\"", s.IdleTimeout)
	case s.IdleTimeout.Duration > s.Lifetime.Duration:
		return keyErr("session.idle_timeout", "is %s, longer than session.lifetime (%s); lower it or raise the lifetime", s.IdleTimeout, s.Lifetime)
	case s.ReauthWindow.Duration < MinReauthWindow || s.ReauthWindow.Duration > s.Lifetime.Duration:
		return keyErr("session.reauth_window", "is %s; must be between %s and session.lifetime (%s), e.g. \"10m\"", s.ReauthWindow, Duration{MinReauthWindow}, s.Lifetime)
	case s.LastSeenInterval.Duration < time.Second || s.LastSeenInterval.Duration > s.IdleTimeout.Duration:
		return keyErr("session.last_seen_interval", "is %s; must be between 1s and session.idle_timeout (%s), e.g. \"1m\"", s.LastSeenInterval, s.IdleTimeout)
	}
	return nil
}

// reservedHeaders may not carry identity: hop-by-hop headers and headers the
// proxy itself sets or forwards.
var reservedHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
	"Host", "Cookie", "Set-Cookie", "Authorization",
	"Content-Length", "Content-Type", "Content-Encoding",
	"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip",
}

func (c *Config) validateHeaders() error {
	hs := []struct{ key, value, example string }{
		{"headers.user", c.Headers.User, "X-Forwarded-User"},
		{"headers.email", c.Headers.Email, "X-Forwarded-Email"},
		{"headers.groups", c.Headers.Groups, "X-Forwarded-Groups"},
		{"headers.assertion", c.Headers.Assertion, "X-Gateway-Assertion"},
	}
	for i, h := range hs {
		if h.value == "" {
			return keyErr(h.key, "is empty; set a header name such as %q", h.example)
		}
		if !isToken(h.value) {
			return keyErr(h.key, "%q is not a valid header name; use letters, digits and \"-\", e.g. %q", h.value, h.example)
		}
		for _, r := range reservedHeaders {
			if strings.EqualFold(h.value, r) {
				return keyErr(h.key, "%q is reserved (hop-by-hop, or a header the proxy sets or passes through itself); use e.g. %q", h.value, h.example)
			}
		}
		for _, prev := range hs[:i] {
			if strings.EqualFold(h.value, prev.value) {
				return keyErr(h.key, "%q is the same header as %s; use distinct names", h.value, prev.key)
			}
		}
	}
	return nil
}

func (c *Config) validatePassword() error {
	if n := c.Password.MinLength; n < MinPasswordLength || n > MaxPasswordLength {
		return keyErr("password.min_length", "is %d; must be between %d and %d (12 or more is recommended)", n, MinPasswordLength, MaxPasswordLength)
	}
	return nil
}

func (c *Config) validateMFA() error {
	if _, _, ok := parseMFARequire(c.MFA.Require); !ok {
		return keyErr("mfa.require", "%q is not valid; use off, optional, all, or a comma-separated list of roles from %s (e.g. \"support,admin\")", c.MFA.Require, strings.Join(knownRoles, ", "))
	}
	if d := c.MFA.RememberDevice.Duration; d < 0 || d > MaxRememberDevice {
		return keyErr("mfa.remember_device", "is %s; must be between 0 (option off) and %s (90 days)", c.MFA.RememberDevice, Duration{MaxRememberDevice})
	}
	return c.validatePhishingResistant()
}

func (c *Config) validateLog() error {
	switch c.Log.Format {
	case "json", "text":
	default:
		return keyErr("log.format", "%q is not valid; use json or text", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return keyErr("log.level", "%q is not valid; use debug, info, warn or error", c.Log.Level)
	}
	return nil
}

// isToken reports whether s is a non-empty RFC 7230 token (the character
// set RFC 6265 allows in cookie names and header field names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '\u00a0' || r == '\u2028' || r == '\u2029'
}
