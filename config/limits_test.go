package config

import (
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		perSec  float64
		wantErr bool
	}{
		{in: "50", want: Rate{50, time.Second}, perSec: 50},
		{in: "50/s", want: Rate{50, time.Second}, perSec: 50},
		{in: " 600/m ", want: Rate{600, time.Minute}, perSec: 10},
		{in: "3600/h", want: Rate{3600, time.Hour}, perSec: 1},
		{in: "off", want: Rate{0, time.Second}},
		{in: "OFF", want: Rate{0, time.Second}},
		{in: "0", want: Rate{0, time.Second}},
		{in: "", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "fast", wantErr: true},
		{in: "5/d", wantErr: true},
		{in: "5/", wantErr: true},
		{in: "1.5/s", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if got != tt.want || got.PerSecond() != tt.perSec {
			t.Errorf("ParseRate(%q) = %+v (%v/s), want %+v (%v/s)", tt.in, got, got.PerSecond(), tt.want, tt.perSec)
		}
		if back, _ := ParseRate(got.String()); back != got {
			t.Errorf("%q does not round-trip through String (%q)", tt.in, got.String())
		}
	}
}

func TestLimitDefaults(t *testing.T) {
	d := Defaults()
	if d.RateLimit.PerSession.String() != "50/s" || d.RateLimit.SessionBurst != 100 ||
		d.RateLimit.PerIP.String() != "20/s" || d.RateLimit.IPBurst != 40 || d.RateLimit.MaxTracked != 200_000 {
		t.Errorf("rate_limit defaults = %+v", d.RateLimit)
	}
	a := d.Throttle.PasswordAccount
	if a.Free != 5 || a.Base.Duration != time.Second || a.Max.Duration != 15*time.Minute {
		t.Errorf("throttle.password_account defaults = %+v", a)
	}
	if d.Throttle.PasswordIP.Free != 20 {
		t.Errorf("throttle.password_ip.free = %d, want 20", d.Throttle.PasswordIP.Free)
	}
}

func TestLimitsFromEnv(t *testing.T) {
	c, err := Load("", minimalEnv(
		"GATEWAY_RATE_LIMIT_PER_SESSION=600/m",
		"GATEWAY_RATE_LIMIT_SESSION_BURST=7",
		"GATEWAY_RATE_LIMIT_PER_IP=off",
		"GATEWAY_THROTTLE_PASSWORD_ACCOUNT_BASE=200ms",
		"GATEWAY_THROTTLE_MFA_FREE=3",
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimit.PerSession.PerSecond() != 10 || c.RateLimit.SessionBurst != 7 || !c.RateLimit.PerIP.Off() {
		t.Errorf("rate_limit = %+v", c.RateLimit)
	}
	if c.Throttle.PasswordAccount.Base.Duration != 200*time.Millisecond || c.Throttle.MFA.Free != 3 {
		t.Errorf("throttle = %+v", c.Throttle)
	}
}

func TestRouteRateLimitFromFile(t *testing.T) {
	path := writeFile(t, `
secret: "`+testSecret+`"
routes:
  - path_prefix: /api/
    upstream: http://127.0.0.1:4000
    rate_limit:
      per_session: 5/s
      per_ip: "off"
  - path_prefix: /
    upstream: http://127.0.0.1:3000
`)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, ip := c.RouteLimits(0)
	if sess.Rate.PerSecond() != 5 || sess.Burst != 100 || !sess.On() || ip.On() {
		t.Errorf("route 0 limits: session %+v ip %+v, want 5/s with the global burst, ip off", sess, ip)
	}
	sess, ip = c.RouteLimits(1)
	if sess.Rate.String() != "50/s" || ip.Rate.String() != "20/s" || ip.Burst != 40 {
		t.Errorf("route 1 limits: session %+v ip %+v, want the global ones", sess, ip)
	}
}

func TestLimitValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"zero burst", func(c *Config) { c.RateLimit.SessionBurst = 0 }, []string{"rate_limit.session_burst", "GATEWAY_RATE_LIMIT_SESSION_BURST", "is 0"}},
		{"zero burst fine when off", func(c *Config) { c.RateLimit.IPBurst = 0; c.RateLimit.PerIP = Rate{0, time.Second} }, nil},
		{"unset rate", func(c *Config) { c.RateLimit.PerIP = Rate{} }, []string{"rate_limit.per_ip", "not set"}},
		{"huge rate", func(c *Config) { c.RateLimit.PerSession = Rate{MaxRateEvents + 1, time.Second} }, []string{"rate_limit.per_session"}},
		{"tiny max_tracked", func(c *Config) { c.RateLimit.MaxTracked = 10 }, []string{"rate_limit.max_tracked", "GATEWAY_RATE_LIMIT_MAX_TRACKED"}},
		{"negative free", func(c *Config) { c.Throttle.PasswordIP.Free = -1 }, []string{"throttle.password_ip.free", "GATEWAY_THROTTLE_PASSWORD_IP_FREE"}},
		{"no base", func(c *Config) { c.Throttle.MFA.Base = Duration{} }, []string{"throttle.mfa.base"}},
		{"max below base", func(c *Config) { c.Throttle.PasswordAccount.Max = Duration{time.Millisecond * 500} }, []string{"throttle.password_account.max"}},
		{"forget not after max", func(c *Config) { c.Throttle.PasswordAccount.Forget = c.Throttle.PasswordAccount.Max }, []string{"throttle.password_account.forget", "forgotten the moment its delay ends"}},
		{"route burst zero with route rate", func(c *Config) {
			c.Routes = []Route{{PathPrefix: "/", Upstream: testUpstream, RateLimit: RouteRateLimit{PerIP: Rate{5, time.Second}}}}
			c.RateLimit.IPBurst, c.RateLimit.PerIP = 0, Rate{0, time.Second}
		}, []string{"routes[0].rate_limit.ip_burst", "GATEWAY_ROUTES"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkErr(t, err, tt.want...)
		})
	}
}

func TestBadRateInFile(t *testing.T) {
	path := writeFile(t, "secret: \""+testSecret+"\"\nupstream: "+testUpstream+"\nrate_limit:\n  per_session: fast\n")
	_, err := Load(path, nil)
	checkErr(t, err, "rate_limit.per_session", "GATEWAY_RATE_LIMIT_PER_SESSION", "50/s")
}
