package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// nginxPortalConf is the README's forward-auth set-up with a portal: the app
// host sends only /.gateway/ (callback, sign-out, static) and the auth check
// to the gateway; the portal is a server of its own. %[1]s is the prefix
// directory, %[2]d the port, %[3]s the gateway, %[4]s the app.
const nginxPortalConf = nginxHead + `
    # The app. Only the gateway's handoff, sign-out and static files live on
    # its host; everything else of the gateway answers 404 here.
    server {
        listen 127.0.0.1:%[2]d;
        server_name app.localhost;

        location /.gateway/ {
            proxy_pass http://%[3]s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
        location = /.gateway/auth {
            internal;
            proxy_pass http://%[3]s;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
        location / {
            auth_request /.gateway/auth;
            auth_request_set $gateway_user $upstream_http_x_forwarded_user;
            auth_request_set $gateway_email $upstream_http_x_forwarded_email;
            auth_request_set $gateway_groups $upstream_http_x_forwarded_groups;
            auth_request_set $gateway_assertion $upstream_http_x_gateway_assertion;
            auth_request_set $gateway_login $upstream_http_location;
            error_page 401 = @gateway_login;
            proxy_set_header X-Forwarded-User $gateway_user;
            proxy_set_header X-Forwarded-Email $gateway_email;
            proxy_set_header X-Forwarded-Groups $gateway_groups;
            proxy_set_header X-Gateway-Assertion $gateway_assertion;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_pass http://%[4]s;
        }
        location @gateway_login {
            return 302 $gateway_login;
        }
    }

    # The portal: sign-in, Login & Security, console and API, on a host of
    # its own.
    server {
        listen 127.0.0.1:%[2]d;
        server_name auth.localhost;

        location / {
            proxy_pass http://%[3]s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
    }
}
`

