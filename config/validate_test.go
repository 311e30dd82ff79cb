package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateRejects(t *testing.T) {
	short := strings.Repeat("x", 31)
	tests := []struct {
		name   string
		mutate func(*Config)
		key    string // yaml key expected in the message
		env    string // variable expected in the message
		also   string // optional further text
	}{
		{"listen empty", func(c *Config) { c.Listen = "" }, "listen", "GATEWAY_LISTEN", ""},
		{"listen without port", func(c *Config) { c.Listen = "localhost" }, "listen", "GATEWAY_LISTEN", "host:port"},
		{"listen port not numeric", func(c *Config) { c.Listen = ":http" }, "listen", "GATEWAY_LISTEN", "0 to 65535"},
		{"listen port too big", func(c *Config) { c.Listen = ":70000" }, "listen", "GATEWAY_LISTEN", "0 to 65535"},
		{"ops_listen bad", func(c *Config) { c.OpsListen = "127.0.0.1" }, "ops_listen", "GATEWAY_OPS_LISTEN", ""},
		{"ops_listen equals listen", func(c *Config) { c.OpsListen = c.Listen }, "ops_listen", "GATEWAY_OPS_LISTEN", "listen"},
		{"ops_listen same port on wildcard", func(c *Config) { c.Listen = ":9090" }, "ops_listen", "GATEWAY_OPS_LISTEN", "own port"},
		{"upstream missing", func(c *Config) { c.Upstream = "" }, "upstream", "GATEWAY_UPSTREAM", "required"},
		{"portal relative", func(c *Config) { c.PortalURL = "auth.example.com" }, "portal_url", "GATEWAY_PORTAL_URL", "absolute"},
		{"portal ftp", func(c *Config) { c.PortalURL = "ftp://auth.example.com" }, "portal_url", "GATEWAY_PORTAL_URL", "http"},
		{"portal path", func(c *Config) { c.PortalURL = "https://auth.example.com/login" }, "portal_url", "GATEWAY_PORTAL_URL", "path"},
		{"portal query", func(c *Config) { c.PortalURL = "https://auth.example.com/?a=1" }, "portal_url", "GATEWAY_PORTAL_URL", "query"},
		{"portal userinfo", func(c *Config) { c.PortalURL = "https://a:b@auth.example.com" }, "portal_url", "GATEWAY_PORTAL_URL", "user name"},
		{"portal bad host", func(c *Config) { c.PortalURL = "https://auth_example.com" }, "portal_url", "GATEWAY_PORTAL_URL", "host"},
		{"portal port zero", func(c *Config) { c.PortalURL = "http://127.0.0.1:0" }, "portal_url", "GATEWAY_PORTAL_URL", "port"},
		{"portal_listen without portal", func(c *Config) { c.PortalListen = "127.0.0.1:9443" }, "portal_listen", "GATEWAY_PORTAL_LISTEN", "portal_url"},
		{"portal_listen clash", func(c *Config) { c.PortalURL = "http://127.0.0.1:8080"; c.PortalListen = ":8080" }, "portal_listen", "GATEWAY_PORTAL_LISTEN", "listen"},
		{"portal_listen bad", func(c *Config) { c.PortalURL = "http://127.0.0.1:9443"; c.PortalListen = "9443" }, "portal_listen", "GATEWAY_PORTAL_LISTEN", "host:port"},
		{"portal cookie same as cookie", func(c *Config) { c.Cookie.PortalName = "__Host-gateway_session" }, "cookie.portal_name", "GATEWAY_COOKIE_PORTAL_NAME", "own"},
		{"upstream relative", func(c *Config) { c.Upstream = "127.0.0.1:3000" }, "upstream", "GATEWAY_UPSTREAM", ""},
		{"upstream ftp", func(c *Config) { c.Upstream = "ftp://files.internal" }, "upstream", "GATEWAY_UPSTREAM", "http"},
		{"upstream no host", func(c *Config) { c.Upstream = "http:///app" }, "upstream", "GATEWAY_UPSTREAM", "no host"},
		{"upstream userinfo", func(c *Config) { c.Upstream = "http://bob:hunter2@app:80" }, "upstream", "GATEWAY_UPSTREAM", "user name"},
		{"upstream query", func(c *Config) { c.Upstream = "http://app/?x=1" }, "upstream", "GATEWAY_UPSTREAM", "query"},
		{"upstream fragment", func(c *Config) { c.Upstream = "http://app/#top" }, "upstream", "GATEWAY_UPSTREAM", "fragment"},
		{"route path_prefix relative", func(c *Config) { c.Routes = []Route{{PathPrefix: "api/", Upstream: "http://a:1"}} }, "routes[0].path_prefix", "GATEWAY_ROUTES", ""},
		{"route path_prefix empty", func(c *Config) { c.Routes = []Route{{Upstream: "http://a:1"}} }, "routes[0].path_prefix", "GATEWAY_ROUTES", ""},
		{"route upstream bad", func(c *Config) {
			c.Routes = []Route{{PathPrefix: "/", Upstream: "http://a:1"}, {PathPrefix: "/x/", Upstream: "a:1"}}
		}, "routes[1].upstream", "GATEWAY_ROUTES", ""},
		{"route upstream missing", func(c *Config) { c.Upstream = ""; c.Routes = []Route{{PathPrefix: "/"}} }, "routes[0].upstream", "GATEWAY_ROUTES", "required"},
		{"route host with scheme", func(c *Config) {
			c.Routes = []Route{{Host: "https://app.example.com", PathPrefix: "/", Upstream: "http://a:1"}}
		}, "routes[0].host", "GATEWAY_ROUTES", "scheme"},
		{"route duplicate", func(c *Config) {
			c.Routes = []Route{{PathPrefix: "/", Upstream: "http://a:1"}, {PathPrefix: "/", Upstream: "http://b:1"}}
		}, "routes[1]", "GATEWAY_ROUTES", "routes[0]"},
		{"path_prefix relative", func(c *Config) { c.PathPrefix = ".gateway" }, "path_prefix", "GATEWAY_PATH_PREFIX", ""},
		{"path_prefix trailing slash", func(c *Config) { c.PathPrefix = "/.gateway/" }, "path_prefix", "GATEWAY_PATH_PREFIX", `"/.gateway"`},
		{"path_prefix root", func(c *Config) { c.PathPrefix = "/" }, "path_prefix", "GATEWAY_PATH_PREFIX", ""},
		{"path_prefix dotdot", func(c *Config) { c.PathPrefix = "/a/../b" }, "path_prefix", "GATEWAY_PATH_PREFIX", ".."},
		{"path_prefix space", func(c *Config) { c.PathPrefix = "/my gateway" }, "path_prefix", "GATEWAY_PATH_PREFIX", "spaces"},
		{"public path relative", func(c *Config) { c.PublicPaths = []string{"/ok", "healthz"} }, "public_paths[1]", "GATEWAY_PUBLIC_PATHS", ""},
		{"public path dotdot", func(c *Config) { c.PublicPaths = []string{"/static/../admin"} }, "public_paths[0]", "GATEWAY_PUBLIC_PATHS", ".."},
		{"public path under prefix", func(c *Config) { c.PublicPaths = []string{"/.gateway/sign-in"} }, "public_paths[0]", "GATEWAY_PUBLIC_PATHS", "path_prefix"},
		{"public path is prefix", func(c *Config) { c.PublicPaths = []string{"/.gateway/"} }, "public_paths[0]", "GATEWAY_PUBLIC_PATHS", "path_prefix"},
		{"trusted proxy garbage", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "localhost"} }, "trusted_proxies[1]", "GATEWAY_TRUSTED_PROXIES", "CIDR"},
		{"trusted proxy bad bits", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, "trusted_proxies[0]", "GATEWAY_TRUSTED_PROXIES", ""},
		{"redirect host scheme", func(c *Config) { c.RedirectHosts = []string{"https://app.example.com"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", `"app.example.com"`},
		{"redirect host port", func(c *Config) { c.RedirectHosts = []string{"app.example.com:443"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", "port"},
		{"redirect host path", func(c *Config) { c.RedirectHosts = []string{"app.example.com/x"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", "path"},
		{"redirect host wildcard", func(c *Config) { c.RedirectHosts = []string{"*.example.com"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", ".example.com"},
		{"redirect host upper case", func(c *Config) { c.RedirectHosts = []string{"App.Example.com"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", "lower-case"},
		{"redirect host invalid", func(c *Config) { c.RedirectHosts = []string{"-bad-.example.com"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", ""},
		{"secret missing", func(c *Config) { c.Secret = "" }, "secret", "GATEWAY_SECRET", "openssl rand -base64 48"},
		{"secret short", func(c *Config) { c.Secret = short }, "secret", "GATEWAY_SECRET", "31 bytes"},
		{"previous secret short", func(c *Config) { c.PreviousSecrets = []string{short} }, "previous_secrets[0]", "GATEWAY_PREVIOUS_SECRETS", "32"},
		{"previous secret equals secret", func(c *Config) { c.PreviousSecrets = []string{testPrevSecret, testSecret} }, "previous_secrets[1]", "GATEWAY_PREVIOUS_SECRETS", "equals secret"},
		{"redis scheme", func(c *Config) { c.Redis.URL = "http://redis:6379" }, "redis.url", "GATEWAY_REDIS_URL", "redis://"},
		{"redis no scheme", func(c *Config) { c.Redis.URL = "redis:6379" }, "redis.url", "GATEWAY_REDIS_URL", ""},
		{"redis no host", func(c *Config) { c.Redis.URL = "redis:///0" }, "redis.url", "GATEWAY_REDIS_URL", "no host"},
		{"redis bad port", func(c *Config) { c.Redis.URL = "redis://redis:abc/0" }, "redis.url", "GATEWAY_REDIS_URL", "port"},
		{"redis comma hosts", func(c *Config) { c.Redis.URL = "redis-cluster://a:1,b:2" }, "redis.url", "GATEWAY_REDIS_URL", "?addr="},
		{"redis unescaped password", func(c *Config) { c.Redis.URL = "rediss://default:p@ss/w0rd@redis.example.com:6380/1" }, "redis.url", "GATEWAY_REDIS_URL", "%2F"},
		{"redis addr on plain", func(c *Config) { c.Redis.URL = "redis://a:1?addr=b:2" }, "redis.url", "GATEWAY_REDIS_URL", "addr="},
		{"redis cluster bad addr", func(c *Config) { c.Redis.URL = "redis-cluster://a:1?addr=b:x" }, "redis.url", "GATEWAY_REDIS_URL", "port"},
		{"redis timeout zero", func(c *Config) { c.Redis.Timeout = Duration{0} }, "redis.timeout", "GATEWAY_REDIS_TIMEOUT", "500ms"},
		{"redis timeout tiny", func(c *Config) { c.Redis.Timeout = Duration{time.Millisecond} }, "redis.timeout", "GATEWAY_REDIS_TIMEOUT", "50ms"},
		{"redis timeout huge", func(c *Config) { c.Redis.Timeout = Duration{time.Minute} }, "redis.timeout", "GATEWAY_REDIS_TIMEOUT", "10s"},
		{"activity limit tiny", func(c *Config) { c.Redis.ActivityLimit = 10 }, "redis.activity_limit", "GATEWAY_REDIS_ACTIVITY_LIMIT", "between 50 and 100000"},
		{"activity limit huge", func(c *Config) { c.Redis.ActivityLimit = 1 << 40 }, "redis.activity_limit", "GATEWAY_REDIS_ACTIVITY_LIMIT", "e.g. 500"},
		{"redis sentinel no master", func(c *Config) { c.Redis.URL = "redis-sentinel://s1:26379" }, "redis.url", "GATEWAY_REDIS_URL", "master_name"},
		{"route host with port", func(c *Config) {
			c.Routes = []Route{{Host: "app.example.com:8443", PathPrefix: "/", Upstream: "http://a:1"}}
		}, "routes[0].host", "GATEWAY_ROUTES", "port"},
		{"route host upper case", func(c *Config) {
			c.Routes = []Route{{Host: "App.example.com", PathPrefix: "/", Upstream: "http://a:1"}}
		}, "routes[0].host", "GATEWAY_ROUTES", "lower-case"},
		{"redirect host tld only", func(c *Config) { c.RedirectHosts = []string{".com"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", "too broad"},
		{"redirect host ip suffix", func(c *Config) { c.RedirectHosts = []string{".10.0.0.1"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", "too broad"},
		{"redirect host numeric", func(c *Config) { c.RedirectHosts = []string{"host.123"} }, "redirect_hosts[0]", "GATEWAY_REDIRECT_HOSTS", "not a valid host name"},
		{"cookie name separator", func(c *Config) { c.Cookie.Name = "my;session" }, "cookie.name", "GATEWAY_COOKIE_NAME", ""},
		{"cookie __Host- insecure", func(c *Config) { c.Cookie.Name = "__Host-s"; c.Cookie.Secure = false }, "cookie.secure", "GATEWAY_COOKIE_SECURE", "__Host-"},
		{"cookie __Secure- insecure", func(c *Config) { c.Cookie.Name = "__Secure-s"; c.Cookie.Secure = false }, "cookie.secure", "GATEWAY_COOKIE_SECURE", "__Secure-"},
		{"lifetime zero", func(c *Config) { c.Session.Lifetime = Duration{0} }, "session.lifetime", "GATEWAY_SESSION_LIFETIME", ""},
		{"idle zero", func(c *Config) { c.Session.IdleTimeout = Duration{0} }, "session.idle_timeout", "GATEWAY_SESSION_IDLE_TIMEOUT", ""},
		{"idle above lifetime", func(c *Config) { c.Session.IdleTimeout = Duration{200 * time.Hour} }, "session.idle_timeout", "GATEWAY_SESSION_IDLE_TIMEOUT", "session.lifetime"},
		{"last-seen interval too short", func(c *Config) { c.Session.LastSeenInterval = Duration{time.Millisecond} }, "session.last_seen_interval", "GATEWAY_SESSION_LAST_SEEN_INTERVAL", "1s"},
		{"wait replicas negative", func(c *Config) { c.Redis.WaitReplicas = -1 }, "redis.wait_replicas", "GATEWAY_REDIS_WAIT_REPLICAS", "0 (off)"},
		{"wait timeout zero", func(c *Config) { c.Redis.WaitTimeout = Duration{} }, "redis.wait_timeout", "GATEWAY_REDIS_WAIT_TIMEOUT", "500ms"},
		{"reauth too short", func(c *Config) { c.Session.ReauthWindow = Duration{30 * time.Second} }, "session.reauth_window", "GATEWAY_SESSION_REAUTH_WINDOW", "1m"},
		{"reauth above lifetime", func(c *Config) {
			c.Session.Lifetime = Duration{time.Hour}
			c.Session.IdleTimeout = Duration{time.Hour}
			c.Session.ReauthWindow = Duration{2 * time.Hour}
		}, "session.reauth_window", "GATEWAY_SESSION_REAUTH_WINDOW", ""},
		{"header empty", func(c *Config) { c.Headers.Email = "" }, "headers.email", "GATEWAY_HEADERS_EMAIL", ""},
		{"header invalid", func(c *Config) { c.Headers.User = "X User" }, "headers.user", "GATEWAY_HEADERS_USER", ""},
		{"header duplicate", func(c *Config) { c.Headers.Groups = "x-forwarded-user" }, "headers.groups", "GATEWAY_HEADERS_GROUPS", "headers.user"},
		{"header hop-by-hop", func(c *Config) { c.Headers.User = "connection" }, "headers.user", "GATEWAY_HEADERS_USER", ""},
		{"header host", func(c *Config) { c.Headers.User = "Host" }, "headers.user", "GATEWAY_HEADERS_USER", ""},
		{"header authorization", func(c *Config) { c.Headers.Email = "Authorization" }, "headers.email", "GATEWAY_HEADERS_EMAIL", ""},
		{"header x-forwarded-for", func(c *Config) { c.Headers.Groups = "X-Forwarded-For" }, "headers.groups", "GATEWAY_HEADERS_GROUPS", ""},
		{"header cookie", func(c *Config) { c.Headers.Groups = "Cookie" }, "headers.groups", "GATEWAY_HEADERS_GROUPS", ""},
		{"assertion header duplicate", func(c *Config) { c.Headers.Assertion = "X-Forwarded-User" }, "headers.assertion", "GATEWAY_HEADERS_ASSERTION", "headers.user"},
		{"assertion lifetime too long", func(c *Config) { c.Assertion.Lifetime = Duration{10 * time.Minute} }, "assertion.lifetime", "GATEWAY_ASSERTION_LIFETIME", "5m"},
		{"assertion key rotation too short", func(c *Config) { c.Assertion.KeyRotation = Duration{time.Minute} }, "assertion.key_rotation", "GATEWAY_ASSERTION_KEY_ROTATION", "10m"},
		{"password too short", func(c *Config) { c.Password.MinLength = 6 }, "password.min_length", "GATEWAY_PASSWORD_MIN_LENGTH", "8"},
		{"password too long", func(c *Config) { c.Password.MinLength = 2000 }, "password.min_length", "GATEWAY_PASSWORD_MIN_LENGTH", "1024"},
		{"mfa unknown word", func(c *Config) { c.MFA.Require = "always" }, "mfa.require", "GATEWAY_MFA_REQUIRE", "off, optional, all"},
		{"mfa unknown role", func(c *Config) { c.MFA.Require = "support,root" }, "mfa.require", "GATEWAY_MFA_REQUIRE", ""},
		{"mfa empty", func(c *Config) { c.MFA.Require = "" }, "mfa.require", "GATEWAY_MFA_REQUIRE", ""},
		{"phishing-resistant unknown role", func(c *Config) { c.MFA.PhishingResistant = "staff" }, "mfa.phishing_resistant", "GATEWAY_MFA_PHISHING_RESISTANT", "support,admin"},
		{"phishing-resistant without passkeys", func(c *Config) { c.MFA.PhishingResistant = "admin"; c.MFA.Passkeys = false }, "mfa.phishing_resistant", "GATEWAY_MFA_PHISHING_RESISTANT", "mfa.passkeys is false"},
		{"phishing-resistant with mfa off", func(c *Config) { c.MFA.PhishingResistant = "admin"; c.MFA.Require = "off" }, "mfa.phishing_resistant", "GATEWAY_MFA_PHISHING_RESISTANT", "mfa.require is off"},
		{"mfa remember negative", func(c *Config) { c.MFA.RememberDevice = Duration{-time.Hour} }, "mfa.remember_device", "GATEWAY_MFA_REMEMBER_DEVICE", ""},
		{"mfa remember too long", func(c *Config) { c.MFA.RememberDevice = Duration{91 * 24 * time.Hour} }, "mfa.remember_device", "GATEWAY_MFA_REMEMBER_DEVICE", "90 days"},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", "GATEWAY_LOG_FORMAT", "json or text"},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, "log.level", "GATEWAY_LOG_LEVEL", "debug"},
	}
	if len(tests) < 25 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.Validate()
			want := []string{tt.key + " (" + tt.env + "): "}
			if tt.also != "" {
				want = append(want, tt.also)
			}
			checkErr(t, err, want...)
			if e, ok := err.(*Error); !ok || e.Key != tt.key || e.Env != tt.env {
				t.Errorf("err = %#v, want *Error{Key: %q, Env: %q}", err, tt.key, tt.env)
			}
		})
	}
}

// TestValidateErrorsHideSecrets: messages about secrets and URLs with
// credentials must not repeat them.
func TestValidateErrorsHideSecrets(t *testing.T) {
	tests := []func(*Config){
		func(c *Config) { c.Secret = "short-secret-value" },
		func(c *Config) { c.PreviousSecrets = []string{"short-secret-value"} },
		func(c *Config) { c.Upstream = "http://bob:short-secret-value@app" },
		func(c *Config) { c.Redis.URL = "http://:short-secret-value@redis:6379" },
		func(c *Config) { c.Redis.URL = "redis://:short-secret-value@" },
	}
	for i, mutate := range tests {
		c := validConfig()
		mutate(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), "short-secret-value") {
			t.Errorf("case %d: error reveals the secret: %v", i, err)
		}
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"ipv6 listen", func(c *Config) { c.Listen = "[::1]:8080" }},
		{"host listen", func(c *Config) { c.Listen = "localhost:8080" }},
		{"port zero on both", func(c *Config) { c.Listen = ":0"; c.OpsListen = "127.0.0.1:0" }},
		{"same port different hosts", func(c *Config) { c.Listen = "10.0.0.1:9090" }},
		{"https upstream with path", func(c *Config) { c.Upstream = "https://app.internal:8443/base/" }},
		{"routes only", func(c *Config) {
			c.Upstream = ""
			c.Routes = []Route{{Host: "app.example.com", PathPrefix: "/", Upstream: "http://a:1"}, {PathPrefix: "/", Upstream: "http://b:1"}}
		}},
		{"route host ip", func(c *Config) { c.Routes = []Route{{Host: "10.1.2.3", PathPrefix: "/", Upstream: "http://a:1"}} }},
		{"route host ipv6", func(c *Config) { c.Routes = []Route{{Host: "::1", PathPrefix: "/", Upstream: "http://a:1"}} }},
		{"nested path_prefix", func(c *Config) { c.PathPrefix = "/_/auth" }},
		{"public paths", func(c *Config) { c.PublicPaths = []string{"/", "/healthz", "/static/", "/.gatewayish"} }},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "fd00::/8", "192.0.2.1", "::1"} }},
		{"redirect hosts", func(c *Config) {
			c.RedirectHosts = []string{"app.example.com", ".example.org", "localhost", "10.0.0.1"}
		}},
		{"previous secrets", func(c *Config) { c.PreviousSecrets = []string{testPrevSecret} }},
		{"redis", func(c *Config) { c.Redis.URL = "redis://redis:6379/0" }},
		{"rediss with password", func(c *Config) { c.Redis.URL = "rediss://default:p%40ss%2Fw0rd@redis.example.com:6380/1" }},
		{"redis sentinel", func(c *Config) {
			c.Redis.URL = "redis-sentinel://:pw@s1:26379/0?master_name=mymaster&addr=s2:26379&addr=s3:26379"
		}},
		{"rediss sentinel", func(c *Config) { c.Redis.URL = "rediss-sentinel://s1:26379?master_name=m" }},
		{"redis cluster", func(c *Config) { c.Redis.URL = "redis-cluster://n1:7000?addr=n2:7001" }},
		{"rediss cluster", func(c *Config) { c.Redis.URL = "rediss-cluster://n1:7000" }},
		{"redis ipv6", func(c *Config) { c.Redis.URL = "redis://[::1]:6379" }},
		{"__Host- cookie", func(c *Config) { c.Cookie.Name = "__Host-gw" }},
		{"portal subdomain", func(c *Config) { c.PortalURL = "https://auth.example.com/" }},
		{"portal second port", func(c *Config) { c.PortalURL = "http://127.0.0.1:9443"; c.PortalListen = "127.0.0.1:9443" }},
		{"portal ipv6", func(c *Config) { c.PortalURL = "http://[::1]:9443" }},
		{"insecure dev cookie", func(c *Config) { c.Cookie.Secure = false }},
		{"reauth equal lifetime", func(c *Config) {
			c.Session = Session{Lifetime: Duration{time.Hour}, IdleTimeout: Duration{time.Hour}, ReauthWindow: Duration{time.Hour}, LastSeenInterval: Duration{time.Hour}}
		}},
		{"custom headers", func(c *Config) {
			c.Headers = Headers{User: "Remote-User", Email: "Remote-Email", Groups: "Remote-Groups", Assertion: "Remote-Jwt"}
		}},
		{"password bounds", func(c *Config) { c.Password.MinLength = 8 }},
		{"mfa off", func(c *Config) { c.MFA.Require = "off" }},
		{"mfa optional", func(c *Config) { c.MFA.Require = "optional" }},
		{"mfa all", func(c *Config) { c.MFA.Require = "all" }},
		{"mfa roles with spaces", func(c *Config) { c.MFA.Require = "user, support ,admin" }},
		{"remember 90 days", func(c *Config) { c.MFA.RememberDevice = Duration{MaxRememberDevice} }},
		{"text debug log", func(c *Config) { c.Log = Log{Format: "text", Level: "debug"} }},
		{"no wait for replicas", func(c *Config) { c.Redis.WaitReplicas = 0; c.Redis.WaitTimeout = Duration{} }},
		{"short last-seen interval", func(c *Config) { c.Session.LastSeenInterval = Duration{time.Second} }},
	}
	for _, tt := range tests {
		c := validConfig()
		tt.mutate(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestValidateFillsParsedFields(t *testing.T) {
	c := validConfig()
	c.TrustedProxies = []string{"10.1.2.3/8", "192.0.2.7", "2001:db8::1", "::ffff:198.51.100.9", "::ffff:10.0.0.0/104"}
	c.Routes = []Route{{PathPrefix: "/api/", Upstream: "https://api.internal/v1"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::1/128"),
		netip.MustParsePrefix("198.51.100.9/32"),
		netip.MustParsePrefix("10.0.0.0/8"),
	}
	if !reflect.DeepEqual(c.TrustedPrefixes, want) {
		t.Errorf("TrustedPrefixes = %v, want %v", c.TrustedPrefixes, want)
	}
	if u := c.Routes[0].UpstreamURL; u == nil || u.Host != "api.internal" || u.Path != "/v1" {
		t.Errorf("route UpstreamURL = %v", u)
	}
	// Validate is repeatable and resets parsed fields.
	c.TrustedProxies = nil
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedPrefixes) != 0 {
		t.Errorf("TrustedPrefixes not reset: %v", c.TrustedPrefixes)
	}
}

func TestValidateReportsFirstProblem(t *testing.T) {
	c := Defaults()
	c.Listen = "bad"
	c.Log.Level = "bad"
	checkErr(t, c.Validate(), "listen (GATEWAY_LISTEN)")
}

func TestMFARequiredFor(t *testing.T) {
	tests := []struct {
		require string
		role    string
		want    bool
	}{
		{"off", "admin", false},
		{"optional", "admin", false},
		{"all", "user", true},
		{"support,admin", "admin", true},
		{"support,admin", "support", true},
		{"support,admin", "user", false},
		{"support, admin", "admin", true},
		{"admin", "Admin", false},
		{"bogus", "user", true}, // invalid policy fails closed
	}
	for _, tt := range tests {
		c := validConfig()
		c.MFA.Require = tt.require
		if got := c.MFARequiredFor(tt.role); got != tt.want {
			t.Errorf("MFARequiredFor(%q) with %q = %v, want %v", tt.role, tt.require, got, tt.want)
		}
	}
}

func TestIsEmbeddedStore(t *testing.T) {
	c := validConfig()
	if !c.IsEmbeddedStore() {
		t.Error("empty redis.url: want embedded store")
	}
	c.Redis.URL = "redis://localhost:6379"
	if c.IsEmbeddedStore() {
		t.Error("redis.url set: want redis store")
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Key: "a.b", Env: "GATEWAY_A_B", Problem: "bad"}, "invalid configuration: a.b (GATEWAY_A_B): bad"},
		{&Error{Env: "GATEWAY_X", Problem: "unknown setting"}, "invalid configuration: GATEWAY_X: unknown setting"},
		{&Error{Key: "x", Problem: "line1\nline2"}, "invalid configuration: x: line1; line2"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestCookieNameDefaultFollowsSecure(t *testing.T) {
	for _, tc := range []struct {
		secure bool
		want   string
	}{{true, "__Host-gateway_session"}, {false, "gateway_session"}} {
		c := validConfig()
		c.Cookie.Name, c.Cookie.Secure = "", tc.secure
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.Cookie.Name != tc.want {
			t.Errorf("secure=%v: cookie name %q, want %q", tc.secure, c.Cookie.Name, tc.want)
		}
	}
}

func TestPortalHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://Auth.Example.com/":     "auth.example.com",
		"https://auth.example.com:443":  "auth.example.com",
		"http://127.0.0.1:80":           "127.0.0.1",
		"http://127.0.0.1:9443":         "127.0.0.1:9443",
		"https://auth.example.com:8443": "auth.example.com:8443",
		"http://[::1]:9443":             "[::1]:9443",
	} {
		c := validConfig()
		c.PortalURL = in
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if c.PortalHost != want || !c.HasPortal() {
			t.Errorf("%s: PortalHost %q, want %q", in, c.PortalHost, want)
		}
	}
	c := validConfig()
	if err := c.Validate(); err != nil || c.HasPortal() || c.Cookie.PortalName != DefaultSecurePortalCookieName {
		t.Errorf("no portal: %v %v %q", err, c.HasPortal(), c.Cookie.PortalName)
	}
}
