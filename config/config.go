// Package config loads, defaults and validates the gateway's configuration.
//
// A YAML file (optional) is read first, then every key can be overridden by an
// environment variable named GATEWAY_ followed by the key path in upper case
// with "_" between parts: redis.url → GATEWAY_REDIS_URL, cookie.secure →
// GATEWAY_COOKIE_SECURE. Lists are comma-separated in the environment.
// Validate stops start-up with one line naming the key and the problem.
package config

import (
	"net/netip"
	"net/url"
	"time"
)

// Config is the whole configuration, a plain value passed into constructors.
type Config struct {
	// Listen is the address of the public listener (proxy and /.gateway pages).
	Listen string `yaml:"listen"`
	// OpsListen serves /healthz, /readyz and /metrics; keep it off the internet.
	OpsListen string `yaml:"ops_listen"`
	// PortalURL is the origin of the gateway's own pages (sign-in, Login &
	// Security, support console, JSON API), apart from every app, e.g.
	// "https://auth.example.com" or "http://127.0.0.1:9443". Empty serves
	// the pages on every host, without the console and the staff API.
	PortalURL string `yaml:"portal_url"`
	// PortalListen is an extra listener for a portal on a port of its own
	// (one host, two ports); empty when the portal shares listen.
	PortalListen string `yaml:"portal_listen"`
	// Upstream is the single app behind the gateway (used when Routes is empty,
	// and as the fallback when no route matches).
	Upstream string `yaml:"upstream"`
	// Routes send requests by host and path prefix to different upstreams.
	Routes []Route `yaml:"routes"`
	// PathPrefix is where the gateway's own pages live.
	PathPrefix string `yaml:"path_prefix"`
	// PublicPaths are reachable without a session: an entry ending in "/" is a
	// prefix, any other entry an exact path. Matched on the cleaned path.
	PublicPaths []string `yaml:"public_paths"`
	// EscapedSlashes says what becomes of a path holding %2F or %5C (or a
	// raw backslash): "keep" forwards it as sent (access is decided on
	// every reading of it, see README "Paths"), "reject" answers 400,
	// "decode" forwards those escapes as "/".
	EscapedSlashes string `yaml:"escaped_slashes"`
	// TrustedProxies are CIDRs whose X-Forwarded-* headers are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// RedirectHosts are hosts (exact, or ".example.com" for subdomains) that
	// the rd parameter may point to besides local paths.
	RedirectHosts []string `yaml:"redirect_hosts"`

	// Secret derives the cookie and encryption keys (at least 32 bytes).
	Secret string `yaml:"secret"`
	// PreviousSecrets still decode cookies, so secrets rotate without
	// signing everyone out.
	PreviousSecrets []string `yaml:"previous_secrets"`

	// GeoIPDB is a MaxMind-format database (GeoLite2/GeoIP2 City or Country)
	// used to show an approximate place next to each device's IP; empty
	// leaves places out.
	GeoIPDB string `yaml:"geoip_db"`

	Redis   Redis   `yaml:"redis"`
	Cookie  Cookie  `yaml:"cookie"`
	Session Session `yaml:"session"`
	Headers Headers `yaml:"headers"`
	// Assertion configures the signed identity header (headers.assertion).
	Assertion Assertion `yaml:"assertion"`
	Password  Password  `yaml:"password"`
	MFA       MFA       `yaml:"mfa"`
	Log       Log       `yaml:"log"`
	Ops       Ops       `yaml:"ops"`
	UI        UI        `yaml:"ui"`
	// SMTP and Notify: mail alerts and webhooks (mail.go).
	SMTP   SMTP   `yaml:"smtp"`
	Notify Notify `yaml:"notify"`

	// RateLimit bounds proxied requests per session and per client
	// (limits.go); Throttle bounds password and 2FA code guessing.
	RateLimit RateLimit `yaml:"rate_limit"`
	Throttle  Throttle  `yaml:"throttle"`

	// Parsed forms, filled by Validate.
	UpstreamURL     *url.URL       `yaml:"-"`
	TrustedPrefixes []netip.Prefix `yaml:"-"`
	// Portal is PortalURL parsed (nil without a portal); PortalHost is its
	// host and port as a browser sends them in Host (lower-case, without
	// the scheme's default port).
	Portal     *url.URL `yaml:"-"`
	PortalHost string   `yaml:"-"`
}

// HasPortal reports whether the gateway's pages live on a portal origin of
// their own.
func (c *Config) HasPortal() bool { return c.Portal != nil }

// Route sends requests whose host (empty = any) and path prefix match to Upstream.
type Route struct {
	Host        string   `yaml:"host"`
	PathPrefix  string   `yaml:"path_prefix"`
	Upstream    string   `yaml:"upstream"`
	UpstreamURL *url.URL `yaml:"-"`
	// RateLimit overrides the global rate limits on this route.
	RateLimit RouteRateLimit `yaml:"rate_limit,omitempty"`
	// Assertion turns the signed identity header on (true) or off (false)
	// for this route; unset follows assertion.enabled.
	Assertion *bool `yaml:"assertion,omitempty"`
	// Access rules (rules.go): who may use the route and how recent and
	// strong their sign-in must be. YAML only.
	RouteRules `yaml:",inline"`
}

