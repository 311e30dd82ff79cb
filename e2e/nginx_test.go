package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/testenv"
)

// nginxHead runs nginx in the foreground, as one process, with every file
// it writes under the throw-away prefix %[1]s; a configuration adds its
// servers and closes the http block.
const nginxHead = `daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    absolute_redirect off;
`

// nginxConf is the forward-auth setup documented in the README, with the
// paths of a throw-away prefix. %[1]s is the prefix directory, %[2]d the
// port nginx listens on, %[3]s the gateway and %[4]s the app.
const nginxConf = nginxHead + `
    server {
        listen 127.0.0.1:%[2]d;

        # The gateway's own pages (login, logout, account) on the app's host,
        # so the host-only session cookie belongs to this site.
        location /.gateway/ {
            proxy_pass http://%[3]s;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }

        # The check nginx makes before every request to the app.
        location = /.gateway/auth {
            internal;
            proxy_pass http://%[3]s;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }

        location / {
            auth_request /.gateway/auth;
            auth_request_set $gateway_user $upstream_http_x_forwarded_user;
            auth_request_set $gateway_email $upstream_http_x_forwarded_email;
            auth_request_set $gateway_groups $upstream_http_x_forwarded_groups;
            auth_request_set $gateway_assertion $upstream_http_x_gateway_assertion;
            auth_request_set $gateway_login $upstream_http_location;
            error_page 401 = @gateway_login;

            # proxy_set_header replaces any client-sent copy (in any case;
            # nginx drops names with "_" by default).
            proxy_set_header X-Forwarded-User $gateway_user;
            proxy_set_header X-Forwarded-Email $gateway_email;
            proxy_set_header X-Forwarded-Groups $gateway_groups;
            proxy_set_header X-Gateway-Assertion $gateway_assertion;
            proxy_set_header Host $http_host;
            proxy_pass http://%[4]s;
        }

        # A refused check sends the browser to the login URL the gateway
        # put in Location (with the way back escaped).
        location @gateway_login {
            return 302 $gateway_login;
        }
    }
}
`

// findNginx returns the nginx binary: Debian's nginx-light puts it in
// /usr/sbin, which is not on every user's PATH.
func findNginx(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/sbin/nginx"); err == nil && !fi.IsDir() {
		return "/usr/sbin/nginx"
	}
	return testenv.LookPath(t, "nginx", testenv.RequireNginx)
}

// startNginx runs nginx in front of gateway and app and returns its base URL.
func startNginx(t *testing.T, gatewayAddr, appAddr string) string {
	t.Helper()
	bin := findNginx(t)
	dir := t.TempDir()
	for attempt := 0; ; attempt++ {
		base, busy := tryNginx(t, bin, dir, gatewayAddr, appAddr)
		if !busy {
			return base
		}
		if attempt == 3 {
			t.Fatal("no free port for nginx")
		}
	}
}

// tryNginx starts nginx on a port that was free a moment ago; busy reports
// that another process took the port meanwhile.
func tryNginx(t *testing.T, bin, dir, gatewayAddr, appAddr string) (base string, busy bool) {
	t.Helper()
	port := freePort(t)
	return launchNginx(t, bin, dir, port, fmt.Sprintf(nginxConf, dir, port, gatewayAddr, appAddr))
}

// launchNginx runs nginx with the configuration text, which listens on
// port; busy reports that another process took the port meanwhile.
func launchNginx(t *testing.T, bin, dir string, port int, text string) (base string, busy bool) {
	t.Helper()
	conf := filepath.Join(dir, "nginx.conf")
	errLog := filepath.Join(dir, "error.log")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// -p and -e keep every file nginx touches, even before it reads the
	// configuration, inside the temporary directory. With master_process
	// off there are no workers, so no "user" directive is needed as root.
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", errLog)
	return runFrontProxy(t, cmd, port, syscall.SIGQUIT, errLog)
}

func TestNginxForwardAuth(t *testing.T) {
	app := httptest.NewServer(harness.EchoHandler())
	t.Cleanup(app.Close)
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"} // nginx
		c.MFA.Require = "off"
		c.Assertion.Enabled = true
	}})
	alice := g.CreateUser(t, "alice", "user", "admin")
	base := startNginx(t, strings.TrimPrefix(g.URL, "http://"), strings.TrimPrefix(app.URL, "http://"))

	browser := newFronted(t, base)

	// Without a session nginx sends the browser to the gateway's login page
	// on the same host, with the whole way back escaped.
	const target = "/app/page?x=1&y=2"
	resp, _ := browser.do(http.MethodGet, target, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("no session through nginx: %d (Location %q)", resp.StatusCode, loc)
	}
	if rd := loginRD(t, loc); rd != target {
		t.Fatalf("login redirect %q carries rd %q, want %q", loc, rd, target)
	}
	resp, body := browser.do(http.MethodGet, loc, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Fatalf("login page through nginx: %d", resp.StatusCode)
	}

	// Sign in through nginx and come back to the app.
	form := url.Values{"username": {"alice"}, "password": {harness.TestPassword}, "rd": {target}}
	resp, body = browser.do(http.MethodPost, "/.gateway/login", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", base)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != target {
		t.Fatalf("sign-in through nginx: %d to %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = browser.do(http.MethodGet, target, nil, "X-Forwarded-User", "mallory", "x-forwarded-groups", "root", "X_Forwarded_User", "eve",
		"X-Gateway-Assertion", "forged")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("app through nginx with a session: %d", resp.StatusCode)
	}
	var e harness.Echoed
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if e.Path != "/app/page" || e.Query != "x=1&y=2" {
		t.Errorf("app saw %s?%s", e.Path, e.Query)
	}
	for k, want := range map[string]string{
		"X-Forwarded-User": "alice", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "user,admin",
	} {
		if got := e.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("app behind nginx got %s = %q, want %q", k, got, want)
		}
	}
	if got := identitySeen(&e); len(got) != 3 {
		t.Errorf("app behind nginx got identity headers %q", got)
	}
	// The signed identity comes through /auth too, and the client's copy
	// does not: it verifies with the key set nginx passes on from the
	// gateway, for nginx's own origin.
	if vs := e.Header.Values("X-Gateway-Assertion"); len(vs) != 1 {
		t.Errorf("app behind nginx got assertions %q", vs)
	} else if cl, _, err := verifyAssertion(vs[0], jwksKeys(t, base), base, "127.0.0.1", time.Now()); err != nil || cl.Subject != alice.ID {
		t.Errorf("the assertion behind nginx: %v %+v", err, cl)
	}

	// Sign out through nginx: the next visit is sent to the login page again.
	resp, _ = browser.do(http.MethodPost, "/.gateway/logout", nil, "Origin", base)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout through nginx: %d", resp.StatusCode)
	}
	resp, _ = browser.do(http.MethodGet, "/app/other", nil)
	if resp.StatusCode != http.StatusFound || loginRD(t, resp.Header.Get("Location")) != "/app/other" {
		t.Errorf("after logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestNginxForwardAuthWithRules(t *testing.T) {
	g, app := rulesGateway(t)
	base := startNginx(t, strings.TrimPrefix(g.URL, "http://"), strings.TrimPrefix(app.URL, "http://"))
	checkFrontedRules(t, base, false) // nginx answers a refused check with its own 403 page
	checkFrontedSpoofing(t, base)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
