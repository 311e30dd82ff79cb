package config

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestMaskedHidesSecrets(t *testing.T) {
	tests := []struct {
		name     string
		redis    string
		password string
		want     string
	}{
		{"user and password", "redis://default:Pa55w0rdValue@redis:6379/0", "Pa55w0rdValue", "redis://default:xxxxx@redis:6379/0"},
		{"password only", "rediss://:Pa55w0rdValue@redis:6380", "Pa55w0rdValue", "rediss://:xxxxx@redis:6380"},
		{"unescaped specials", "redis://u:Pa55/w0rd?V@lue@redis:6379", "Pa55/w0rd?V@lue", "redis://u:xxxxx@redis:6379"},
		{"sentinel hosts and query", "redis-sentinel://:Pa55w0rdValue@s1:26379,s2:26379/m?sentinel_password=Pa55w0rdValue&db=2", "Pa55w0rdValue", "redis-sentinel://:xxxxx@s1:26379,s2:26379/m?sentinel_password=xxxxx&db=2"},
		{"sentinel addr form", "redis-sentinel://:Pa55w0rdValue@s1:26379/0?master_name=m&addr=s2:26379", "Pa55w0rdValue", "redis-sentinel://:xxxxx@s1:26379/0?master_name=m&addr=s2:26379"},
		{"percent-encoded", "redis://u:Pa55%2Fw0rdValue@redis:6379", "Pa55%2Fw0rdValue", "redis://u:xxxxx@redis:6379"},
		{"no scheme", "Pa55w0rdValue@redis:6379", "Pa55w0rdValue", "xxxxx@redis:6379"},
	}
	for _, tt := range tests {
		c := validConfig()
		c.PreviousSecrets = []string{testPrevSecret}
		c.Redis.URL = tt.redis
		out := c.Masked()
		for _, secret := range []string{testSecret, testPrevSecret, tt.password} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: Masked reveals %q:\n%s", tt.name, secret, out)
			}
		}
		if !strings.Contains(out, tt.want) {
			t.Errorf("%s: Masked lacks %q:\n%s", tt.name, tt.want, out)
		}
		if c.Secret != testSecret || c.PreviousSecrets[0] != testPrevSecret || c.Redis.URL != tt.redis {
			t.Errorf("%s: Masked changed the config", tt.name)
		}
	}
}

func TestMaskedContent(t *testing.T) {
	c := validConfig()
	c.PreviousSecrets = []string{testPrevSecret}
	c.Routes = []Route{{Host: "app.example.com", PathPrefix: "/", Upstream: "http://a:1"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	out := c.Masked()
	var got map[string]any
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("Masked is not YAML: %v\n%s", err, out)
	}
	if got["secret"] != "<set, 43 bytes>" {
		t.Errorf("secret = %v", got["secret"])
	}
	if prev := got["previous_secrets"].([]any); len(prev) != 1 || prev[0] != "<set, 43 bytes>" {
		t.Errorf("previous_secrets = %v", prev)
	}
	for _, want := range []string{
		"listen: :8080", "lifetime: 168h", "idle_timeout: 12h", "reauth_window: 10m",
		"remember_device: 0s", "require: support,admin", "host: app.example.com", "pprof: false",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Masked lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"upstreamurl", "trustedprefixes"} {
		if strings.Contains(strings.ToLower(out), unwanted) {
			t.Errorf("Masked shows parsed field %q:\n%s", unwanted, out)
		}
	}

	c.Secret = ""
	if out := c.Masked(); !strings.Contains(out, "secret: <unset>") {
		t.Errorf("unset secret not shown as <unset>:\n%s", out)
	}
}

// TestMaskedLoadsBack: apart from the secrets, Masked output is a valid
// configuration file with the same effect.
func TestMaskedLoadsBack(t *testing.T) {
	orig, err := Load(writeFile(t, fullYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(writeFile(t, orig.Masked()), []string{
		"GATEWAY_SECRET=" + testSecret,
		"GATEWAY_PREVIOUS_SECRETS=" + testPrevSecret,
		"GATEWAY_REDIS_URL=" + orig.Redis.URL,
	})
	if err != nil {
		t.Fatalf("Load(Masked()): %v", err)
	}
	if back.Masked() != orig.Masked() {
		t.Errorf("round trip differs:\n%s\n---\n%s", orig.Masked(), back.Masked())
	}
}
