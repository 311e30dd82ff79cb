package config

import (
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	d := Defaults()
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", d.Listen, ":8080"},
		{"ops_listen", d.OpsListen, "127.0.0.1:9090"},
		{"path_prefix", d.PathPrefix, "/.gateway"},
		{"cookie.name", d.Cookie.Name, ""},
		{"cookie.secure", d.Cookie.Secure, true},
		{"session.lifetime", d.Session.Lifetime.Duration, 168 * time.Hour},
		{"session.idle_timeout", d.Session.IdleTimeout.Duration, 12 * time.Hour},
		{"session.reauth_window", d.Session.ReauthWindow.Duration, 10 * time.Minute},
		{"headers.user", d.Headers.User, "X-Forwarded-User"},
		{"headers.email", d.Headers.Email, "X-Forwarded-Email"},
		{"headers.groups", d.Headers.Groups, "X-Forwarded-Groups"},
		{"password.min_length", d.Password.MinLength, 12},
		{"mfa.require", d.MFA.Require, "support,admin"},
		{"mfa.remember_device", d.MFA.RememberDevice.Duration, time.Duration(0)},
		{"log.format", d.Log.Format, "json"},
		{"log.level", d.Log.Level, "info"},
		{"log.access", d.Log.Access, false},
		{"ops.pprof", d.Ops.Pprof, false},
		{"secret", d.Secret, ""},
		{"upstream", d.Upstream, ""},
		{"redis.url", d.Redis.URL, ""},
		{"redis.timeout", d.Redis.Timeout.Duration, 500 * time.Millisecond},
		{"redis.activity_limit", d.Redis.ActivityLimit, int64(500)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDefaultsValidateWithSecretAndUpstream(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.UpstreamURL == nil || c.UpstreamURL.Host != "127.0.0.1:3000" {
		t.Errorf("UpstreamURL = %v", c.UpstreamURL)
	}
	if !c.IsEmbeddedStore() {
		t.Error("IsEmbeddedStore = false with empty redis.url")
	}
}

func TestDefaultsAloneAreIncomplete(t *testing.T) {
	c := Defaults()
	checkErr(t, c.Validate(), "upstream", "GATEWAY_UPSTREAM")
	c.Upstream = testUpstream
	checkErr(t, c.Validate(), "secret", "GATEWAY_SECRET", "openssl rand -base64 48")
}

func TestSettingsEnvNames(t *testing.T) {
	want := map[string]string{
		"listen":                "GATEWAY_LISTEN",
		"redis.url":             "GATEWAY_REDIS_URL",
		"redis.timeout":         "GATEWAY_REDIS_TIMEOUT",
		"redis.activity_limit":  "GATEWAY_REDIS_ACTIVITY_LIMIT",
		"cookie.secure":         "GATEWAY_COOKIE_SECURE",
		"session.idle_timeout":  "GATEWAY_SESSION_IDLE_TIMEOUT",
		"public_paths":          "GATEWAY_PUBLIC_PATHS",
		"trusted_proxies":       "GATEWAY_TRUSTED_PROXIES",
		"previous_secrets":      "GATEWAY_PREVIOUS_SECRETS",
		"mfa.remember_device":   "GATEWAY_MFA_REMEMBER_DEVICE",
		"ops.pprof":             "GATEWAY_OPS_PPROF",
		"log.access":            "GATEWAY_LOG_ACCESS",
		"routes":                "GATEWAY_ROUTES",
		"session.reauth_window": "GATEWAY_SESSION_REAUTH_WINDOW",
		"geoip_db":              "GATEWAY_GEOIP_DB",
		"ui.logo_url":           "GATEWAY_UI_LOGO_URL",
		"escaped_slashes":       "GATEWAY_ESCAPED_SLASHES",
	}
	got := map[string]string{}
	for _, s := range Settings() {
		if _, dup := got[s.Key]; dup {
			t.Errorf("key %s listed twice", s.Key)
		}
		got[s.Key] = s.Env
		if s.Env != EnvName(s.Key) {
			t.Errorf("Settings: %s → %s, EnvName gives %s", s.Key, s.Env, EnvName(s.Key))
		}
	}
	for k, env := range want {
		if got[k] != env {
			t.Errorf("%s → %q, want %q", k, got[k], env)
		}
	}
	if len(got) != 71 {
		t.Errorf("got %d settings, want 71 (one per leaf of Config)", len(got))
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"routes[2].upstream": "GATEWAY_ROUTES",
		"public_paths[0]":    "GATEWAY_PUBLIC_PATHS",
		"headers.user":       "GATEWAY_HEADERS_USER",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}
