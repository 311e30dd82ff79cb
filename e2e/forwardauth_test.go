package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// loginRD returns the rd of a login URL, failing unless loc is one.
func loginRD(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || u.Path != "/.gateway/login" || u.Host != "" {
		t.Fatalf("%q is not the gateway's login page", loc)
	}
	return u.Query().Get("rd")
}

func TestForwardAuth(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Require = "off" }})
	g.CreateUser(t, "alice", "user", "admin")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	t.Run("valid session", func(t *testing.T) {
		resp := c.Get(t, "/.gateway/auth", "X-Forwarded-User", "mallory")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for k, want := range map[string]string{
			"X-Forwarded-User": "alice", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "user,admin",
		} {
			if got := resp.Header.Values(k); len(got) != 1 || got[0] != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})

	anon := g.NewClient(t)
	t.Run("no session", func(t *testing.T) {
		resp := anon.Get(t, "/.gateway/auth")
		var body struct{ Error, Code string }
		if resp.StatusCode != http.StatusUnauthorized || json.NewDecoder(resp.Body).Decode(&body) != nil || body.Code == "" {
			t.Fatalf("status %d body %+v", resp.StatusCode, body)
		}
		if resp.Header.Get("X-Forwarded-User") != "" {
			t.Error("identity header on a refusal")
		}
		if rd := loginRD(t, resp.Header.Get("Location")); rd != "/" {
			t.Errorf("rd = %q from an untrusted peer, want /", rd)
		}
	})

	t.Run("redirect for browsers", func(t *testing.T) {
		resp := anon.Get(t, "/.gateway/auth?redirect=1", "Accept", "text/html", "X-Forwarded-Uri", "/app/x?y=1")
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("browser with ?redirect=1: %d", resp.StatusCode)
		}
		// The peer is not a trusted proxy, so its X-Forwarded-Uri is ignored.
		if rd := loginRD(t, resp.Header.Get("Location")); rd != "/" {
			t.Errorf("rd = %q, want /", rd)
		}
		if code := codeOf(t, anon, "/.gateway/auth?redirect=1"); code != http.StatusUnauthorized {
			t.Errorf("API client with ?redirect=1: %d, want 401", code)
		}
		if code := codeOf(t, anon, "/.gateway/auth", "Accept", "text/html"); code != http.StatusUnauthorized {
			t.Errorf("browser without ?redirect=1: %d, want 401", code)
		}
	})

	t.Run("ended session", func(t *testing.T) {
		d := g.NewClient(t)
		d.Login(t, "alice", harness.TestPassword)
		old := d.SessionCookie()
		d.PostForm(t, "/.gateway/logout", nil).Body.Close()
		replay := g.NewClient(t)
		replay.SetSessionCookie(old)
		if code := codeOf(t, replay, "/.gateway/auth"); code != http.StatusUnauthorized {
			t.Errorf("revoked session: %d", code)
		}
	})
}

func TestForwardAuthWayBackFromTrustedProxy(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }})
	c := g.NewClient(t)
	for _, tc := range []struct {
		name   string
		header []string
		want   string
	}{
		{"nginx", []string{"X-Original-URI", "/app/x?y=1&z=2"}, "/app/x?y=1&z=2"},
		{"traefik", []string{"X-Forwarded-Uri", "/app/x?y=1", "X-Forwarded-Host", "app.example.com", "X-Forwarded-Proto", "https", "X-Forwarded-Method", "GET"}, "/app/x?y=1"},
		{"full url", []string{"X-Original-URL", "https://app.example.com/reports?id=7"}, "/reports?id=7"},
		{"scheme-relative", []string{"X-Forwarded-Uri", "//evil.example/x"}, "/"},
		{"backslash", []string{"X-Forwarded-Uri", "/\\evil.example"}, "/"},
		{"absolute", []string{"X-Forwarded-Uri", "https://evil.example/"}, "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Get(t, "/.gateway/auth?redirect=1", append([]string{"Accept", "text/html"}, tc.header...)...)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if rd := loginRD(t, resp.Header.Get("Location")); rd != tc.want {
				t.Errorf("rd = %q, want %q", rd, tc.want)
			}
			resp = c.Get(t, "/.gateway/auth", tc.header...)
			if rd := loginRD(t, resp.Header.Get("Location")); resp.StatusCode != http.StatusUnauthorized || rd != tc.want {
				t.Errorf("plain refusal: %d with rd %q, want 401 and %q", resp.StatusCode, rd, tc.want)
			}
		})
	}
}
