package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

const fullYAML = `
listen: ":8443"
ops_listen: "127.0.0.1:9191"
upstream: "http://app.internal:8000"
path_prefix: /_auth
public_paths: [/healthz, /static/]
trusted_proxies:
  - 10.0.0.0/8
  - 192.0.2.7
redirect_hosts: [app.example.com, .example.org]
secret: "` + testSecret + `"
previous_secrets: ["` + testPrevSecret + `"]
redis:
  url: redis://:pw@redis:6379/0
cookie:
  name: __Host-session
session:
  idle_timeout: 2h
headers:
  groups: X-Auth-Groups
password:
  min_length: 16
mfa:
  require: all
  remember_device: 720h
log:
  format: text
  level: debug
ops:
  pprof: yes
`

func TestLoadFile(t *testing.T) {
	c, err := Load(writeFile(t, fullYAML), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, ":8443"},
		{"ops_listen", c.OpsListen, "127.0.0.1:9191"},
		{"upstream", c.UpstreamURL.String(), "http://app.internal:8000"},
		{"path_prefix", c.PathPrefix, "/_auth"},
		{"public_paths", c.PublicPaths, []string{"/healthz", "/static/"}},
		{"trusted", c.TrustedPrefixes, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}},
		{"redirect_hosts", c.RedirectHosts, []string{"app.example.com", ".example.org"}},
		{"secret", c.Secret, testSecret},
		{"previous_secrets", c.PreviousSecrets, []string{testPrevSecret}},
		{"redis.url", c.Redis.URL, "redis://:pw@redis:6379/0"},
		{"cookie.name", c.Cookie.Name, "__Host-session"},
		{"cookie.secure (default kept)", c.Cookie.Secure, true},
		{"session.lifetime (default kept)", c.Session.Lifetime.Duration, 168 * time.Hour},
		{"session.idle_timeout", c.Session.IdleTimeout.Duration, 2 * time.Hour},
		{"headers.user (default kept)", c.Headers.User, "X-Forwarded-User"},
		{"headers.groups", c.Headers.Groups, "X-Auth-Groups"},
		{"password.min_length", c.Password.MinLength, 16},
		{"mfa.require", c.MFA.Require, "all"},
		{"mfa.remember_device", c.MFA.RememberDevice.Duration, 720 * time.Hour},
		{"log", c.Log, Log{Format: "text", Level: "debug"}},
		{"ops.pprof", c.Ops.Pprof, true},
		{"embedded", c.IsEmbeddedStore(), false},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadRoutesFromFile(t *testing.T) {
	path := writeFile(t, `
secret: "`+testSecret+`"
routes:
  - host: app.example.com
    path_prefix: /
    upstream: http://127.0.0.1:3000
  - path_prefix: /api/
    upstream: https://api.internal
`)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Routes) != 2 || c.Routes[0].Host != "app.example.com" || c.Routes[1].UpstreamURL.Scheme != "https" {
		t.Errorf("routes = %+v", c.Routes)
	}
	if c.UpstreamURL != nil {
		t.Errorf("UpstreamURL = %v, want nil without upstream", c.UpstreamURL)
	}
}