func TestNginxForwardAuthWithAPortal(t *testing.T) {
	bin := findNginx(t)
	app := httptest.NewServer(harness.EchoHandler())
	t.Cleanup(app.Close)
	port := freePort(t)
	appURL, portalURL := fmt.Sprintf("http://app.localhost:%d", port), fmt.Sprintf("http://auth.localhost:%d", port)
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"} // nginx
		c.MFA.Require = "off"
		c.PortalURL = portalURL
		c.RedirectHosts = []string{"app.localhost"}
		c.Assertion.Enabled = true
	}})
	g.CreateUser(t, "alice", "user")
	dir := t.TempDir()
	if _, busy := launchNginx(t, bin, dir, port, fmt.Sprintf(nginxPortalConf, dir, port,
		strings.TrimPrefix(g.URL, "http://"), strings.TrimPrefix(app.URL, "http://"))); busy {
		t.Fatal("the port picked for nginx was taken meanwhile")
	}

	// A browser: one cookie jar, both names resolve to nginx.
	jar, _ := cookiejar.New(nil)
	nginxAddr := fmt.Sprintf("127.0.0.1:%d", port)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, nginxAddr)
		}}}
	do := func(method, abs string, body io.Reader, header ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, abs, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/html")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	// No session: nginx sends the browser to the portal, the way back is
	// the whole app URL.
	target := appURL + "/app/page?x=1&y=2"
	resp := do(http.MethodGet, target, nil)
	loc := resp.Header.Get("Location")
	if want := portalURL + "/.gateway/login?rd=" + url.QueryEscape(target); resp.StatusCode != http.StatusFound || loc != want {
		t.Fatalf("no session through nginx: %d to %q, want %q", resp.StatusCode, loc, want)
	}
	if resp = do(http.MethodGet, loc, nil); resp.StatusCode != http.StatusOK || !strings.Contains(readAll(t, resp), `name="password"`) {
		t.Fatalf("portal login page through nginx: %d", resp.StatusCode)
	}

	// Sign in on the portal; it sends the browser through the app's callback.
	form := url.Values{"username": {"alice"}, "password": {harness.TestPassword}, "rd": {target}}
	resp = do(http.MethodPost, portalURL+"/.gateway/login", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", portalURL)
	cb := resp.Header.Get("Location")
	for i := 0; i < 2 && resp.StatusCode/100 == 3 && !strings.HasPrefix(cb, appURL+"/.gateway/callback?code="); i++ {
		// The app host tags the browser (its /.gateway/login through nginx),
		// then the signed-in portal makes the code for that browser.
		resp = do(http.MethodGet, cb, nil)
		cb = resp.Header.Get("Location")
	}
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(cb, appURL+"/.gateway/callback?code=") {
		t.Fatalf("portal sign-in through nginx: %d to %q: %.300s", resp.StatusCode, cb, readAll(t, resp))
	}
	resp = do(http.MethodGet, cb, nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/app/page?x=1&y=2" {
		t.Fatalf("callback through nginx: %d to %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), readAll(t, resp))
	}
	resp = do(http.MethodGet, target, nil, "X-Forwarded-User", "mallory", "X-Gateway-Assertion", "forged")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("app through nginx after the handoff: %d", resp.StatusCode)
	}
	var e harness.Echoed
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Header.Get("X-Forwarded-User") != "alice" || e.Header.Get("X-Forwarded-Email") != "alice@example.com" || e.Path != "/app/page" {
		t.Errorf("app behind nginx saw %s with user %q email %q", e.Path, e.Header.Values("X-Forwarded-User"), e.Header.Get("X-Forwarded-Email"))
	}
	// The signed identity is the gateway's, in place of the client's copy.
	if vs := e.Header.Values("X-Gateway-Assertion"); len(vs) != 1 || vs[0] == "forged" || strings.Count(vs[0], ".") != 2 {
		t.Errorf("app behind nginx got X-Gateway-Assertion %q, want the gateway's one token", vs)
	}
	// The portal's cookie is the portal host's alone: the app never sees it.
	if strings.Contains(e.Header.Get("Cookie"), g.Config.Cookie.PortalName) {
		t.Error("the app received the portal's cookie")
	}
	// On the app host the gateway's API and console are not there.
	// Nor can a script on the app make its (same-origin, readable) request
	// pass for the portal's with an X-Forwarded-Host header of its own:
	// nginx overwrites it. The portal's cookie is sent along here as a
	// browser would on a two-port set-up.
	pu, _ := url.Parse(portalURL)
	portalCookie := ""
	for _, ck := range jar.Cookies(pu) {
		if ck.Name == g.Config.Cookie.PortalName {
			portalCookie = ck.Name + "=" + ck.Value
		}
	}
	for _, path := range []string{"/.gateway/api/v1/me", "/.gateway/admin"} {
		if resp := do(http.MethodGet, appURL+path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s on the app host through nginx: %d, want 404", path, resp.StatusCode)
		}
		resp := do(http.MethodGet, appURL+path, nil, "Accept", "application/json",
			"X-Forwarded-Host", pu.Host, "Cookie", portalCookie)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s on the app host with X-Forwarded-Host: %s: %d, want 404", path, pu.Host, resp.StatusCode)
		}
	}
	if resp := do(http.MethodGet, portalURL+"/.gateway/api/v1/me", nil, "Accept", "application/json"); resp.StatusCode != http.StatusOK {
		t.Errorf("me on the portal through nginx: %d", resp.StatusCode)
	}

	// Sign out from the app: the browser lands on the portal, signed out
	// there too.
	resp = do(http.MethodPost, appURL+"/.gateway/logout", nil, "Origin", appURL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != portalURL+"/.gateway/login?m=signed_out" {
		t.Fatalf("sign-out on the app through nginx: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := do(http.MethodGet, target, nil); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), portalURL+"/.gateway/login") {
		t.Errorf("app after signing out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := do(http.MethodGet, portalURL+"/.gateway/api/v1/me", nil, "Accept", "application/json"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("portal after signing out on the app: %d, want 401", resp.StatusCode)
	}
}
