package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authgate/gateway/config"
)

func portalTestGateway(t *testing.T, trusted ...string) *Gateway {
	t.Helper()
	cfg := config.Defaults()
	cfg.Upstream, cfg.Secret = "http://127.0.0.1:9", "0123456789abcdef0123456789abcdef"
	cfg.PortalURL = "https://Auth.Example.com"
	cfg.TrustedProxies = trusted
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &Gateway{Deps: Deps{Config: &cfg}}
}

func TestIsPortal(t *testing.T) {
	g := portalTestGateway(t, "10.0.0.0/8")
	tests := []struct {
		name, remote, host, xfh string
		want                    bool
	}{
		{"portal host", "192.0.2.1:1", "auth.example.com", "", true},
		{"case-insensitive", "192.0.2.1:1", "AUTH.example.COM", "", true},
		{"other port", "192.0.2.1:1", "auth.example.com:8443", "", false},
		{"app host", "192.0.2.1:1", "app.example.com", "", false},
		{"suffix look-alike", "192.0.2.1:1", "auth.example.com.evil.com", "", false},
		{"untrusted X-Forwarded-Host ignored", "192.0.2.1:1", "app.example.com", "auth.example.com", false},
		{"untrusted cannot hide the portal", "192.0.2.1:1", "auth.example.com", "app.example.com", true},
		{"trusted X-Forwarded-Host", "10.1.2.3:1", "gateway:8080", "auth.example.com", true},
		{"trusted proxy, app host", "10.1.2.3:1", "auth.example.com", "app.example.com", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr, r.Host = tt.remote, tt.host
		if tt.xfh != "" {
			r.Header.Set("X-Forwarded-Host", tt.xfh)
		}
		if got := g.isPortal(r); got != tt.want {
			t.Errorf("%s: isPortal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIsPortalAllocatesNothing(t *testing.T) {
	g := portalTestGateway(t, "10.0.0.0/8")
	r := httptest.NewRequest(http.MethodGet, "/app", nil)
	r.RemoteAddr, r.Host = "10.1.2.3:4000", "app.example.com"
	r.Header.Set("X-Forwarded-Host", "app.example.com")
	if n := testing.AllocsPerRun(100, func() { g.isPortal(r) }); n != 0 {
		t.Fatalf("isPortal allocates %v times per request", n)
	}
}

func TestAppTarget(t *testing.T) {
	g := portalTestGateway(t)
	for rd, want := range map[string][3]string{
		"https://app.example.com/x?y=1#z":  {"https", "app.example.com", "/x?y=1#z"},
		"https://app.example.com:443/":     {"https", "app.example.com", "/"},
		"http://127.0.0.1:8080":            {"http", "127.0.0.1:8080", "/"},
		"https://auth.example.com/account": {},
		"/local":                           {},
	} {
		scheme, host, local, ok := g.appTarget(rd)
		if ok != (want[0] != "") || scheme != want[0] || host != want[1] || local != want[2] {
			t.Errorf("appTarget(%q) = %q %q %q %v, want %q", rd, scheme, host, local, ok, want)
		}
	}
}

func TestFormActionSources(t *testing.T) {
	got := formActionSources([]string{"app.example.com", ".example.org", "127.0.0.1:9443", "[::1]"}, true, "https://auth.example.com")
	want := "'self' https://app.example.com:* https://*.example.org:* https://example.org:* https://127.0.0.1:9443 https://auth.example.com"
	if got != want {
		t.Errorf("form-action:\n got %s\nwant %s", got, want)
	}
}