func TestLoadWithoutFile(t *testing.T) {
	c, err := Load("", minimalEnv())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := validConfig()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("Load(\"\", env) = %+v, want %+v", *c, want)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "---\n"} {
		if _, err := Load(writeFile(t, content), minimalEnv()); err != nil {
			t.Errorf("Load(%q): %v", content, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/gateway.yaml", minimalEnv())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestEnvBeatsFile(t *testing.T) {
	path := writeFile(t, fullYAML)
	c, err := Load(path, []string{
		"GATEWAY_LISTEN=:9000",
		"GATEWAY_SESSION_IDLE_TIMEOUT=30m",
		"GATEWAY_OPS_PPROF=false",
		"GATEWAY_PUBLIC_PATHS= /a , ,/b/ ",
		"GATEWAY_REDIS_URL=",
		"GATEWAY_PASSWORD_MIN_LENGTH=20",
		"GATEWAY_LOG_LEVEL=warn",
		"GATEWAY_LOG_LEVEL=error", // later wins
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, ":9000"},
		{"ops_listen (file)", c.OpsListen, "127.0.0.1:9191"},
		{"session.idle_timeout", c.Session.IdleTimeout.Duration, 30 * time.Minute},
		{"ops.pprof", c.Ops.Pprof, false},
		{"public_paths", c.PublicPaths, []string{"/a", "/b/"}},
		{"redis.url cleared", c.IsEmbeddedStore(), true},
		{"password.min_length", c.Password.MinLength, 20},
		{"log.level", c.Log.Level, "error"},
		{"log.format (file)", c.Log.Format, "text"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestEnvBools(t *testing.T) {
	for value, want := range map[string]bool{
		"true": true, "TRUE": true, "1": true, "yes": true, "Yes": true, " true ": true,
		"false": false, "False": false, "0": false, "no": false, "NO": false,
	} {
		c, err := Load("", minimalEnv("GATEWAY_COOKIE_SECURE="+value, "GATEWAY_OPS_PPROF="+value))
		if err != nil {
			t.Errorf("%q: %v", value, err)
			continue
		}
		if c.Cookie.Secure != want || c.Ops.Pprof != want {
			t.Errorf("%q: secure=%v pprof=%v, want %v", value, c.Cookie.Secure, c.Ops.Pprof, want)
		}
	}
}

func TestEnvLists(t *testing.T) {
	c, err := Load("", minimalEnv(
		"GATEWAY_TRUSTED_PROXIES=10.0.0.0/8, 2001:db8::1 ,",
		"GATEWAY_PREVIOUS_SECRETS="+testPrevSecret+","+strings.ToUpper(testPrevSecret),
		"GATEWAY_REDIRECT_HOSTS=.example.com",
	))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantPrefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}
	if !reflect.DeepEqual(c.TrustedPrefixes, wantPrefixes) {
		t.Errorf("TrustedPrefixes = %v, want %v", c.TrustedPrefixes, wantPrefixes)
	}
	if len(c.PreviousSecrets) != 2 || c.RedirectHosts[0] != ".example.com" {
		t.Errorf("previous=%d redirect=%v", len(c.PreviousSecrets), c.RedirectHosts)
	}
}

func TestRoutesFromEnv(t *testing.T) {
	c, err := Load("", []string{
		"GATEWAY_SECRET=" + testSecret,
		"GATEWAY_ROUTES=app.example.com/=http://127.0.0.1:3000, /api/=http://127.0.0.1:4000 ,admin.example.com/admin=https://admin.internal/base",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []struct{ host, prefix, upstream string }{
		{"app.example.com", "/", "http://127.0.0.1:3000"},
		{"", "/api/", "http://127.0.0.1:4000"},
		{"admin.example.com", "/admin", "https://admin.internal/base"},
	}
	if len(c.Routes) != len(want) {
		t.Fatalf("got %d routes, want %d: %+v", len(c.Routes), len(want), c.Routes)
	}
	for i, w := range want {
		r := c.Routes[i]
		if r.Host != w.host || r.PathPrefix != w.prefix || r.Upstream != w.upstream {
			t.Errorf("route %d = %+v, want %+v", i, r, w)
		}
		if r.UpstreamURL == nil || r.UpstreamURL.String() != w.upstream {
			t.Errorf("route %d UpstreamURL = %v", i, r.UpstreamURL)
		}
	}
}

func TestRoutesFromEnvReplaceFile(t *testing.T) {
	path := writeFile(t, "routes:\n  - path_prefix: /old/\n    upstream: http://old:1\n")
	c, err := Load(path, minimalEnv("GATEWAY_ROUTES=/new/=http://new:2"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Routes) != 1 || c.Routes[0].PathPrefix != "/new/" {
		t.Errorf("routes = %+v", c.Routes)
	}
}

func TestUnknownYAMLKey(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
	}{
		{"listn: \":8080\"\n", []string{`listn`, "unknown key", "line 1", `did you mean "listen"`}},
		{"session:\n  idel_timeout: 1h\n", []string{"session.idel_timeout", "unknown key", "line 2", `"session.idle_timeout"`}},
		{"redis:\n  host: localhost\n", []string{"redis.host", "unknown key"}},
		{"routes:\n  - path_prefix: /\n    upstream: http://a:1\n    hots: a.example.com\n", []string{"routes[0].hots", "unknown key", `"routes[0].host"`}},
		{"completely_unrelated: 1\n", []string{"completely_unrelated", "unknown key"}},
	}
	for _, tt := range tests {
		_, err := Load(writeFile(t, tt.yaml), minimalEnv())
		checkErr(t, err, tt.want...)
	}
}

func TestBadYAMLValues(t *testing.T) {
	tests := []struct {
		yaml     string
		key, env string
	}{
		{"cookie:\n  secure: maybe\n", "cookie.secure", "GATEWAY_COOKIE_SECURE"},
		{"session:\n  lifetime: 7d\n", "session.lifetime", "GATEWAY_SESSION_LIFETIME"},
		{"session:\n  idle_timeout: 3600\n", "session.idle_timeout", "GATEWAY_SESSION_IDLE_TIMEOUT"},
		{"password:\n  min_length: twelve\n", "password.min_length", "GATEWAY_PASSWORD_MIN_LENGTH"},
		{"password:\n  min_length: \"12\"\n", "password.min_length", "GATEWAY_PASSWORD_MIN_LENGTH"},
		{"public_paths: /healthz\n", "public_paths", "GATEWAY_PUBLIC_PATHS"},
		{"public_paths: [[/a]]\n", "public_paths[0]", "GATEWAY_PUBLIC_PATHS"},
		{"listen: [\":8080\"]\n", "listen", "GATEWAY_LISTEN"},
		{"routes:\n  - /api/=http://a:1\n", "routes[0]", "GATEWAY_ROUTES"},
		{"mfa:\n  remember_device: {days: 3}\n", "mfa.remember_device", "GATEWAY_MFA_REMEMBER_DEVICE"},
	}
	for _, tt := range tests {
		_, err := Load(writeFile(t, tt.yaml), minimalEnv())
		checkErr(t, err, tt.key, tt.env, "line ")
	}
}

func TestYAMLSectionNotAMap(t *testing.T) {
	_, err := Load(writeFile(t, "session: 12h\n"), minimalEnv())
	checkErr(t, err, "session: want a map", "line 1")
}

func TestMalformedYAML(t *testing.T) {
	for _, content := range []string{
		"listen: \":8080\n",           // unterminated quote
		"- a\n- b\n",                  // not a map
		"listen: a\n---\nlisten: b\n", // two documents
	} {
		_, err := Load(writeFile(t, content), minimalEnv())
		checkErr(t, err, "gateway.yaml")
	}
}

func TestYAMLAnchorsAndMerge(t *testing.T) {
	path := writeFile(t, `
base: &base
  path_prefix: /
  upstream: http://a:1
`)
	_, err := Load(path, minimalEnv())
	checkErr(t, err, "base", "unknown key")

	path = writeFile(t, `
secret: &s "`+testSecret+`"
routes:
  - &r
    path_prefix: /
    upstream: http://a:1
  - <<: *r
    path_prefix: /b/
`)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Routes) != 2 || c.Routes[1].Upstream != "http://a:1" || c.Routes[1].PathPrefix != "/b/" {
		t.Errorf("routes = %+v", c.Routes)
	}
}

func TestUnknownEnv(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"GATEWAY_LISTN", []string{"GATEWAY_LISTN: unknown setting", "did you mean GATEWAY_LISTEN?"}},
		{"GATEWAY_REDIS_ULR", []string{"GATEWAY_REDIS_ULR: unknown setting", "GATEWAY_REDIS_URL"}},
		{"GATEWAY_SESSION", []string{"GATEWAY_SESSION: unknown setting"}},
		{"GATEWAY_ROUTES_0_UPSTREAM", []string{"GATEWAY_ROUTES_0_UPSTREAM: unknown setting"}},
		{"GATEWAY_SOMETHING_ELSE_ENTIRELY", []string{"GATEWAY_SOMETHING_ELSE_ENTIRELY: unknown setting"}},
		{"GATEWAY_CONFIG_FILE", []string{"GATEWAY_CONFIG_FILE: unknown setting"}},
	}
	for _, tt := range tests {
		_, err := Load("", minimalEnv(tt.name+"=x"))
		checkErr(t, err, tt.want...)
	}
}

func TestIgnoredEnv(t *testing.T) {
	_, err := Load("", minimalEnv(
		"GATEWAY_CONFIG=/etc/gateway.yaml",
		"GATEWAY_TEST_REDIS=1",
		"GATEWAY_TEST_=x",
		"HOME=/root",
		"gateway_listen=nonsense", // not upper case: not ours
		"GATEWAY_NOEQUALS",        // malformed entry
	))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestMalformedEnv(t *testing.T) {
	tests := []struct {
		env  string
		want []string
	}{
		{"GATEWAY_COOKIE_SECURE=maybe", []string{"cookie.secure", "GATEWAY_COOKIE_SECURE", `"maybe"`}},
		{"GATEWAY_COOKIE_SECURE=", []string{"cookie.secure", "GATEWAY_COOKIE_SECURE"}},
		{"GATEWAY_OPS_PPROF=on", []string{"ops.pprof", "GATEWAY_OPS_PPROF"}},
		{"GATEWAY_SESSION_IDLE_TIMEOUT=12 hours", []string{"session.idle_timeout", "GATEWAY_SESSION_IDLE_TIMEOUT", "12 hours"}},
		{"GATEWAY_SESSION_LIFETIME=7d", []string{"session.lifetime", "GATEWAY_SESSION_LIFETIME"}},
		{"GATEWAY_MFA_REMEMBER_DEVICE=", []string{"mfa.remember_device", "GATEWAY_MFA_REMEMBER_DEVICE"}},
		{"GATEWAY_PASSWORD_MIN_LENGTH=1e3", []string{"password.min_length", "GATEWAY_PASSWORD_MIN_LENGTH"}},
		{"GATEWAY_ROUTES=/api", []string{"routes", "GATEWAY_ROUTES", "="}},
		{"GATEWAY_ROUTES=app.example.com=http://a:1", []string{"routes", "GATEWAY_ROUTES", "path prefix"}},
		{"GATEWAY_ROUTES=/api/=", []string{"routes", "GATEWAY_ROUTES", "upstream"}},
	}
	for _, tt := range tests {
		_, err := Load("", minimalEnv(tt.env))
		checkErr(t, err, tt.want...)
	}
}

func TestParseRoutes(t *testing.T) {
	got, err := ParseRoutes(" ,  ")
	if err != nil || len(got) != 0 {
		t.Errorf("ParseRoutes(blank) = %v, %v", got, err)
	}
	got, err = ParseRoutes("/=http://a:1?x=y")
	if err != nil || len(got) != 1 || got[0].Upstream != "http://a:1?x=y" {
		t.Errorf("ParseRoutes keeps everything after the first \"=\": %+v, %v", got, err)
	}
}