// Redis says where the store lives. An empty URL selects the embedded,
// in-memory store.
type Redis struct {
	// URL is redis://, rediss://, redis-sentinel:// or redis-cluster://.
	URL string `yaml:"url"`
	// WaitReplicas is how many Redis replicas must confirm a change that
	// ends sessions (WAIT) before the person is told it is done, whenever
	// the master has replicas connected; 0 turns waiting off.
	WaitReplicas int `yaml:"wait_replicas"`
	// WaitTimeout bounds that wait; past it the person gets a "not
	// replicated" error and the change is kept and retried.
	WaitTimeout Duration `yaml:"wait_timeout"`
	// Timeout bounds every Redis call (dial, write, read, waiting for a
	// pooled connection, retries included), so a hung or unreachable Redis
	// costs a request at most this long before it fails closed. The feed
	// follower's blocking read waits its block time plus this.
	Timeout Duration `yaml:"timeout"`
	// ActivityLimit is how many events each person's activity stream
	// keeps (XADD MAXLEN ~, so Redis may keep a few more); older ones are
	// dropped as new ones arrive.
	ActivityLimit int64 `yaml:"activity_limit"`
}

// Cookie configures the session cookie.
type Cookie struct {
	// Name defaults to "__Host-gateway_session" when Secure is on and
	// "gateway_session" otherwise.
	Name string `yaml:"name"`
	// Secure may be turned off only for plain-HTTP development.
	Secure bool `yaml:"secure"`
	// PortalName is the cookie of the portal origin (used only with
	// portal_url); it differs from Name because browsers share cookies
	// between the ports of one host. Defaults like Name, with "portal".
	PortalName string `yaml:"portal_name"`
}

// Session configures session lifetimes.
type Session struct {
	// Lifetime is the absolute lifetime from sign-in.
	Lifetime Duration `yaml:"lifetime"`
	// IdleTimeout ends a session not used for this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// ReauthWindow is how recent a sign-in must be for sensitive actions.
	ReauthWindow Duration `yaml:"reauth_window"`
	// LastSeenInterval is how often a session's last-seen time is written
	// to Redis at most; the same write finds session records that vanished,
	// so a deleted record is refused within about 7/6 of it.
	LastSeenInterval Duration `yaml:"last_seen_interval"`
}

// Headers names the identity headers set for the upstream.
type Headers struct {
	User   string `yaml:"user"`
	Email  string `yaml:"email"`
	Groups string `yaml:"groups"`
	// Assertion carries the signed identity (a JWT) on routes that have
	// it on; stripped from every client request either way.
	Assertion string `yaml:"assertion"`
}

// Assertion configures the signed identity for the apps.
type Assertion struct {
	// Enabled sends it to the single upstream and to every route that
	// does not say otherwise (a route's own assertion: true/false wins).
	Enabled bool `yaml:"enabled"`
	// Lifetime of one assertion, at most 5m.
	Lifetime Duration `yaml:"lifetime"`
	// KeyRotation is how long a signing key is the newest before the
	// next is made (the old one stays published until what it signed
	// has expired).
	KeyRotation Duration `yaml:"key_rotation"`
}

// AssertionOn reports whether route i (-1: the single upstream or the
// fallback) sends the signed identity.
func (c *Config) AssertionOn(i int) bool {
	if i >= 0 && i < len(c.Routes) && c.Routes[i].Assertion != nil {
		return *c.Routes[i].Assertion
	}
	return c.Assertion.Enabled
}

// AssertionUsed reports whether any route (or the single upstream) sends
// the signed identity, so the keys are needed.
func (c *Config) AssertionUsed() bool {
	if c.Assertion.Enabled {
		return true
	}
	for i := range c.Routes {
		if c.AssertionOn(i) {
			return true
		}
	}
	return false
}

// Password is the password policy.
type Password struct {
	MinLength int `yaml:"min_length"`
}

// MFA is the two-factor policy.
type MFA struct {
	// Require is "off", "optional", "all", or a comma-separated list of roles.
	Require string `yaml:"require"`
	// RememberDevice allows "don't ask again on this browser" for this long;
	// zero turns the option off.
	RememberDevice Duration `yaml:"remember_device"`
	// Passkeys offers passkeys (WebAuthn): sign-in without a password and a
	// second step that cannot be phished.
	Passkeys bool `yaml:"passkeys"`
	// PhishingResistant is a comma-separated list of roles that must use a
	// passkey as their second factor ("" for none).
	PhishingResistant string `yaml:"phishing_resistant"`
}

// Log configures logging.
type Log struct {
	Format string `yaml:"format"` // json or text
	Level  string `yaml:"level"`  // debug, info, warn, error
	// Access writes one JSON line per request to the apps (request id,
	// user, route, method, path without query, status, bytes, duration).
	Access bool `yaml:"access"`
}

// Ops configures the ops listener.
type Ops struct {
	// Pprof mounts /debug/pprof on the ops listener.
	Pprof bool `yaml:"pprof"`
}

// UI brands the gateway's pages (ui.go checks it).
type UI struct {
	// Title is the name in the header of every page and in the browser
	// tab, e.g. "Acme accounts".
	Title string `yaml:"title"`
	// LogoURL is an image shown before the title: a path on the gateway's
	// host ("/logo.svg") or an absolute http(s) URL, whose origin is then
	// allowed as an image source in the pages' Content-Security-Policy.
	LogoURL string `yaml:"logo_url"`
	// Accent is the colour of buttons and links, "#rrggbb"; it must keep
	// white button text readable (contrast at least 4.5:1).
	Accent string `yaml:"accent"`
	// AppURL is where "Back to the app" leads: a local path or an absolute
	// http(s) URL. Empty means "/" without a portal, and no link with one.
	AppURL string `yaml:"app_url"`
}

// Duration is a time.Duration written as "90s", "12h" in YAML and env.
type Duration struct{ time.Duration }
